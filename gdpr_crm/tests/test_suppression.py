# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_suppression")
class TestSuppression(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Suppression = cls.env["gdpr.suppression"]
        cls.Suppression._add(emails=["Gone Person <Gone.Person@Example.com>"], phones=["+33 6 11 22 33 44"])

    def set_mode(self, mode):
        self.env["ir.config_parameter"].sudo().set_param("gdpr_crm.suppression_mode", mode)

    def test_only_keyed_hashes_are_stored(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT row_to_json(s)::text FROM gdpr_suppression s")
        dump = " ".join(row[0] for row in self.env.cr.fetchall()).lower()
        self.assertNotIn("gone.person", dump)
        self.assertNotIn("example.com", dump)
        self.assertNotIn("11 22 33 44", dump)
        self.assertNotIn("611223344", dump)
        entries = self.Suppression.search([])
        self.assertEqual(sorted(entries.mapped("kind")), ["email", "phone"])
        self.assertTrue(all(len(h) == 64 for h in entries.mapped("key_hash")))

    def test_lookup_normalizes(self):
        found = self.Suppression._gdpr_suppressed_values(
            ["gone.person@example.com", "0611223344", "other@example.com", "+33 6 99 88 77 66"]
        )
        self.assertEqual(found, {"gone.person@example.com", "0611223344"})

    def test_remove_archives_and_add_reactivates(self):
        removed = self.Suppression._remove(emails=["GONE.PERSON@example.com"])
        self.assertEqual(len(removed), 1)
        self.assertFalse(removed.active)
        self.assertTrue(removed.exists(), "archived, not deleted")
        self.assertFalse(self.Suppression._gdpr_suppressed_values(["gone.person@example.com"]))
        again = self.Suppression._add(emails=["gone.person@example.com"], reason="objection")
        self.assertEqual(again, removed)
        self.assertTrue(again.active)
        self.assertEqual(again.reason, "objection")

    def test_dpo_adds_a_value_by_hand(self):
        entry = self.Suppression.with_user(self.user_dpo).create({"value": "Hand@Example.org"})
        self.assertEqual(entry.kind, "email")
        self.assertNotIn("hand", entry.key_hash)
        self.assertTrue(self.Suppression._gdpr_suppressed_values(["hand@example.org"]))
        with self.assertRaises(UserError):
            self.Suppression.with_user(self.user_dpo).create({"value": "not a value"})

    def test_warn_mode_flags_the_new_contact_and_lead(self):
        self.set_mode("warn")
        partner = (
            self.env["res.partner"]
            .with_user(self.user_salesman)
            .create({"name": "Back Again", "email": "gone.person@example.com"})
        )
        self.assertTrue(partner.gdpr_suppressed)
        lead = (
            self.env["crm.lead"].with_user(self.user_salesman).create({"name": "Web form", "phone": "06 11 22 33 44"})
        )
        self.assertTrue(lead.gdpr_suppressed)
        other = self.env["res.partner"].create({"name": "Someone", "email": "someone@example.com"})
        self.assertFalse(other.gdpr_suppressed)

    def test_block_mode_refuses_create_import_and_write(self):
        self.set_mode("block")
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        with self.assertRefused(UserError, "suppression list"):
            Partner.create({"name": "Back Again", "email": "gone.person@example.com"})
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Back Again")]))
        with self.assertRefused(UserError, "suppression list"):
            self.env["crm.lead"].with_user(self.user_salesman).create(
                {"name": "Web form", "email_from": "Gone <gone.person@example.com>"}
            )
        # an import goes through the same create
        result = Partner.load(["name", "email"], [["Imported", "gone.person@example.com"]])
        self.assertTrue(result["messages"])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Imported")]))
        partner = Partner.create({"name": "Fine", "email": "fine@example.com"})
        with self.assertRefused(UserError, "suppression list"):
            partner.write({"mobile": "+33611223344"})
        self.assertFalse(partner.mobile)

    def test_no_mail_leaves_for_a_suppressed_address(self):
        Mail = self.env["mail.mail"].sudo()
        blocked = Mail.create(
            {"subject": "Hello", "body_html": "<p>Hi</p>", "email_to": "gone.person@example.com", "auto_delete": False}
        )
        mixed = Mail.create(
            {
                "subject": "Hello",
                "body_html": "<p>Hi</p>",
                "email_to": "gone.person@example.com, kept@example.com",
                "auto_delete": False,
            }
        )
        sent = Mail.create(
            {"subject": "Hello", "body_html": "<p>Hi</p>", "email_to": "kept@example.com", "auto_delete": False}
        )
        with self.mock_smtp() as outgoing:
            (blocked | mixed | sent).send()
        self.assertEqual(blocked.state, "cancel")
        self.assertEqual(blocked.failure_type, "mail_bl")
        self.assertEqual(sent.state, "sent")
        self.assertEqual(mixed.state, "sent")
        recipients = " ".join(str(m["To"]) for m in outgoing)
        self.assertNotIn("gone.person", recipients)
        self.assertIn("kept@example.com", recipients)
