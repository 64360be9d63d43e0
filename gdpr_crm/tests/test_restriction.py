# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_restriction")
class TestRestrictionObjectionRectification(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.subject = Partner.create(
            {
                "name": "Rita Restrict",
                "email": "rita@example.com",
                "phone": "+33 6 55 44 33 22",
                "street": "1 old street",
                "city": "Lyon",
            }
        )
        cls.child = Partner.create(
            {
                "name": "Rita Restrict, Billing",
                "parent_id": cls.subject.id,
                "type": "invoice",
                "email": "rita@example.com",
            }
        )
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Rita's deal", "partner_id": cls.subject.id, "user_id": cls.user_salesman.id}
        )
        # the DPO of a real company edits contacts
        cls.user_dpo.groups_id = [Command.link(cls.env.ref("base.group_partner_manager").id)]
        cls.processor_partner = Partner.create({"name": "Mailer Inc", "email": "dpo@mailer.example"})
        processor = cls.env["gdpr.processor"].create({"partner_id": cls.processor_partner.id})
        cls.env["gdpr.processing.activity"].search([]).write({"processor_ids": [Command.link(processor.id)]})

    def new_request(self, request_type, **vals):
        request = self.env["gdpr.request"].create(
            {"request_type": request_type, "partner_id": self.subject.id, "requester_email": "rita@example.com", **vals}
        )
        request.with_user(self.user_dpo).action_verify()
        return request.with_user(self.user_dpo)

    # ---- restriction ----
    def test_restriction_freezes_contact_children_and_leads(self):
        request = self.new_request("restriction", restriction_reason="Accuracy contested")
        with self.mock_smtp() as outgoing:
            request.action_execute()
        for record in (self.subject, self.child, self.lead):
            self.assertTrue(record.gdpr_restricted, record)
            self.assertEqual(record.gdpr_restriction_reason, "Accuracy contested")
        # a salesperson reads but cannot edit
        self.assertEqual(self.subject.with_user(self.user_salesman).name, "Rita Restrict")
        with self.assertRefused(UserError, "restricted"):
            self.subject.with_user(self.user_salesman).write({"city": "Paris"})
        with self.assertRefused(UserError, "restricted"):
            self.lead.with_user(self.user_salesman).write({"expected_revenue": 10})
        with self.assertRefused(UserError, "DPO"):
            self.subject.with_user(self.user_salesman).action_gdpr_lift_restriction()
        self.assertEqual(self.subject.city, "Lyon")
        # the DPO edits, and lifts the restriction (logged)
        self.subject.with_user(self.user_dpo).write({"city": "Paris"})
        self.subject.with_user(self.user_dpo).action_gdpr_lift_restriction()
        self.assertFalse(self.subject.gdpr_restricted)
        logs = (
            self.env["gdpr.audit.log"]
            .sudo()
            .search(
                [("event_type", "=", "restriction"), ("model", "=", "res.partner"), ("res_id", "=", self.subject.id)]
            )
        )
        self.assertIn("lifted", " ".join(logs.mapped("description")))
        self.subject.with_user(self.user_salesman).write({"city": "Nice"})
        # art. 19: the processor was told, the email was not kept
        self.assertIn("dpo@mailer.example", request.notification_log)
        self.assertIn("dpo@mailer.example", " ".join(str(m["To"]) for m in outgoing))
        self.assertFalse(self.env["mail.mail"].sudo().search([("email_to", "ilike", "mailer.example")]))

    def test_only_the_dpo_sets_a_restriction_or_a_hold(self):
        with self.assertRefused(UserError, "Only the DPO"):
            self.subject.with_user(self.user_salesman).write({"gdpr_restricted": True})
        with self.assertRefused(UserError, "Only the DPO"):
            self.subject.with_user(self.user_salesman).write({"gdpr_legal_hold": True})
        self.assertFalse(self.subject.gdpr_restricted)
        self.subject.with_user(self.user_dpo).write({"gdpr_legal_hold": True, "gdpr_legal_hold_reason": "Litigation"})
        self.assertEqual(self.subject._gdpr_legal_hold_reasons(), {self.subject.id: "Litigation"})

    # ---- objection ----
    def test_objection_blacklists_withdraws_refuses_and_suppresses(self):
        purpose = self.env.ref("gdpr_crm.purpose_newsletter")
        consent = self.env["gdpr.consent"].create({"partner_id": self.subject.id, "purpose_id": purpose.id})
        consent.action_give(source="paper", proof="Signed form", proof_version="v1")
        request = self.new_request("objection")
        request.action_execute()
        self.assertTrue(self.env["mail.blacklist"].sudo().search([("email", "=", "rita@example.com")]))
        self.assertTrue(self.env["phone.blacklist"].sudo().search([("number", "=", "+33655443322")]))
        self.assertEqual(consent.state, "withdrawn")
        self.assertEqual(consent.event_ids.sorted("id")[-1].action, "withdraw")
        self.assertTrue(self.subject.gdpr_objected)
        self.assertTrue(self.lead.gdpr_objected)
        self.assertTrue(self.env["gdpr.suppression"]._gdpr_suppressed_values(["rita@example.com", "0655443322"]))
        self.assertTrue(self.subject.gdpr_suppressed)

    # ---- rectification ----
    def test_rectification_keeps_old_and_new_values_and_propagates(self):
        unrelated = self.env["crm.lead"].create({"name": "Another person's deal", "email_from": "rita@example.com"})
        request = self.new_request("rectification")
        action = request.action_open_rectify_wizard()
        wizard = Form(self.env[action["res_model"]].with_user(self.user_dpo).with_context(action["context"]))
        self.assertEqual(wizard.email, "rita@example.com")
        wizard.email = "rita.new@example.com"
        wizard.street = "2 new street"
        wizard.save().action_apply()
        self.assertEqual(self.subject.email, "rita.new@example.com")
        self.assertEqual(self.child.email, "rita.new@example.com", "child contact holding the old value")
        self.assertEqual(self.lead.email_from, "rita.new@example.com", "open lead holding the old value")
        self.assertEqual(unrelated.email_from, "rita@example.com", "a lead of no contact of the subject is left")
        log = request.sudo().rectification_log
        self.assertIn("rita@example.com -> rita.new@example.com", log)
        self.assertIn("1 old street -> 2 new street", log)
        self.assertTrue(request.date_executed)
        # not in the chatter of the contact
        self.assertNotIn("rita@example.com", " ".join(self.subject.message_ids.mapped("body")))
        with self.assertRefused(UserError, "already executed"):
            request.action_execute()

    def test_rectification_needs_a_change_and_a_verified_request(self):
        request = self.env["gdpr.request"].create(
            {"request_type": "rectification", "partner_id": self.subject.id, "requester_email": "rita@example.com"}
        )
        wizard = (
            self.env["gdpr.request.rectify"]
            .with_user(self.user_dpo)
            .create({"request_id": request.id, "email": "x@example.com"})
        )
        with self.assertRefused(UserError, "verified"):
            wizard.action_apply()
        self.assertEqual(self.subject.email, "rita@example.com")
