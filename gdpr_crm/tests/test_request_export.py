# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Access and portability requests executed end to end with the personal-data engine."""

import io
import json
import re
import zipfile

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .test_request import GdprRequestCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestExport(GdprRequestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.child = cls.env["res.partner"].create(
            {"name": "Jeanne Sujet (billing)", "parent_id": cls.subject.id, "email": "billing.jeanne@example.com"}
        )
        cls.subject.message_post(body="Jeanne called about her order", message_type="comment")
        cls.attachment = cls.env["ir.attachment"].create(
            {
                "name": "jeanne-id-card.txt",
                "raw": b"Jeanne's scanned document",
                "res_model": "res.partner",
                "res_id": cls.subject.id,
            }
        )
        # Somebody else, who must not appear in Jeanne's export.
        cls.other = cls.env["res.partner"].create(
            {"name": "Jean Autre", "email": "jean.autre@example.com", "phone": "+33 7 99 88 77 66"}
        )
        cls.env["crm.lead"].create({"name": "Jean's project", "partner_id": cls.other.id})

    def test_export_holds_consents_and_their_history(self):
        newsletter = self.env.ref("gdpr_crm.purpose_newsletter")
        consent = self.env["gdpr.consent"].create({"partner_id": self.subject.id, "purpose_id": newsletter.id})
        consent.action_give(source="paper", proof="I agree to receive the newsletter.", proof_version="Form v1")
        other_consent = self.env["gdpr.consent"].create({"partner_id": self.other.id, "purpose_id": newsletter.id})
        request = self._executed()
        data = json.loads(self._export(request)["json"].raw)
        by_model = {m["model"]: m for m in data["models"]}
        self.assertEqual([r["id"] for r in by_model["gdpr.consent"]["records"]], consent.ids)
        event_ids = {r["id"] for r in by_model["gdpr.consent.event"]["records"]}
        self.assertTrue(consent.event_ids and set(consent.event_ids.ids) <= event_ids)
        self.assertFalse(set(other_consent.event_ids.ids) & event_ids)
        self.assertIn("I agree to receive the newsletter.", self._export(request)["json"].raw.decode())

    def test_export_in_the_requester_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        newsletter = self.env.ref("gdpr_crm.purpose_newsletter")
        self.env["gdpr.consent"].create({"partner_id": self.subject.id, "purpose_id": newsletter.id})
        self.subject.lang = "fr_FR"
        request = self._executed()
        self.assertEqual(request.lang, "fr_FR")
        files = self._export(request)
        data = json.loads(files["json"].raw)
        consents = next(m for m in data["models"] if m["model"] == "gdpr.consent")
        self.assertEqual(consents["fields"]["purpose_id"], "Finalité")
        self.assertIn("Vos données personnelles", files["pdf"].raw.decode())

    def test_execute_wizard_for_a_requester_without_email(self):
        by_post = self.env["res.partner"].create({"name": "Paul Courrier", "street": "1 rue de la Poste"})
        request = self._create(partner_id=by_post.id, channel="post")
        self.assertFalse(request.requester_email)
        request.action_verify()
        action = request.with_user(self.user_dpo).action_open_execute_wizard()
        form = Form(self.env[action["res_model"]].with_user(self.user_dpo).with_context(action["context"]))
        self.assertFalse(form.send_response, "nowhere to email the answer: not proposed")
        form.save().action_execute()
        self.assertTrue(request.date_executed)
        self.assertEqual(len(request.attachment_ids), 4)
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "gdpr.request"), ("res_id", "=", request.id)]))

    def _executed(self, request_type="access"):
        request = self._create(request_type=request_type)
        request.action_verify()
        request.action_execute()
        return request

    def _export(self, request):
        files = {a.name.rsplit(".", 1)[1]: a for a in request.attachment_ids}
        self.assertEqual(sorted(files), ["html", "json", "pdf", "zip"])
        return files

    def test_access_attaches_complete_export(self):
        request = self._executed()
        self.assertEqual(request.state, "in_progress")
        self.assertTrue(request.date_executed)
        files = self._export(request)
        data = json.loads(files["json"].raw)
        by_model = {m["model"]: m for m in data["models"]}
        partner_ids = {r["id"] for r in by_model["res.partner"]["records"]}
        self.assertTrue({self.subject.id, self.child.id} <= partner_ids)
        self.assertNotIn(self.other.id, partner_ids)
        self.assertIn(self.lead.id, {r["id"] for r in by_model["crm.lead"]["records"]})
        self.assertIn(self.attachment.id, {r["id"] for r in by_model["ir.attachment"]["records"]})
        self.assertEqual(by_model["res.partner"]["fields"]["email"], "Email")
        text = files["json"].raw.decode()
        self.assertIn("jeanne.sujet@example.com", text)
        self.assertIn("Jeanne called about her order", text)
        self.assertNotIn("jean.autre@example.com", text)
        self.assertNotIn("Jean's project", text)
        with zipfile.ZipFile(io.BytesIO(files["zip"].raw)) as archive:
            names = archive.namelist()
            self.assertIn("res.partner.csv", names)
            self.assertIn("crm.lead.csv", names)
            scanned = [n for n in names if n.startswith("attachments/") and n.endswith("jeanne-id-card.txt")]
            self.assertEqual(len(scanned), 1)
            self.assertEqual(archive.read(scanned[0]), b"Jeanne's scanned document")
        self.assertTrue(files["pdf"].raw)
        exports = self.AuditLog.search(
            [("event_type", "=", "dsar_export"), ("model", "=", "gdpr.request"), ("res_id", "=", request.id)]
        )
        self.assertEqual(len(exports), 1)
        self.assertEqual(exports.record_count, data["record_count"])
        self.assertNotIn("jeanne", (exports.description or "").lower())

    def test_portability_gives_the_same_machine_readable_files(self):
        request = self._executed("portability")
        data = json.loads(self._export(request)["json"].raw)
        self.assertIn(
            self.subject.id, {r["id"] for m in data["models"] if m["model"] == "res.partner" for r in m["records"]}
        )

    def test_second_execution_refused_and_changes_nothing(self):
        request = self._executed()
        attachments = request.attachment_ids
        with self.assertRaisesRegex(UserError, "already executed"):
            request.action_execute()
        self.assertEqual(request.attachment_ids, attachments)
        self.assertEqual(
            self.AuditLog.search_count([("event_type", "=", "dsar_export"), ("res_id", "=", request.id)]), 1
        )

    def test_execute_wizard_previews_then_sends_a_link(self):
        request = self._create()
        request.action_verify()
        action = request.with_user(self.user_dpo).action_open_execute_wizard()
        wizard = self.env[action["res_model"]].with_user(self.user_dpo).with_context(action["context"]).create({})
        lines = {(line.model, line.res_id): line for line in wizard.line_ids}
        self.assertIn(("res.partner", self.subject.id), lines)
        self.assertIn(("res.partner", self.child.id), lines)
        self.assertEqual(lines["crm.lead", self.lead.id].relation, "own")
        self.assertNotIn(("res.partner", self.other.id), lines)
        opened = lines["crm.lead", self.lead.id].action_open_record()
        self.assertEqual((opened["res_model"], opened["res_id"]), ("crm.lead", self.lead.id))
        wizard.send_response = True
        wizard.action_execute()
        self.assertEqual(len(request.attachment_ids), 4)
        self.assertTrue(request.download_expiry)
        mail = self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_response")
        self.assertEqual(len(mail), 1)
        self.assertIn("/gdpr/download/", mail.body_html)
        token = re.search(r"/gdpr/download/([A-Za-z0-9_-]+)", mail._prepare_outgoing_list()[0]["body"]).group(1)
        self.assertEqual(self.env["gdpr.request"]._gdpr_get_by_download_token(token), request)
        self.assertFalse(mail.attachment_ids, "the data is sent by link, never attached to the email")
