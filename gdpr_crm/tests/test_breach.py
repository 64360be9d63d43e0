# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from .common import GdprCase

DETECTED = datetime(2026, 3, 27, 10, 0)  # a Friday, two days before the switch to summer time in Europe


@tagged("post_install", "-at_install", "gdpr_crm")
class TestBreach(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Breach = cls.env["gdpr.breach"]
        cls.user_dpo.tz = "Europe/Paris"
        cls.dpo_partner = cls.env["res.partner"].create({"name": "Delphine Protection", "email": "dpo@example.com"})
        cls.company.gdpr_dpo_partner_id = cls.dpo_partner

    def _breach(self, **vals):
        values = {"date_detected": DETECTED, "user_id": self.user_dpo.id, "description": "Stolen laptop"}
        values.update(vals)
        return self.Breach.create(values)

    # ------------------------------------------------------------------
    # The 72-hour clock
    # ------------------------------------------------------------------
    @freeze_time("2026-04-01 08:00:00")
    def test_sequence_and_checklist(self):
        breach = self._breach()
        self.assertRegex(breach.name, r"^BREACH/2026/\d{4}$")
        self.assertNotEqual(self._breach().name, breach.name)
        activity_types = breach.activity_ids.activity_type_id
        self.assertEqual(
            activity_types,
            self.env.ref("gdpr_crm.mail_activity_type_breach_contain")
            | self.env.ref("gdpr_crm.mail_activity_type_breach_assess")
            | self.env.ref("gdpr_crm.mail_activity_type_breach_notify")
            | self.env.ref("gdpr_crm.mail_activity_type_breach_document"),
        )
        notify = breach.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("gdpr_crm.mail_activity_type_breach_notify")
        )
        self.assertEqual(notify.date_deadline, fields.Date.to_date("2026-03-30"))
        self.assertEqual(notify.user_id, self.user_dpo)

    @freeze_time("2026-04-01 08:00:00")
    def test_deadline_is_72_hours_in_utc(self):
        breach = self._breach()
        # stored in UTC: exactly 72 real hours, across the daylight saving time change
        self.assertEqual(breach.authority_deadline, datetime(2026, 3, 30, 10, 0))
        self.env.flush_all()
        self.env.cr.execute("SELECT date_detected, authority_deadline FROM gdpr_breach WHERE id = %s", [breach.id])
        self.assertEqual(self.env.cr.fetchone(), (DETECTED, datetime(2026, 3, 30, 10, 0)))
        # shown in the user's time zone: 11:00 CET detected, 12:00 CEST deadline
        as_dpo = breach.with_user(self.user_dpo)
        detected_local = fields.Datetime.context_timestamp(as_dpo, as_dpo.date_detected)
        deadline_local = fields.Datetime.context_timestamp(as_dpo, as_dpo.authority_deadline)
        self.assertEqual((detected_local.hour, detected_local.utcoffset()), (11, timedelta(hours=1)))
        self.assertEqual((deadline_local.day, deadline_local.hour), (30, 12))
        self.assertEqual(deadline_local.utcoffset(), timedelta(hours=2))
        self.assertIn("Europe/Paris", breach._gdpr_format_datetime(breach.authority_deadline))
        self.assertIn("12:00:00", breach._gdpr_format_datetime(breach.authority_deadline))
        # the deadline follows the detection date
        breach.date_detected = DETECTED - timedelta(hours=5)
        self.assertEqual(breach.authority_deadline, datetime(2026, 3, 30, 5, 0))
        self.assertEqual(self.Breach.search([("authority_deadline", "<", DETECTED + timedelta(days=3))]), breach)

    def test_countdown(self):
        with freeze_time(DETECTED + timedelta(hours=2)):
            breach = self._breach()
        cases = [
            (timedelta(hours=30), "running", "42 h 00 min left"),
            (timedelta(hours=50, minutes=15), "soon", "21 h 45 min left"),
            (timedelta(hours=73, minutes=30), "late", "Late by 1 h 30 min"),
        ]
        for elapsed, status, text in cases:
            with self.subTest(elapsed=elapsed), freeze_time(DETECTED + elapsed):
                breach.invalidate_recordset(["deadline_status", "deadline_countdown"])
                self.assertEqual((breach.deadline_status, breach.deadline_countdown), (status, text))
        with freeze_time(DETECTED + timedelta(hours=10)):
            breach.write({"risk_level": "risk", "authority_notified_at": DETECTED + timedelta(hours=9)})
            self.assertEqual(breach.deadline_status, "notified")
            none = self._breach(risk_level="none")
            self.assertEqual(none.deadline_status, "not_required")

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    @freeze_time("2026-04-01 08:00:00")
    def test_detected_in_future_refused(self):
        count = self.Breach.search_count([])
        with self.assertRefused(ValidationError, "The breach being recorded cannot be detected in the future"):
            self._breach(date_detected=datetime(2026, 4, 2, 8, 0))
        self.assertEqual(self.Breach.search_count([]), count, "nothing was written")
        breach = self._breach()
        with self.assertRefused(ValidationError, "cannot be detected in the future"):
            breach.date_detected = datetime(2026, 4, 1, 9, 0)
        self.assertEqual(breach.date_detected, DETECTED)

    @freeze_time("2026-04-01 08:00:00")
    def test_occurred_after_detected_refused(self):
        count = self.Breach.search_count([])
        with self.assertRefused(ValidationError, "cannot have occurred after it was detected"):
            self._breach(date_occurred=DETECTED + timedelta(hours=1))
        self.assertEqual(self.Breach.search_count([]), count, "nothing was written")
        breach = self._breach(date_occurred=DETECTED - timedelta(days=2))
        self.assertEqual(breach.date_occurred, DETECTED - timedelta(days=2))

    @freeze_time("2026-04-01 08:00:00")
    def test_negative_counts_refused(self):
        count = self.Breach.search_count([])
        for field_name in ("subject_count", "record_count"):
            with self.subTest(field=field_name), self.assertRefused(ValidationError, "cannot be negative"):
                self._breach(**{field_name: -3})
        self.assertEqual(self.Breach.search_count([]), count, "nothing was written")
        breach = self._breach(subject_count=120, record_count=400)
        with self.assertRefused(ValidationError, "cannot be negative"):
            breach.subject_count = -1
        self.assertEqual(breach.subject_count, 120)

    @freeze_time("2026-04-01 08:00:00")
    def test_notification_dates_checked(self):
        with self.assertRefused(ValidationError, "before its detection"):
            self._breach(risk_level="risk", authority_notified_at=DETECTED - timedelta(hours=1))
        with self.assertRefused(ValidationError, "cannot be in the future"):
            self._breach(risk_level="high", subjects_notified_at=datetime(2026, 4, 3, 8, 0))

    # ------------------------------------------------------------------
    # Constraints of articles 33 and 34
    # ------------------------------------------------------------------
    @freeze_time("2026-04-01 08:00:00")
    def test_late_reason_required_when_late(self):
        on_time = self._breach(risk_level="risk", authority_notified_at=DETECTED + timedelta(hours=71))
        self.assertFalse(on_time.late_reason)
        late_at = DETECTED + timedelta(hours=72, minutes=1)
        with self.assertRefused(ValidationError, "more than 72 hours.*Reason for the Delay"):
            self._breach(risk_level="risk", authority_notified_at=late_at)
        breach = self._breach(risk_level="risk")
        with self.assertRefused(ValidationError, "more than 72 hours"):
            breach.write({"authority_notified_at": late_at, "late_reason": "   "})
        self.assertFalse(breach.authority_notified_at, "nothing was written")
        breach.write({"authority_notified_at": late_at, "late_reason": "Detected on a bank holiday weekend."})
        self.assertEqual(breach.deadline_status, "notified_late")
        with self.assertRefused(ValidationError, "more than 72 hours"):
            breach.late_reason = False

    @freeze_time("2026-04-01 08:00:00")
    def test_late_notification_from_button(self):
        breach = self._breach(risk_level="risk")
        breach.action_assess()
        with self.assertRefused(ValidationError, "more than 72 hours"):
            breach.action_notify_authority()
        self.assertEqual(breach.state, "assessed")
        breach.late_reason = "The forensic analysis took a week."
        breach.action_notify_authority()
        self.assertEqual(breach.state, "notified")
        self.assertEqual(breach.authority_notified_at, datetime(2026, 4, 1, 8, 0))

    @freeze_time("2026-03-28 08:00:00")
    def test_high_risk_authority_notified_before_subjects(self):
        """Articles 33 and 34 are independent: the authority is notified
        within 72 hours even when the people are not informed yet; only
        closing a high-risk breach waits for them."""
        breach = self._breach(risk_level="high")
        with self.assertRefused(UserError, "Set the risk level"):
            self._breach().action_assess()
        breach.action_assess()
        breach.action_notify_authority()
        self.assertEqual(breach.state, "notified")
        self.assertEqual(breach.authority_notified_at, datetime(2026, 3, 28, 8, 0))
        self.assertFalse(breach.subjects_notified_at)
        with self.assertRefused(ValidationError, "inform the data subjects .* before closing it"):
            breach.action_close()
        self.assertEqual(breach.state, "notified", "nothing was written")
        breach.subjects_notified_at = datetime(2026, 3, 28, 7, 30)
        breach.action_close()
        self.assertEqual(breach.state, "closed")
        with self.assertRefused(ValidationError, "high risk"):
            breach.subjects_notified_at = False

    @freeze_time("2026-03-28 08:00:00")
    def test_checklist_closed_by_the_workflow(self):
        checklist = {
            step: self.env.ref(f"gdpr_crm.mail_activity_type_breach_{step}")
            for step in ("contain", "assess", "notify", "document")
        }

        def open_steps(breach):
            return {
                step
                for step, activity_type in checklist.items()
                if activity_type in breach.activity_ids.activity_type_id
            }

        breach = self._breach(risk_level="risk")
        self.assertEqual(open_steps(breach), set(checklist))
        breach.action_assess()
        self.assertEqual(open_steps(breach), {"contain", "notify", "document"})
        breach.action_notify_authority()
        self.assertEqual(open_steps(breach), {"contain", "document"})
        done = self.env["mail.message"].search(
            [
                ("model", "=", "gdpr.breach"),
                ("res_id", "=", breach.id),
                ("mail_activity_type_id", "=", checklist["notify"].id),
            ]
        )
        self.assertEqual(len(done), 1, "the notification step is marked done, not deleted")
        breach.action_close()
        self.assertFalse(open_steps(breach))
        # a breach that needs no notification closes its whole checklist too
        harmless = self._breach(risk_level="none")
        harmless.action_assess()
        harmless.action_close()
        self.assertFalse(open_steps(harmless))

    @freeze_time("2026-03-28 08:00:00")
    def test_subject_count_follows_affected_contacts(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Person {i}", "email": f"p{i}@example.com"} for i in range(3)]
        )
        breach = self._breach(partner_ids=[(6, 0, partners[:2].ids)])
        self.assertEqual(breach.subject_count, 2)
        breach.partner_ids = [(4, partners[2].id)]
        self.assertEqual(breach.subject_count, 3)
        # a larger estimate is kept; a smaller one is raised to the contacts attached
        breach.subject_count = 500
        self.assertEqual(breach.subject_count, 500)
        breach.subject_count = 1
        self.assertEqual(breach.subject_count, 3)
        # the form follows the contacts as they are added
        with Form(self._breach()) as form:
            form.partner_ids.add(partners[0])
            form.partner_ids.add(partners[1])
            self.assertEqual(form.subject_count, 2)

    @freeze_time("2026-03-28 08:00:00")
    def test_close_rules_and_documentation(self):
        risky = self._breach(risk_level="risk")
        with self.assertRefused(UserError, "Assess the breach"):
            risky.action_close()
        risky.action_assess()
        with self.assertRefused(ValidationError, "notify the authority before closing"):
            risky.action_close()
        self.assertEqual(risky.state, "assessed")
        # a breach unlikely to result in a risk is closed without notification...
        harmless = self._breach(risk_level="none", risk_assessment="The lost file was encrypted.")
        with self.assertRefused(UserError, "needs no notification"):
            harmless.action_notify_authority()
        harmless.action_assess()
        harmless.action_close()
        self.assertEqual(harmless.state, "closed")
        # ... but stays documented (art. 33(5))
        with self.assertRefused(UserError, "cannot be deleted"):
            harmless.unlink()
        self.assertTrue(harmless.exists())
        harmless.action_reopen()
        self.assertEqual(harmless.state, "assessed")

    @freeze_time("2026-03-28 08:00:00")
    def test_state_changes_are_logged(self):
        breach = self._breach(risk_level="risk")
        breach.action_assess()
        breach.action_notify_authority()
        logs = self.env["gdpr.audit.log"].search(
            [("event_type", "=", "breach"), ("model", "=", "gdpr.breach"), ("res_id", "=", breach.id)]
        )
        descriptions = logs.mapped("description")
        self.assertEqual(len(logs), 3)
        self.assertIn("Breach %s: state changed from assessed to notified" % breach.name, descriptions)
        self.assertIn("Breach %s recorded" % breach.name, descriptions)

    # ------------------------------------------------------------------
    # Hourly alerts
    # ------------------------------------------------------------------
    def _alerts(self, breach):
        return breach.message_ids.filtered(lambda m: self.user_dpo.partner_id in m.partner_ids)

    def test_cron_alerts(self):
        with freeze_time(DETECTED + timedelta(minutes=30)):
            breach = self._breach()
            done = self._breach(risk_level="none")
            notified = self._breach(risk_level="risk", authority_notified_at=DETECTED + timedelta(minutes=20))
        expected = [
            # (hours after detection, alerts so far, flags)
            (47, 0, (False, False, False)),
            (48.5, 1, (True, False, False)),  # 23 h 30 left: the 24-hour alert
            (60, 1, (True, False, False)),  # nothing new
            (66.5, 2, (True, True, False)),  # 5 h 30 left: the 6-hour alert
            (71.9, 2, (True, True, False)),
            (72.5, 3, (True, True, True)),  # passed
            (90, 3, (True, True, True)),  # never twice
        ]
        for hours, count, flags in expected:
            with self.subTest(hours=hours), freeze_time(DETECTED + timedelta(hours=hours)):
                self.Breach._cron_breach_deadlines()
                self.Breach._cron_breach_deadlines()
                self.assertEqual(len(self._alerts(breach)), count)
                self.assertEqual((breach.alert_24h_sent, breach.alert_6h_sent, breach.alert_deadline_sent), flags)
        alerts = self._alerts(breach).sorted("id")
        self.assertIn("23 hours left", alerts[0].subject)
        self.assertIn("5 hours left", alerts[1].subject)
        self.assertIn("has passed", alerts[2].subject)
        self.assertIn(self.env.ref("base.user_admin").partner_id, alerts[0].partner_ids, "the whole DPO group")
        self.assertNotIn(self.user_salesman.partner_id, alerts[0].partner_ids)
        todo = breach.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertEqual(len(todo), 3)
        self.assertEqual(todo.user_id, self.user_dpo)
        # neither a notified breach nor one needing no notification is alerted
        self.assertFalse(self._alerts(done) | self._alerts(notified))
        self.assertFalse(done.alert_deadline_sent or notified.alert_deadline_sent)

    def test_cron_late_entry_sends_only_the_most_urgent_alert(self):
        with freeze_time(DETECTED + timedelta(hours=70)):
            breach = self._breach(risk_level="high")
            self.Breach._cron_breach_deadlines()
        alerts = self._alerts(breach)
        self.assertEqual(len(alerts), 1)
        self.assertIn("2 hours left", alerts.subject)
        self.assertTrue(breach.alert_24h_sent and breach.alert_6h_sent)
        self.assertFalse(breach.alert_deadline_sent)

    def test_domains_for_the_dashboard(self):
        with freeze_time(DETECTED):
            running = self._breach()
            harmless = self._breach(risk_level="none")
            notified = self._breach(risk_level="risk", authority_notified_at=DETECTED)
        with freeze_time(DETECTED + timedelta(hours=10)):
            awaiting = self.Breach.search(self.Breach._gdpr_domain_awaiting_notification())
            self.assertIn(running, awaiting)
            self.assertNotIn(harmless, awaiting)
            self.assertNotIn(notified, awaiting)
            self.assertNotIn(running, self.Breach.search(self.Breach._gdpr_domain_late()))
        with freeze_time(DETECTED + timedelta(hours=73)):
            self.assertIn(running, self.Breach.search(self.Breach._gdpr_domain_late()))

    def test_cron_is_registered_hourly(self):
        cron = self.env.ref("gdpr_crm.ir_cron_breach_deadlines")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "hours"))
        self.assertEqual(cron.model_id.model, "gdpr.breach")

    # ------------------------------------------------------------------
    # Templates
    # ------------------------------------------------------------------
    @freeze_time("2026-04-01 08:00:00")
    def test_authority_template(self):
        breach = self._breach(
            risk_level="risk",
            subject_count=1200,
            record_count=3400,
            consequences="Phishing",
            measures="Passwords reset",
            data_category_ids=[(4, self.env.ref("gdpr_crm.data_category_health").id)],
            authority_notified_at=datetime(2026, 3, 31, 9, 0),
            late_reason="Forensics took long",
        )
        template = self.env.ref("gdpr_crm.mail_template_gdpr_breach_authority")
        body = template._render_field("body_html", breach.ids)[breach.id]
        for expected in (
            breach.name,
            "1200",
            "3400",
            "Phishing",
            "Passwords reset",
            "Health data",
            "special categories",
            "Delphine Protection",
            "Confidentiality",
            "Forensics took long",
            "Europe/Paris",
        ):
            self.assertIn(expected, body)
        action = breach.action_prepare_authority_notification()
        self.assertEqual(action["res_model"], "mail.compose.message")
        self.assertEqual(action["name"], "Notify the Authority", "the dialog has a title")
        self.assertEqual(action["context"]["default_template_id"], template.id)
        composer = (
            self.env["mail.compose.message"]
            .with_context(action["context"])
            .create({"partner_ids": [(4, self.dpo_partner.id)]})
        )
        self.assertIn("1200", composer.body)
        composer.action_send_mail()
        self.assertIn("1200", breach.message_ids[0].body)

    def _notice(self, breach):
        action = breach.action_notify_subjects()
        self.assertEqual(action["res_model"], "gdpr.breach.notice")
        self.assertTrue(action["name"])
        return Form(breach.env["gdpr.breach.notice"].with_context(action["context"]))

    @freeze_time("2026-04-01 08:00:00")
    def test_notify_subjects_by_email(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        alice = self.env["res.partner"].create({"name": "Alice", "email": "alice@example.com", "lang": "en_US"})
        benoit = self.env["res.partner"].create({"name": "Benoît", "email": "benoit@example.fr", "lang": "fr_FR"})
        nomail = self.env["res.partner"].create({"name": "No Mail"})
        breach = self._breach(
            risk_level="high",
            description="Internal: the intern's laptop with the root password was stolen from his car",
            consequences="You may receive phishing emails.",
            measures="Every password was reset.",
            partner_ids=[(6, 0, (alice | benoit | nomail).ids)],
        )
        with self.assertRefused(UserError, "has an email address"):
            self._breach(partner_ids=[(4, nomail.id)]).action_notify_subjects()
        with self._notice(breach) as notice:
            self.assertEqual(notice.lang, "en_US")
            self.assertEqual(set(notice.partner_ids.ids), {alice.id, benoit.id}, "only contacts with an email")
            self.assertEqual(notice.consequences, "You may receive phishing emails.")
            self.assertIn("Delphine Protection", notice.contact)
            self.assertIn("disclosed", notice.nature)
            # edited and previewed before sending: the preview follows the edits
            notice.measures = "Every password was reset and the laptop was remotely wiped."
            self.assertIn("remotely wiped", notice.body_preview)
            self.assertIn("security incident", notice.subject_preview)
            self.assertNotIn("intern", notice.body_preview, "the internal description is never copied")
        wizard = notice.save()
        wizard.action_send()
        mails = self.env["mail.mail"].search([("model", "=", "gdpr.breach"), ("res_id", "=", breach.id)])
        self.assertEqual(len(mails), 2, "one email per affected contact with an address")
        by_partner = {mail.recipient_ids: mail for mail in mails}
        self.assertEqual(set(by_partner), {alice, benoit})
        for mail in mails:
            self.assertIn("security incident", mail.subject)
            self.assertIn("Delphine Protection", mail.body_html)
            self.assertIn("remotely wiped", mail.body_html)
            self.assertNotIn("intern", mail.body_html)
        self.assertEqual(breach.subjects_notified_at, datetime(2026, 4, 1, 8, 0))
        self.assertEqual(breach.notice_measures, "Every password was reset and the laptop was remotely wiped.")
        self.assertIn("1 contacts were not emailed", breach.message_ids[0].body)
        # the notice in French: sections drafted and labels rendered in French
        with self._notice(breach) as notice:
            notice.lang = "fr_FR"
            notice.partner_ids.clear()
            notice.partner_ids.add(benoit)
            self.assertNotIn("disclosed", notice.nature)
        notice.save().action_send()
        french = self.env["mail.mail"].search(
            [("model", "=", "gdpr.breach"), ("res_id", "=", breach.id), ("id", "not in", mails.ids)]
        )
        self.assertEqual(french.recipient_ids, benoit)
        self.assertNotEqual(french.subject, mails[0].subject, "Benoît reads French")

    @freeze_time("2026-04-01 08:00:00")
    def test_notice_with_empty_mandatory_section_refused(self):
        alice = self.env["res.partner"].create({"name": "Alice", "email": "alice@example.com"})
        # nothing assessed yet: no consequences, no measures (the DPO at work)
        breach = self._breach(risk_level="high", partner_ids=[(4, alice.id)]).with_user(self.user_dpo)
        wizard = self._notice(breach).save()
        self.assertFalse(wizard.consequences)
        with self.assertRefused(UserError, "empty section: Likely Consequences, Measures Taken.*art. 34"):
            wizard.action_send()
        wizard.write({"consequences": "Phishing", "measures": "Passwords reset", "contact": "  "})
        with self.assertRefused(UserError, "empty section: Contact Point"):
            wizard.action_send()
        wizard.write({"contact": "dpo@example.com", "nature": ""})
        with self.assertRefused(UserError, "empty section: What Happened"):
            wizard.action_send()
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "gdpr.breach"), ("res_id", "=", breach.id)]))
        self.assertFalse(breach.subjects_notified_at, "nothing was sent nor recorded")
        # an outsider cannot be slipped in
        wizard.write({"nature": "Your data leaked.", "partner_ids": [(4, self.dpo_partner.id)]})
        with self.assertRefused(UserError, "not affected contacts"):
            wizard.action_send()
        wizard.write({"partner_ids": [(3, self.dpo_partner.id)]})
        wizard.action_send()
        self.assertTrue(breach.subjects_notified_at)
        self.assertEqual(breach.notice_contact, "dpo@example.com")

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    @freeze_time("2026-04-01 08:00:00")
    def test_access(self):
        breach = self._breach()
        for user in (self.user_salesman, self.user_portal, self.user_employee):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    breach.with_user(user).read(["name"])
                with self.assertRaises(AccessError):
                    self.Breach.with_user(user).create({"description": "x"})
        as_dpo = self.Breach.with_user(self.user_dpo).create({"description": "Email sent to the wrong list"})
        as_dpo.write({"risk_level": "none"})
        with self.assertRaises(UserError):
            as_dpo.unlink()
        company_2 = self.env["res.company"].create({"name": "GDPR Company 2"})
        other = self._breach(company_id=company_2.id)
        self.assertFalse(self.Breach.with_user(self.user_dpo).search([("id", "=", other.id)]))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestBreachViews(HttpCase):
    """The register's views render in the web client without a JavaScript
    error (the browser console fails the test), countdown included."""

    WAIT_FOR = """
        const wanted = %s;
        const check = () => {
            const found = document.querySelector(wanted);
            if (found && found.textContent.includes(%s)) {
                console.log("test successful");
            } else {
                setTimeout(check, 100);
            }
        };
        check();
    """

    def _assert_renders(self, url, selector, text):
        self.browser_js(url, self.WAIT_FOR % (json.dumps(selector), json.dumps(text)), login="admin", timeout=90)

    def test_views_render(self):
        breach = self.env["gdpr.breach"].create(
            {"date_detected": fields.Datetime.now() - timedelta(hours=2), "description": "Stolen laptop"}
        )
        self._assert_renders("/odoo/action-gdpr_crm.gdpr_breach_action?view_type=kanban", ".o_kanban_record", "69 h")
        self._assert_renders("/odoo/action-gdpr_crm.gdpr_breach_action/%d" % breach.id, ".o_form_view", breach.name)
        activity = self.env.ref("gdpr_crm.processing_activity_newsletter")
        self._assert_renders(
            "/odoo/action-gdpr_crm.gdpr_processing_activity_action/%d" % activity.id, ".o_form_view", "Newsletter"
        )
        self._assert_renders("/odoo/action-gdpr_crm.gdpr_processing_activity_action", ".o_list_view", "Prospecting")
