# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, HttpCase, tagged

from ..lib.tests import test_sensitive as lib_tests
from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestSensitiveDetector(lib_tests.SensitiveDetectorTests, BaseCase):
    """The pure-Python tests of lib/sensitive.py, run by Odoo's test runner."""

    allow_inherited_tests_method = True  # the test methods are the mixin's


@tagged("post_install", "-at_install", "gdpr_crm")
class TestSensitiveScan(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Finding = cls.env["gdpr.sensitive.finding"]
        # everything that exists now was scanned before the test's own records
        cls._scan_all()
        cls.partner = cls.env["res.partner"].create(
            {"name": "Scan Subject", "comment": "<p>Appeler lundi. Le client est diabétique, pas de déjeuner.</p>"}
        )
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Scan Lead", "description": "<p>Son IBAN : FR76 3000 6000 0112 3456 7890 189.</p>"}
        )
        cls.plain_partner = cls.env["res.partner"].create({"name": "Nothing Here", "comment": "<p>Rappeler.</p>"})
        cls.message = cls.partner.message_post(
            body="Elle est syndiquée à la CGT.", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        cls.activity = cls.env["mail.activity"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "res_id": cls.plain_partner.id,
                "activity_type_id": cls.env.ref("mail.mail_activity_data_todo").id,
                "note": "<p>He has a criminal record, check before signing.</p>",
                "user_id": cls.user_salesman.id,
            }
        )

    @classmethod
    def _scan_all(cls):
        total = 0
        for _i in range(100):
            done, remaining = cls.env["gdpr.sensitive.finding"]._gdpr_scan_batch(batch_size=2000)
            total += done
            if not remaining:
                return total
        raise AssertionError("the scan does not end")

    def _findings(self, record, state="new"):
        return self.Finding.search(
            [("res_model", "=", record._name), ("res_id", "=", record.id), ("state", "=", state)]
        )

    def test_cron_finds_seeded_data_and_skips_unchanged_text(self):
        self.assertGreaterEqual(self._scan_all(), 4)
        found = {
            (f.res_model, f.res_id, f.field_name, f.category) for f in self.Finding.search([("state", "=", "new")])
        }
        self.assertIn(("res.partner", self.partner.id, "comment", "health"), found)
        self.assertIn(("crm.lead", self.lead.id, "description", "iban"), found)
        self.assertIn(("mail.message", self.message.id, "body", "trade_union"), found)
        self.assertIn(("mail.activity", self.activity.id, "note", "criminal"), found)
        self.assertFalse(self._findings(self.plain_partner))
        finding = self._findings(self.partner)
        self.assertEqual(len(finding), 1)
        self.assertIn("***", finding.excerpt)
        self.assertNotIn("diab", finding.excerpt)
        self.assertIn("client est", finding.excerpt)
        # a re-run over unchanged text reads nothing and changes nothing
        before = self.Finding.search([]).ids
        self.assertEqual(self._scan_all(), 0)
        self.assertEqual(self.Finding.search([]).ids, before)
        # a write that does not touch the text queues nothing
        self.partner.write({"function": "Buyer"})
        self.assertEqual(self._scan_all(), 0)
        # rewritten text is scanned again, and only that record
        self.partner.write({"comment": "<p>Le client est séropositif.</p>"})
        self.assertEqual(self._scan_all(), 1)
        finding = self._findings(self.partner)
        self.assertEqual(len(finding), 1)
        self.assertEqual(finding.category, "health")
        self.assertNotIn("séropositif", finding.excerpt)
        self.partner.write({"comment": "<p>Rien à signaler.</p>"})
        self._scan_all()
        self.assertFalse(self._findings(self.partner))

    def test_cron_job_runs_batches(self):
        cron = self.env.ref("gdpr_crm.ir_cron_sensitive_scan")
        self.assertEqual(cron.code, "model._cron_sensitive_scan()")
        self.env["gdpr.sensitive.finding"]._cron_sensitive_scan()
        self.assertTrue(self._findings(self.lead))

    def test_redaction_removes_the_span_and_is_logged(self):
        self._scan_all()
        finding = self._findings(self.partner).with_user(self.user_dpo)
        finding.action_redact()
        self.assertEqual(finding.state, "redacted")
        self.assertEqual(finding.reviewer_id, self.user_dpo)
        comment = self.partner.comment
        self.assertNotIn("diabétique", comment)
        self.assertIn("[redacted]", comment)
        self.assertIn("Appeler lundi", comment)
        log = (
            self.env["gdpr.audit.log"]
            .sudo()
            .search([("event_type", "=", "erasure"), ("model", "=", "res.partner"), ("res_id", "=", self.partner.id)])
        )
        self.assertEqual(len(log), 1)
        self.assertNotIn("diab", log.description)
        # the chatter message too (HTML body)
        message_finding = self._findings(self.message).with_user(self.user_dpo)
        message_finding.action_redact()
        self.assertNotIn("syndiquée", self.message.body)
        # once rescanned, nothing new is raised for the redacted texts; the redacted findings stay
        self._scan_all()
        self.assertFalse(self._findings(self.partner))
        self.assertEqual(self._findings(self.partner, "redacted"), finding)
        with self.assertRaises(UserError):
            finding.action_redact()

    def test_dismissed_finding_is_not_raised_again(self):
        self._scan_all()
        finding = self._findings(self.lead).with_user(self.user_dpo)
        finding.action_dismiss()
        self.assertEqual(finding.state, "dismissed")
        # the same words, rewritten around: not raised again; other words are
        self.lead.write({"description": "<p>IBAN FR76 3000 6000 0112 3456 7890 189, virement demain.</p>"})
        self._scan_all()
        self.assertFalse(self._findings(self.lead))
        self.lead.write({"description": "<p>IBAN FR76 3000 6000 0112 3456 7890 189, et il est diabétique.</p>"})
        self._scan_all()
        self.assertEqual(self._findings(self.lead).mapped("category"), ["health"])

    def test_only_the_dpo_sees_findings(self):
        self._scan_all()
        with self.assertRaises(AccessError):
            self.Finding.with_user(self.user_salesman).search([])
        with self.assertRaises(AccessError):
            self._findings(self.partner).with_user(self.user_salesman).action_dismiss()
        self.assertTrue(self.Finding.with_user(self.user_dpo).search([]))

    def test_warning_on_contact_note_and_lead_description(self):
        partner = self.env["res.partner"].with_user(self.user_salesman).create({"name": "Warned"})
        self.assertFalse(partner.gdpr_sensitive_warning)
        partner.comment = "<p>Elle est enceinte de cinq mois.</p>"
        self.assertIn("Health", partner.gdpr_sensitive_warning)
        self.assertIn("CNIL", partner.gdpr_sensitive_warning)
        self.assertIn("gdpr_sensitive_guidance_action", partner.gdpr_sensitive_warning)
        lead = (
            self.env["crm.lead"]
            .with_user(self.user_salesman)
            .create({"name": "Warned lead", "description": "<p>Il vote à l'extrême droite.</p>"})
        )
        self.assertIn("Political opinions", lead.gdpr_sensitive_warning)

    def test_warning_after_a_chatter_note(self):
        def notifications():
            return [
                json.loads(value["message"])
                for value in self.env.cr.precommit.data.get("bus.bus.values", [])
                if "simple_notification" in value["message"]
            ]

        before = len(notifications())
        partner = self.plain_partner.with_user(self.user_salesman)
        partner.message_post(body="Rien de spécial.", message_type="comment", subtype_xmlid="mail.mt_note")
        self.assertEqual(len(notifications()), before)
        partner.message_post(body="Il sort de prison.", message_type="comment", subtype_xmlid="mail.mt_note")
        sent = notifications()
        self.assertEqual(len(sent), before + 1)
        self.assertIn("Criminal offences", sent[-1]["payload"]["message"])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestFieldInventory(GdprCase):
    def test_fill_rates_match_independent_counts(self):
        partners = self.env["res.partner"].with_context(active_test=False)
        partners.create([{"name": "Inv A", "mobile": "+33 6 12 34 56 78"}, {"name": "Inv B"}])
        inventory = self.env["gdpr.field.inventory"].with_user(self.user_dpo)
        inventory.action_refresh()
        rows = inventory.search([])
        self.assertIn("crm.lead", rows.mapped("model_name"))
        self.assertIn("mail.message", rows.mapped("model_name"))  # discovered by the engine
        all_partners = partners.search([])
        for fname in ("mobile", "comment", "email", "country_id"):
            row = rows.filtered(lambda r, f=fname: r.model_name == "res.partner" and r.field_name == f)
            self.assertEqual(len(row), 1)
            expected = len(all_partners.filtered(fname))
            self.assertEqual(row.filled_count, expected, fname)
            self.assertEqual(row.total_count, len(all_partners))
            self.assertAlmostEqual(row.fill_rate, round(100.0 * expected / len(all_partners), 1))
        mobile = rows.filtered(lambda r: r.model_name == "res.partner" and r.field_name == "mobile")
        self.assertTrue(mobile.no_purpose)
        mobile.purpose_ids = self.env["gdpr.purpose"].search([], limit=1)
        self.assertFalse(mobile.no_purpose)
        # purposes survive a new count
        inventory.action_refresh()
        self.assertTrue(mobile.purpose_ids)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("gdpr_crm.gdpr_field_inventory_report_document", rows.ids)[0]
            .decode()
        )
        self.assertIn("Personal Data Field Inventory", html)
        with self.assertRaises(AccessError):
            inventory.with_user(self.user_salesman).action_refresh()


@tagged("post_install", "-at_install", "gdpr_crm")
class TestSensitiveTour(HttpCase):
    def test_sensitive_warning_tour(self):
        lead = self.env["crm.lead"].create({"name": "Tour sensitive lead"})
        self.start_tour(f"/odoo/crm.lead/{lead.id}", "gdpr_crm_sensitive_tour", login="admin")
        lead = self.env["crm.lead"].search([("name", "=", "Tour sensitive lead")])
        self.assertEqual(len(lead), 1)
        self.assertIn("diabétique", lead.description)  # a warning, not a block
