# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import logging
import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, email_normalize

from ..lib.validation import MAX_NAME, MAX_TEXT, bounded_setting

_logger = logging.getLogger(__name__)

CONSENT_STATES = [
    ("pending", "Pending"),
    ("given", "Given"),
    ("refused", "Refused"),
    ("withdrawn", "Withdrawn"),
    ("expired", "Expired"),
]

SOURCES = [
    ("web_form", "Web form"),
    ("double_opt_in", "Double opt-in"),
    ("phone", "Phone"),
    ("paper", "Paper"),
    ("import", "Import"),
    ("portal", "Portal"),
    ("api", "API"),
    ("other", "Other"),
]

# Which state each action may start from.
ALLOWED_FROM = {
    "give": {"pending", "given", "refused", "withdrawn", "expired"},
    "refuse": {"pending", "refused", "expired"},
    "withdraw": {"given"},
    "expire": {"given"},
}
ACTION_STATE = {"give": "given", "refuse": "refused", "withdraw": "withdrawn", "expire": "expired"}

# The answer and its proof: copied as a whole when a more recent answer is
# carried over from a lead's email to its contact.
ANSWER_FIELDS = (
    "state",
    "date_given",
    "date_refused",
    "date_withdrawn",
    "expiry_date",
    "source",
    "proof",
    "proof_version",
    "ip_address",
    "user_agent",
    "collected_by_id",
)
# Fields only the consent's own methods may change.
PROTECTED_FIELDS = {
    "active",
    "partner_id",
    "email",
    "lead_id",
    "company_id",
    "purpose_id",
    *ANSWER_FIELDS,
    "opt_in_token_hash",
    "opt_in_expiry",
    "opt_in_sent_date",
}

# Marks the writes of the consent's own methods: a dict key no RPC client can
# send (it is not a string), unlike a context key.
_INTERNAL = object()

# spaces, and the invisible characters that would pass for a wording
BLANK_PATTERN = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")
# Protected fields a consent is created with (its subject, purpose and where it was collected).
CREATE_FIELDS = {"partner_id", "email", "purpose_id", "lead_id", "company_id"}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPT_IN_TOKEN_MARKER = "__gdpr_opt_in_token__"
DEFAULT_OPT_IN_VALIDITY_DAYS = 7
EXPIRY_BATCH_SIZE = 1000


