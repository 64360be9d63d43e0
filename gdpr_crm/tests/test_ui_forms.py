# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The main forms open and save as the users who work with them, menus by group."""

from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestUiForms(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Camille Client", "email": "camille@example.com"})
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Camille's project",
                "contact_name": "Camille Client",
                "email_from": "camille@example.com",
                "user_id": cls.user_salesman.id,
            }
        )
        cls.newsletter = cls.env.ref("gdpr_crm.purpose_newsletter")

    def _visible(self, user, xmlid):
        menu = self.env.ref(xmlid)
        return menu.id in self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_salesperson_edits_contact_and_lead_forms(self):
        with Form(self.partner.with_user(self.user_salesman)) as form:
            form.phone = "+33 6 00 00 00 01"
        self.assertEqual(self.partner.phone, "+33 6 00 00 00 01")
        with Form(self.lead.with_user(self.user_salesman)) as form:
            form.description = "Call back in May."
        self.assertIn("Call back in May.", self.lead.description)

    def test_salesperson_records_consent_through_the_wizard_form(self):
        action = self.partner.with_user(self.user_salesman).action_gdpr_record_consent()
        Wizard = self.env[action["res_model"]].with_user(self.user_salesman).with_context(action["context"])
        form = Form(Wizard)
        form.purpose_id = self.newsletter
        form.source = "phone"
        form.proof = "Read on the phone: do you agree to receive our newsletter?"
        form.proof_version = "Phone script v1"
        form.save().action_record()
        consent = self.env["gdpr.consent"].search(
            [("partner_id", "=", self.partner.id), ("purpose_id", "=", self.newsletter.id)]
        )
        self.assertEqual(consent.state, "given")
        self.assertEqual(consent.source, "phone")

    def test_consent_form_as_salesperson_and_dpo(self):
        consent = self.env["gdpr.consent"].create({"partner_id": self.partner.id, "purpose_id": self.newsletter.id})
        consent.action_give(source="paper", proof="I agree to receive the newsletter.", proof_version="Form v1")
        for user in (self.user_salesman, self.user_dpo):
            with self.subTest(user=user.login):
                form = Form(consent.with_user(user))
                self.assertEqual(form.state, "given")
                self.assertEqual(form.purpose_id, self.newsletter)
                form.save()
        consent.with_user(self.user_salesman).action_withdraw()
        self.assertEqual(consent.state, "withdrawn")
        self.assertEqual(consent.event_ids.sorted("id")[-1].user_id, self.user_salesman)

    def test_salesperson_reports_a_request_through_the_wizard_form(self):
        Wizard = (
            self.env["gdpr.request.report"]
            .with_user(self.user_salesman)
            .with_context(active_model="crm.lead", active_id=self.lead.id)
        )
        form = Form(Wizard)
        form.request_type = "erasure"
        self.assertEqual(form.requester_email, "camille@example.com")
        form.save().action_report()
        request = self.env["gdpr.request"].search([("lead_id", "=", self.lead.id)])
        self.assertEqual(request.request_type, "erasure")

    def test_dpo_forms(self):
        with Form(self.env["gdpr.request"].with_user(self.user_dpo)) as form:
            form.request_type = "access"
            form.partner_id = self.partner
        self.assertTrue(form.record.name.startswith("DSR/"))
        with Form(self.env["gdpr.breach"].with_user(self.user_dpo)) as form:
            form.date_detected = fields.Datetime.now() - timedelta(hours=2)
            form.description = "Laptop stolen from a car."
            form.subject_count = 120
        self.assertTrue(form.record.authority_deadline)
        with Form(self.env["gdpr.processing.activity"].with_user(self.user_dpo)) as form:
            form.name = "Trade fair visitors"
        self.assertTrue(form.record.id)
        with Form(self.env["gdpr.processor"].with_user(self.user_dpo)) as form:
            form.partner_id = self.partner
        self.assertTrue(form.record.id)
        with Form(self.env["gdpr.purpose"].with_user(self.user_dpo)) as form:
            form.name = "Customer satisfaction survey"
            form.code = "satisfaction_survey"
            form.legal_basis = "consent"
        self.assertTrue(form.record.id)

    def test_menus_by_group(self):
        for xmlid in ("gdpr_crm.menu_gdpr_root", "gdpr_crm.menu_gdpr_consent"):
            self.assertTrue(self._visible(self.user_salesman, xmlid), xmlid)
            self.assertTrue(self._visible(self.user_dpo, xmlid), xmlid)
        for xmlid in (
            "gdpr_crm.menu_gdpr_request",
            "gdpr_crm.menu_gdpr_breach",
            "gdpr_crm.menu_gdpr_processing_activity",
            "gdpr_crm.menu_gdpr_processor",
            "gdpr_crm.menu_gdpr_consent_analysis",
        ):
            self.assertFalse(self._visible(self.user_salesman, xmlid), xmlid)
            self.assertTrue(self._visible(self.user_dpo, xmlid), xmlid)
        for xmlid in ("gdpr_crm.menu_gdpr_root", "gdpr_crm.menu_gdpr_consent"):
            self.assertFalse(self._visible(self.user_employee, xmlid), xmlid)
        # salespeople's consent list has no pivot or graph: statistics are the DPO's
        self.assertNotIn("pivot", self.env.ref("gdpr_crm.gdpr_consent_action").view_mode)
        self.assertIn("pivot", self.env.ref("gdpr_crm.gdpr_consent_action_analysis").view_mode)
