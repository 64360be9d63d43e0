# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import threading
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import GdprCase

OLD = fields.Datetime.now() - timedelta(days=4 * 365)
RECENT = fields.Datetime.now() - timedelta(days=30)


class RetentionCase(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Policy = cls.env["gdpr.retention.policy"]
        cls.Lead = cls.env["crm.lead"]
        cls.Partner = cls.env["res.partner"]
        cls.lead_date_field = cls.env["ir.model.fields"]._get("crm.lead", "gdpr_last_interaction_date")
        cls.partner_date_field = cls.env["ir.model.fields"]._get("res.partner", "gdpr_last_interaction_date")

    def _set_date(self, records, date):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE %s SET gdpr_last_interaction_date = %%s WHERE id = ANY(%%s)" % records._table,
            [date, records.ids],
        )
        records.invalidate_recordset()

    def _policy(self, **vals):
        values = {
            "name": "Test policy",
            "model_id": self.env["ir.model"]._get_id("crm.lead"),
            "date_field_id": self.lead_date_field.id,
            "domain": "[('name', '=like', 'RET-%')]",
            "duration": 3,
            "duration_unit": "years",
            "action": "archive",
            "mode": "automatic",
            "company_id": False,
        }
        values.update(vals)
        return self.Policy.create(values)


@tagged("post_install", "-at_install", "gdpr_retention")
class TestLastInteraction(RetentionCase):
    def setUp(self):
        super().setUp()
        self.customer = self.Partner.create({"name": "Carla Customer", "email": "carla@example.org"})
        self.lead = self.Lead.create({"name": "Carla's project", "partner_id": self.customer.id})
        self._set_date(self.customer, OLD)
        self._set_date(self.lead, OLD)

    def _date(self, record):
        record.invalidate_recordset()
        return record.gdpr_last_interaction_date

    def test_new_records_start_at_creation(self):
        partner = self.Partner.create({"name": "New Contact"})
        self.assertTrue(partner.gdpr_last_interaction_date)
        self.assertEqual(partner.gdpr_last_interaction_source, "creation")

    def test_incoming_email_counts_for_lead_and_author(self):
        self.lead.message_post(
            body="I am still interested",
            message_type="email",
            author_id=self.customer.id,
            subtype_xmlid="mail.mt_comment",
        )
        self.assertGreater(self._date(self.lead), RECENT)
        self.assertGreater(self._date(self.customer), RECENT)
        self.assertEqual(self.lead.gdpr_last_interaction_source, "email")
        self.assertEqual(self.customer.gdpr_last_interaction_source, "email")

    def test_email_from_an_unknown_sender_counts_for_the_lead(self):
        self.lead.message_post(body="Hello", message_type="email", email_from="someone@example.net", author_id=False)
        self.assertGreater(self._date(self.lead), RECENT)
        self.assertEqual(self._date(self.customer), OLD)

    def test_salesperson_note_and_outgoing_mail_do_not_count(self):
        lead = self.lead.with_user(self.user_salesman)
        self.lead.user_id = self.user_salesman
        lead.message_post(body="Called her, no answer", subtype_xmlid="mail.mt_note", message_type="comment")
        lead.message_post(
            body="Here is our offer",
            subtype_xmlid="mail.mt_comment",
            message_type="comment",
            partner_ids=self.customer.ids,
        )
        self.assertEqual(self._date(self.lead), OLD)
        self.assertEqual(self._date(self.customer), OLD)

    def test_message_of_the_person_counts(self):
        self.lead.message_post(body="My reply", message_type="comment", author_id=self.customer.id)
        self.assertGreater(self._date(self.lead), RECENT)
        self.assertEqual(self.lead.gdpr_last_interaction_source, "message")

    def test_portal_login_counts(self):
        partner = self.user_portal.partner_id
        self._set_date(partner, OLD)
        self.user_portal.with_user(self.user_portal)._update_last_login()
        self.assertGreater(self._date(partner), RECENT)
        self.assertEqual(partner.gdpr_last_interaction_source, "login")
        # an internal user's login is not an interaction of a data subject
        employee = self.user_employee.partner_id
        self._set_date(employee, OLD)
        self.user_employee.with_user(self.user_employee)._update_last_login()
        self.assertEqual(self._date(employee), OLD)

    def test_web_lead_counts_for_its_contact(self):
        self.assertFalse(self.Lead._gdpr_created_by_visitor())  # no HTTP request here
        with patch.object(type(self.Lead), "_gdpr_created_by_visitor", return_value=True):
            lead = self.Lead.create({"name": "Website form", "partner_id": self.customer.id})
        self.assertEqual(lead.gdpr_last_interaction_source, "web_form")
        self.assertGreater(self._date(self.customer), RECENT)
        self.assertEqual(self.customer.gdpr_last_interaction_source, "web_form")

    def test_kinds_are_a_setting(self):
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.gdpr_interaction_email)
        settings.gdpr_interaction_email = False
        settings.execute()
        self.assertNotIn("email", self.env["gdpr.subject.mixin"]._gdpr_interaction_kinds())
        self.lead.message_post(body="Hello", message_type="email", author_id=self.customer.id)
        self.assertEqual(self._date(self.lead), OLD)
        self.lead.message_post(body="From the portal", message_type="comment", author_id=self.customer.id)
        self.assertGreater(self._date(self.lead), RECENT)

    def test_date_never_moves_backwards(self):
        self._set_date(self.lead, RECENT)
        self.Lead._gdpr_touch_interaction(self.lead.ids, "email", OLD)
        self.assertEqual(self._date(self.lead), RECENT)

    def test_oldest_contacts_view(self):
        action = self.env.ref("gdpr_crm.gdpr_oldest_contacts_action")
        view = self.env.ref("gdpr_crm.res_partner_view_list_gdpr_oldest")
        self.assertIn("gdpr_last_interaction_date asc", view.arch)
        partners = self.Partner.search(
            safe_eval(action.domain),
            order="gdpr_last_interaction_date asc, id",
            limit=20,
        )
        self.assertIn(self.customer, partners)
        self.assertAlmostEqual(self.customer.gdpr_interaction_age, 4.0, delta=0.1)