class GdprConsent(models.Model):
    """The consent of one data subject to one purpose (GDPR art. 6(1)(a), 7).

    The subject is a contact, or an email address for a lead without contact.
    A consent starts ``pending`` (nothing is pre-ticked) and only changes
    through :meth:`action_give`, :meth:`action_refuse`,
    :meth:`action_withdraw` and the expiry cron, each appending a signed
    :class:`gdpr.consent.event` that keeps the proof.
    """

    _name = "gdpr.consent"
    _description = "Consent"
    _inherit = ["mail.thread", "mail.activity.mixin", "gdpr.token.mixin"]
    _order = "id desc"
    _mail_post_access = "read"
    _gdpr_token_slots = {"opt_in": ("opt_in_token_hash", "opt_in_expiry")}

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        index="btree_not_null",
        ondelete="restrict",
        readonly=True,
        help="The data subject. Empty for the consent of a lead without contact, identified by its email.",
    )
    email = fields.Char(
        readonly=True,
        help="Normalized email of the data subject, for a lead without contact.",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The lead this consent was collected on, if any.",
    )
    purpose_id = fields.Many2one(
        "gdpr.purpose",
        string="Purpose",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        domain="[('legal_basis', '=', 'consent')]",
    )
    purpose_code = fields.Char(related="purpose_id.code")
    state = fields.Selection(CONSENT_STATES, required=True, default="pending", readonly=True, index=True)
    date_given = fields.Datetime(readonly=True)
    date_refused = fields.Datetime(readonly=True)
    date_withdrawn = fields.Datetime(readonly=True)
    expiry_date = fields.Date(
        readonly=True,
        help="The consent expires on this date and must be asked again (from the purpose's validity).",
    )
    source = fields.Selection(SOURCES, readonly=True, help="How the answer was collected.")
    proof = fields.Text(
        string="Proof Wording",
        readonly=True,
        help="The exact wording the data subject was shown when answering.",
    )
    proof_version = fields.Char(readonly=True, help="Version of that wording (form, script or page).")
    ip_address = fields.Char(string="IP Address", readonly=True)
    user_agent = fields.Char(readonly=True)
    collected_by_id = fields.Many2one("res.users", string="Collected by", readonly=True, ondelete="set null")
    event_ids = fields.One2many("gdpr.consent.event", "consent_id", string="History", readonly=True)
    event_count = fields.Integer(compute="_compute_event_count")
    opt_in_token_hash = fields.Char(readonly=True, copy=False, groups="base.group_system", index="btree_not_null")
    opt_in_expiry = fields.Datetime(string="Confirmation Link Valid Until", readonly=True, copy=False)
    opt_in_sent_date = fields.Datetime(string="Confirmation Requested On", readonly=True, copy=False)
    expiring_this_month = fields.Boolean(compute="_compute_expiring_this_month", search="_search_expiring_this_month")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, readonly=True
    )
    active = fields.Boolean(
        default=True,
        readonly=True,
        help="Archived when superseded by the consent of a merged duplicate contact; its history is kept.",
    )
    gdpr_in_perimeter = fields.Boolean(
        string="In My Perimeter",
        compute="_compute_gdpr_in_perimeter",
        search="_search_gdpr_in_perimeter",
        help="Whether the data subject of the consent is in the current salesperson's perimeter: "
        "its contact, or for an email, one of their leads with that email.",
    )

    _sql_constraints = [
        (
            "subject_required",
            "CHECK (partner_id IS NOT NULL OR email IS NOT NULL)",
            "A consent needs a data subject: a contact or an email.",
        ),
    ]

    def init(self):
        # One consent per (subject, purpose): the contact when there is one,
        # else the normalized email.
        self.env.cr.execute(
            """
            DROP INDEX IF EXISTS gdpr_consent_partner_purpose_uniq;
            DROP INDEX IF EXISTS gdpr_consent_email_purpose_uniq;
            CREATE UNIQUE INDEX IF NOT EXISTS gdpr_consent_partner_purpose_company_uniq
                ON gdpr_consent (partner_id, purpose_id, company_id) WHERE partner_id IS NOT NULL AND active;
            CREATE UNIQUE INDEX IF NOT EXISTS gdpr_consent_email_purpose_company_uniq
                ON gdpr_consent (email, purpose_id, company_id) WHERE partner_id IS NULL AND active;
            CREATE INDEX IF NOT EXISTS gdpr_consent_given_expiry_idx
                ON gdpr_consent (expiry_date) WHERE state = 'given';
            """
        )
        # A consent (and with it, by ON DELETE CASCADE, its history) is
        # deleted only by the erasure of its subject, which declares it first
        # in the audit log (see _gdpr_purge): no session setting opens this,
        # and whoever declares a deletion leaves a sealed trace of it.
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION gdpr_consent_protect() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (
                    SELECT 1 FROM gdpr_audit_log
                     WHERE code = 'consent_purged' AND params->'ids' @> to_jsonb(OLD.id)) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'gdpr_consent is append-only: % refused (only an erasure declared in the audit log '
                                'deletes a consent)', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS gdpr_consent_no_delete ON gdpr_consent;
            CREATE TRIGGER gdpr_consent_no_delete BEFORE DELETE ON gdpr_consent
                FOR EACH ROW EXECUTE FUNCTION gdpr_consent_protect();
            DROP TRIGGER IF EXISTS gdpr_consent_no_truncate ON gdpr_consent;
            CREATE TRIGGER gdpr_consent_no_truncate BEFORE TRUNCATE ON gdpr_consent
                FOR EACH STATEMENT EXECUTE FUNCTION gdpr_consent_protect();
            """
        )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("partner_id", "email", "purpose_id")
    def _compute_display_name(self):
        for consent in self:
            subject = consent.partner_id.display_name or consent.email or ""
            consent.display_name = "%s - %s" % (consent.purpose_id.name or "", subject)

    def _compute_event_count(self):
        counts = dict(
            self.env["gdpr.consent.event"]._read_group([("consent_id", "in", self.ids)], ["consent_id"], ["__count"])
        )
        for consent in self:
            consent.event_count = counts.get(consent, 0)

    @api.model
    def _gdpr_perimeter_consent_domain(self):
        """Domain of the consents in the current user's perimeter, None when unrestricted.

        A consent follows its data subject: the consent of a contact is in the
        perimeter when the user may read that contact; the consent of an email
        (no contact) when the user may read a lead with that email. Searched
        as the user, so that Odoo's own rules on leads apply too.
        """
        if not self.env["res.users"]._gdpr_perimeter_applies():
            return None
        uid = self.env.uid
        partners = self.env["res.partner"].with_user(uid).with_context(active_test=False)._search([])
        leads = (
            self.env["crm.lead"]
            .with_user(uid)
            .with_context(active_test=False)
            ._search([("email_normalized", "!=", False)])
        )
        return [
            "|",
            "&",
            ("partner_id", "!=", False),
            ("partner_id", "in", partners),
            "&",
            ("partner_id", "=", False),
            ("email", "in", leads.subselect("email_normalized")),
        ]

    def _compute_gdpr_in_perimeter(self):
        domain = self._gdpr_perimeter_consent_domain()
        if domain is None:
            self.gdpr_in_perimeter = True
            return
        ids = [record_id for record_id in self.ids if isinstance(record_id, int)]
        inside = (
            set(self.sudo().with_context(active_test=False)._search([("id", "in", ids), *domain])) if ids else set()
        )
        for consent in self:
            consent.gdpr_in_perimeter = consent.id in inside or not isinstance(consent.id, int)

    def _search_gdpr_in_perimeter(self, operator, value):
        return self.env["res.users"]._gdpr_perimeter_search(self._gdpr_perimeter_consent_domain(), operator, value)

    def _month_bounds(self):
        today = fields.Date.context_today(self)
        start = today.replace(day=1)
        return start, start + relativedelta(months=1)

    @api.depends("expiry_date", "state")
    def _compute_expiring_this_month(self):
        start, end = self._month_bounds()
        for consent in self:
            consent.expiring_this_month = bool(
                consent.state == "given" and consent.expiry_date and start <= consent.expiry_date < end
            )

    def _search_expiring_this_month(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on 'expiring this month'."))
        start, end = self._month_bounds()
        domain = [("state", "=", "given"), ("expiry_date", ">=", start), ("expiry_date", "<", end)]
        positive = (operator == "=") == value
        return domain if positive else [("id", "not in", self._search(domain))]

    # ------------------------------------------------------------------
    # Create / write
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_normalize_email(self, email):
        """Return the normalized email, or raise a clear error."""
        normalized = email_normalize(email or "", strict=True)
        if not normalized or not EMAIL_PATTERN.match(normalized):
            raise ValidationError(
                self.env._(
                    "'%(email)s' is not a valid email address: enter one like name@example.com.",
                    email=email or "",
                )
            )
        return normalized

    @api.model
    def _gdpr_check_subject_access(self, partner=None, lead=None):
        """The user must at least be able to read the record a consent is for."""
        if partner:
            partner.check_access("read")
        if lead:
            lead.check_access("read")

    @api.model
    def _gdpr_perimeter_error(self):
        return AccessError(
            self.env._(
                "You can record the consent of an email only from one of your leads with that email: "
                "open the lead and record it there, or ask the DPO."
            )
        )

    @api.model
    def _gdpr_check_email_subject_access(self, email):
        """A salesperson in perimeter mode records the consent of an email only
        when they can read a lead with that email (the rule that lets them read
        it afterwards); the error is the same whether such a consent exists."""
        if self.env.su or not self.env["res.users"]._gdpr_perimeter_applies():
            return
        if (
            not self.env["crm.lead"]
            .with_context(active_test=False)
            .search_count([("email_normalized", "=", email)], limit=1)
        ):
            raise self._gdpr_perimeter_error()

    @api.model
    def _gdpr_prepare_create_vals(self, vals):
        """Fill the subject from the lead, normalize and validate ``vals``."""
        lead = self.env["crm.lead"].browse(vals.get("lead_id") or [])
        partner = self.env["res.partner"].browse(vals.get("partner_id") or [])
        self._gdpr_check_subject_access(partner, lead)
        if lead and not partner and not vals.get("email"):
            if lead.partner_id:
                partner = lead.partner_id
                vals["partner_id"] = partner.id
            elif lead.email_from:
                vals["email"] = lead.email_from
            else:
                raise ValidationError(
                    self.env._(
                        "The lead '%(lead)s' has neither a contact nor an email: add one before recording a consent.",
                        lead=lead.display_name,
                    )
                )
        if partner:
            vals["email"] = False
        elif vals.get("email"):
            vals["email"] = self._gdpr_normalize_email(vals["email"])
            self._gdpr_check_email_subject_access(vals["email"])
        else:
            raise ValidationError(self.env._("A consent needs a data subject: choose a contact or enter an email."))
        purpose = self.env["gdpr.purpose"].browse(vals.get("purpose_id") or [])
        if not purpose:
            raise ValidationError(self.env._("A consent needs a purpose: choose what the consent is for."))
        self._gdpr_check_purpose_basis(purpose)
        # one consent per (subject, purpose, company)
        company_id = vals.get("company_id") or self.env.company.id
        vals["company_id"] = company_id
        domain = [("purpose_id", "=", purpose.id), ("company_id", "=", company_id)]
        domain += (
            [("partner_id", "=", partner.id)]
            if partner
            else [("partner_id", "=", False), ("email", "=", vals["email"])]
        )
        if self.sudo().search_count(domain, limit=1):
            if not self.search_count(domain, limit=1):
                # unreachable while the subject checks above match the record
                # rules; never tell what exists outside the perimeter
                raise self._gdpr_perimeter_error()
            raise ValidationError(
                self.env._(
                    "This data subject already has a consent for the purpose '%(purpose)s': "
                    "open it and record the new answer there.",
                    purpose=purpose.display_name,
                )
            )
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        answers = []
        seen = set()
        for vals in vals_list:
            # Nothing is pre-ticked: a consent is created pending, and an
            # answer given at creation goes through the same checks as later.
            state = vals.pop("state", "pending") or "pending"
            proof = {key: vals.pop(key) for key in list(vals) if key in PROTECTED_FIELDS - CREATE_FIELDS}
            if state not in ("pending", "given", "refused"):
                raise ValidationError(
                    self.env._("A new consent can only be pending, given or refused, not '%(state)s'.", state=state)
                )
            self._gdpr_prepare_create_vals(vals)
            key = (vals.get("partner_id") or False, vals.get("email") or False, vals["purpose_id"], vals["company_id"])
            if key in seen:
                raise ValidationError(
                    self.env._("The same data subject and purpose appear twice: record one consent for each.")
                )
            seen.add(key)
            answers.append((state, proof))
        if any(state == "given" for state, _proof in answers):
            # validate before any INSERT
            for state, proof in answers:
                if state == "given":
                    self._gdpr_check_proof(proof.get("source"), proof.get("proof"), proof.get("proof_version"))
        consents = super().create(vals_list)
        self.env["gdpr.consent.event"]._gdpr_append(
            [
                {
                    **consent._gdpr_event_subject(),
                    "action": "create",
                    "state": "pending",
                    "source": answer[1].get("source") or False,
                }
                for consent, answer in zip(consents, answers, strict=True)
            ]
        )
        for consent, (state, proof) in zip(consents, answers, strict=True):
            if state == "given":
                consent.action_give(**self._gdpr_proof_kwargs(proof))
            elif state == "refused":
                consent.action_refuse(**self._gdpr_proof_kwargs(proof))
        self.env["gdpr.audit.log"]._gdpr_log(
            "consent",
            records=consents,
            description="Consent(s) created: ids %s" % ", ".join(map(str, consents.ids)),
            code="consent_created",
            params={"count": len(consents), "ids": consents.ids[:50]},
        )
        return consents

    @api.model
    def _gdpr_proof_kwargs(self, vals):
        mapping = {
            "source": "source",
            "proof": "proof",
            "proof_version": "proof_version",
            "ip_address": "ip_address",
            "user_agent": "user_agent",
            "date_given": "date",
            "date_refused": "date",
        }
        return {mapping[key]: value for key, value in vals.items() if key in mapping}

    def _gdpr_write_internal(self, vals):
        """Write protected fields: for the consent's own methods only (Python,
        never reachable over RPC: its name starts with an underscore)."""
        return self.write({**vals, _INTERNAL: True})

    def write(self, vals):
        vals = dict(vals)
        internal = vals.pop(_INTERNAL, None) is True
        if PROTECTED_FIELDS & set(vals) and not internal:
            raise UserError(
                self.env._(
                    "A consent's subject, purpose, state and proof only change through "
                    "its buttons (Give, Refuse, Withdraw), so that every change is kept "
                    "in its history."
                )
            )
        return super().write(vals)

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(
            self.env._(
                "Consents are kept as proof and cannot be deleted: withdraw the consent "
                "instead. Only the erasure of the data subject removes them."
            )
        )

    def _gdpr_purge(self):
        """Delete these consents and their history (erasure of the subject).

        For the erasure of a data subject only (GDPR art. 17): the one path
        allowed through the append-only trigger, inside this transaction.
        """
        if not self:
            return
        ids = list(self.ids)
        self.flush_recordset()
        self.env["gdpr.consent.event"].flush_model()
        cr = self.env.cr
        cr.execute("SELECT count(*) FROM gdpr_consent_event WHERE consent_id = ANY(%s)", (ids,))
        events = cr.fetchone()[0]
        # logged first: the audit log's checkpoints count the events, and
        # this entry says where the missing ones went
        self.env["gdpr.audit.log"]._gdpr_log(
            "erasure",
            model=self._name,
            record_count=len(ids),
            description="Consent(s) and their history purged for an erasure: ids %s" % ", ".join(map(str, ids)),
            code="consent_purged",
            # every id: the database's trigger lets through only the consents declared here
            params={"count": len(ids), "events": events, "ids": ids},
        )
        # the events go with their consent (ON DELETE CASCADE): the trigger of
        # the history lets through only the events whose consent is gone
        cr.execute("DELETE FROM gdpr_consent WHERE id = ANY(%s)", (ids,))
        self.invalidate_model()
        self.env["gdpr.consent.event"].invalidate_model()

    # ------------------------------------------------------------------
    # Transitions
    # ------------------------------------------------------------------
    def _gdpr_event_subject(self):
        self.ensure_one()
        return {
            "consent_id": self.id,
            "subject_partner_id": self.partner_id.id or False,
            "email": self.email or False,
            "purpose_id": self.purpose_id.id,
            "company_id": self.company_id.id,
        }

    @api.model
    def _gdpr_check_purpose_basis(self, purpose):
        """Only a purpose based on consent can be given, refused or withdrawn."""
        if purpose.legal_basis != "consent":
            labels = dict(purpose._fields["legal_basis"]._description_selection(self.env))
            raise ValidationError(
                self.env._(
                    "The purpose '%(purpose)s' is based on %(basis)s, not on consent: there is no "
                    "consent to record for it. Choose a purpose based on consent.",
                    purpose=purpose.display_name,
                    basis=labels.get(purpose.legal_basis, purpose.legal_basis),
                )
            )

    @api.model
    def _gdpr_check_proof(self, source, proof, proof_version):
        if not source:
            raise ValidationError(
                self.env._("Say how the consent was collected (web form, phone, paper...) before recording it.")
            )
        if source not in dict(SOURCES):
            raise ValidationError(self.env._("'%(value)s' is not a known consent source.", value=source))
        if not BLANK_PATTERN.sub("", proof or ""):
            raise ValidationError(
                self.env._(
                    "A consent needs its proof: enter the exact wording the data subject "
                    "was shown or read when agreeing."
                )
            )
        if not BLANK_PATTERN.sub("", proof_version or ""):
            raise ValidationError(
                self.env._(
                    "Enter the version of that wording (of the form, script or page), so that it can be found again."
                )
            )

    def _gdpr_lock(self):
        """Lock the rows, so that two answers to one consent are serialized."""
        if self.ids:
            self.env.cr.execute(SQL("SELECT id FROM gdpr_consent WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))
            self.invalidate_recordset(["state"])

    def _gdpr_change_state(self, action, event_vals=None, consent_vals=None, note=False):
        """Apply ``action`` to every consent of ``self`` and append its events.

        Checks everything first, so that nothing is written when one consent
        cannot change.
        """
        if not self:
            return True
        self._gdpr_lock()
        new_state = ACTION_STATE[action]
        # a salesperson answers only for the data subjects they can read
        # (one access check for the whole set, not one per consent)
        self._gdpr_check_subject_access(self.partner_id, self.filtered(lambda c: not c.partner_id).lead_id)
        for consent in self:
            if action in ("give", "refuse", "withdraw"):
                self._gdpr_check_purpose_basis(consent.purpose_id)
            if consent.state not in ALLOWED_FROM[action]:
                raise UserError(
                    self._gdpr_transition_error(action, consent),
                )
        event_vals = dict(event_vals or {})
        consent_vals = dict(consent_vals or {})
        previous = {consent.id: consent.state for consent in self}
        writer = self
        # an answer ends any pending confirmation link (hidden field: sudo)
        token_vals = {
            key: consent_vals.pop(key) for key in ("opt_in_token_hash", "opt_in_expiry") if key in consent_vals
        }
        if token_vals:
            writer.sudo()._gdpr_write_internal(token_vals)
        if action == "give":
            date = consent_vals.get("date_given") or fields.Datetime.now()
            by_expiry = {}
            for consent in self:
                months = consent.purpose_id.consent_validity_months
                expiry = (fields.Datetime.to_datetime(date) + relativedelta(months=months)).date() if months else False
                by_expiry.setdefault(expiry, self.browse())
                by_expiry[expiry] |= consent
            for expiry, consents in by_expiry.items():
                consents._gdpr_write_internal(
                    {**consent_vals, "state": new_state, "expiry_date": expiry, "date_given": date}
                )
        else:
            writer._gdpr_write_internal({**consent_vals, "state": new_state})
        self.env["gdpr.consent.event"]._gdpr_append(
            [
                {
                    **consent._gdpr_event_subject(),
                    **event_vals,
                    "action": action,
                    "state": new_state,
                    "previous_state": previous[consent.id],
                    "note": note or event_vals.get("note") or False,
                }
                for consent in self
            ]
        )
        purposes = sorted(set(self.mapped("purpose_id.code")))
        self.env["gdpr.audit.log"]._gdpr_log(
            "consent",
            records=self,
            code="consent_changed",
            params={
                "action": action,
                "state": new_state,
                "purposes": purposes,
                "source": event_vals.get("source") or False,
                "ids": self.ids[:50],
                "count": len(self),
            },
            description="Consent %s → %s (purposes: %s; source: %s); ids %s"
            % (
                action,
                new_state,
                ", ".join(sorted(set(self.mapped("purpose_id.code")))),
                event_vals.get("source") or "-",
                ", ".join(map(str, self.ids)) if len(self) <= 50 else "%s records" % len(self),
            ),
        )
        return True

    def _gdpr_transition_error(self, action, consent):
        labels = dict(self._fields["state"]._description_selection(self.env))
        messages = {
            "give": self.env._("This consent cannot be given."),
            "refuse": self.env._(
                "The consent '%(consent)s' is %(state)s: a consent that was given is withdrawn, not refused.",
                consent=consent.display_name,
                state=labels[consent.state],
            ),
            "withdraw": self.env._(
                "The consent '%(consent)s' is %(state)s: only a given consent can be withdrawn.",
                consent=consent.display_name,
                state=labels[consent.state],
            ),
            "expire": self.env._(
                "The consent '%(consent)s' is %(state)s: only a given consent can expire.",
                consent=consent.display_name,
                state=labels[consent.state],
            ),
        }
        return messages[action]

    @api.model
    def _gdpr_check_answer_args(self, source=None, proof=None, proof_version=None, ip_address=None, **texts):
        """The arguments of an answer (``action_give`` etc.), checked before anything is read or written."""
        _ = self.env._
        if source and not isinstance(source, str):  # an unknown one is refused by _gdpr_check_proof
            self._gdpr_selection_arg(source, _("The source"), self._fields["source"])
        self._gdpr_text_arg(proof, _("The proof wording"), MAX_TEXT)
        self._gdpr_text_arg(proof_version, _("The version of the wording"), MAX_NAME)
        self._gdpr_text_arg(ip_address, _("The IP address"), 64)
        for value in texts.values():
            self._gdpr_text_arg(value, _("A text"), MAX_TEXT)

    def _gdpr_answer_vals(self, source, proof, proof_version, ip_address, user_agent, collected_by):
        collected_by = self.env.user if collected_by is None else collected_by
        collected_by = self._gdpr_record_arg(collected_by, "res.users", self.env._("Collected by"))
        if collected_by and collected_by._is_public():
            collected_by = self.env["res.users"]
        user_agent = (user_agent or "")[:512] or False
        consent_vals = {
            "source": source or False,
            "proof": proof or False,
            "proof_version": proof_version or False,
            "ip_address": ip_address or False,
            "user_agent": user_agent,
            "collected_by_id": collected_by.id or False,
            "opt_in_token_hash": False,
            "opt_in_expiry": False,
        }
        event_vals = {
            "source": source or False,
            "proof": proof or False,
            "proof_version": proof_version or False,
            "ip_address": ip_address or False,
            "user_agent": user_agent,
        }
        return consent_vals, event_vals

    @api.model
    def _gdpr_backdated_note(self, date):
        if date < fields.Datetime.now() - timedelta(minutes=5):
            return "Answer dated %s" % fields.Datetime.to_string(date)
        return False

    def _gdpr_check_date(self, date):
        if not date:
            return fields.Datetime.now()
        date = self._gdpr_date_arg(date, self.env._("The date of the answer"))
        if date > fields.Datetime.now() + timedelta(minutes=5):
            raise ValidationError(self.env._("A consent cannot be dated in the future."))
        return date

    def action_give(
        self,
        source=None,
        proof=None,
        proof_version=None,
        ip_address=None,
        user_agent=None,
        date=None,
        collected_by=None,
        note=None,
    ):
        """Record that the data subject gives this consent, with its proof.

        :param source: how it was collected (see ``SOURCES``), required
        :param proof: the exact wording shown to the subject, required
        :param proof_version: the version of that wording, required
        :param ip_address: the subject's IP address (web answers)
        :param user_agent: the subject's browser (web answers)
        :param date: when it was given (default now; never in the future)
        :param collected_by: the user who collected it (default the current
            user; nobody for a public page)
        """
        self._gdpr_check_answer_args(source, proof, proof_version, ip_address, user_agent=user_agent, note=note)
        self._gdpr_check_proof(source, proof, proof_version)
        if source == "double_opt_in" and not self.env.su:
            # only the confirmation link (public page, as superuser) gives a double opt-in
            raise UserError(
                self.env._(
                    "A double opt-in is recorded by the person's click on the confirmation link only: "
                    "send the confirmation email, or choose how you collected this answer."
                )
            )
        date = self._gdpr_check_date(date)
        consent_vals, event_vals = self._gdpr_answer_vals(
            source, proof, proof_version, ip_address, user_agent, collected_by
        )
        consent_vals["date_given"] = date
        return self._gdpr_change_state("give", event_vals, consent_vals, note=note or self._gdpr_backdated_note(date))

    def action_refuse(
        self,
        source=None,
        proof=None,
        proof_version=None,
        ip_address=None,
        user_agent=None,
        date=None,
        collected_by=None,
        note=None,
    ):
        """Record that the data subject refuses this consent."""
        self._gdpr_check_answer_args(source, proof, proof_version, ip_address, user_agent=user_agent, note=note)
        if source and source not in dict(SOURCES):
            raise ValidationError(self.env._("'%(value)s' is not a known consent source.", value=source))
        date = self._gdpr_check_date(date)
        consent_vals, event_vals = self._gdpr_answer_vals(
            source, proof, proof_version, ip_address, user_agent, collected_by
        )
        consent_vals["date_refused"] = date
        return self._gdpr_change_state("refuse", event_vals, consent_vals, note=note or self._gdpr_backdated_note(date))

    def action_withdraw(self, source=None, ip_address=None, user_agent=None, note=None):
        """Record that the data subject withdraws this consent (art. 7(3))."""
        self._gdpr_check_answer_args(source, ip_address=ip_address, user_agent=user_agent, note=note)
        if source and source not in dict(SOURCES):
            raise ValidationError(self.env._("'%(value)s' is not a known consent source.", value=source))
        event_vals = {
            "source": source or False,
            "ip_address": ip_address or False,
            "user_agent": (user_agent or "")[:512] or False,
        }
        consent_vals = {"date_withdrawn": fields.Datetime.now(), "opt_in_token_hash": False, "opt_in_expiry": False}
        return self._gdpr_change_state("withdraw", event_vals, consent_vals, note=note)

    def action_open_record_wizard(self):
        """Open the wizard to record an answer with its proof on this consent."""
        self.ensure_one()
        # only the answer preselected in the form ("Withdraw" buttons)
        answer = self.env.context.get("gdpr_default_answer")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record an answer"),
            "res_model": "gdpr.consent.record",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_answer": answer if answer in ("give", "refuse", "withdraw") else "give",
                "default_consent_id": self.id,
                "default_partner_id": self.partner_id.id,
                "default_email": self.email,
                "default_lead_id": self.lead_id.id,
                "default_purpose_id": self.purpose_id.id,
            },
        }

    def action_view_events(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Consent history"),
            "res_model": "gdpr.consent.event",
            "view_mode": "list,form",
            "domain": [("consent_id", "=", self.id)],
            "context": {"create": False},
        }

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------
    @api.model
    def _cron_expire_consents(self, batch_size=EXPIRY_BATCH_SIZE):
        """Expire given consents past their expiry date, one batch per call.

        Safe on several workers: rows are taken with ``SKIP LOCKED``. Reports
        its progress, so that Odoo's cron runner calls it again at once while
        work remains.
        """
        today = fields.Date.context_today(self)
        self.flush_model(["state", "expiry_date"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM gdpr_consent
                 WHERE state = 'given' AND expiry_date <= %s
              ORDER BY expiry_date, id
                 LIMIT %s
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                today,
                batch_size,
            )
        )
        consents = self.browse([row[0] for row in self.env.cr.fetchall()])
        if consents:
            consents._gdpr_change_state("expire", {"source": False}, note="Expired after the purpose's validity")
        remaining = self.search_count([("state", "=", "given"), ("expiry_date", "<=", today)])
        self.env["ir.cron"]._notify_progress(done=len(consents), remaining=remaining)
        if remaining and not self.env.context.get("ir_cron_progress_id"):
            # called outside the cron runner (which loops by itself while
            # progress is reported): ask for another run
            cron = self.env.ref("gdpr_crm.ir_cron_consent_expiry", raise_if_not_found=False)
            if cron:
                cron._trigger()
        return len(consents)

    # ------------------------------------------------------------------
    # Double opt-in
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_opt_in_validity_days(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("gdpr_crm.opt_in_validity_days", DEFAULT_OPT_IN_VALIDITY_DAYS)
        )
        return bounded_setting("gdpr_crm.opt_in_validity_days", value, DEFAULT_OPT_IN_VALIDITY_DAYS)

    def _gdpr_new_opt_in_token(self):
        """Issue a new confirmation token and return it in clear.

        Only its keyed hash is stored (``gdpr.token.mixin``); any previous
        link stops working. Called when the confirmation email is actually
        sent, so that the clear token never lands in the database.
        """
        self.ensure_one()
        return self._gdpr_token_issue("opt_in", self._gdpr_token_validity(self._gdpr_opt_in_validity_days()))

    @api.model
    def _gdpr_find_by_opt_in_token(self, token):
        """Return the consent whose confirmation link is ``token``, if valid.

        Empty when the token is unknown, already used or expired.
        """
        return self._gdpr_token_find("opt_in", token)

    def _gdpr_consume_opt_in_token(self, token):
        """Invalidate ``token`` atomically; True for the one caller that wins."""
        return self._gdpr_token_consume("opt_in", token)

    def _gdpr_opt_in_wording(self):
        """The sentence the data subject confirms, in the current language."""
        self.ensure_one()
        purpose = self.purpose_id
        company = self.company_id
        return self.env._(
            "I agree that %(company)s processes my personal data for the purpose "
            '"%(purpose)s": %(description)s I can withdraw this consent at any time, '
            "as easily as I give it.",
            company=company.name,
            purpose=purpose.name,
            description=(purpose.description or "").strip(),
        )

    def _gdpr_opt_in_version(self, wording):
        return "opt-in-v1-%s" % hashlib.sha256(wording.encode()).hexdigest()[:12]

    def _gdpr_subject_email(self):
        self.ensure_one()
        return self.partner_id.email_normalized or self.email or False

    def _gdpr_send_double_opt_in(self, force_send=False):
        """Send the confirmation emails; return the mail.mail records."""
        template = self.env.ref("gdpr_crm.mail_template_consent_double_opt_in")
        for consent in self:
            self._gdpr_check_purpose_basis(consent.purpose_id)
            if consent.state == "given":
                raise UserError(
                    self.env._(
                        "The consent '%(consent)s' is already given: there is nothing to confirm.",
                        consent=consent.display_name,
                    )
                )
            if not consent._gdpr_subject_email():
                raise UserError(
                    self.env._(
                        "The consent '%(consent)s' has no email address to send the confirmation to: "
                        "add one to the contact first.",
                        consent=consent.display_name,
                    )
                )
        self.env["gdpr.consent.event"]._gdpr_append(
            [
                {
                    **consent._gdpr_event_subject(),
                    "action": "opt_in_sent",
                    "state": consent.state,
                    "previous_state": consent.state,
                    "source": "double_opt_in",
                }
                for consent in self
            ]
        )
        self._gdpr_write_internal({"opt_in_sent_date": fields.Datetime.now()})
        mails = template.sudo().send_mail_batch(
            self.ids,
            force_send=force_send,
            email_layout_xmlid="mail.mail_notification_light",
            email_values={"auto_delete": True},
        )
        self.env["gdpr.audit.log"]._gdpr_log(
            "consent",
            records=self,
            description="Double opt-in requested; ids %s" % ", ".join(map(str, self.ids)),
            code="consent_opt_in_sent",
            params={"count": len(self), "ids": self.ids[:50]},
        )
        return mails

    def action_send_double_opt_in(self):
        """Email the data subject a single-use link to confirm the consent."""
        self._gdpr_send_double_opt_in()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "A confirmation email is on its way. The consent will be given when "
                    "the person confirms it from the link (valid %(days)s days).",
                    days=self._gdpr_opt_in_validity_days(),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # Helpers for other models
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_given_domain(self, purposes=None, company=None):
        """Domain of consents currently given (and not past their expiry).

        A consent counts in its own company (``company``, by default the
        current one); a consent to a shared (company-less) purpose counts
        for every company. ``company=False``: every company's consents.
        """
        today = fields.Date.context_today(self)
        domain = [("state", "=", "given"), "|", ("expiry_date", "=", False), ("expiry_date", ">", today)]
        if purposes is not None:
            domain.append(("purpose_id", "in", purposes))
        if company is None:
            company = self.env.company
        if company is not False:
            domain += ["|", ("purpose_id.company_id", "=", False), ("company_id", "=", company.id)]
        return domain

    def _gdpr_last_answer_date(self):
        self.ensure_one()
        dates = [d for d in (self.date_given, self.date_refused, self.date_withdrawn) if d]
        return max(dates) if dates else fields.Datetime.to_datetime("1970-01-01 00:00:00")
