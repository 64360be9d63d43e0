# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import copy

from lxml import etree

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

# ---- retention: kinds of interaction coming from the person ----
INTERACTION_SOURCES = [
    ("creation", "Record created"),
    ("email", "Incoming email or reply"),
    ("message", "Message they wrote"),
    ("login", "Portal login"),
    ("web_form", "Web form or lead they submitted"),
    ("mailing_click", "Click in a mailing"),
    ("order", "Order or invoice"),
]
# kinds an administrator can switch off (creation always counts)
INTERACTION_KINDS = ("email", "message", "login", "web_form", "mailing_click", "order")
DEFAULT_INTERACTION_KINDS = INTERACTION_KINDS

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
    - :meth:`_gdpr_consent_domain` / :meth:`_gdpr_consent_subject_search`:
      whose consents a record shows, and which records a consent domain
      selects (the consent fields and helpers below are built on them).

    The form of a model using it shows the shared **Privacy** tab
    (``gdpr_crm.gdpr_subject_mixin_view_privacy``): its own form view
    declares the page ``gdpr_privacy`` with the group ``gdpr_privacy_main``
    (where features add their fields) and an empty
    ``<div name="gdpr_privacy_consents"/>``, replaced by the shared consent
    block when the view is loaded.
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

    gdpr_consent_ids = fields.Many2many(
        "gdpr.consent",
        string="Consents",
        compute="_compute_gdpr_consent_ids",
        groups="gdpr_crm.group_gdpr_user",
    )
    gdpr_consent_event_ids = fields.Many2many(
        "gdpr.consent.event",
        string="Consent History",
        compute="_compute_gdpr_consent_summary",
        groups="gdpr_crm.group_gdpr_user",
    )
    gdpr_consent_count = fields.Integer(
        string="Consent Count", compute="_compute_gdpr_consent_summary", groups="gdpr_crm.group_gdpr_user"
    )
    gdpr_consent_purpose_ids = fields.Many2many(
        "gdpr.purpose",
        string="Consented Purposes",
        compute="_compute_gdpr_consent_purpose_ids",
        search="_search_gdpr_consent_purpose_ids",
        help="Purposes this data subject currently consents to (given and not expired). "
        "Use it in mailing domains, e.g. [('gdpr_consent_purpose_ids.code', '=', 'newsletter')].",
    )

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------

    # ---- retention: the last interaction coming from the person ----
    gdpr_last_interaction_date = fields.Datetime(
        string="Last Interaction",
        index=True,
        default=fields.Datetime.now,
        copy=False,
        readonly=True,
        help="The last contact coming from the person (an incoming email or reply, a message they wrote, "
        "a portal login, a web form, a mailing click...). A salesperson's note or an outgoing email does "
        "not count. Retention policies count their delay from this date.",
    )
    gdpr_last_interaction_source = fields.Selection(
        INTERACTION_SOURCES,
        string="Last Interaction Source",
        default="creation",
        copy=False,
        readonly=True,
        help="What the last interaction was.",
    )
    gdpr_interaction_age = fields.Float(
        string="Years Since Last Interaction",
        compute="_compute_gdpr_interaction_age",
        digits=(16, 1),
    )
    gdpr_anonymized_date = fields.Datetime(
        string="Anonymized On",
        copy=False,
        readonly=True,
        help="Set when gdpr_crm anonymized the record: its personal data is gone.",
    )

    @api.depends("gdpr_last_interaction_date")
    def _compute_gdpr_interaction_age(self):
        now = fields.Datetime.now()
        for record in self:
            date = record.gdpr_last_interaction_date
            record.gdpr_interaction_age = round((now - date).days / 365.25, 1) if date else 0.0

    def _auto_init(self):
        """On install, give existing records a reference date for retention:
        the last message they sent (contacts) or received from outside
        (leads) when there is one, else their creation date. One statement
        per table; later changes are kept incrementally."""
        new_column = not column_exists(self.env.cr, self._table, "gdpr_last_interaction_date")
        result = super()._auto_init()
        if new_column and not self._abstract and self._auto:
            self._gdpr_backfill_interaction()
        return result

    def _gdpr_backfill_interaction(self):
        table = SQL.identifier(self._table)
        self.env.cr.execute(
            SQL(
                "UPDATE %(table)s SET gdpr_last_interaction_date = create_date, "
                "gdpr_last_interaction_source = 'creation' WHERE gdpr_last_interaction_date IS NULL",
                table=table,
            )
        )

    @api.model
    def _gdpr_interaction_kinds(self):
        """The kinds of interaction that count (setting ``gdpr_crm.interaction_kinds``,
        comma-separated; default: all)."""
        value = self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.interaction_kinds")
        if value is None or value is False:
            return set(DEFAULT_INTERACTION_KINDS)
        return {kind.strip() for kind in value.split(",") if kind.strip()}

    @api.model
    def _gdpr_touch_interaction(self, ids, kind, date=None):
        """Record an interaction of kind ``kind`` coming from the records
        ``ids`` of this model at ``date`` (default: now). Set-based (one
        UPDATE), never moves the date backwards, ignores kinds switched off
        in the settings. Returns the ids updated."""
        ids = [record_id for record_id in set(ids or ()) if record_id]
        if not ids or kind not in self._gdpr_interaction_kinds():
            return []
        date = date or fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                "UPDATE %(table)s SET gdpr_last_interaction_date = %(date)s, "
                "gdpr_last_interaction_source = %(kind)s "
                "WHERE id = ANY(%(ids)s) AND (gdpr_last_interaction_date IS NULL "
                "OR gdpr_last_interaction_date <= %(date)s) RETURNING id",
                table=SQL.identifier(self._table),
                date=date,
                kind=kind,
                ids=ids,
            )
        )
        updated = [row[0] for row in self.env.cr.fetchall()]
        if updated:
            self.browse(updated).invalidate_recordset(["gdpr_last_interaction_date", "gdpr_last_interaction_source"])
        return updated

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

    def _gdpr_consents_by_record(self, extra_domain=None):
        """Map each record id to its data subject's consents (``gdpr.consent``
        recordset), in a few queries for all records. Default: by the contact
        of :meth:`_gdpr_subject_partner`."""
        Consent = self.env["gdpr.consent"]
        partners = {record.id: record._gdpr_subject_partner() for record in self}
        partner_ids = {p.id for p in partners.values() if p}
        consents = Consent.search([("partner_id", "in", list(partner_ids)), *(extra_domain or [])])
        by_partner = consents.grouped("partner_id")
        return {
            record.id: by_partner.get(partners[record.id][:1], Consent) if partners[record.id] else Consent
            for record in self
        }

    @api.model
    def _gdpr_consent_subject_search(self, consent_domain):
        """The domain of the records whose data subject has a consent of
        ``consent_domain`` (searched as superuser). Default: by contact."""
        query = self.env["gdpr.consent"].sudo()._search([("partner_id", "!=", False), *consent_domain])
        partners = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            ._search([("id", "in", query.subselect("partner_id"))])
        )
        return [("partner_id", "in", partners)]

    def _gdpr_consent_record_context(self):
        """Default values of the *Record a consent* wizard opened from a record."""
        partner = self._gdpr_subject_partner()[:1]
        return {"default_partner_id": partner.id}

    # ------------------------------------------------------------------
    # Consent fields and helpers
    # ------------------------------------------------------------------
    def _compute_gdpr_consent_ids(self):
        by_record = self._gdpr_consents_by_record()
        for record in self:
            record.gdpr_consent_ids = by_record.get(record.id, self.env["gdpr.consent"])

    def _compute_gdpr_consent_summary(self):
        by_record = self._gdpr_consents_by_record()
        # the history keeps the events of the consents archived by a merge
        with_archived = self.with_context(active_test=False)._gdpr_consents_by_record()
        Consent = self.env["gdpr.consent"]
        for record in self:
            record.gdpr_consent_count = len(by_record.get(record.id, Consent))
            record.gdpr_consent_event_ids = with_archived.get(record.id, Consent).event_ids.with_env(self.env)

    def _compute_gdpr_consent_purpose_ids(self):
        # as the user: a salesperson sees the purposes of the consents they may read
        Consent = self.env["gdpr.consent"]
        if not Consent.has_access("read"):
            self.gdpr_consent_purpose_ids = self.env["gdpr.purpose"]
            return
        by_record = self._gdpr_consents_by_record(Consent._gdpr_given_domain())
        for record in self:
            record.gdpr_consent_purpose_ids = by_record.get(record.id, Consent).purpose_id.with_env(self.env)

    @api.model
    def _gdpr_purpose_ids_from_search_value(self, value):
        """Turn a search value (ids, codes, names or a query) into purposes."""
        Purpose = self.env["gdpr.purpose"].sudo().with_context(active_test=False)
        if isinstance(value, str):
            return Purpose._search(["|", ("code", "=", value), ("name", "ilike", value)])
        if isinstance(value, int):
            return [value]
        if isinstance(value, list | tuple) and any(isinstance(item, str) for item in value):
            return Purpose._search(["|", ("code", "in", list(value)), ("name", "in", list(value))])
        return value

    def _search_gdpr_consent_purpose_ids(self, operator, value):
        subject_domain = self._gdpr_consent_subject_search
        Consent = self.env["gdpr.consent"]
        if operator in ("=", "!=") and value is False:
            domain = subject_domain(Consent._gdpr_given_domain())
            return ["!", *domain] if operator == "=" else domain
        if operator in ("=", "in", "!=", "not in"):
            purposes = self._gdpr_purpose_ids_from_search_value(value)
            domain = subject_domain(Consent._gdpr_given_domain(purposes))
            return domain if operator in ("=", "in") else ["!", *domain]
        if operator in ("ilike", "not ilike", "like", "=like", "=ilike"):
            purposes = self.env["gdpr.purpose"].sudo()._search([("name", operator.replace("not ", ""), value)])
            domain = subject_domain(Consent._gdpr_given_domain(purposes))
            return ["!", *domain] if operator.startswith("not") else domain
        raise NotImplementedError(f"Operator {operator!r} not supported on consented purposes")

    def _gdpr_has_consent(self, purpose_code):
        """True when the data subject of this record currently consents to ``purpose_code``."""
        self.ensure_one()
        purpose = self.env["gdpr.purpose"].sudo()._gdpr_get_by_code(purpose_code)
        if not purpose or not self.id:
            return False
        Consent = self.env["gdpr.consent"].sudo()
        return bool(self.sudo()._gdpr_consents_by_record(Consent._gdpr_given_domain(purpose.ids))[self.id])

    def action_gdpr_view_consents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_consent_action")
        action["domain"] = [("id", "in", self.gdpr_consent_ids.ids)]
        action["context"] = {"create": False}
        return action

    def action_gdpr_record_consent(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record a consent"),
            "res_model": "gdpr.consent.record",
            "view_mode": "form",
            "target": "new",
            "context": self._gdpr_consent_record_context(),
        }

    # ------------------------------------------------------------------
    # The shared Privacy tab
    # ------------------------------------------------------------------
    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            placeholders = arch.xpath("//div[@name='gdpr_privacy_consents']")
            if placeholders:
                shared = self.env.ref("gdpr_crm.gdpr_subject_mixin_view_privacy", raise_if_not_found=False)
                if shared:
                    block = etree.fromstring(shared.sudo().arch).xpath("//div[@name='gdpr_privacy_consents']")[0]
                    for placeholder in placeholders:
                        placeholder.getparent().replace(placeholder, copy.deepcopy(block))
        return arch, view

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
        # writing a protection field with the value it already has changes nothing
        if any(vals[name] or any(self.mapped(name)) for name in PROTECTED_FIELDS & set(vals)):
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
        # a form sends every field: only a protection actually set is the DPO's
        if not self._gdpr_is_privileged() and any(vals.get(name) for vals in vals_list for name in PROTECTED_FIELDS):
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