@tagged("post_install", "-at_install", "gdpr_retention")
class TestRetentionPolicy(RetentionCase):
    def test_archive_only_past_due_in_domain(self):
        due = self.Lead.create([{"name": "RET-due-%s" % i} for i in range(3)])
        recent = self.Lead.create({"name": "RET-recent"})
        other = self.Lead.create({"name": "Other old lead"})
        self._set_date(due | other, OLD)
        policy = self._policy()
        self.assertEqual(policy.due_count, 3)
        preview = policy.action_preview()
        self.assertEqual(self.Lead.with_context(active_test=False).search_count(preview["domain"]), 3)
        self.assertIn("3", preview["name"])
        run = policy._gdpr_run()
        self.assertEqual(run.processed_count, 3)
        self.assertEqual(run.state, "done")
        self.env.cr.execute("SELECT id, active FROM crm_lead WHERE id = ANY(%s)", [(due | recent | other).ids])
        active = dict(self.env.cr.fetchall())
        self.assertEqual([active[lead.id] for lead in due], [False] * 3)
        self.assertTrue(active[recent.id])
        self.assertTrue(active[other.id])
        self.assertTrue(policy.last_run_date)
        log = self.env["gdpr.audit.log"].search([("event_type", "=", "retention")], order="id desc", limit=1)
        self.assertIn("Retention policy Test policy", log.description)
        self.assertEqual(log.record_count, 3)
        # nothing left: a second run does nothing
        self.assertEqual(policy._gdpr_run().processed_count, 0)

    def test_anonymize_leaves_no_personal_data(self):
        partner = self.Partner.create(
            {
                "name": "RET-Anna Nonym",
                "email": "anna.nonym@example.org",
                "phone": "+33 6 12 34 56 78",
                "street": "1 rue de la Paix",
                "city": "Paris",
                "comment": "<p>Call anna.nonym@example.org</p>",
                "image_1920": "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=",
            }
        )
        lead = self.Lead.create(
            {
                "name": "RET-Anna's project",
                "partner_id": partner.id,
                "contact_name": "Anna Nonym",
                "email_from": "anna.nonym@example.org",
                "phone": "+33 6 12 34 56 78",
                "description": "<p>Anna, tel +33 6 12 34 56 78</p>",
            }
        )
        lead.message_post(body="Mail from anna.nonym@example.org", message_type="email", author_id=partner.id)
        lead.activity_schedule("mail.mail_activity_data_todo", note="Call Anna")
        self._set_date(partner, OLD)
        self._set_date(lead, OLD)
        self.env["gdpr.mention"]._gdpr_index_records("crm.lead", lead.ids)
        self.env.flush_all()
        lead_policy = self._policy(action="anonymize")
        partner_policy = self._policy(
            action="anonymize",
            model_id=self.env["ir.model"]._get_id("res.partner"),
            date_field_id=self.partner_date_field.id,
            domain="[('name', '=like', 'RET-%')]",
        )
        self.assertEqual(lead_policy._gdpr_run().processed_count, 1)
        self.assertEqual(partner_policy._gdpr_run().processed_count, 1)
        cr = self.env.cr
        cr.execute("SELECT email, phone, street, city, comment, name FROM res_partner WHERE id = %s", [partner.id])
        email, phone, street, city, comment, name = cr.fetchone()
        self.assertEqual((email, phone, street, city, comment), (None, None, None, None, None))
        self.assertNotIn("Anna", name)
        cr.execute(
            "SELECT name, contact_name, email_from, email_normalized, phone, description, partner_id "
            "FROM crm_lead WHERE id = %s",
            [lead.id],
        )
        row = cr.fetchone()
        self.assertNotIn("Anna", row[0])
        self.assertEqual(row[1:], (None, None, None, None, None, None))
        cr.execute("SELECT body, email_from FROM mail_message WHERE model = 'crm.lead' AND res_id = %s", [lead.id])
        for body, email_from in cr.fetchall():
            self.assertNotIn("anna", (body or "").lower())
            self.assertFalse(email_from)
        cr.execute("SELECT count(*) FROM mail_activity WHERE res_model = 'crm.lead' AND res_id = %s", [lead.id])
        self.assertEqual(cr.fetchone()[0], 0)
        cr.execute(
            "SELECT res_model, res_id, value FROM gdpr_mention WHERE (res_model = 'crm.lead' AND res_id = %s) "
            "OR (res_model = 'res.partner' AND res_id = %s) OR value IN ('anna.nonym@example.org', '612345678')",
            [lead.id, partner.id],
        )
        self.assertEqual(cr.fetchall(), [])
        cr.execute("SELECT count(*) FROM ir_attachment WHERE res_model = 'res.partner' AND res_id = %s", [partner.id])
        self.assertEqual(cr.fetchone()[0], 0)
        self.assertTrue(lead.gdpr_anonymized_date)
        # already anonymized: not due any more
        lead_policy.invalidate_recordset(["due_count"])
        self.assertEqual(lead_policy.due_count, 0)

    def test_anonymizer_keeps_contacts_of_users(self):
        partner = self.user_portal.partner_id
        done = self.env["gdpr.anonymizer"]._gdpr_anonymize(partner)
        self.assertFalse(done)
        self.assertEqual(partner.email, "paul@example.com")

    def test_delete_deletes(self):
        leads = self.Lead.create([{"name": "RET-del-%s" % i} for i in range(2)])
        self._set_date(leads, OLD)
        run = self._policy(action="delete")._gdpr_run()
        self.assertEqual(run.processed_count, 2)
        self.env.cr.execute("SELECT count(*) FROM crm_lead WHERE id = ANY(%s)", [leads.ids])
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_delete_counts_what_a_rule_keeps(self):
        partners = self.Partner.create([{"name": "RET-p1"}, {"name": "RET-p2", "email": "p2@example.org"}])
        self.env["gdpr.consent"].create(
            {"partner_id": partners[1].id, "purpose_id": self.env.ref("gdpr_crm.purpose_newsletter").id}
        )
        self._set_date(partners, OLD)
        policy = self._policy(
            action="delete",
            model_id=self.env["ir.model"]._get_id("res.partner"),
            date_field_id=self.partner_date_field.id,
        )
        run = policy._gdpr_run()
        self.assertEqual((run.processed_count, run.failed_count), (1, 1))
        self.assertFalse(partners[0].exists())
        self.assertTrue(partners[1].exists())

    def test_legal_holds_and_restrictions_are_skipped(self):
        leads = self.Lead.create([{"name": "RET-hold-%s" % i} for i in range(4)])
        self._set_date(leads, OLD)
        held, restricted = leads[0], leads[1]
        LeadClass = type(self.Lead)
        with (
            patch.object(
                LeadClass, "_gdpr_legal_hold_reasons", lambda recs: {held.id: "litigation"} if held in recs else {}
            ),
            patch.object(LeadClass, "_gdpr_restricted_records", lambda recs: recs & restricted),
        ):
            run = self._policy(action="anonymize")._gdpr_run()
        self.assertEqual(
            (run.processed_count, run.skipped_hold_count, run.skipped_restricted_count, run.skipped_count), (2, 1, 1, 2)
        )
        self.assertFalse(held.gdpr_anonymized_date)
        self.assertFalse(restricted.gdpr_anonymized_date)
        self.assertEqual(held.name, "RET-hold-0")
        self.assertTrue(leads[2].gdpr_anonymized_date)

    def test_withdraw_prospecting_consents(self):
        partner = self.Partner.create({"name": "RET-customer", "email": "cust@example.org"})
        newsletter = self.env.ref("gdpr_crm.purpose_newsletter")
        consent = self.env["gdpr.consent"].create({"partner_id": partner.id, "purpose_id": newsletter.id})
        consent.action_give(source="paper", proof="signed form", proof_version="v1")
        self._set_date(partner, OLD)
        policy = self._policy(
            action="withdraw",
            model_id=self.env["ir.model"]._get_id("res.partner"),
            date_field_id=self.partner_date_field.id,
            purpose_ids=[(6, 0, newsletter.ids)],
        )
        self.assertEqual(policy.due_count, 1)
        preview = policy.action_preview()
        self.assertEqual(self.Partner.search(preview["domain"]), partner)
        json.dumps(preview["domain"])  # sent to the web client as is
        self.assertEqual(policy._gdpr_run().processed_count, 1)
        self.assertEqual(consent.state, "withdrawn")
        policy.invalidate_recordset(["due_count"])
        self.assertEqual(policy.due_count, 0)

    def test_review_mode_lists_and_notifies_without_acting(self):
        leads = self.Lead.create([{"name": "RET-review-%s" % i} for i in range(2)])
        self._set_date(leads, OLD)
        policy = self._policy(mode="review", responsible_id=self.user_dpo.id)
        self.Policy._cron_retention()
        self.assertTrue(all(leads.mapped("active")))
        activity = policy.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_dpo)
        self.assertIn("2 records", activity.summary)
        self.Policy._cron_retention()
        self.assertEqual(len(policy.activity_ids), 1)
        # switching to automatic says how many records the next run affects
        with Form(policy) as form:
            with self.assertLogs("odoo.tests.form", level="WARNING") as warning:
                form.mode = "automatic"
        self.assertIn("2 records", "\n".join(warning.output))
        # the DPO confirms: run now
        policy.with_user(self.user_dpo).action_run()
        self.assertFalse(any(leads.mapped("active")))

    def test_cron_applies_automatic_policies(self):
        leads = self.Lead.create([{"name": "RET-cron-%s" % i} for i in range(3)])
        self._set_date(leads, OLD)
        policy = self._policy()
        # the test cursor cannot commit: the batches are committed "for show"
        with patch.object(self.env.cr, "commit", lambda: None):
            self.Policy._cron_retention(batch_size=2)
        self.assertFalse(any(leads.mapped("active")))
        self.assertEqual(policy.run_ids.batch_count, 2)

    def test_only_the_dpo_runs_a_policy(self):
        policy = self._policy()
        with self.assertRaisesRegex(Exception, "data protection officer|not allowed|access"):
            policy.with_user(self.user_salesman).action_run()

    def test_shipped_policies_start_in_review(self):
        for xmlid in ("retention_policy_leads", "retention_policy_prospects", "retention_policy_customers_prospecting"):
            policy = self.env.ref("gdpr_crm.%s" % xmlid)
            self.assertEqual(policy.mode, "review")
            policy._gdpr_check()
            self.assertIsInstance(policy.due_count, int)

    def test_bad_input_is_refused_at_save(self):
        cases = [
            ({"domain": "[('name', '=', "}, "not a valid domain"),
            ({"domain": "[('no_such_field', '=', 1)]"}, "does not apply"),
            ({"domain": "'name'"}, "list of conditions"),
            ({"date_field_id": self.partner_date_field.id}, "date or date-time field"),
            ({"date_field_id": self.env["ir.model.fields"]._get("crm.lead", "name").id}, "date or date-time field"),
            ({"duration": 0}, "between 1 and"),
            ({"duration": -3}, "between 1 and"),
            ({"duration": 101}, "between 1 and"),
            ({"duration": 40000, "duration_unit": "days"}, "between 1 and"),
            (
                {
                    "model_id": self.env["ir.model"]._get_id("res.currency"),
                    "date_field_id": self.env["ir.model.fields"]._get("res.currency", "write_date").id,
                    "domain": "[]",
                },
                "holds no personal data",
            ),
            (
                {
                    "model_id": self.env["ir.model"]._get_id("mail.message"),
                    "date_field_id": self.env["ir.model.fields"]._get("mail.message", "date").id,
                    "action": "archive",
                    "domain": "[]",
                },
                "cannot be archived",
            ),
        ]
        for vals, message in cases:
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, message):
                self._policy(**vals)
        policy = self._policy()
        with self.assertRaisesRegex(ValidationError, "between 1 and"):
            policy.duration = 0
            policy.flush_recordset()


