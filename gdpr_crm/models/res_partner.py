# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

PREFERENCES_SCOPE = "gdpr_crm-preferences"
PARTNER_ID_PATTERN = re.compile(r"[1-9][0-9]{0,8}")


class ResPartner(models.Model):
    _name = "res.partner"
    # the mention index keeps the emails and phones quoted in notes up to date;
    # the audit mixin logs personal-data changes and gives the perimeter
    _inherit = ["res.partner", "gdpr.mention.mixin", "gdpr.audit.mixin", "gdpr.subject.mixin"]

    # ---- requests ----
    gdpr_request_count = fields.Integer(
        string="Privacy Requests",
        compute="_compute_gdpr_request_count",
        groups="gdpr_crm.group_gdpr_dpo",
        help="Privacy requests about this contact or one of its contacts.",
    )

    def _gdpr_request_domain(self):
        """Requests about these partners or their contacts (a company's employees)."""
        return ["|", ("partner_id", "in", self.ids), ("partner_id.commercial_partner_id", "in", self.ids)]

    def _gdpr_request_about(self, partner):
        """A group of requests (by contact) is about this contact or one of its contacts."""
        return self in (partner, partner.commercial_partner_id)

    def _compute_gdpr_request_count(self):
        counts = self.env["gdpr.request"]._gdpr_count_about(self, ["partner_id"])
        for partner in self:
            partner.gdpr_request_count = counts.get(partner.id, 0)

    def action_view_gdpr_requests(self):
        self.ensure_one()
        return self.env["gdpr.request"]._gdpr_action_about(self, {"default_partner_id": self.id})

    # ---- consent ----
    gdpr_consent_ids = fields.One2many(
        "gdpr.consent", "partner_id", string="Consents", groups="gdpr_crm.group_gdpr_user"
    )
    gdpr_consent_event_ids = fields.Many2many(
        "gdpr.consent.event",
        string="Consent History",
        compute="_compute_gdpr_consent_event_ids",
        groups="gdpr_crm.group_gdpr_user",
    )
    gdpr_consent_count = fields.Integer(
        string="Consent Count", compute="_compute_gdpr_consent_count", groups="gdpr_crm.group_gdpr_user"
    )
    gdpr_consent_purpose_ids = fields.Many2many(
        "gdpr.purpose",
        string="Consented Purposes",
        compute="_compute_gdpr_consent_purpose_ids",
        search="_search_gdpr_consent_purpose_ids",
        help="Purposes this contact currently consents to (given and not expired). "
        "Use it in mailing domains, e.g. [('gdpr_consent_purpose_ids.code', '=', 'newsletter')].",
    )

    def _compute_gdpr_consent_count(self):
        counts = dict(
            self.env["gdpr.consent"]._read_group([("partner_id", "in", self.ids)], ["partner_id"], ["__count"])
        )
        for partner in self:
            partner.gdpr_consent_count = counts.get(partner, 0)

    def _compute_gdpr_consent_event_ids(self):
        events = (
            self.env["gdpr.consent.event"]
            .with_context(active_test=False)
            .search([("consent_id.partner_id", "in", self.ids)])
        )
        by_partner = events.grouped(lambda event: event.consent_id.partner_id.id)
        for partner in self:
            partner.gdpr_consent_event_ids = by_partner.get(partner.id, events.browse())

    def _compute_gdpr_consent_purpose_ids(self):
        Consent = self.env["gdpr.consent"].sudo()
        groups = Consent._read_group(
            [("partner_id", "in", self.ids), *Consent._gdpr_given_domain()],
            ["partner_id"],
            ["purpose_id:recordset"],
        )
        by_partner = {partner.id: purposes for partner, purposes in groups}
        for partner in self:
            partner.gdpr_consent_purpose_ids = by_partner.get(partner.id, self.env["gdpr.purpose"])

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

    @api.model
    def _gdpr_consent_purpose_search(self, operator, value, subject_domain):
        """Shared by res.partner and crm.lead: translate a search on the
        consented purposes into a domain, given ``subject_domain(consent_domain)``
        which returns the domain of subjects having such a consent."""
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

    def _search_gdpr_consent_purpose_ids(self, operator, value):
        def subject_domain(consent_domain):
            query = self.env["gdpr.consent"].sudo()._search([("partner_id", "!=", False), *consent_domain])
            return [("id", "in", query.subselect("partner_id"))]

        return self._gdpr_consent_purpose_search(operator, value, subject_domain)

    def _gdpr_has_consent(self, purpose_code):
        """True when this contact currently consents to the purpose ``purpose_code``."""
        self.ensure_one()
        purpose = self.env["gdpr.purpose"].sudo()._gdpr_get_by_code(purpose_code)
        if not purpose or not self.id:
            return False
        Consent = self.env["gdpr.consent"].sudo()
        return bool(
            Consent.search_count([("partner_id", "=", self.id), *Consent._gdpr_given_domain(purpose.ids)], limit=1)
        )

    def _gdpr_preferences_token(self):
        self.ensure_one()
        return "%s-%s" % (self.id, odoo_hmac(self.env(su=True), PREFERENCES_SCOPE, self.id))

    @api.model
    def _gdpr_from_preferences_token(self, token):
        """Return the contact of a preference-centre token (empty if forged)."""
        if not isinstance(token, str) or len(token) > 160:
            return self.browse()
        partner_id, _sep, signature = token.partition("-")
        # ASCII digits only ("²".isdigit() is true) and no leading zero: one
        # contact, one token
        if not PARTNER_ID_PATTERN.fullmatch(partner_id) or not signature or len(signature) > 128:
            return self.browse()
        expected = odoo_hmac(self.env(su=True), PREFERENCES_SCOPE, int(partner_id))
        if not consteq(expected, signature):
            return self.browse()
        return self.browse(int(partner_id)).sudo().with_context(active_test=False).exists()

    def _gdpr_preferences_url(self):
        """Absolute URL of this contact's preference centre, for every marketing email."""
        self.ensure_one()
        return "%s/gdpr/preferences/%s" % (self.get_base_url(), self._gdpr_preferences_token())

    @api.ondelete(at_uninstall=False)
    def _unlink_except_gdpr_consents(self):
        """Consents are proof: a contact holding some is archived or erased, not deleted."""
        consents = self.env["gdpr.consent"].sudo().with_context(active_test=False)
        if consents.search_count([("partner_id", "in", self.ids)], limit=1):
            raise UserError(
                self.env._(
                    "This contact has consents kept as proof and cannot be deleted: archive it, "
                    "or erase it through a rights request."
                )
            )

    def action_gdpr_view_consents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_consent_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id, "create": False}
        return action

    def action_gdpr_record_consent(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record a consent"),
            "res_model": "gdpr.consent.record",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.id},
        }

    # ---- audit ----
    @api.model
    def _gdpr_perimeter_domain(self):
        return self.env["res.users"]._gdpr_partner_perimeter_domain()

    gdpr_audit_log_count = fields.Integer(
        string="Audit Log Entries", compute="_compute_gdpr_audit_log_count", groups="gdpr_crm.group_gdpr_dpo"
    )

    @api.model
    def _gdpr_audit_personal_fields(self):
        """Fields holding personal data: their changes are logged (names, not values)."""
        names = {
            "name", "email", "phone", "mobile", "street", "street2", "zip", "city", "state_id",
            "country_id", "vat", "function", "title", "comment", "website", "image_1920",
            "parent_id", "lang", "category_id",
        }  # fmt: skip
        return frozenset(names & set(self._fields))

    @api.model
    def _gdpr_perimeter_link_fields(self):
        return frozenset({"parent_id"})

    @api.model
    def _gdpr_sensitive_fields(self):
        """Free-text fields readable only by the groups chosen in Settings."""
        return frozenset({"comment"})

    def _compute_gdpr_audit_log_count(self):
        counts = dict(
            self.env["gdpr.audit.log"]
            .sudo()
            ._read_group([("model", "=", self._name), ("res_id", "in", self.ids)], ["res_id"], ["__count"])
        )
        for partner in self:
            partner.gdpr_audit_log_count = counts.get(partner.id, 0)

    def action_gdpr_view_audit_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_audit_log_action")
        action["domain"] = [("model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {}
        return action

    # ---- data subject ----
    def _gdpr_subject_partner(self):
        return self
