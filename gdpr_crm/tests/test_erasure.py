# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import os
import re
import shutil
import subprocess
from unittest.mock import patch

from odoo_test_helper import FakeModelLoader

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import config, mute_logger

from .common import GdprCase

# Every value seeded for the subject: none may survive the erasure.
SUBJECT_STRINGS = [
    "Zelda Quuxington",
    "zelda.quux@example.org",
    "+33 6 71 23 45 98",
    "671234598",
    "17 rue des Quuxiers",
    "Zed Quuxington-Child",
    "zed.child@example.org",
    "QUUX-SECRET-FILE-CONTENT",
    "zelda_quux_cv",
    "Quuxington Ventures",
]
# The other person, who must stay untouched.
OTHER_STRINGS = ["Otto Keepington", "otto.keep@example.net", "Otto says the meeting is on"]


def seed(env, salesman):
    """A subject spread everywhere, and another person on the same documents."""
    env = env(context=dict(env.context, tracking_disable=False, mail_notrack=False, mail_create_nolog=False))
    Partner = env["res.partner"]
    subject = Partner.create(
        {
            "name": "Zelda Quuxington",
            "email": "zelda.quux@example.org",
            "phone": "+33 6 71 23 45 98",
            "street": "17 rue des Quuxiers",
            "city": "Lyon",
            "comment": "<p>Met at the fair</p>",
        }
    )
    child = Partner.create(
        {"name": "Zed Quuxington-Child", "parent_id": subject.id, "type": "other", "email": "zed.child@example.org"}
    )
    other = Partner.create({"name": "Otto Keepington", "email": "otto.keep@example.net"})
    Lead = env["crm.lead"]
    lead = Lead.create(
        {
            "name": "Quuxington Ventures",
            "partner_id": subject.id,
            "description": "<p>Call zelda.quux@example.org about the offer</p>",
            "user_id": salesman.id,
        }
    )
    lead2 = Lead.create(
        {"name": "Second deal", "contact_name": "Zelda Quuxington", "email_from": "zelda.quux@example.org"}
    )
    lead.write({"expected_revenue": 1000})  # a tracking value
    other_lead = Lead.create({"name": "Otto's deal", "partner_id": subject.id, "user_id": salesman.id})
    other_lead.write({"partner_id": other.id})  # tracking: old value names the subject
    other_lead.message_post(body="Otto says the meeting is on", author_id=other.id, message_type="comment")
    other_lead.message_post(
        body="<p>Zelda wrote from zelda.quux@example.org and +33 6 71 23 45 98</p>",
        author_id=salesman.partner_id.id,
        message_type="comment",
    )
    lead.message_post(
        body="<p>Her CV</p>", author_id=subject.id, message_type="email", email_from="zelda.quux@example.org"
    )
    attachment = env["ir.attachment"].create(
        {
            "name": "zelda_quux_cv.txt",
            "raw": b"QUUX-SECRET-FILE-CONTENT of Zelda Quuxington",
            "res_model": "crm.lead",
            "res_id": lead.id,
        }
    )
    lead.message_post(body="<p>CV attached</p>", attachment_ids=[attachment.id], message_type="comment")
    lead.activity_schedule("mail.mail_activity_data_todo", summary="Call Zelda Quuxington", user_id=salesman.id)
    mail = env["mail.mail"].create(
        {
            "subject": "Hello Zelda Quuxington",
            "body_html": "<p>Dear Zelda Quuxington</p>",
            "email_to": "zelda.quux@example.org",
        }
    )
    purpose = env.ref("gdpr_crm.purpose_newsletter")
    consent = env["gdpr.consent"].create({"partner_id": subject.id, "purpose_id": purpose.id})
    consent.action_give(source="paper", proof="Signed form", proof_version="v1")
    portal = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": "Zelda Quuxington",
                "login": "zelda.quux@example.org",
                "partner_id": subject.id,
                "groups_id": [Command.set([env.ref("base.group_portal").id])],
            }
        )
    )
    request = env["gdpr.request"].create(
        {
            "request_type": "erasure",
            "partner_id": subject.id,
            "requester_name": "Zelda Quuxington",
            "requester_email": "zelda.quux@example.org",
            "description": "Please erase Zelda Quuxington",
        }
    )
    request.action_verify()
    return {
        "subject": subject,
        "child": child,
        "other": other,
        "lead": lead,
        "lead2": lead2,
        "other_lead": other_lead,
        "attachment": attachment,
        "mail": mail,
        "consent": consent,
        "portal": portal,
        "request": request,
    }