@tagged("post_install", "-at_install", "gdpr_retention")
class TestRetentionConcurrency(RetentionCase):
    """Runs that commit: data is made and removed with separate cursors."""

    def _committed_setup(self, count):
        with self.registry.cursor() as cr:
            cr.execute(
                """INSERT INTO crm_lead (name, type, active, company_id, gdpr_last_interaction_date,
                                         create_date, write_date, create_uid, write_uid)
                   SELECT 'RETC-' || n, 'lead', true, %s, %s, now(), now(), 1, 1
                     FROM generate_series(1, %s) n RETURNING id""",
                [self.company.id, OLD, count],
            )
            lead_ids = sorted(row[0] for row in cr.fetchall())
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            policy = env["gdpr.retention.policy"].create(
                {
                    "name": "Concurrency policy",
                    "model_id": env["ir.model"]._get_id("crm.lead"),
                    "date_field_id": self.lead_date_field.id,
                    "domain": "[('name', '=like', 'RETC-%')]",
                    "action": "archive",
                    "mode": "automatic",
                    "company_id": False,
                }
            )
            policy_id = policy.id

        def cleanup():
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM crm_lead WHERE id = ANY(%s)", [lead_ids])
                cr.execute("DELETE FROM gdpr_retention_run WHERE policy_id = %s", [policy_id])
                cr.execute(
                    "DELETE FROM mail_message WHERE model = 'gdpr.retention.policy' AND res_id = %s", [policy_id]
                )
                cr.execute("DELETE FROM gdpr_retention_policy WHERE id = %s", [policy_id])

        self.addCleanup(cleanup)
        # audit entries are append-only: the committed runs do not write any here
        no_log = patch.object(type(self.env["gdpr.audit.log"]), "_gdpr_log", lambda *args, **kwargs: None)
        no_log.start()
        self.addCleanup(no_log.stop)
        return lead_ids, policy_id

    def _archived(self, lead_ids):
        with self.registry.cursor() as cr:
            cr.execute("SELECT id FROM crm_lead WHERE id = ANY(%s) AND NOT active", [lead_ids])
            return {row[0] for row in cr.fetchall()}

    def test_killed_run_keeps_committed_batches_and_next_run_finishes(self):
        lead_ids, policy_id = self._committed_setup(25)
        Policy = type(self.Policy)
        original = Policy._gdpr_process_batch
        calls = []

        def dies_on_third_batch(policy, records):
            calls.append(len(records))
            if len(calls) == 3:
                raise RuntimeError("worker killed")
            return original(policy, records)

        with self.registry.cursor() as cr:
            policy = api.Environment(cr, SUPERUSER_ID, {})["gdpr.retention.policy"].browse(policy_id)
            with patch.object(Policy, "_gdpr_process_batch", dies_on_third_batch):
                with self.assertRaisesRegex(RuntimeError, "worker killed"):
                    policy._gdpr_run(batch_size=10, commit=True)
            cr.rollback()
        self.assertEqual(self._archived(lead_ids), set(lead_ids[:20]))
        with self.registry.cursor() as cr:
            run_states = cr.execute(
                "SELECT processed_count, state FROM gdpr_retention_run WHERE policy_id = %s", [policy_id]
            )
            run_states = cr.fetchall()
            self.assertEqual(run_states, [(20, "running")])
            policy = api.Environment(cr, SUPERUSER_ID, {})["gdpr.retention.policy"].browse(policy_id)
            run = policy._gdpr_run(batch_size=10, commit=True)
            self.assertEqual((run.processed_count, run.state), (5, "done"))
        self.assertEqual(self._archived(lead_ids), set(lead_ids))

    def test_two_cursors_claim_disjoint_batches(self):
        lead_ids, policy_id = self._committed_setup(30)
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            policy1 = api.Environment(cr1, SUPERUSER_ID, {})["gdpr.retention.policy"].browse(policy_id)
            policy2 = api.Environment(cr2, SUPERUSER_ID, {})["gdpr.retention.policy"].browse(policy_id)
            model1, model2 = policy1._gdpr_due_model(), policy2._gdpr_due_model()
            first = policy1._gdpr_claim(model1, policy1._gdpr_due_domain(), 0, 20)
            second = policy2._gdpr_claim(model2, policy2._gdpr_due_domain(), 0, 20)
            self.assertEqual(len(first), 20)
            self.assertEqual(len(second), 10)
            self.assertFalse(set(first) & set(second))
            cr1.rollback()
            cr2.rollback()

    def test_two_parallel_runs_never_touch_the_same_record(self):
        lead_ids, policy_id = self._committed_setup(60)
        Policy = type(self.Policy)
        original = Policy._gdpr_process_batch
        seen = {}
        lock = threading.Lock()
        barrier = threading.Barrier(2)

        def recording(policy, records):
            name = threading.current_thread().name
            with lock:
                first = name not in seen
                seen.setdefault(name, []).extend(records.ids)
            if first:
                # both runs hold their first batch (locked, not committed) at once
                try:
                    barrier.wait(timeout=20)
                except threading.BrokenBarrierError:
                    pass
            return original(policy, records)

        errors = []

        def worker(policy):
            try:
                policy._gdpr_run(batch_size=5, commit=True)
            except Exception as error:  # reported below
                errors.append(error)

        # environments are made here: the registry is locked by the test runner
        with (
            self.registry.cursor() as cr1,
            self.registry.cursor() as cr2,
            patch.object(Policy, "_gdpr_process_batch", recording),
        ):
            threads = [
                threading.Thread(
                    target=worker,
                    args=(api.Environment(cr, SUPERUSER_ID, {})["gdpr.retention.policy"].browse(policy_id),),
                    name="run-%s" % i,
                )
                for i, cr in enumerate((cr1, cr2))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertFalse(errors)
        ids_a, ids_b = seen.get("run-0", []), seen.get("run-1", [])
        self.assertTrue(ids_a and ids_b, "both runs processed batches")
        self.assertFalse(set(ids_a) & set(ids_b))
        self.assertEqual(len(ids_a) + len(ids_b), 60)
        self.assertEqual(self._archived(lead_ids), set(lead_ids))
