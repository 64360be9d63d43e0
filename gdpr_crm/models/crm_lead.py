# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.http import request
from odoo.tools import SQL

from .gdpr_consent import ANSWER_FIELDS as CONSENT_ANSWER_FIELDS


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
    # (the consent fields and helpers are those of gdpr.subject.mixin: a
    # lead shows the consents of its contact, or of its email without one)
    def _gdpr_consent_subject_domain(self):
        """Domain of the consents of these leads' data subjects."""
        partners = self.partner_id
        emails = {lead.email_normalized for lead in self if not lead.partner_id and lead.email_normalized}
        domain = [("partner_id", "in", partners.ids)] if partners else [("id", "=", False)]
        if emails:
            domain = ["|", *domain, "&", ("partner_id", "=", False), ("email", "in", list(emails))]
        return domain

    def _gdpr_consents_by_record(self, extra_domain=None):
        """Map each lead id to its subject's consents, in one query."""
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
        return super()._compute_gdpr_consent_ids()

    @api.depends("partner_id", "email_normalized")
    def _compute_gdpr_consent_summary(self):
        return super()._compute_gdpr_consent_summary()

    @api.depends("partner_id", "email_normalized")
    @api.depends_context("uid")
    def _compute_gdpr_consent_purpose_ids(self):
        return super()._compute_gdpr_consent_purpose_ids()

    @api.model
    def _gdpr_consent_subject_search(self, consent_domain):
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

    def _gdpr_consent_record_context(self):
        return {
            "default_lead_id": self.id,
            "default_partner_id": self.partner_id.id,
            "default_email": False if self.partner_id else self.email_from,
        }

    def _gdpr_preferences_url(self):
        """URL of the preference centre of this lead's contact (False without contact)."""
        self.ensure_one()
        return self.partner_id._gdpr_preferences_url() if self.partner_id else False

    def _handle_partner_assignment(self, force_partner_id=False, create_missing=True):
        """Lead conversion: the contact inherits the consents of the lead's email."""
        emails = {lead.id: lead.email_normalized for lead in self}
        res = super()._handle_partner_assignment(force_partner_id=force_partner_id, create_missing=create_missing)
        for lead in self.filtered("partner_id"):
            if emails.get(lead.id):
                lead._gdpr_carry_over_consents(lead.partner_id, email=emails[lead.id])
        return res

    def _gdpr_carry_over_consents(self, partner, email=None):
        """Move the email consents of this lead to ``partner`` (lead conversion).

        A consent of the lead's email becomes the contact's when the contact
        has none for that purpose; otherwise the most recent answer wins and is
        copied, with its proof, into the contact's consent.
        """
        self.ensure_one()
        lead = self
        email = email or lead.email_normalized
        Consent = self.env["gdpr.consent"].sudo()
        if not (email and partner):
            return Consent.browse()
        # only the consents the user may read, and not those collected on a
        # lead of someone else's (another team's lead of the same email keeps its own)
        email_consents = self.env["gdpr.consent"].search([("partner_id", "=", False), ("email", "=", email)])
        if not self.env.su and email_consents.lead_id:
            readable = (
                self.env["crm.lead"].with_context(active_test=False).search([("id", "in", email_consents.lead_id.ids)])
            )
            email_consents = email_consents.filtered(lambda c: not c.lead_id or c.lead_id in readable or c.lead_id == lead)
        email_consents = email_consents.sudo()
        if not email_consents:
            return Consent.browse()
        # one consent per (subject, purpose, company)
        existing = {
            (consent.purpose_id, consent.company_id): consent
            for consent in Consent.search(
                [("partner_id", "=", partner.id), ("purpose_id", "in", email_consents.purpose_id.ids)]
            )
        }
        note = "Carried over from lead #%s" % lead.id
        moved = Consent.browse()
        for consent in email_consents:
            target = existing.get((consent.purpose_id, consent.company_id))
            if not target:
                consent._gdpr_lock()
                previous = consent.state
                consent._gdpr_write_internal(
                    {"partner_id": partner.id, "email": False, "lead_id": consent.lead_id.id or lead.id}
                )
                self.env["gdpr.consent.event"]._gdpr_append(
                    [
                        {
                            **consent._gdpr_event_subject(),
                            "action": "transfer",
                            "state": consent.state,
                            "previous_state": previous,
                            "source": consent.source,
                            "proof": consent.proof,
                            "proof_version": consent.proof_version,
                            "note": note,
                        }
                    ]
                )
                moved |= consent
            elif consent.state != "pending" and (
                target.state == "pending" or consent._gdpr_last_answer_date() > target._gdpr_last_answer_date()
            ):
                target._gdpr_lock()
                previous = target.state
                target._gdpr_write_internal(
                    {
                        name: consent._fields[name].convert_to_write(consent[name], consent)
                        for name in CONSENT_ANSWER_FIELDS
                    }
                )
                self.env["gdpr.consent.event"]._gdpr_append(
                    [
                        {
                            **target._gdpr_event_subject(),
                            "action": "transfer",
                            "state": target.state,
                            "previous_state": previous,
                            "source": consent.source,
                            "proof": consent.proof,
                            "proof_version": consent.proof_version,
                            "ip_address": consent.ip_address,
                            "user_agent": consent.user_agent,
                            "note": "%s (consent #%s)" % (note, consent.id),
                        }
                    ]
                )
                moved |= target
        if moved:
            self.env["gdpr.audit.log"]._gdpr_log(
                "consent",
                records=moved,
                description="Consent(s) carried over from lead #%s to contact #%s: ids %s"
                % (lead.id, partner.id, ", ".join(map(str, moved.ids))),
                code="consent_carried_over",
                params={"lead": lead.id, "partner": partner.id, "ids": moved.ids[:50]},
            )
        return moved

    # ---- audit ----
    @api.model
    def _gdpr_perimeter_domain(self):
        return self.env["res.users"]._gdpr_lead_perimeter_domain()

    @api.model
    def _gdpr_perimeter_link_fields(self):
        return frozenset({"partner_id"})

    # ---- data subject ----
    def _gdpr_subject_partner(self):
        return self.partner_id

    # ---- retention: last interaction ----
    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if self._gdpr_created_by_visitor():
            # a web form (website_crm's contact form, a portal page): the person submitted it
            self.sudo()._gdpr_touch_interaction(leads.ids, "web_form")
            self.env["res.partner"].sudo()._gdpr_touch_interaction(leads.partner_id.ids, "web_form")
        return leads

    @api.model
    def _gdpr_created_by_visitor(self):
        """True when the current HTTP request comes from a visitor or a portal
        user (website forms create their record as superuser, so the
        request's user is read, not the environment's)."""
        try:
            user = request.env.user if request else None
        except AttributeError:
            return False
        return bool(user) and (user._is_public() or user.share)

    def _gdpr_backfill_interaction(self):
        """Existing leads: the last incoming email or message from outside, else their creation."""
        super()._gdpr_backfill_interaction()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead SET gdpr_last_interaction_date = last.date,
                       gdpr_last_interaction_source = last.kind
                  FROM (SELECT msg.res_id, max(msg.date) AS date,
                               CASE WHEN bool_or(msg.message_type = 'email') THEN 'email' ELSE 'message' END AS kind
                          FROM mail_message msg
                         WHERE msg.model = 'crm.lead' AND msg.message_type IN ('email', 'comment')
                           AND (msg.message_type = 'email' OR msg.author_id IS NOT NULL)
                           AND NOT EXISTS (SELECT 1 FROM res_users u
                                            WHERE u.partner_id = msg.author_id AND u.share IS NOT TRUE)
                         GROUP BY msg.res_id) last
                 WHERE lead.id = last.res_id AND last.date > lead.gdpr_last_interaction_date
                """
            )
        )

    def _gdpr_identifier_fields(self):
        return ("email_from",), ("phone", "mobile")
