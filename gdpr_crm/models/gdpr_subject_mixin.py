# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

# Fields only the DPO (or the request workflow, under sudo) may change.
PROTECTED_FIELDS = frozenset(
    {
        "gdpr_restricted",
        "gdpr_restriction_reason",
        "gdpr_restriction_date",
        "gdpr_legal_hold",
        "gdpr_legal_hold_reason",
        "gdpr_legal_hold_until",
        "gdpr_objected",
        "gdpr_objection_date",
    }
)
# Technical fields Odoo itself writes on a frozen record (bounces, the main
# attachment of the chatter): not a change of the person's data.
TECHNICAL_FIELDS = frozenset({"message_main_attachment_id", "message_bounce"})


class GdprSubjectMixin(models.AbstractModel):
    """What makes a record a data subject for gdpr_crm.

    Inherited by ``res.partner`` and ``crm.lead`` (and by any model a module
    wants treated the same way). It gathers what every data subject has:
    consents and their helpers, restriction (GDPR art. 18), legal hold, the
    last interaction coming from the person (retention) and the suppression
    check. Each feature fills the hooks below; their defaults describe a
    subject with no restriction, no hold and no suppression entry.

    Hooks (override, call ``super()``):

    - :meth:`_gdpr_subject_partner`: the contact the record is about;
    - :meth:`_gdpr_restricted_records`: the records whose processing is
      restricted (frozen: no marketing, no edits but the DPO's);
    - :meth:`_gdpr_legal_hold_reasons`: the records that must be kept, and why;
    - :meth:`_gdpr_suppressed_records`: the records whose identifiers are on
      the suppression list (an erased or objecting person coming back);
    - :meth:`_gdpr_identifier_fields`: the fields holding the subject's email
      and phones (checked against the suppression list).
    """

    _name = "gdpr.subject.mixin"
    _description = "Data Subject Mixin"

    # ---- restriction (art. 18) ----
    gdpr_restricted = fields.Boolean(
        string="Processing Restricted",
        copy=False,
        index=True,
        help="GDPR art. 18: the data is kept but frozen: only the DPO may edit it, it is excluded from mailings "
        "and from retention.",
    )
    gdpr_restriction_reason = fields.Text(string="Restriction Reason", copy=False)
    gdpr_restriction_date = fields.Datetime(string="Restricted Since", copy=False)
    # ---- legal hold ----
    gdpr_legal_hold = fields.Boolean(
        string="Legal Hold",
        copy=False,
        help="A legal obligation requires keeping this data (accounting, litigation): it is restricted instead "
        "of erased, and skipped by retention.",
    )
    gdpr_legal_hold_reason = fields.Char(string="Legal Hold Reason", copy=False)
    gdpr_legal_hold_until = fields.Date(string="Legal Hold Until", copy=False)
    # ---- objection (art. 21) ----
    gdpr_objected = fields.Boolean(
        string="Objected to Prospecting",
        copy=False,
        index=True,
        help="GDPR art. 21: the person objected; prospecting on legitimate interest is refused.",
    )
    gdpr_objection_date = fields.Datetime(string="Objected On", copy=False)
    # ---- suppression list ----
    gdpr_suppressed = fields.Boolean(
        string="On the Suppression List",
        compute="_compute_gdpr_suppressed",
        help="The email or a phone of this record belongs to a person who was erased or objected.",
    )

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _gdpr_subject_partner(self):
        """Return the ``res.partner`` recordset these records are about
        (the record itself for a contact, the customer for a lead)."""
        return self.env["res.partner"]

    def _gdpr_restricted_records(self):
        """Return the subset of ``self`` whose processing is restricted
        (GDPR art. 18): restricted themselves, or about a restricted contact."""
        partners = self._gdpr_subject_partner()
        restricted_partners = partners.filtered("gdpr_restricted") if partners else partners
        return self.filtered(lambda rec: rec.gdpr_restricted or (rec._gdpr_subject_partner() & restricted_partners))

    def _gdpr_legal_hold_reasons(self):
        """Return ``{record id: reason}`` for the records of ``self`` that a
        legal obligation keeps (they are restricted instead of erased, and
        skipped by retention): their own hold, and the administrator's
        legal hold rules (``gdpr.legal.hold``)."""
        reasons = {}
        today = fields.Date.context_today(self)
        for record in self:
            if record.gdpr_legal_hold and (not record.gdpr_legal_hold_until or record.gdpr_legal_hold_until >= today):
                reasons[record.id] = record.gdpr_legal_hold_reason or self.env._("Legal hold")
        for record_id, reason in self.env["gdpr.legal.hold"]._gdpr_held(self._name, self.ids).items():
            reasons.setdefault(record_id, reason)
        return reasons

    def _gdpr_identifier_fields(self):
        """``(email fields, phone fields)`` checked against the suppression list."""
        return (), ()

    def _gdpr_identifier_values(self, vals=None):
        """The emails and phones of these records (or of ``vals``)."""
        email_fields, phone_fields = self._gdpr_identifier_fields()
        sources = [vals] if vals is not None else [{f: rec[f] for f in (*email_fields, *phone_fields)} for rec in self]
        emails, phones = [], []
        for source in sources:
            emails += [source[f] for f in email_fields if source.get(f)]
            phones += [source[f] for f in phone_fields if source.get(f)]
        return emails, phones

    def _gdpr_suppressed_records(self):
        """Return the subset of ``self`` whose email or phone is on the
        suppression list (one query for the whole recordset)."""
        values = {rec.id: rec._gdpr_identifier_values() for rec in self}
        every = [v for emails, phones in values.values() for v in (*emails, *phones)]
        suppressed = self.env["gdpr.suppression"].sudo()._gdpr_suppressed_values(every)
        if not suppressed:
            return self.browse()
        return self.filtered(lambda rec: suppressed & set(values[rec.id][0] + values[rec.id][1]))

    @api.depends(lambda self: [f for fs in self._gdpr_identifier_fields() for f in fs])
    def _compute_gdpr_suppressed(self):
        suppressed = self._gdpr_suppressed_records()
        for record in self:
            record.gdpr_suppressed = record in suppressed

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _gdpr_is_privileged(self):
        """The DPO, or the system itself (workflow methods run under sudo)."""
        return self.env.su or self.env.user.has_group("gdpr_crm.group_gdpr_dpo")

    def _gdpr_check_suppression(self, vals_list):
        """Refuse (mode "block") new identifiers that are on the suppression list."""
        Suppression = self.env["gdpr.suppression"].sudo()
        if Suppression._gdpr_mode() != "block":
            return
        every = []
        for vals in vals_list:
            emails, phones = self._gdpr_identifier_values(vals)
            every += emails + phones
        if every and Suppression._gdpr_suppressed_values(every):
            raise UserError(
                self.env._(
                    "This email address or phone number belongs to a person who asked to be erased or objected "
                    "to the processing of their data (suppression list): it cannot be recorded again. "
                    "Ask the DPO if the person contacted you again of their own accord."
                )
            )

    def _gdpr_check_frozen(self, vals):
        if self._gdpr_is_privileged():
            return
        if PROTECTED_FIELDS & set(vals):
            raise UserError(
                self.env._("Only the DPO may restrict, hold or record an objection on %(records)s.")
                % {"records": ", ".join(self.mapped("display_name"))}
            )
        if set(vals) - TECHNICAL_FIELDS:
            frozen = self._gdpr_restricted_records()
            if frozen:
                raise UserError(
                    self.env._(
                        "The processing of %(records)s is restricted (GDPR art. 18): the data is kept but "
                        "cannot be changed. Only the DPO can edit it or lift the restriction.",
                        records=", ".join(frozen.mapped("display_name")),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._gdpr_check_suppression(vals_list)
        if not self._gdpr_is_privileged() and any(PROTECTED_FIELDS & set(vals) for vals in vals_list):
            raise UserError(self.env._("Only the DPO may create restricted or held records."))
        return super().create(vals_list)

    def write(self, vals):
        self._gdpr_check_frozen(vals)
        email_fields, phone_fields = self._gdpr_identifier_fields()
        if set(vals) & {*email_fields, *phone_fields}:
            self._gdpr_check_suppression([vals])
        if "gdpr_restricted" in vals:
            changed = self.filtered(lambda rec: rec.gdpr_restricted != bool(vals["gdpr_restricted"]))
            if vals["gdpr_restricted"] and "gdpr_restriction_date" not in vals:
                vals = dict(vals, gdpr_restriction_date=fields.Datetime.now())
        else:
            changed = self.browse()
        res = super().write(vals)
        if changed:
            self.env["gdpr.audit.log"]._gdpr_log(
                "restriction",
                records=changed,
                description=(
                    self.env._("Processing restricted (GDPR art. 18).")
                    if vals["gdpr_restricted"]
                    else self.env._("Restriction of processing lifted.")
                ),
            )
        return res

    def unlink(self):
        if not self._gdpr_is_privileged() and self._gdpr_restricted_records():
            raise UserError(
                self.env._("A restricted record is kept frozen (GDPR art. 18): only the DPO can delete it.")
            )
        return super().unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_gdpr_lift_restriction(self):
        """Lift the restriction (DPO only; logged)."""
        if not self._gdpr_is_privileged():
            raise UserError(self.env._("Only the DPO can lift a restriction of processing."))
        self.write({"gdpr_restricted": False, "gdpr_restriction_reason": False, "gdpr_restriction_date": False})
        return True
