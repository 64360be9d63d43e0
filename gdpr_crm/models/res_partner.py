# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

PREFERENCES_SCOPE = "gdpr_crm-preferences"
# The preference link of a marketing email works this long (it must expire too).
PREFERENCES_VALIDITY_DAYS = 365


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
    # (the consent fields and helpers are those of gdpr.subject.mixin; a
    # contact's consents are its own records)
    gdpr_consent_ids = fields.One2many(
        "gdpr.consent", "partner_id", string="Consents", groups="gdpr_crm.group_gdpr_user"
    )

    def _gdpr_consents_by_record(self, extra_domain=None):
        Consent = self.env["gdpr.consent"]
        consents = Consent.search([("partner_id", "in", self.ids), *(extra_domain or [])])
        by_partner = consents.grouped("partner_id")
        return {partner.id: by_partner.get(partner, Consent) for partner in self}

    @api.model
    def _gdpr_consent_subject_search(self, consent_domain):
        query = self.env["gdpr.consent"].sudo()._search([("partner_id", "!=", False), *consent_domain])
        return [("id", "in", query.subselect("partner_id"))]

    @api.depends("gdpr_consent_ids")
    def _compute_gdpr_consent_summary(self):
        return super()._compute_gdpr_consent_summary()

    @api.depends("gdpr_consent_ids.state", "gdpr_consent_ids.expiry_date", "gdpr_consent_ids.purpose_id")
    def _compute_gdpr_consent_purpose_ids(self):
        return super()._compute_gdpr_consent_purpose_ids()

    def _gdpr_preferences_token(self):
        """A signed, expiring token (gdpr.token.mixin) for this contact's preference centre."""
        self.ensure_one()
        return self.env["gdpr.token.mixin"]._gdpr_signed_token(
            PREFERENCES_SCOPE, self.id, timedelta(days=PREFERENCES_VALIDITY_DAYS)
        )

    @api.model
    def _gdpr_from_preferences_token(self, token):
        """Return the contact of a preference-centre token (empty if forged or expired)."""
        partner_id = self.env["gdpr.token.mixin"]._gdpr_signed_token_id(PREFERENCES_SCOPE, token)
        if not partner_id:
            return self.browse()
        return self.browse(partner_id).sudo().with_context(active_test=False).exists()

    def _gdpr_preferences_url(self):
        """Absolute URL of this contact's preference centre, for every marketing email."""
        self.ensure_one()
        return "%s/gdpr/preferences/%s" % (self.get_base_url(), self._gdpr_preferences_token())

    # ---- preference centre ----
    def _gdpr_preference_purposes(self):
        """The purposes based on consent this contact can manage."""
        self.ensure_one()
        companies = [False, (self.company_id or self.env.company).id]
        return (
            self.env["gdpr.purpose"].sudo().search([("legal_basis", "=", "consent"), ("company_id", "in", companies)])
        )

    def _gdpr_preference_wording(self, purpose):
        """The sentence shown beside the purpose in the preference centre."""
        self.ensure_one()
        company = self.company_id or self.env.company
        return self.env._(
            "I agree that %(company)s processes my personal data for the purpose "
            '"%(purpose)s": %(description)s I can withdraw this consent at any time.',
            company=company.name,
            purpose=purpose.name,
            description=(purpose.description or "").strip(),
        )

    def _gdpr_preference_answer(self, purpose, answer, ip_address=None, user_agent=None):
        """Give or withdraw ``purpose`` for this contact from the preference centre."""
        self.ensure_one()
        Consent = self.env["gdpr.consent"].sudo()
        company = purpose.company_id or self.company_id or self.env.company
        consent = Consent.search(
            [("partner_id", "=", self.id), ("purpose_id", "=", purpose.id), ("company_id", "=", company.id)],
            limit=1,
        )
        if answer == "give":
            if consent.state == "given":
                return consent
            consent = consent or Consent.create(
                {"partner_id": self.id, "purpose_id": purpose.id, "company_id": company.id}
            )
            wording = self._gdpr_preference_wording(purpose)
            consent.action_give(
                source="web_form",
                proof=wording,
                proof_version="preferences-v1-%s" % hashlib.sha256(wording.encode()).hexdigest()[:12],
                ip_address=ip_address,
                user_agent=user_agent,
                collected_by=self.env["res.users"],
            )
        elif consent.state == "given":
            consent.action_withdraw(source="web_form", ip_address=ip_address, user_agent=user_agent)
        elif consent.state == "pending":
            consent.action_refuse(
                source="web_form", ip_address=ip_address, user_agent=user_agent, collected_by=self.env["res.users"]
            )
        return consent

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

    # ---- audit ----
    @api.model
    def _gdpr_perimeter_domain(self):
        return self.env["res.users"]._gdpr_partner_perimeter_domain()

    @api.model
    def _gdpr_perimeter_link_fields(self):
        return frozenset({"parent_id"})


    # ---- data subject ----
    def _gdpr_subject_partner(self):
        return self

    # ---- retention: last interaction ----
    def _gdpr_backfill_interaction(self):
        """Existing contacts: the last message they wrote, else their creation."""
        super()._gdpr_backfill_interaction()
        self.env.cr.execute(
            """
            UPDATE res_partner partner SET gdpr_last_interaction_date = last.date,
                   gdpr_last_interaction_source = last.kind
              FROM (SELECT msg.author_id, max(msg.date) AS date,
                           CASE WHEN bool_or(msg.message_type = 'email') THEN 'email' ELSE 'message' END AS kind
                      FROM mail_message msg
                     WHERE msg.author_id IS NOT NULL AND msg.message_type IN ('email', 'comment')
                     GROUP BY msg.author_id) last
             WHERE partner.id = last.author_id AND last.date > partner.gdpr_last_interaction_date
               AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = partner.id AND u.share IS NOT TRUE)
            """
        )

    gdpr_is_own_company = fields.Boolean(
        string="Company of This Database",
        compute="_compute_gdpr_is_own_company",
        search="_search_gdpr_is_own_company",
        help="The contact of one of the companies of this database (not a data subject to prospect).",
    )

    def _compute_gdpr_is_own_company(self):
        own = set(self.env["res.company"].sudo().with_context(active_test=False).search([]).partner_id.ids)
        for partner in self:
            partner.gdpr_is_own_company = partner.id in own

    def _search_gdpr_is_own_company(self, operator, value):
        if operator not in ("=", "!="):
            raise NotImplementedError(self.env._("Operation not supported"))
        companies = self.env["res.company"].sudo().with_context(active_test=False)._search([])
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", companies.subselect("partner_id"))]

    def _gdpr_identifier_fields(self):
        return ("email",), ("phone", "mobile")
