# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from datetime import date, datetime, timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from ..models.gdpr_request import DOWNLOAD_TOKEN_MARKER
from .common import GdprCase


class GdprRequestCase(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Request = cls.env["gdpr.request"]
        cls.AuditLog = cls.env["gdpr.audit.log"]
        cls.subject = cls.env["res.partner"].create(
            {"name": "Jeanne Sujet", "email": "jeanne.sujet@example.com", "phone": "+33 6 12 34 56 78"}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Jeanne's project",
                "contact_name": "Jeanne Sujet",
                "email_from": "jeanne.sujet@example.com",
                "user_id": cls.user_salesman.id,
            }
        )
        # The named DPO of the company receives the notifications.
        cls.company.gdpr_dpo_partner_id = cls.user_dpo.partner_id

    def _create(self, **vals):
        values = {"request_type": "access", "partner_id": self.subject.id}
        values.update(vals)
        return self.Request.with_user(self.user_dpo).create(values)

    def _logs(self, request, event_type="request"):
        return self.AuditLog.search(
            [("model", "=", "gdpr.request"), ("res_id", "=", request.id), ("event_type", "=", event_type)]
        )

    SUBJECTS = {
        "gdpr_crm.mail_template_gdpr_request_acknowledgement": "we received your privacy request",
        "gdpr_crm.mail_template_gdpr_request_extension": "needs more time",
        "gdpr_crm.mail_template_gdpr_request_response": "answer to your privacy request",
    }

    def _mails_to(self, request, template_xmlid):
        """The emails of this template sent to the requester of ``request``."""
        return self.env["mail.mail"].search(
            [
                ("model", "=", "gdpr.request"),
                ("res_id", "=", request.id),
                ("email_to", "=", request.requester_email),
                ("subject", "ilike", self.SUBJECTS[template_xmlid]),
                ("subject", "ilike", request.name),
            ]
        )


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestDeadline(GdprRequestCase):
    def test_deadline_is_one_calendar_month(self):
        cases = {
            date(2026, 3, 15): date(2026, 4, 15),
            date(2026, 1, 31): date(2026, 2, 28),  # month end, common year
            date(2028, 1, 31): date(2028, 2, 29),  # leap year
            date(2026, 3, 31): date(2026, 4, 30),
            date(2026, 12, 15): date(2027, 1, 15),  # year end
        }
        with freeze_time("2029-01-01"):
            for received, deadline in cases.items():
                with self.subTest(received=received):
                    self.assertEqual(self._create(date_received=received).date_deadline, deadline)

    def test_deadline_follows_date_received(self):
        request = self._create(date_received=date(2026, 5, 10))
        request.date_received = date(2026, 5, 20)
        self.assertEqual(request.date_deadline, date(2026, 6, 20))

    def test_extension_adds_two_months_once(self):
        request = self._create(date_received=date(2026, 1, 31))
        request.action_extend("Many requests at once")
        # 28 February + 2 months
        self.assertEqual(request.date_deadline, date(2026, 4, 28))
        self.assertTrue(request.is_extended)
        self.assertEqual(request.extension_reason, "Many requests at once")
        self.assertEqual(len(self._logs(request).filtered(lambda log: "extended" in log.description)), 1)
        self.assertEqual(len(self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_extension")), 1)
        self.assertIn("Many requests at once", request.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "already extended"):
            request.action_extend("Again")
        self.assertEqual(request.date_deadline, date(2026, 4, 28))

    def test_extension_needs_a_reason(self):
        request = self._create(date_received=date(2026, 3, 1))
        for reason in (None, "", "   "):
            with self.subTest(reason=reason), self.assertRaisesRegex(UserError, "reason"):
                request.action_extend(reason)
        self.assertFalse(request.is_extended)
        self.assertEqual(request.date_deadline, date(2026, 4, 1))
        self.assertFalse(self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_extension"))

    def test_extension_through_wizard(self):
        request = self._create(date_received=date(2026, 3, 1))
        wizard = (
            self.env["gdpr.request.extend"]
            .with_user(self.user_dpo)
            .create({"request_id": request.id, "reason": "Complex request"})
        )
        wizard.action_extend()
        self.assertEqual(request.date_deadline, date(2026, 6, 1))

    def test_days_left(self):
        with freeze_time("2026-03-10"):
            request = self._create(date_received=date(2026, 3, 1))
            self.assertEqual(request.days_left, 22)
        with freeze_time("2026-04-03"):
            request.invalidate_recordset(["days_left"])
            self.assertEqual(request.days_left, -2)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestWorkflow(GdprRequestCase):
    def test_sequence_and_defaults_from_partner(self):
        request = self._create()
        self.assertRegex(request.name, r"^DSR/\d{4}/\d{4}$")
        self.assertEqual(request.requester_email, "jeanne.sujet@example.com")
        self.assertEqual(request.requester_name, "Jeanne Sujet")
        self.assertEqual(request.state, "new")
        self.assertFalse(request.identity_verified)
        self.assertEqual(request.company_id, self.company)
        other = self._create()
        self.assertNotEqual(other.name, request.name)

    def test_acknowledgement_sent_on_creation(self):
        request = self._create()
        mails = self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_acknowledgement")
        self.assertEqual(len(mails), 1)
        self.assertIn(request.name, mails.body_html)
        self.assertEqual(len(self._logs(request)), 1)

    def test_acknowledgement_in_the_requester_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        self.subject.lang = "fr_FR"
        request = self._create()
        self.assertEqual(request.lang, "fr_FR")
        mail = self.env["mail.mail"].search([("model", "=", "gdpr.request"), ("res_id", "=", request.id)])
        self.assertEqual(len(mail), 1)
        self.assertIn("nous avons bien reçu votre demande", mail.subject)
        self.assertIn("Nous vous répondrons au plus tard le", mail.body_html)

    def test_request_without_partner_nor_email_refused(self):
        count = self.Request.search_count([])
        for vals in ({}, {"requester_email": "   "}, {"requester_name": "Someone"}):
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, "needs a data subject"):
                self.Request.with_user(self.user_dpo).create({"request_type": "access", **vals})
        self.assertEqual(self.Request.search_count([]), count)
        request = self._create()
        with self.assertRaisesRegex(ValidationError, "needs a data subject"):
            request.write({"partner_id": False, "requester_email": False})
        self.assertEqual(request.partner_id, self.subject)

    def test_unknown_type_refused(self):
        count = self.Request.search_count([])
        logs = self.AuditLog.search_count([])
        with self.assertRaisesRegex(ValidationError, "'deletion' is not a (type of privacy request|valid Type)"):
            self._create(request_type="deletion")
        with self.assertRaisesRegex(ValidationError, "Choose the type|Type is required"):
            self._create(request_type=False)
        self.assertEqual(self.Request.search_count([]), count)
        self.assertEqual(self.AuditLog.search_count([]), logs)
        request = self._create()
        with self.assertRaisesRegex(ValidationError, "is not a (type|valid Type)"):
            request.write({"request_type": "forget_me"})
        self.assertEqual(request.request_type, "access")

    def test_invalid_email_refused(self):
        count = self.Request.search_count([])
        with self.assertRaisesRegex(ValidationError, "not a valid email"):
            self.Request.with_user(self.user_dpo).create({"request_type": "access", "requester_email": "nobody"})
        self.assertEqual(self.Request.search_count([]), count)

    def test_future_reception_date_refused(self):
        count = self.Request.search_count([])
        with freeze_time("2026-03-10"):
            with self.assertRaisesRegex(ValidationError, "cannot be received in the future"):
                self._create(date_received=date(2026, 3, 11))
            self.assertEqual(self.Request.search_count([]), count)
            request = self._create(date_received=date(2026, 3, 10))
            with self.assertRaisesRegex(ValidationError, "cannot be received in the future"):
                request.date_received = date(2026, 4, 1)
            self.assertEqual(request.date_received, date(2026, 3, 10))

    def test_form_view_as_dpo(self):
        form = Form(self.Request.with_user(self.user_dpo))
        form.request_type = "objection"
        form.channel = "post"
        form.requester_name = "Paper Letter"
        form.requester_email = "paper@example.com"
        request = form.save()
        self.assertEqual(request.state, "new")
        self.assertEqual(request.date_deadline, request.date_received + relativedelta(months=1))
        self.assertEqual(request.requester_email, "paper@example.com")

    def test_subject_data_found_through_every_identifier(self):
        """The contact, its (inactive) child contacts and the requester's address all lead to data."""
        child = self.env["res.partner"].create(
            {
                "name": "Jeanne at work",
                "parent_id": self.subject.id,
                "email": "jeanne@work.example.com",
                "mobile": "+33 7 00 00 00 00",
                "active": False,
            }
        )
        Lead = self.env["crm.lead"]
        by_work_email = Lead.create({"name": "Work", "email_from": "Jeanne@Work.example.com"})
        by_child_mobile = Lead.create({"name": "Call", "phone": "07 00 00 00 00"})
        by_requester = Lead.create({"name": "Other address", "email_from": "jeanne.other@example.com"})
        stranger = Lead.create({"name": "Stranger", "email_from": "someone@example.com", "phone": "+33 7 11 11 11 11"})
        request = self._create(requester_email="Jeanne <Jeanne.Other@Example.com>")
        found = request._gdpr_find_subject_data()
        self.assertTrue({self.subject.id, child.id} <= set(found["res.partner"]))
        self.assertTrue({self.lead.id, by_work_email.id, by_child_mobile.id, by_requester.id} <= set(found["crm.lead"]))
        self.assertNotIn(stranger.id, found["crm.lead"])
        anonymous = self._create(partner_id=False, requester_email="jeanne.other@example.com")
        found = anonymous._gdpr_find_subject_data()
        self.assertEqual(found["crm.lead"], by_requester.ids)
        self.assertNotIn("res.partner", found)

    def test_execute_wizard_preview_counts(self):
        # The engine's finding is replaced by a fixed result: this checks the
        # wizard's presentation of it, not the engine.
        request = self._create()
        request.action_verify()
        lead_2 = self.env["crm.lead"].create({"name": "Second"})
        own = {"relation": "own", "via": ["partner_m2o:partner_id"]}
        found = {
            "res.partner": {self.subject.id: own},
            "crm.lead": {self.lead.id: own, lead_2.id: own},
            "mail.message": {},
        }
        with patch.object(type(self.Request), "_gdpr_subject_provenance", lambda self: found):
            wizard = (
                self.env["gdpr.request.execute"]
                .with_user(self.user_dpo)
                .with_context(default_request_id=request.id)
                .create({})
            )
        self.assertTrue(wizard.is_automatic)
        self.assertEqual(
            {(line.model, line.model_description, line.res_id, line.relation) for line in wizard.line_ids},
            {
                ("res.partner", "Contact", self.subject.id, "own"),
                ("crm.lead", "Lead/Opportunity", self.lead.id, "own"),
                ("crm.lead", "Lead/Opportunity", lead_2.id, "own"),
            },
        )
        self.assertEqual(wizard.total_count, 3)

    def test_request_by_email_only(self):
        request = self._create(partner_id=False, requester_email=" anon@example.com ", channel="web_form")
        self.assertEqual(request.requester_email, "anon@example.com")
        self.assertFalse(request.partner_id)

    def test_full_workflow_is_logged(self):
        request = self._create(request_type="rectification")
        request.action_verify()
        self.assertEqual(request.state, "verified")
        self.assertTrue(request.identity_verified)
        self.assertTrue(request.date_verified)
        request.action_start()
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.user_id, self.user_dpo)
        request.action_done()
        self.assertEqual(request.state, "done")
        self.assertTrue(request.date_done)
        # received, verified, started, done
        self.assertEqual(len(self._logs(request)), 4)

    def test_no_skipping_verification(self):
        request = self._create()
        with self.assertRaisesRegex(UserError, "verify the requester's identity"):
            request.action_start()
        with self.assertRaisesRegex(UserError, "only a request in progress"):
            request.action_done()
        self.assertEqual(request.state, "new")
        request.action_verify()
        with self.assertRaisesRegex(UserError, "only a new request"):
            request.action_verify()
        with self.assertRaisesRegex(UserError, "only a request in progress"):
            request.action_done()

    def test_workflow_fields_only_change_through_the_workflow(self):
        count = self.Request.search_count([])
        with self.assertRaisesRegex(UserError, "change only through its buttons"):
            self._create(state="done")
        self.assertEqual(self.Request.search_count([]), count)
        request = self._create()
        for vals in ({"state": "in_progress"}, {"identity_verified": True}, {"is_extended": True}):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "change only through its buttons"):
                request.write(vals)
        self.assertEqual(request.state, "new")
        self.assertFalse(request.identity_verified)
        self.assertEqual(request.date_deadline, request.date_received + relativedelta(months=1))

    def test_execute_before_verification_refused(self):
        request = self._create()
        logs = self.AuditLog.search_count([])
        with self.assertRaisesRegex(UserError, "before the requester's identity is verified"):
            request.action_execute()
        self.assertEqual(request.state, "new")
        self.assertFalse(request.date_executed)
        self.assertFalse(request.attachment_ids)
        self.assertEqual(self.AuditLog.search_count([]), logs)

    def test_rectification_is_executed_through_its_wizard(self):
        # (erasure, restriction, objection: tests/test_erasure.py, test_restriction.py)
        request = self._create(request_type="rectification")
        request.action_verify()
        with self.assertRaisesRegex(UserError, "record the corrected values with the Rectify button first"):
            request.action_execute()
        self.assertFalse(request.date_executed)
        self.assertEqual(request.state, "verified")

    def test_execute_runs_only_once(self):
        # The export itself is the personal-data engine's (tested with it);
        # here a stand-in export proves the once-only guard of the workflow.
        request = self._create()
        request.action_verify()
        attachment = self.env["ir.attachment"].create(
            {"name": "export.json", "raw": b"{}", "res_model": "gdpr.request", "res_id": request.id}
        )

        def fake_export(self):
            self.attachment_ids = [fields.Command.link(attachment.id)]

        with patch.object(type(self.Request), "_gdpr_execute_access", fake_export):
            request.action_execute()
            self.assertEqual(request.state, "in_progress")
            self.assertTrue(request.date_executed)
            self.assertEqual(request.attachment_ids, attachment)
            with self.assertRaisesRegex(UserError, "already executed"):
                request.action_execute()
        self.assertEqual(len(self._logs(request).filtered(lambda log: "executed" in log.description)), 1)

    def test_concurrent_execution_gets_a_clear_error(self):
        # Another DPO holds the request's row (executing it): ours must fail
        # fast with a clear message, not wait nor run twice. The row is
        # committed by separate cursors, and removed at the end.
        with self.registry.cursor() as cr:
            cr.execute(
                """INSERT INTO gdpr_request (name, request_type, requester_email, channel, state,
                                             identity_verified, date_received, date_deadline, company_id, lang)
                   VALUES ('DSR/TEST/LOCK', 'access', 'lock@example.com', 'email', 'verified',
                           true, '2026-03-01', '2026-04-01', %s, 'en_US') RETURNING id""",
                [self.company.id],
            )
            request_id = cr.fetchone()[0]

        def cleanup():
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM gdpr_request WHERE id = %s", [request_id])

        self.addCleanup(cleanup)
        with self.registry.cursor() as cr_other, self.registry.cursor() as cr_mine:
            cr_other.execute("SELECT id FROM gdpr_request WHERE id = %s FOR UPDATE", [request_id])
            env_mine = api.Environment(cr_mine, SUPERUSER_ID, {})
            request = env_mine["gdpr.request"].browse(request_id)
            with self.assertRaisesRegex(UserError, "being processed by someone else"):
                request.action_execute()
            self.assertFalse(request.date_executed)
            cr_mine.rollback()
            cr_other.rollback()

    def test_reject_needs_a_reason_and_informs_requester(self):
        request = self._create()
        with self.assertRaisesRegex(UserError, "reason for rejecting"):
            request.action_reject("  ")
        self.assertEqual(request.state, "new")
        wizard = (
            self.env["gdpr.request.reject"]
            .with_user(self.user_dpo)
            .create({"request_id": request.id, "reason": "Identity could not be verified"})
        )
        wizard.action_reject()
        self.assertEqual(request.state, "rejected")
        self.assertEqual(request.rejection_reason, "Identity could not be verified")
        mails = self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_response")
        self.assertEqual(len(mails), 1)
        self.assertIn("Identity could not be verified", mails.body_html)
        self.assertIn("CNIL", mails.body_html)
        self.assertTrue(self._logs(request).filtered(lambda log: "rejected" in log.description))
        with self.assertRaisesRegex(UserError, "closed request cannot be rejected"):
            request.action_reject("again")
        with self.assertRaisesRegex(UserError, "cannot be extended"):
            request.action_extend("late")

    def test_only_new_requests_can_be_deleted(self):
        request = self._create()
        request.action_verify()
        with self.assertRaisesRegex(UserError, "Only new requests can be deleted"):
            request.unlink()
        self.assertTrue(request.exists())
        self._create().unlink()

    def test_execute_wizard_for_manual_type(self):
        request = self._create(request_type="rectification")
        request.action_verify()
        wizard = (
            self.env["gdpr.request.execute"]
            .with_user(self.user_dpo)
            .with_context(default_request_id=request.id)
            .create({})
        )
        self.assertFalse(wizard.is_automatic)
        self.assertFalse(wizard.line_ids)
        # the wizard does not pretend to rectify: the DPO does it in its own wizard first
        with self.assertRaisesRegex(UserError, "process it before sending the answer"):
            wizard.action_execute()
        self.assertFalse(request.date_executed)
        self.assertFalse(self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_response"))
        # Once done, the answer is sent through the same wizard.
        request.action_start()
        wizard = (
            self.env["gdpr.request.execute"]
            .with_user(self.user_dpo)
            .create({"request_id": request.id, "response": "<p>Your data was erased.</p>", "send_response": True})
        )
        wizard.action_execute()
        mails = self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_response")
        self.assertEqual(len(mails), 1)
        self.assertIn("Your data was erased.", mails.body_html)
        self.assertFalse(request.sudo().download_token_hash)
        self.assertFalse(request.download_expiry)
        self.assertNotIn("/gdpr/download/", mails._prepare_outgoing_list()[0]["body"])

    def test_response_with_files_sends_a_link_not_the_files(self):
        request = self._create()
        request.action_verify()
        request.action_start()
        attachment = self.env["ir.attachment"].create(
            {"name": "export.json", "raw": b"{}", "res_model": "gdpr.request", "res_id": request.id}
        )
        request.attachment_ids = attachment
        request.action_send_response()
        self.assertGreater(request.download_expiry, fields.Datetime.now() + timedelta(days=29))
        mail = self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_response")
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.attachment_ids)
        # the stored email holds a marker, never a token: nothing usable is in the database
        self.assertIn(f"/gdpr/download/{DOWNLOAD_TOKEN_MARKER}", mail.body_html)
        self.assertFalse(request.sudo().download_token_hash)
        # the token is issued when the email leaves, and only its hash is kept
        body = mail._prepare_outgoing_list()[0]["body"]
        token = re.search(r"/gdpr/download/([A-Za-z0-9_-]+)", body).group(1)
        self.assertNotEqual(token, DOWNLOAD_TOKEN_MARKER)
        self.assertEqual(request.sudo().download_token_hash, request._gdpr_token_hashes("download", token)[0])
        self.assertEqual(self.Request._gdpr_get_by_download_token(token), request)
        self.assertFalse(self.Request._gdpr_get_by_download_token(request.sudo().download_token_hash))
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM mail_message WHERE position(%s in coalesce(body, '')) > 0", [token])
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the clear token is never stored in a message")
        self.env.cr.execute("SELECT count(*) FROM mail_mail WHERE position(%s in coalesce(body_html, '')) > 0", [token])
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the clear token is never stored in an email")
        self.env.cr.execute("SELECT download_token_hash FROM gdpr_request WHERE id = %s", [request.id])
        self.assertNotEqual(self.env.cr.fetchone()[0], token)
        # the hash is readable by system administrators only, not by the DPO
        with self.assertRaises(AccessError):
            request.with_user(self.user_dpo).read(["download_token_hash"])

    def test_response_with_files_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        self.subject.lang = "fr_FR"
        request = self._create()
        request.action_verify()
        request.action_start()
        request.attachment_ids = self.env["ir.attachment"].create(
            {"name": "export.json", "raw": b"{}", "res_model": "gdpr.request", "res_id": request.id}
        )
        request.action_send_response()
        mail = self.env["mail.mail"].search(
            [("model", "=", "gdpr.request"), ("res_id", "=", request.id), ("body_html", "ilike", "/gdpr/download/")]
        )
        self.assertEqual(len(mail), 1)
        body = mail._prepare_outgoing_list()[0]["body"]
        self.assertIn("Télécharger mes données", body)
        token = re.search(r"/gdpr/download/([A-Za-z0-9_-]+)", body).group(1)
        self.assertEqual(self.Request._gdpr_get_by_download_token(token), request)

    def test_download_link_validity_from_settings(self):
        self.env["res.config.settings"].create({"gdpr_download_link_validity_days": 3}).execute()
        request = self._create()
        request._gdpr_new_download_token()
        expected = fields.Datetime.now() + timedelta(days=3)
        self.assertAlmostEqual(request.download_expiry, expected, delta=timedelta(minutes=1))
        for days in (0, 366, 100_000_000):
            with self.assertRaisesRegex(ValidationError, "between 1 and 365 days"):
                self.env["res.config.settings"].create({"gdpr_download_link_validity_days": days})

    def test_cannot_answer_before_processing(self):
        request = self._create()
        with self.assertRaisesRegex(UserError, "process it before sending the answer"):
            request.action_send_response()
        self.assertFalse(self._mails_to(request, "gdpr_crm.mail_template_gdpr_request_response"))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestAccessRights(GdprRequestCase):
    def test_salesperson_has_no_access(self):
        request = self._create()
        Request = self.Request.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            Request.create({"request_type": "access", "partner_id": self.subject.id})
        with self.assertRaises(AccessError):
            Request.search([])
        with self.assertRaises(AccessError):
            request.with_user(self.user_salesman).read(["name"])
        with self.assertRaises(AccessError):
            request.with_user(self.user_salesman).action_verify()
        self.assertEqual(request.state, "new")

    def test_portal_and_employee_have_no_access(self):
        request = self._create()
        for user in (self.user_portal, self.user_employee):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                request.with_user(user).read(["name"])
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["gdpr.request.report"].with_user(user).create({"partner_id": self.subject.id})

    def test_multi_company_rule(self):
        company_2 = self.env["res.company"].create({"name": "GDPR Company 2"})
        request_2 = self.Request.with_company(company_2).create(
            {"request_type": "access", "requester_email": "c2@example.com"}
        )
        self.assertEqual(request_2.company_id, company_2)
        mine = self._create()
        Request = self.Request.with_user(self.user_dpo)
        self.assertIn(mine, Request.search([]))
        self.assertNotIn(request_2, Request.search([]))
        with self.assertRaises(AccessError):
            request_2.with_user(self.user_dpo).read(["name"])

    def test_salesperson_cannot_use_dpo_wizards(self):
        request = self._create()
        for model in ("gdpr.request.execute", "gdpr.request.reject", "gdpr.request.extend"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.user_salesman).create({"request_id": request.id, "reason": "x"})

    def test_salesperson_reports_from_contact(self):
        Wizard = self.env["gdpr.request.report"].with_user(self.user_salesman)
        wizard = Wizard.with_context(active_model="res.partner", active_id=self.subject.id).create(
            {"request_type": "erasure", "channel": "phone", "description": "Wants to be forgotten"}
        )
        self.assertEqual(wizard.partner_id, self.subject)
        action = wizard.action_report()
        self.assertEqual(action["tag"], "display_notification")
        request = self.Request.search([("partner_id", "=", self.subject.id)])
        self.assertEqual(len(request), 1)
        self.assertEqual(request.request_type, "erasure")
        self.assertEqual(request.channel, "phone")
        self.assertEqual(request.requester_email, "jeanne.sujet@example.com")
        self.assertEqual(request.description, "Wants to be forgotten")
        self.assertEqual(request.state, "new")
        # the salesperson still cannot read it
        with self.assertRaises(AccessError):
            request.with_user(self.user_salesman).read(["name"])
        self.assertNotIn(self.user_salesman.partner_id, request.message_partner_ids)
        # a note on the contact, an activity for the named DPO
        note = self.subject.message_ids.filtered(lambda m: request.name in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.user_salesman.partner_id)
        self.assertEqual(request.activity_ids.user_id, self.user_dpo)
        self.assertTrue(self._logs(request))

    def test_salesperson_reports_from_lead(self):
        wizard = (
            self.env["gdpr.request.report"]
            .with_user(self.user_salesman)
            .with_context(active_model="crm.lead", active_id=self.lead.id)
            .create({"request_type": "objection"})
        )
        wizard._onchange_subject()
        self.assertEqual(wizard.requester_email, "jeanne.sujet@example.com")
        wizard.action_report()
        request = self.Request.search([("lead_id", "=", self.lead.id)])
        self.assertEqual(len(request), 1)
        self.assertFalse(request.partner_id)
        self.assertEqual(request.requester_email, "jeanne.sujet@example.com")
        self.assertEqual(request.requester_name, "Jeanne Sujet")
        self.assertTrue(self.lead.message_ids.filtered(lambda m: request.name in (m.body or "")))
        self.assertEqual(self.lead.gdpr_request_count, 1)

    def test_report_wizard_bad_input_writes_nothing(self):
        lead = self.env["crm.lead"].create({"name": "No email", "user_id": self.user_salesman.id})
        count = self.Request.sudo().search_count([])
        wizard = (
            self.env["gdpr.request.report"]
            .with_user(self.user_salesman)
            .with_context(active_model="crm.lead", active_id=lead.id)
            .create({"request_type": "access"})
        )
        with self.assertRaisesRegex(ValidationError, "needs a data subject"):
            wizard.action_report()
        self.assertEqual(self.Request.sudo().search_count([]), count)
        self.assertFalse(lead.message_ids.filtered(lambda m: "Privacy request" in (m.body or "")))

    def test_report_wizard_refuses_records_the_salesperson_cannot_see(self):
        other_user = self.env["res.users"].create({"name": "Other", "login": "gdpr_other_sales"})
        hidden = self.env["crm.lead"].create(
            {"name": "Hidden", "email_from": "h@example.com", "user_id": other_user.id}
        )
        # salespeople see only their own leads
        self.user_salesman.groups_id = [
            fields.Command.unlink(self.env.ref("sales_team.group_sale_salesman_all_leads").id)
        ]
        count = self.Request.search_count([])
        wizard = (
            self.env["gdpr.request.report"]
            .with_user(self.user_salesman)
            .sudo()
            .create({"lead_id": hidden.id, "request_type": "access"})
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.user_salesman).sudo(False).action_report()
        self.assertEqual(self.Request.search_count([]), count)

    def test_stat_button_counts(self):
        child = self.env["res.partner"].create(
            {"name": "Child", "parent_id": self.subject.id, "email": "c@example.com"}
        )
        self._create()
        self._create(partner_id=child.id)
        self._create(partner_id=False, requester_email="someone@example.com")
        subject = self.subject.with_user(self.user_dpo)
        self.assertEqual(subject.gdpr_request_count, 2)
        self.assertEqual(child.with_user(self.user_dpo).gdpr_request_count, 1)
        action = subject.action_view_gdpr_requests()
        self.assertEqual(len(self.Request.search(action["domain"])), 2)
        with self.assertRaises(AccessError):
            self.subject.with_user(self.user_salesman).read(["gdpr_request_count"])
        # a lead counts the requests filed from it and those about its contact
        lead = self.env["crm.lead"].create({"name": "Jeanne's renewal", "partner_id": self.subject.id})
        other_lead = self.env["crm.lead"].create({"name": "Unrelated"})
        self._create(partner_id=False, lead_id=lead.id, requester_email="lead@example.com")
        self._create(partner_id=False, lead_id=other_lead.id, requester_email="other@example.com")
        leads = (lead | other_lead).with_user(self.user_dpo)
        self.assertEqual(leads.mapped("gdpr_request_count"), [2, 1], "1 about its contact, 1 from the lead")
        action = leads[0].action_view_gdpr_requests()
        self.assertEqual(len(self.Request.search(action["domain"])), 2)
        self.assertEqual(action["context"]["default_lead_id"], lead.id)
        self.assertEqual(action["context"]["default_partner_id"], self.subject.id)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestCron(GdprRequestCase):
    def _activities(self, request):
        return self.env["mail.activity"].search([("res_model", "=", "gdpr.request"), ("res_id", "=", request.id)])

    def test_reminder_seven_days_before_deadline_once(self):
        with freeze_time("2026-03-01"):
            assigned = self._create(date_received=date(2026, 3, 1), user_id=self.user_dpo.id)
            unassigned = self._create(date_received=date(2026, 3, 1))
        Cron = self.Request.with_context(tz="UTC")
        with freeze_time("2026-03-24"):  # 8 days left
            Cron._cron_request_deadlines()
        self.assertFalse(self._activities(assigned))
        with freeze_time("2026-03-25"):  # 7 days left
            Cron._cron_request_deadlines()
            Cron._cron_request_deadlines()
        activity = self._activities(assigned)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_dpo)
        self.assertEqual(activity.date_deadline, date(2026, 4, 1))
        # unassigned: the DPO group's (named) user
        self.assertEqual(self._activities(unassigned).user_id, self.user_dpo)
        with freeze_time("2026-03-28"):
            Cron._cron_request_deadlines()
        self.assertEqual(len(self._activities(assigned)), 1)

    def test_unassigned_goes_to_first_dpo_user(self):
        self.company.gdpr_dpo_partner_id = False
        with freeze_time("2026-03-01"):
            request = self._create(date_received=date(2026, 3, 1))
        with freeze_time("2026-03-30"):
            self.Request._cron_request_deadlines()
        # the first active internal user of the DPO group: the administrator
        self.assertEqual(self._activities(request).user_id, self.env.ref("base.user_admin"))

    def test_overdue_escalated_to_dpo_group_once(self):
        second_dpo = self.env["res.users"].create(
            {
                "name": "Second DPO",
                "login": "gdpr_dpo_2",
                "groups_id": [fields.Command.set([self.env.ref("gdpr_crm.group_gdpr_dpo").id])],
            }
        )
        # the named DPO (user_dpo) is not the only one escalated to
        with freeze_time("2026-03-01"):
            request = self._create(date_received=date(2026, 3, 1), user_id=self.user_dpo.id)
            done = self._create(date_received=date(2026, 3, 1))
            done.action_verify()
            done.action_reject("Duplicate")
        with freeze_time("2026-04-02"):
            self.Request._cron_request_deadlines()
            messages = request.message_ids.filtered(lambda m: "overdue" in (m.body or ""))
            self.assertEqual(len(messages), 1)
            overdue_activities = self._activities(request).filtered(lambda a: a.date_deadline == date(2026, 4, 2))
            self.assertIn(self.user_dpo, overdue_activities.user_id)
            self.assertIn(second_dpo, overdue_activities.user_id)
            count = len(self._activities(request))
            self.Request._cron_request_deadlines()
            self.assertEqual(len(self._activities(request)), count)
            self.assertEqual(len(request.message_ids.filtered(lambda m: "overdue" in (m.body or ""))), 1)
        self.assertTrue(request.escalated)
        self.assertFalse(self._activities(done))
        self.assertTrue(self._logs(request).filtered(lambda log: "overdue" in log.description))

    def test_extension_rearms_reminders(self):
        with freeze_time("2026-03-01"):
            request = self._create(date_received=date(2026, 3, 1), user_id=self.user_dpo.id)
        with freeze_time("2026-04-02"):
            self.Request._cron_request_deadlines()
            self.assertTrue(request.escalated)
            request.action_extend("Complex")
            self.assertFalse(request.escalated)
            self.assertFalse(request.reminder_sent)
            self.Request._cron_request_deadlines()
            self.assertFalse(request.escalated)

    def test_cron_record_exists(self):
        cron = self.env.ref("gdpr_crm.ir_cron_request_deadlines")
        self.assertEqual(cron.model_id.model, "gdpr.request")
        self.assertEqual(cron.interval_type, "days")


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestDownload(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.request = cls.env["gdpr.request"].create(
            {"request_type": "portability", "requester_email": "dl@example.com", "requester_name": "Dee Load"}
        )
        cls.attachment = cls.env["ir.attachment"].create(
            {
                "name": "export.json",
                "raw": b'{"res.partner": []}',
                "mimetype": "application/json",
                "res_model": "gdpr.request",
                "res_id": cls.request.id,
            }
        )
        cls.other_attachment = cls.env["ir.attachment"].create(
            {"name": "secret.txt", "raw": b"not yours", "res_model": "res.partner", "res_id": 1}
        )
        cls.request.attachment_ids = cls.attachment
        cls.request.action_verify()
        cls.request.action_start()
        cls.request.action_send_response()
        mail = cls.env["mail.mail"].search(
            [("model", "=", "gdpr.request"), ("res_id", "=", cls.request.id), ("body_html", "ilike", "/gdpr/download/")]
        )
        # the link as the requester receives it
        body = mail._prepare_outgoing_list()[0]["body"]
        cls.token = re.search(r'href="[^"]*/gdpr/download/([A-Za-z0-9_-]+)"', body).group(1)

    def test_download_page_and_file(self):
        response = self.url_open(f"/gdpr/download/{self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("export.json", response.text)
        self.assertIn(self.request.name, response.text)
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        response = self.url_open(f"/gdpr/download/{self.token}/{self.attachment.id}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b'{"res.partner": []}')
        self.assertIn("attachment", response.headers.get("Content-Disposition"))
        logs = self.env["gdpr.audit.log"].search(
            [("model", "=", "gdpr.request"), ("res_id", "=", self.request.id), ("description", "ilike", "downloaded")]
        )
        self.assertEqual(len(logs), 1)

    def test_expiry_shown_in_the_requester_time_zone(self):
        self.request.company_id.partner_id.tz = "Europe/Paris"
        self.request._gdpr_write_transition({"download_expiry": datetime(2026, 12, 24, 10, 30)})
        self.assertEqual(self.request.requester_tz, "Europe/Paris")
        response = self.url_open(f"/gdpr/download/{self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("11:30", response.text, "10:30 UTC is 11:30 in Paris in winter")
        self.assertIn("Europe/Paris", response.text)
        # a contact's own time zone wins over the company's
        self.request._gdpr_write_transition(
            {"partner_id": self.env["res.partner"].create({"name": "Dee Load", "tz": "America/New_York"}).id}
        )
        self.assertEqual(self.request.requester_tz, "America/New_York")

    def test_other_attachment_not_served(self):
        response = self.url_open(f"/gdpr/download/{self.token}/{self.other_attachment.id}")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(b"not yours", response.content)

    def test_wrong_or_expired_token(self):
        stored_hash = self.request.sudo().download_token_hash
        self.assertTrue(stored_hash)
        forged = (
            "x" * 43,
            self.token[:-1] + ("A" if self.token[-1] != "A" else "B"),
            "short",
            stored_hash,  # a copy of the database gives no usable link
            DOWNLOAD_TOKEN_MARKER,
            "y" * 300,
        )
        for token in forged:
            with self.subTest(token=token):
                response = self.url_open(f"/gdpr/download/{token}")
                self.assertEqual(response.status_code, 404)
                self.assertIn("invalid or has expired", response.text)
                response = self.url_open(f"/gdpr/download/{token}/{self.attachment.id}")
                self.assertEqual(response.status_code, 404)
        self.request.download_expiry = fields.Datetime.now() - timedelta(minutes=1)
        response = self.url_open(f"/gdpr/download/{self.token}/{self.attachment.id}")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(b"res.partner", response.content)
        response = self.url_open(f"/gdpr/download/{self.token}")
        self.assertEqual(response.status_code, 404)

    def test_download_page_in_the_requester_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        self.request.lang = "fr_FR"
        response = self.url_open(f"/gdpr/download/{self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Vos données personnelles", response.text)

    def test_download_page_when_the_requester_language_was_deactivated(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.request.lang = "fr_FR"
        self.env["res.lang"]._lang_get("fr_FR").active = False
        response = self.url_open(f"/gdpr/download/{self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your personal data", response.text)
        response = self.url_open(f"/gdpr/download/{self.token}/{self.attachment.id}")
        self.assertEqual(response.status_code, 200)

    def test_new_link_revokes_the_previous_one(self):
        self.assertEqual(self.url_open(f"/gdpr/download/{self.token}").status_code, 200)
        new_token = self.request._gdpr_new_download_token()
        self.assertEqual(self.url_open(f"/gdpr/download/{self.token}").status_code, 404)
        self.assertEqual(self.url_open(f"/gdpr/download/{new_token}").status_code, 200)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRequestTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman = mail_new_test_user(
            cls.env, login="gdpr_tour_sales", name="Tina Sales", groups="sales_team.group_sale_salesman"
        )
        cls.user_dpo = mail_new_test_user(
            cls.env, login="gdpr_tour_dpo", name="Dan DPO", groups="base.group_user,gdpr_crm.group_gdpr_dpo"
        )

    def test_salesperson_reports_from_lead(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Tour lead",
                "contact_name": "Tour Subject",
                "email_from": "tour.subject@example.com",
                "user_id": self.user_salesman.id,
            }
        )
        self.start_tour(f"/odoo/crm.lead/{lead.id}", "gdpr_request_report_from_lead", login="gdpr_tour_sales")
        request = self.env["gdpr.request"].search([("lead_id", "=", lead.id)])
        self.assertEqual(len(request), 1)
        self.assertEqual(request.requester_email, "tour.subject@example.com")
        self.assertEqual(request.description, "Please send me everything you hold about me.")

    def test_dpo_verifies_and_extends(self):
        request = self.env["gdpr.request"].create(
            {
                "request_type": "access",
                "requester_name": "Tour Requester",
                "requester_email": "tour.requester@example.com",
                "date_received": fields.Date.today(),
            }
        )
        self.start_tour("/odoo/action-gdpr_crm.gdpr_request_action", "gdpr_request_dpo_process", login="gdpr_tour_dpo")
        self.assertEqual(request.state, "verified")
        self.assertTrue(request.is_extended)
        self.assertEqual(request.extension_reason, "Your request covers ten years of exchanges.")
