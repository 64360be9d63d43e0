# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The answer to an access request holds the subject's data, and only theirs (GDPR art. 15(4)),
in a document the person can read (art. 15(1))."""

import io
import json
import shutil
import subprocess
import zipfile

from markupsafe import Markup

from odoo.tests import Form, HttpCase, tagged
from odoo.tools import mute_logger

from .test_request import GdprRequestCase

OTHERS = {
    "names": ["Paul Tiers", "Léa Voisine", "Marc Partage"],
    "emails": ["paul.tiers@example.org", "lea.voisine@example.org", "marc.partage@example.org"],
    "phones": ["+33 7 11 22 33 44", "+33 7 55 66 77 88", "+33 7 99 00 11 22"],
}
INTERNAL = ["Internal assessment: low likelihood", "Root cause: misconfigured share"]


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAccessExport(GdprRequestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.subject.write({"phone": "+33 6 12 34 56 78", "city": "Lyon", "tz": "Europe/Paris"})
        cls.others = Partner.create(
            [
                {"name": name, "email": email, "phone": phone}
                for name, email, phone in zip(OTHERS["names"], OTHERS["emails"], OTHERS["phones"], strict=True)
            ]
        )
        paul, lea, marc = cls.others
        # a breach that affected the subject and two other contacts
        cls.breach = cls.env["gdpr.breach"].create(
            {
                "date_detected": "2026-03-02 09:00:00",
                "nature": "confidentiality",
                "description": INTERNAL[1],
                "risk_assessment": INTERNAL[0],
                "consequences": "Phishing emails may reach you.",
                "measures": "The share was closed and passwords reset.",
                "partner_ids": [(6, 0, (cls.subject | paul | lea).ids)],
            }
        )
        # a lead of somebody else, that the subject follows with that person
        cls.shared_lead = cls.env["crm.lead"].create(
            {"name": "Marc Partage's warehouse", "partner_id": marc.id, "email_from": marc.email}
        )
        cls.shared_lead.message_subscribe(partner_ids=(cls.subject | marc).ids)
        # a thread where the other person writes, once quoting the subject
        cls.quote = cls.shared_lead.message_post(
            body=Markup(
                "<p>Marc Partage here: my colleague jeanne.sujet@example.com agrees. Reach me at "
                "marc.partage@example.org or +33 7 99 00 11 22.</p>"
            ),
            author_id=marc.id,
            email_from=marc.email,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        cls.private = cls.shared_lead.message_post(
            body=Markup("<p>Marc's private budget: 12 000 EUR</p>"),
            author_id=marc.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        # the subject's own data
        cls.own_note = cls.subject.message_post(
            body="<p>Jeanne prefers calls after 6 pm</p>", subtype_xmlid="mail.mt_note"
        )
        cls.consent = cls.env["gdpr.consent"].create(
            {"partner_id": cls.subject.id, "purpose_id": cls.env.ref("gdpr_crm.purpose_newsletter").id}
        )
        cls.consent.action_give(source="web_form", proof="I want the newsletter.", proof_version="v3")

    def _execute(self, request=None):
        request = request or self._create()
        request.action_verify()
        request.action_execute()
        files = {a.name.rsplit(".", 1)[1]: a for a in request.attachment_ids}
        self.assertEqual(sorted(files), ["html", "json", "pdf", "zip"])
        return request, files

    def _all_text(self, files):
        texts = [files["json"].raw.decode(), files["html"].raw.decode()]
        with zipfile.ZipFile(io.BytesIO(files["zip"].raw)) as archive:
            texts += [archive.read(n).decode("utf-8-sig") for n in archive.namelist() if n.endswith(".csv")]
        return "\n".join(texts)

    def test_only_the_subject_data(self):
        _request, files = self._execute()
        text = self._all_text(files)
        for value in [*OTHERS["names"], *OTHERS["emails"], *OTHERS["phones"], *INTERNAL]:
            self.assertNotIn(value, text)
        for sanitized in ("+33711223344", "+33755667788", "+33799001122", "711223344", "799001122"):
            self.assertNotIn(sanitized, text)
        self.assertNotIn("Marc's private budget", text, "the other person's own messages are not exported")
        self.assertNotIn("warehouse", text, "nor the name of their lead")
        # … and every piece of the subject's own data
        for value in (
            "Jeanne Sujet",
            "jeanne.sujet@example.com",
            "+33 6 12 34 56 78",
            "Lyon",
            self.lead.name,
            "Jeanne prefers calls after 6 pm",
            "I want the newsletter.",
            self.breach.name,
            "Phishing emails may reach you.",
        ):
            self.assertIn(value, text)
        data = json.loads(files["json"].raw)
        self.assertEqual(data["schema"], "gdpr_crm.access_export")
        self.assertEqual(data["schema_version"], "2.0")
        by_model = {m["model"]: {r["id"]: r for r in m["records"]} for m in data["models"]}
        self.assertEqual(set(by_model["gdpr.breach"]), set(self.breach.ids))
        breach = by_model["gdpr.breach"][self.breach.id]
        self.assertEqual(breach["relation"], "reference")
        self.assertEqual(breach["values"]["nature"], "confidentiality")
        self.assertNotIn("partner_ids", breach["values"])
        self.assertIn(self.lead.id, by_model["crm.lead"])
        self.assertNotIn(self.shared_lead.id, by_model.get("crm.lead", {}))
        quote = by_model["mail.message"][self.quote.id]
        self.assertEqual(quote["relation"], "mention")
        self.assertIn("[…] here: my colleague jeanne.sujet@example.com agrees", quote["values"]["excerpt"])
        self.assertNotIn("<p>", quote["values"]["excerpt"])
        self.assertNotIn(self.private.id, by_model["mail.message"])
        followed = [r for r in by_model["mail.followers"].values() if r["values"]["res_id"] == self.shared_lead.id]
        self.assertEqual(len(followed), 1, "the fact of following the lead is exported")
        self.assertEqual(set(by_model["res.partner"]), set(self.subject.ids) | set(self.subject.child_ids.ids))

    def test_second_export_does_not_embed_the_first(self):
        first, first_files = self._execute()
        second, files = self._execute(self._create())
        data = json.loads(files["json"].raw)
        listed = {f["id"] for f in data["previous_exports"]}
        self.assertEqual(listed, set(first.attachment_ids.ids))
        with zipfile.ZipFile(io.BytesIO(files["zip"].raw)) as archive:
            embedded = [n for n in archive.namelist() if n.startswith("attachments/")]
        self.assertFalse([n for n in embedded if first.name.replace("/", "-") in n])
        self.assertLess(len(files["json"].raw), len(first_files["json"].raw) * 1.5, "no export inside the export")
        attachments = {r["id"]: r for m in data["models"] if m["model"] == "ir.attachment" for r in m["records"]}
        self.assertFalse(any(attachments[i]["values"]["embedded"] for i in listed))
        self.assertNotIn("index_content", json.dumps(attachments))
        self.assertEqual(second.state, "in_progress")

    def test_document_holds_the_article_15_information(self):
        activity = self.env["gdpr.processing.activity"].search([("company_id", "=", self.company.id)], limit=1)
        activity.write({"retention_period": "3 years after the last contact", "recipients": "Our sales team"})
        self.company.gdpr_dpo_partner_id = self.env["res.partner"].create(
            {"name": "Delphine Protection", "email": "dpo@example.com"}
        )
        _request, files = self._execute()
        html = files["html"].raw.decode()
        for section in (
            "How we use your data",
            "Purposes and legal bases",
            "Categories of data concerned",
            "Recipients of your data",
            "Transfers outside the European Economic Area",
            "How long we keep your data",
            "Where your data comes from",
            "Your rights and how to exercise them",
            "CNIL",
            "Who is responsible",
            "3 years after the last contact",
            "Delphine Protection",
            "dpo@example.com",
            "Identity and contact details",
            "Consents and their history",
            "Personal data breaches that concerned you",
        ):
            self.assertIn(section, html)
        self.assertIn("Given", html, "selection values are shown with their label")
        for raw in ("web_form", "confidentiality", "mail.followers", "res.partner", "Model Data"):
            self.assertNotIn(f">{raw}<", html)
        self.assertNotIn("<p>Jeanne prefers", html, "message bodies are shown as text")

    def test_form_request_for_an_english_contact_by_a_french_dpo(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.user_dpo.lang = "fr_FR"
        self.subject.lang = "en_US"
        with Form(self.env["gdpr.request"].with_user(self.user_dpo)) as form:
            form.request_type = "access"
            form.partner_id = self.subject
            form.requester_name = False
            form.requester_email = False
            form.lang = False
        request = form.record
        self.assertEqual(request.requester_name, "Jeanne Sujet")
        self.assertEqual(request.requester_email, self.subject.email)
        self.assertEqual(request.lang, "en_US")
        mail = self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_acknowledgement")
        self.assertEqual(len(mail), 1)
        self.assertIn("Hello Jeanne Sujet,", mail.body_html)

    def test_engine_provenance_shape(self):
        """The engine's provenance (via as sets, name mentions) is taken as it is."""
        Engine = self.env["gdpr.personal.data"]
        found = {
            "res.partner": {self.subject.id: {"relation": "own", "via": {"id"}}},
            "gdpr.breach": {self.breach.id: {"relation": "own", "via": {"partner_ids"}}},
            "mail.message": {self.private.id: {"relation": "name_mention", "via": {"body"}}},
        }
        data = Engine._gdpr_export_data(found, ident=Engine._gdpr_export_identifiers(partners=self.subject))
        by_model = {m["model"]: m for m in data["models"]}
        self.assertNotIn("mail.message", by_model, "a name found in a text is for the DPO to check, not exported")
        breach = by_model["gdpr.breach"]["records"][0]
        self.assertEqual(breach["via"], ["partner_ids"])
        self.assertNotIn(INTERNAL[0], json.dumps(data), "a breach is reduced whatever its relation")

    def test_request_without_contact_keeps_its_values(self):
        request = self.env["gdpr.request"].create(
            {"request_type": "access", "requester_email": "someone@example.com", "requester_name": "Some One"}
        )
        self.assertEqual(request.requester_name, "Some One")
        self.assertEqual(request.lang, self.env.lang or self.env.user.lang)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAccessExportPdf(HttpCase):
    """The PDF a person reads, rendered by wkhtmltopdf and read back with pdftotext."""

    def test_pdf_is_readable_and_light(self):
        if not shutil.which("pdftotext"):
            self.fail("pdftotext (poppler-utils) is needed: run scripts/setup.sh")
        subject = self.env["res.partner"].create(
            {"name": "Jeanne Sujet", "email": "jeanne.sujet@example.com", "lang": "en_US", "tz": "Europe/Paris"}
        )
        self.env["crm.lead"].create({"name": "Jeanne's project", "partner_id": subject.id})
        consent = self.env["gdpr.consent"].create(
            {"partner_id": subject.id, "purpose_id": self.env.ref("gdpr_crm.purpose_newsletter").id}
        )
        consent.action_give(source="web_form", proof="I want the newsletter.", proof_version="v3")
        self.env["gdpr.breach"].create(
            {"date_detected": "2026-03-02 09:00:00", "nature": "confidentiality", "partner_ids": subject.ids}
        )
        request = (
            self.env["gdpr.request"]
            .with_context(force_report_rendering=True)
            .create({"request_type": "access", "partner_id": subject.id})
        )
        request.action_verify()
        # Debian's wkhtmltopdf (unpatched Qt) warns that it ignores the header options.
        with mute_logger("odoo.addons.base.models.ir_actions_report"):
            request.action_execute()
        pdf = request.attachment_ids.filtered(lambda a: a.name.endswith(".pdf"))
        self.assertTrue(pdf.raw.startswith(b"%PDF"))
        self.assertLess(len(pdf.raw), 1024 * 1024, "a typical subject's PDF stays under 1 MB")
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf.raw, capture_output=True, check=True
        ).stdout.decode()
        text = " ".join(text.split())
        for section in (
            "Purposes and legal bases",
            "Categories of data concerned",
            "Recipients of your data",
            "Transfers outside the European Economic Area",
            "How long we keep your data",
            "Your rights and how to exercise them",
            "CNIL",
            "Where your data comes from",
            "Who is responsible",
            "Identity and contact details",
            "Jeanne's project",
            "I want the newsletter.",
            "Web form",
            "Confidentiality",
        ):
            self.assertIn(section, text)
        for raw in ("web_form", "confidentiality", "res.partner", "crm.lead", "True", "False"):
            self.assertNotIn(raw, text)