def scan_database(env, strings):
    """``{string: [table.column]}`` of the text columns of the whole database
    holding one of ``strings`` (case-insensitive), read in this transaction."""
    env.flush_all()
    cr = env.cr
    cr.execute(
        """
        SELECT c.table_name, c.column_name FROM information_schema.columns c
          JOIN information_schema.tables t ON t.table_name = c.table_name
           AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE'
         WHERE c.table_schema = current_schema() AND c.data_type IN ('character varying', 'text', 'jsonb')
        """
    )
    columns = cr.fetchall()
    pattern = "|".join(re.escape(s).replace("\\-", "-").replace("\\ ", " ") for s in strings)
    found = {}
    for table, column in columns:
        cr.execute(f'SELECT "{column}"::text FROM "{table}" WHERE "{column}"::text ~* %s', [pattern])
        for (value,) in cr.fetchall():
            for string in strings:
                if string.lower() in value.lower():
                    found.setdefault(string, []).append(f"{table}.{column}")
    return found


@tagged("post_install", "-at_install", "gdpr_erasure")
class TestErasure(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loader = FakeModelLoader(cls.env, cls.__module__)
        cls.loader.backup_registry()
        from .gdpr_fake_models import GdprTestLoyaltyCard

        cls.loader.update_registry((GdprTestLoyaltyCard,))
        cls.user_dpo.groups_id = [Command.link(cls.env.ref("base.group_partner_manager").id)]
        cls.data = seed(cls.env, cls.user_salesman)
        cls.request = cls.data["request"].with_user(cls.user_dpo)
        Card = cls.env["gdpr.test.loyalty.card"]
        cls.card = Card.create({"name": "Card of Zelda Quuxington", "holder_id": cls.data["subject"].id})
        cls.held_card = Card.create({"name": "HELD Zelda Quuxington", "holder_id": cls.data["subject"].id})
        cls.env["gdpr.legal.hold"].create(
            {
                "name": "Accounting (10 years)",
                "model_id": cls.env["ir.model"]._get_id("gdpr.test.loyalty.card"),
                "domain": "[('name', '=like', 'HELD%')]",
            }
        )

    @classmethod
    def tearDownClass(cls):
        cls.loader.restore_registry()
        super().tearDownClass()

    def test_erasure_leaves_nothing_and_keeps_the_other_person(self):
        data = self.data
        self.request.erasure_scrub_name_mentions = True
        self.request.action_execute()
        found = scan_database(self.env, SUBJECT_STRINGS)
        # only the record under a legal hold keeps the name
        self.assertEqual(found, {"Zelda Quuxington": ["gdpr_test_loyalty_card.name"]})
        self.assertTrue(self.held_card.exists())
        self.assertEqual(self.held_card.name, "HELD Zelda Quuxington")
        self.assertNotIn("Zelda", self.card.name)
        # the subject's own records
        subject = data["subject"]
        self.assertFalse(subject.active)
        self.assertFalse(subject.email or subject.phone or subject.street)
        self.assertFalse(data["lead"].exists() or data["lead2"].exists())
        self.assertFalse(data["attachment"].exists())
        self.assertFalse(data["mail"].exists())
        self.assertFalse(data["consent"].exists())
        self.assertFalse(data["portal"].active)
        self.assertNotIn("zelda", data["portal"].login)
        self.assertFalse(self.request.requester_email or self.request.requester_name)
        # the other person: untouched, their message on the same document too
        other_strings = scan_database(self.env, OTHER_STRINGS)
        self.assertEqual(set(other_strings), set(OTHER_STRINGS))
        self.assertEqual(data["other"].email, "otto.keep@example.net")
        bodies = data["other_lead"].message_ids.mapped("body")
        self.assertIn("Otto says the meeting is on", " ".join(bodies))
        self.assertIn("[erased]", " ".join(bodies))
        # the anonymous proof
        proof = json.loads(self.request.erasure_proof)
        self.assertEqual(proof["residue_check"]["residues"], 0)
        self.assertEqual(self.request.erasure_residue_count, 0)
        self.assertTrue(proof["subject_hashes"])
        self.assertNotIn("zelda", self.request.erasure_proof.lower())
        actions = {(m["model"], m["action"]) for m in proof["models"]}
        self.assertIn(("crm.lead", "delete"), actions)
        self.assertIn(("res.partner", "anonymize"), actions)
        self.assertIn(("gdpr.test.loyalty.card", "keep"), actions)
        log = self.env["gdpr.audit.log"].sudo().search([("event_type", "=", "erasure")], order="id desc", limit=1)
        self.assertIn(self.request.name, log.description)
        # the person comes back: flagged, and no mail leaves
        self.assertTrue(self.env["gdpr.suppression"]._gdpr_suppressed_values(["zelda.quux@example.org"]))
        back = self.env["res.partner"].create({"name": "Z", "email": "Zelda.Quux@example.org"})
        self.assertTrue(back.gdpr_suppressed)
        mail = self.env["mail.mail"].sudo().create({"email_to": "zelda.quux@example.org", "body_html": "<p>x</p>"})
        with self.mock_smtp() as outgoing:
            mail.send()
        self.assertEqual(mail.state, "cancel")
        self.assertFalse(outgoing)

    def test_name_mentions_are_left_unless_included(self):
        self.request.action_execute()
        found = scan_database(self.env, ["Zelda"])
        # the colleague's note keeps the first name, not the email or phone
        self.assertTrue(found)
        bodies = " ".join(self.data["other_lead"].message_ids.mapped("body"))
        self.assertIn("Zelda wrote from [erased]", bodies)
        self.assertNotIn("zelda.quux@example.org", bodies)

    def test_preview_lists_actions_holds_and_mentions(self):
        action = self.request.action_open_execute_wizard()
        wizard = self.env[action["res_model"]].with_user(self.user_dpo).with_context(action["context"]).create({})
        lines = {(line.model, line.action): line for line in wizard.line_ids}
        self.assertIn(("crm.lead", "delete"), lines)
        self.assertEqual(lines["crm.lead", "delete"].count, 2)
        self.assertIn(("res.partner", "anonymize"), lines)
        self.assertIn(("mail.message", "scrub"), lines)
        self.assertEqual(lines["gdpr.test.loyalty.card", "keep"].reason, "Accounting (10 years)")
        self.assertFalse(wizard.send_response)
        # nothing changed by the preview
        self.assertTrue(self.data["lead"].exists())
        wizard.action_execute()
        self.assertTrue(self.request.date_executed)
        self.assertFalse(self.data["lead"].exists())

    def test_partner_under_legal_hold_is_kept_and_restricted(self):
        subject = self.data["subject"]
        subject.with_user(self.user_dpo).write({"gdpr_legal_hold": True, "gdpr_legal_hold_reason": "Litigation"})
        self.request.action_execute()
        self.assertTrue(subject.active)
        self.assertEqual(subject.email, "zelda.quux@example.org")
        self.assertTrue(subject.gdpr_restricted)
        self.assertFalse(self.data["lead2"].exists())
        proof = json.loads(self.request.erasure_proof)
        self.assertIn({"model": "res.partner", "action": "keep", "count": 1}, proof["models"])

    def test_interrupted_erasure_changes_nothing(self):
        def boom(*args, **kwargs):
            raise UserError("interrupted")

        with patch.object(type(self.env["gdpr.erasure"]), "_gdpr_anonymize_subject", boom):
            with self.assertRefused(UserError, "interrupted"):
                self.request.action_execute()
        self.assertTrue(self.data["lead"].exists())
        self.assertEqual(self.data["subject"].email, "zelda.quux@example.org")
        self.assertTrue(self.data["consent"].exists())
        self.assertTrue(os.path.exists(self.data["attachment"]._full_path(self.data["attachment"].store_fname)))
        self.assertFalse(self.request.date_executed)

    def test_residue_rolls_the_erasure_back(self):
        with patch.object(type(self.env["gdpr.erasure"]), "_gdpr_scrub", lambda *args: None):
            with self.assertRefused(UserError, "rolled back"):
                self.request.action_execute()
        self.assertTrue(self.data["lead"].exists())
        self.assertTrue(self.data["subject"].active)
        self.assertIn("zelda.quux@example.org", " ".join(self.data["other_lead"].message_ids.mapped("body")))

    def test_erasure_of_a_bare_email(self):
        lead = self.env["crm.lead"].create(
            {"name": "Web visitor", "email_from": "vera.quux@example.org", "contact_name": "Vera Visitor"}
        )
        request = self.env["gdpr.request"].create(
            {"request_type": "erasure", "requester_email": "vera.quux@example.org", "requester_name": "Vera Visitor"}
        )
        request.with_user(self.user_dpo).action_verify()
        request.erasure_deep_check = True
        request.with_user(self.user_dpo).action_execute()
        self.assertTrue(json.loads(request.erasure_proof)["residue_check"]["deep"])
        self.assertFalse(lead.exists())
        self.assertEqual(scan_database(self.env, ["vera.quux@example.org", "Vera Visitor"]), {})
        self.assertTrue(self.env["gdpr.suppression"]._gdpr_suppressed_values(["vera.quux@example.org"]))

    def test_bad_input_is_refused_and_changes_nothing(self):
        Request = self.env["gdpr.request"]

        def erasure(partner, verify=True):
            request = Request.create({"request_type": "erasure", "partner_id": partner.id})
            if verify:
                request.with_user(self.user_dpo).action_verify()
            return request.with_user(self.user_dpo)

        with self.assertRefused(UserError, "identity is verified"):
            erasure(self.data["subject"], verify=False).action_execute()
        company = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        self.env["res.partner"].create({"name": "Employee One", "parent_id": company.id})
        with self.assertRefused(UserError, "other contacts"):
            erasure(company).action_execute()
        with self.assertRefused(UserError, "yourself"):
            erasure(self.user_dpo.partner_id).action_execute()
        with self.assertRefused(UserError, "internal user"):
            erasure(self.user_salesman.partner_id).action_execute()
        with self.assertRefused(UserError, "company's own contact"):
            erasure(self.env.company.partner_id).action_execute()
        self.assertTrue(self.data["subject"].active)
        self.assertTrue(company.child_ids)
        # saying what to do with the other contacts: detach keeps them
        request = erasure(company)
        request.erasure_child_policy = "detach"
        employee = company.child_ids
        request.action_execute()
        self.assertTrue(employee.exists())
        self.assertEqual(employee.name, "Employee One")
        self.assertFalse(employee.parent_id)
        self.assertNotEqual(company.name, "Acme")


@tagged("post_install", "-at_install", "gdpr_erasure")
class TestErasureDump(TransactionCase):
    """Committed data, a real ``pg_dump`` and the filestore: nothing of the subject remains.

    The test commits in its own cursors (the test's transaction holds no
    lock), and removes what it created at the end.
    """

    def setUp(self):
        super().setUp()
        if not shutil.which("pg_dump"):
            self.fail("pg_dump is needed by this test (PostgreSQL client)")
        self.created = {}
        self.addCleanup(self.cleanup)

    def new_env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    def cleanup(self):
        with self.registry.cursor() as cr:
            env = self.new_env(cr)
            # a verified request is kept as evidence by the application
            cr.execute("DELETE FROM gdpr_request WHERE id = ANY(%s)", [self.created.pop("gdpr.request", [0])])
            for model_name, ids in reversed(list(self.created.items())):
                records = env[model_name].with_context(active_test=False).browse(ids).exists()
                if model_name == "res.partner":
                    consents = (
                        env["gdpr.consent"].with_context(active_test=False).search([("partner_id", "in", records.ids)])
                    )
                    consents._gdpr_purge()
                    records.user_ids.unlink()
                records.unlink()
            env["gdpr.suppression"].with_context(active_test=False).search([]).unlink()

    def pg_dump(self):
        dbname = self.env.cr.dbname
        args = ["pg_dump", "--data-only", "--no-owner", dbname]
        for option, key in (("-h", "db_host"), ("-p", "db_port"), ("-U", "db_user")):
            if config.get(key):
                args += [option, str(config[key])]
        env = dict(os.environ)
        if config.get("db_password"):
            env["PGPASSWORD"] = config["db_password"]
        return subprocess.run(args, capture_output=True, check=True, env=env).stdout.decode("utf-8", "replace")

    def filestore_hits(self, strings):
        root = config.filestore(self.env.cr.dbname)
        hits = []
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    content = handle.read().decode("utf-8", "replace").lower()
                hits += [s for s in strings if s.lower() in content]
        return hits

    def test_pg_dump_and_filestore_hold_no_trace(self):
        with self.registry.cursor() as cr:
            env = self.new_env(cr)
            env["ir.config_parameter"].set_param("gdpr_crm.suppression_mode", "warn")
            salesman = env["res.users"].create(
                {
                    "name": "Dump Salesman",
                    "login": "gdpr_dump_salesman",
                    "groups_id": [Command.set([env.ref("sales_team.group_sale_salesman").id])],
                }
            )
            data = seed(env, salesman)
            data["request"].erasure_scrub_name_mentions = True
            self.created = {
                "crm.lead": data["other_lead"].ids,
                "gdpr.request": data["request"].ids,
                "res.users": salesman.ids,
                "res.partner": (data["subject"] | data["child"] | data["other"] | salesman.partner_id).ids,
            }
            request_id = data["request"].id
            fname = data["attachment"].store_fname
            path = data["attachment"]._full_path(fname)
        self.assertTrue(os.path.exists(path))
        before = self.pg_dump()
        for string in SUBJECT_STRINGS[:3]:
            self.assertIn(string.lower(), before.lower(), "the seeded data is in the dump before the erasure")
        self.assertIn("QUUX-SECRET-FILE-CONTENT", self.filestore_hits(SUBJECT_STRINGS))

        # two DPOs at once: the second gets a clear message
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            cr1.execute("SELECT id FROM gdpr_request WHERE id = %s FOR UPDATE", [request_id])
            with mute_logger("odoo.sql_db"), self.assertRaisesRegex(UserError, "someone else"):
                self.new_env(cr2)["gdpr.request"].browse(request_id).action_execute()
            cr2.rollback()
            self.new_env(cr1)["gdpr.request"].browse(request_id).action_execute()
        # (leaving the with block committed cr1)
        self.assertFalse(os.path.exists(path), "the file is removed once the erasure is committed")
        dump = self.pg_dump().lower()
        left = [s for s in SUBJECT_STRINGS if s.lower() in dump]
        self.assertEqual(left, [], "nothing of the subject in a pg_dump")
        self.assertEqual(self.filestore_hits(SUBJECT_STRINGS), [])
        for string in OTHER_STRINGS:
            self.assertIn(string.lower(), dump, "the other person is untouched")
        with self.registry.cursor() as cr:
            request = self.new_env(cr)["gdpr.request"].browse(request_id)
            self.assertEqual(json.loads(request.erasure_proof)["residue_check"]["residues"], 0)
