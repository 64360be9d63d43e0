# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import copy

from lxml import etree

from odoo import api, fields, models
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
        (GDPR art. 18). Default: none."""
        return self.browse()

    def _gdpr_legal_hold_reasons(self):
        """Return ``{record id: reason}`` for the records of ``self`` that a
        legal obligation keeps (they are restricted instead of erased, and
        skipped by retention). Default: none."""
        return {}

    def _gdpr_suppressed_records(self):
        """Return the subset of ``self`` whose email or phone is on the
        suppression list. Default: none."""
        return self.browse()

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
        Consent = self.env["gdpr.consent"].sudo()
        by_record = self.sudo()._gdpr_consents_by_record(Consent._gdpr_given_domain())
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
