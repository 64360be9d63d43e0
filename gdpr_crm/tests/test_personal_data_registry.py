# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo_test_helper import FakeModelLoader

from odoo.tests import tagged

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPersonalDataRegistry(GdprCase):
    """One registry says what personal data is; every feature reads it, and
    the engine says why it found each record."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loader = FakeModelLoader(cls.env, cls.__module__)
        cls.loader.backup_registry()
        from .gdpr_fake_models import GdprTestLoyaltyCard, GdprTestMembership, GdprTestPartnerSignup

        cls.loader.update_registry((GdprTestPartnerSignup, GdprTestMembership, GdprTestLoyaltyCard))
        # what a module installed later writes (a data file): its declarations
        IrField = cls.env["ir.model.fields"]
        Declared = cls.env["gdpr.personal.field"]
        cls.decl_signup = Declared.create(
            {
                "field_id": IrField._get("res.partner", "x_signup_notes").id,
                "kind": "sensitive",
                "anonymize": "scrub",
                "purpose_id": cls.env.ref("gdpr_crm.purpose_newsletter").id,
            }
        )
        Declared.create(
            [
                {
                    "field_id": IrField._get("gdpr.test.membership", "member_contact").id,
                    "kind": "contact",
                    "match": "email",
                    "owner": True,
                },
                {"field_id": IrField._get("gdpr.test.membership", "remarks").id, "kind": "free_text"},
            ]
        )
        cls.engine = cls.env["gdpr.personal.data"]
        Partner = cls.env["res.partner"]
        cls.jo = Partner.create(
            {"name": "Jo Subject", "email": "jo@example.com", "x_signup_notes": "Met at the Lyon fair"}
        )
        cls.jo_child = Partner.create({"name": "Jo Subject, Billing", "parent_id": cls.jo.id, "type": "invoice"})
        cls.joe = Partner.create({"name": "Joe Other", "email": "joe@example.com"})
        cls.acme = Partner.create({"name": "Acme Corp", "is_company": True})
        Lead = cls.env["crm.lead"]
        cls.lead_own = Lead.create({"name": "Opportunity A", "partner_id": cls.jo.id})
        cls.lead_web = Lead.create({"name": "Web form", "email_from": "Jo <jo@example.com>"})
        cls.lead_cc = Lead.create(
            {"name": "Joe's deal", "partner_id": cls.joe.id, "email_cc": "boss@example.com, jo@example.com"}
        )
        cls.lead_quote = Lead.create({"name": "Referral", "description": "<p>Ask jo@example.com for a quote</p>"})
        cls.msg_authored = cls.lead_cc.message_post(
            body="<p>Hello</p>", author_id=cls.jo.id, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.msg_to_jo = cls.acme.message_post(
            body="<p>Your quote</p>", partner_ids=cls.jo.ids, message_type="comment", subtype_xmlid="mail.mt_note"
        )
        cls.note_quote = cls.acme.message_post(body="<p>Her address: jo@example.com</p>", subtype_xmlid="mail.mt_note")
        cls.note_on_jo = cls.jo.message_post(body="<p>Called back</p>", subtype_xmlid="mail.mt_note")
        cls.note_name = cls.acme.message_post(
            body="<p>Lunch with Jo   Subject next week.</p>", subtype_xmlid="mail.mt_note"
        )
        cls.note_other_name = cls.acme.message_post(
            body="<p>Jo Subjectivity is a band, not a person.</p>", subtype_xmlid="mail.mt_note"
        )
        cls.mail_to_jo = cls.env["mail.mail"].create(
            {"subject": "Invitation", "body_html": "<p>Hi</p>", "email_to": "Someone <x@example.org>, Jo@Example.com"}
        )
        Membership = cls.env["gdpr.test.membership"]
        cls.membership = Membership.create({"name": "Gold", "member_contact": "JO@example.com"})
        cls.membership_joe = Membership.create({"name": "Silver", "member_contact": "joe@example.com"})
        Card = cls.env["gdpr.test.loyalty.card"]
        cls.card = Card.create({"name": "Card 1", "holder_id": cls.jo.id})

    @classmethod
    def tearDownClass(cls):
        cls.loader.restore_registry()
        super().tearDownClass()

    # ------------------------------------------------------------------
    # The registry
    # ------------------------------------------------------------------
    def test_registry_declared_and_discovered(self):
        registry = self.engine._gdpr_registry()
        self.assertEqual(
            registry["res.partner"]["x_signup_notes"],
            {"kind": "sensitive", "purpose": "newsletter", "anonymize": "scrub", "match": False, "owner": False},
        )
        self.assertEqual(registry["res.partner"]["comment"]["kind"], "sensitive", "shipped declaration")
        self.assertEqual(registry["res.partner"]["name"]["anonymize"], "pseudonym")
        self.assertEqual(registry["res.partner"]["email"]["purpose"], "customer_relationship")
        # discovered in a model nobody declared anything for
        self.assertEqual(registry["gdpr.test.loyalty.card"]["holder_id"]["match"], "partner")
        self.assertEqual(registry["gdpr.test.loyalty.card"]["email"]["kind"], "contact")
        self.assertNotIn("name", registry["gdpr.test.loyalty.card"])
        self.assertEqual(set(self.engine._gdpr_registry("crm.lead")), {"crm.lead"})
        self.assertEqual(self.engine._gdpr_registry("res.country"), {})
        # a fresh copy: changing it changes nothing
        registry["res.partner"].clear()
        self.assertIn("x_signup_notes", self.engine._gdpr_registry("res.partner")["res.partner"])
        self.assertEqual(
            self.engine._gdpr_registry_fields("sensitive"),
            {"res.partner": ["comment", "x_signup_notes"], "crm.lead": ["description"]},
        )
        self.assertEqual(
            self.engine._gdpr_registry_fields(["free_text"], "gdpr.test.membership"),
            {"gdpr.test.membership": ["remarks"]},
        )

    def test_archived_declaration_removes_a_discovered_field(self):
        IrField = self.env["ir.model.fields"]
        self.assertIn(self.card.id, self.engine._gdpr_find(partners=self.jo)["gdpr.test.loyalty.card"])
        self.env["gdpr.personal.field"].create(
            {"field_id": IrField._get("gdpr.test.loyalty.card", "holder_id").id, "kind": "identifier", "active": False}
        )
        self.assertNotIn("holder_id", self.engine._gdpr_registry().get("gdpr.test.loyalty.card", {}))
        self.assertNotIn("gdpr.test.loyalty.card", self.engine._gdpr_find(partners=self.jo))

    def test_registry_field_is_exported(self):
        found = self.engine._gdpr_find(partners=self.jo)
        self.assertEqual(found["gdpr.test.membership"], self.membership.ids, "found through the declared field")
        data = self.engine._gdpr_export_data(found)
        by_model = {m["model"]: m for m in data["models"]}
        partners = {r["id"]: r["values"] for r in by_model["res.partner"]["records"]}
        # its name looks like a secret ("signup_"): declared personal data, it is exported
        self.assertEqual(partners[self.jo.id]["x_signup_notes"], "Met at the Lyon fair")
        self.assertNotIn("signup_token", by_model["res.partner"]["fields"], "secrets still are not")
        memberships = by_model["gdpr.test.membership"]["records"]
        self.assertEqual([r["values"]["member_contact"] for r in memberships], ["JO@example.com"])
        self.assertNotIn("Silver", json.dumps(data))

    def test_registry_field_is_indexed(self):
        self.assertIn("x_signup_notes", self.env["gdpr.mention"]._gdpr_mention_sources()["res.partner"])
        self.joe.x_signup_notes = "Friend of jo@example.com"
        mention = self.env["gdpr.mention"].search([("res_model", "=", "res.partner"), ("res_id", "=", self.joe.id)])
        self.assertEqual(mention.mapped("field"), ["x_signup_notes"])
        provenance = self.engine._gdpr_find_provenance(partners=self.jo)
        self.assertEqual(
            provenance["res.partner"][self.joe.id], {"relation": "mention", "via": ["gdpr.mention:x_signup_notes"]}
        )
        self.joe.x_signup_notes = "Nothing to see"
        self.assertNotIn(self.joe.id, self.engine._gdpr_find(partners=self.jo)["res.partner"])
        # the free text of a declared model gets its trigram index (name mentions)
        created = self.engine._gdpr_ensure_indexes()
        self.assertIn("gdpr_test_membership.remarks", created)
        self.assertIn("gdpr_test_membership.member_contact", created)
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'gdpr_gdpr_test_membership_remarks_trgm'"
        )
        self.assertIn("gin_trgm_ops", self.env.cr.fetchone()[0])

    def test_registry_field_is_audited_and_restricted(self):
        self.assertIn("x_signup_notes", self.env["res.partner"]._gdpr_audit_personal_fields())
        self.assertIn("x_signup_notes", self.env["res.partner"]._gdpr_sensitive_fields())
        self.jo.with_user(self.user_salesman).write({"x_signup_notes": "Prefers phone calls"})
        self.env.cr.flush()
        entry = self.env["gdpr.audit.log"].search(
            [("event_type", "=", "personal_data_change"), ("model", "=", "res.partner"), ("res_id", "=", self.jo.id)],
            order="id desc",
            limit=1,
        )
        self.assertIn("write", entry.description)
        self.assertIn("x_signup_notes", entry.description)
        self.assertNotIn("Prefers", entry.description)
        self.assertEqual(entry.user_id, self.user_salesman)

    # ------------------------------------------------------------------
    # Provenance
    # ------------------------------------------------------------------
    def test_provenance(self):
        found = self.engine._gdpr_find_provenance(partners=self.jo)

        def check(model, record, relation, via):
            info = found[model][record.id]
            self.assertEqual(info["relation"], relation, f"{model} {record}")
            self.assertLessEqual(set(via), set(info["via"]), f"{model} {record}: {info['via']}")

        check("res.partner", self.jo, "own", ["id"])
        check("res.partner", self.jo_child, "own", ["parent_id"])
        check("crm.lead", self.lead_own, "own", ["partner_id"])
        check("crm.lead", self.lead_web, "own", ["email_normalized"])
        check("crm.lead", self.lead_cc, "reference", ["gdpr.mention:email_cc"])
        self.assertEqual(found["crm.lead"][self.lead_cc.id]["via"], ["gdpr.mention:email_cc"])
        check("crm.lead", self.lead_quote, "mention", ["gdpr.mention:description"])
        check("mail.message", self.msg_authored, "own", ["author_id", "gdpr.mention:email_from"])
        check("mail.message", self.msg_to_jo, "reference", ["partner_ids"])
        check("mail.message", self.note_quote, "mention", ["gdpr.mention:body"])
        check("mail.message", self.note_on_jo, "own", ["res_id"])
        check("mail.mail", self.mail_to_jo, "reference", ["email_to"])
        check("gdpr.test.membership", self.membership, "own", ["member_contact"])
        check("gdpr.test.loyalty.card", self.card, "reference", ["holder_id"])
        check("mail.message", self.note_name, "name_mention", ["body"])
        self.assertNotIn(self.note_other_name.id, found["mail.message"], "whole words only")
        self.assertNotIn(self.joe.id, found["res.partner"])
        self.assertNotIn(self.membership_joe.id, found["gdpr.test.membership"])
        self.assertEqual({info["relation"] for records in found.values() for info in records.values()} - {
            "own", "reference", "mention", "name_mention"}, set())  # fmt: skip

    def test_name_mentions_apart(self):
        found = self.engine._gdpr_find(partners=self.jo)
        self.assertNotIn(self.note_name.id, found["mail.message"], "a possible name mention is not certain")
        self.assertIn(self.note_quote.id, found["mail.message"])
        self.assertEqual(
            set(found),
            {
                model
                for model, records in self.engine._gdpr_find_provenance(partners=self.jo).items()
                if any(info["relation"] != "name_mention" for info in records.values())
            },
        )
        # a name given by the requester, with no contact
        by_name = self.engine._gdpr_find_provenance(names=["Jo Subject"])
        self.assertEqual(by_name["mail.message"][self.note_name.id]["relation"], "name_mention")
        self.assertEqual(self.engine._gdpr_find_provenance(names=["Jo"]), {}, "a single short word is no full name")
        # a company's name is not a person's name
        self.assertEqual(self.engine._gdpr_subject_names(set(self.acme.ids)), [])
        self.assertEqual(self.engine._gdpr_subject_names(set(self.jo.ids), ["jo  SUBJECT"]), ["jo SUBJECT"])
