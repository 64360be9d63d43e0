# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CrmLead(models.Model):
    _name = "crm.lead"
    # the mention index keeps the emails and phones quoted in notes up to date;
    # the audit mixin logs personal-data changes and gives the perimeter
    _inherit = ["crm.lead", "gdpr.mention.mixin", "gdpr.audit.mixin", "gdpr.subject.mixin"]

    # ---- requests ----
    gdpr_request_count = fields.Integer(
        string="Privacy Requests",
        compute="_compute_gdpr_request_count",
        groups="gdpr_crm.group_gdpr_dpo",
        help="Privacy requests reported from this lead or about its contact.",
    )

    def _gdpr_request_domain(self):
        domain = [("lead_id", "in", self.ids)]
        if self.partner_id:
            domain = ["|", *domain, ("partner_id", "in", self.partner_id.ids)]
        return domain

    def _gdpr_request_about(self, lead, partner):
        """A group of requests (by lead and contact) is about this lead."""
        return lead == self or (partner and partner == self.partner_id)

    def _compute_gdpr_request_count(self):
        counts = self.env["gdpr.request"]._gdpr_count_about(self, ["lead_id", "partner_id"])
        for lead in self:
            lead.gdpr_request_count = counts.get(lead.id, 0)

    def action_view_gdpr_requests(self):
        self.ensure_one()
        context = {"default_lead_id": self.id, "default_partner_id": self.partner_id.id}
        return self.env["gdpr.request"]._gdpr_action_about(self, context)

    # ---- consent ----
    gdpr_consent_ids = fields.Many2many(
        "gdpr.consent",
        string="Consents",
        compute="_compute_gdpr_consent_ids",
        groups="gdpr_crm.group_gdpr_user",
        help="Consents of the data subject of this lead: its contact, or its email when it has none.",
    )
    gdpr_consent_event_ids = fields.Many2many(
        "gdpr.consent.event",
        string="Consent History",
        compute="_compute_gdpr_consent_ids",
        groups="gdpr_crm.group_gdpr_user",
    )
    gdpr_consent_count = fields.Integer(
        string="Consent Count", compute="_compute_gdpr_consent_ids", groups="gdpr_crm.group_gdpr_user"
    )
    gdpr_consent_purpose_ids = fields.Many2many(
        "gdpr.purpose",
        string="Consented Purposes",
        compute="_compute_gdpr_consent_purpose_ids",
        search="_search_gdpr_consent_purpose_ids",
        help="Purposes the data subject of this lead currently consents to (given and not expired).",
    )

    def _gdpr_consent_subject_domain(self):
        """Domain of the consents of these leads' data subjects."""
        partners = self.partner_id
        emails = {lead.email_normalized for lead in self if not lead.partner_id and lead.email_normalized}
        domain = [("partner_id", "in", partners.ids)] if partners else [("id", "=", False)]
        if emails:
            domain = ["|", *domain, "&", ("partner_id", "=", False), ("email", "in", list(emails))]
        return domain

    def _gdpr_consents_by_lead(self, extra_domain=None):
        """Map each lead id to its subject's consents, in two queries."""
        Consent = self.env["gdpr.consent"]
        consents = Consent.search([*self._gdpr_consent_subject_domain(), *(extra_domain or [])])
        by_partner, by_email = {}, {}
        for consent in consents:
            if consent.partner_id:
                by_partner.setdefault(consent.partner_id.id, Consent)
                by_partner[consent.partner_id.id] |= consent
            else:
                by_email.setdefault(consent.email, Consent)
                by_email[consent.email] |= consent
        return {
            lead.id: (by_partner.get(lead.partner_id.id) if lead.partner_id else by_email.get(lead.email_normalized))
            or Consent
            for lead in self
        }

    @api.depends("partner_id", "email_normalized")
    def _compute_gdpr_consent_ids(self):
        by_lead = self._gdpr_consents_by_lead()
        for lead in self:
            consents = by_lead[lead.id]
            lead.gdpr_consent_ids = consents
            lead.gdpr_consent_count = len(consents)
            lead.gdpr_consent_event_ids = consents.event_ids

    @api.depends("partner_id", "email_normalized")
    @api.depends_context("uid")
    def _compute_gdpr_consent_purpose_ids(self):
        # as the user: a salesperson sees the purposes of the consents they may read
        Consent = self.env["gdpr.consent"]
        if not Consent.has_access("read"):
            self.gdpr_consent_purpose_ids = self.env["gdpr.purpose"]
            return
        by_lead = self._gdpr_consents_by_lead(Consent._gdpr_given_domain())
        for lead in self:
            lead.gdpr_consent_purpose_ids = by_lead[lead.id].purpose_id.with_env(self.env)

    def _search_gdpr_consent_purpose_ids(self, operator, value):
        def subject_domain(consent_domain):
            Consent = self.env["gdpr.consent"].sudo()
            by_partner = Consent._search([("partner_id", "!=", False), *consent_domain])
            by_email = Consent._search([("partner_id", "=", False), *consent_domain])
            leads = (
                self.sudo()
                .with_context(active_test=False)
                ._search(
                    [
                        "|",
                        ("partner_id", "in", by_partner.subselect("partner_id")),
                        "&",
                        ("partner_id", "=", False),
                        ("email_normalized", "in", by_email.subselect("email")),
                    ]
                )
            )
            return [("id", "in", leads)]

        return self.env["res.partner"]._gdpr_consent_purpose_search(operator, value, subject_domain)

    def _gdpr_has_consent(self, purpose_code):
        """True when the data subject of this lead currently consents to ``purpose_code``."""
        self.ensure_one()
        if self.partner_id:
            return self.partner_id._gdpr_has_consent(purpose_code)
        purpose = self.env["gdpr.purpose"].sudo()._gdpr_get_by_code(purpose_code)
        if not purpose or not self.email_normalized:
            return False
        Consent = self.env["gdpr.consent"].sudo()
        return bool(
            Consent.search_count(
                [
                    ("partner_id", "=", False),
                    ("email", "=", self.email_normalized),
                    *Consent._gdpr_given_domain(purpose.ids),
                ],
                limit=1,
            )
        )

    def _gdpr_preferences_url(self):
        """URL of the preference centre of this lead's contact (False without contact)."""
        self.ensure_one()
        return self.partner_id._gdpr_preferences_url() if self.partner_id else False

    def _handle_partner_assignment(self, force_partner_id=False, create_missing=True):
        """Lead conversion: the contact inherits the consents of the lead's email."""
        emails = {lead.id: lead.email_normalized for lead in self}
        res = super()._handle_partner_assignment(force_partner_id=force_partner_id, create_missing=create_missing)
        Consent = self.env["gdpr.consent"]
        for lead in self.filtered("partner_id"):
            if emails.get(lead.id):
                Consent._gdpr_carry_over(lead, lead.partner_id, email=emails[lead.id])
        return res

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
            "context": {
                "default_lead_id": self.id,
                "default_partner_id": self.partner_id.id,
                "default_email": False if self.partner_id else self.email_from,
            },
        }

    # ---- audit ----
    @api.model
    def _gdpr_perimeter_domain(self):
        return self.env["res.users"]._gdpr_lead_perimeter_domain()

    @api.model
    def _gdpr_audit_personal_fields(self):
        """Fields holding personal data: their changes are logged (names, not values)."""
        names = {
            "contact_name", "partner_name", "email_from", "email_cc", "phone", "mobile",
            "street", "street2", "zip", "city", "state_id", "country_id", "function",
            "title", "description", "website", "partner_id", "lang_id",
        }  # fmt: skip
        return frozenset(names & set(self._fields))

    @api.model
    def _gdpr_perimeter_link_fields(self):
        return frozenset({"partner_id"})

    @api.model
    def _gdpr_sensitive_fields(self):
        """Free-text fields readable only by the groups chosen in Settings."""
        return frozenset({"description"})

    # ---- data subject ----
    def _gdpr_subject_partner(self):
        return self.partner_id
