# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from unittest.mock import patch

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from .common import GdprCase

PROOF = {
    "source": "paper",
    "proof": "I agree to receive the newsletter. I can unsubscribe at any time.",
    "proof_version": "Paper form v3",
}


class ConsentCase(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Consent = cls.env["gdpr.consent"]
        cls.Event = cls.env["gdpr.consent.event"]
        cls.newsletter = cls.env.ref("gdpr_crm.purpose_newsletter")
        cls.marketing_email = cls.env.ref("gdpr_crm.purpose_marketing_email")
        cls.contract = cls.env.ref("gdpr_crm.purpose_customer_relationship")
        cls.partner = cls.env["res.partner"].create({"name": "Jeanne Martin", "email": "jeanne.martin@example.com"})

    def _consent(self, partner=None, purpose=None, **vals):
        return self.Consent.create(
            {"partner_id": (partner or self.partner).id, "purpose_id": (purpose or self.newsletter).id, **vals}
        )

    def _count(self, model, domain=None):
        return self.env[model].sudo().search_count(domain or [])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsent(ConsentCase):
    def test_new_consent_is_pending_with_history(self):
        consent = self._consent()
        self.assertEqual(consent.state, "pending")
        self.assertFalse(consent.date_given)
        self.assertEqual(consent.event_ids.mapped("action"), ["create"])
        self.assertEqual(consent.event_ids.state, "pending")
        self.assertTrue(consent.event_ids.signature)
        self.assertFalse(self.Event._gdpr_verify_signatures(consent.ids))

    def test_every_transition(self):
        consent = self._consent()
        consent.action_give(**PROOF)
        self.assertEqual(consent.state, "given")
        self.assertEqual(consent.source, "paper")
        self.assertEqual(consent.proof, PROOF["proof"])
        self.assertEqual(consent.proof_version, "Paper form v3")
        self.assertEqual(consent.collected_by_id, self.env.user)
        self.assertTrue(consent.date_given)
        self.assertEqual(consent.expiry_date, (consent.date_given + relativedelta(months=36)).date())
        consent.action_withdraw(source="phone")
        self.assertEqual(consent.state, "withdrawn")
        self.assertTrue(consent.date_withdrawn)
        with self.assertRaisesRegex(UserError, "withdrawn, not refused"):
            consent.action_refuse(source="phone")
        with self.assertRaisesRegex(UserError, "only a given consent can be withdrawn"):
            consent.action_withdraw()
        consent.action_give(**PROOF)
        self.assertEqual(consent.state, "given")
        with self.assertRaisesRegex(UserError, "withdrawn, not refused"):
            consent.action_refuse()
        # pending -> refused -> given; refused cannot be withdrawn
        other = self._consent(purpose=self.marketing_email)
        other.action_refuse(source="phone")
        self.assertEqual(other.state, "refused")
        self.assertTrue(other.date_refused)
        with self.assertRaisesRegex(UserError, "only a given consent can be withdrawn"):
            other.action_withdraw()
        other.action_give(**PROOF)
        self.assertEqual(other.state, "given")
        # history: every change, in order, with its proof
        events = consent.event_ids.sorted("id")
        self.assertEqual(events.mapped("action"), ["create", "give", "withdraw", "give"])
        self.assertEqual(events.mapped("state"), ["pending", "given", "withdrawn", "given"])
        self.assertEqual(events.mapped("previous_state"), [False, "pending", "given", "withdrawn"])
        self.assertEqual(events[1].proof, PROOF["proof"])
        self.assertEqual(events[1].user_id, self.env.user)
        self.assertEqual(events[2].source, "phone")
        self.assertFalse(self.Event._gdpr_verify_signatures((consent | other).ids))
        # and the audit log
        logs = self.env["gdpr.audit.log"].search(
            [("event_type", "=", "consent"), ("model", "=", "gdpr.consent"), ("res_id", "=", consent.id)]
        )
        self.assertEqual(len(logs), 4)
        self.assertNotIn("jeanne", " ".join(logs.mapped("description")).lower())

    def test_expired_can_be_refused_or_given_again(self):
        consent = self._consent()
        consent.action_give(**PROOF, date=fields.Datetime.now() - relativedelta(years=4))
        consent._cron_expire_consents()
        self.assertEqual(consent.state, "expired")
        consent.action_refuse(source="phone")
        self.assertEqual(consent.state, "refused")

    def test_create_with_answer(self):
        consent = self._consent(state="given", **PROOF)
        self.assertEqual(consent.state, "given")
        self.assertEqual(consent.event_ids.sorted("id").mapped("action"), ["create", "give"])
        with self.assertRaisesRegex(ValidationError, "can only be pending, given or refused"):
            self._consent(purpose=self.marketing_email, state="withdrawn")

    def test_give_without_source_or_proof_writes_nothing(self):
        consent = self._consent()
        events = self._count("gdpr.consent.event")
        cases = [
            ({**PROOF, "source": None}, "how the consent was collected"),
            ({**PROOF, "source": "carrier_pigeon"}, "not a known consent source"),
            ({**PROOF, "proof": "  "}, "needs its proof"),
            ({**PROOF, "proof_version": ""}, "version of that wording"),
            ({**PROOF, "date": fields.Datetime.now() + timedelta(days=2)}, "in the future"),
        ]
        for kwargs, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(ValidationError, message):
                consent.action_give(**kwargs)
        self.assertEqual(consent.state, "pending")
        self.assertEqual(self._count("gdpr.consent.event"), events)
        # creating a given consent without proof creates nothing at all
        consents = self._count("gdpr.consent")
        with self.assertRaisesRegex(ValidationError, "needs its proof"):
            self._consent(purpose=self.marketing_email, state="given", source="phone")
        self.assertEqual(self._count("gdpr.consent"), consents)

    def test_purpose_not_based_on_consent_refused(self):
        consents = self._count("gdpr.consent")
        with self.assertRaisesRegex(ValidationError, "not on consent"):
            self._consent(purpose=self.contract)
        self.assertEqual(self._count("gdpr.consent"), consents)
        # a purpose whose basis changed afterwards cannot be given either
        purpose = self.env["gdpr.purpose"].create({"name": "Events", "code": "events"})
        consent = self._consent(purpose=purpose)
        purpose.legal_basis = "legitimate_interest"
        with self.assertRaisesRegex(ValidationError, "not on consent"):
            consent.action_give(**PROOF)
        self.assertEqual(consent.state, "pending")

    def test_invalid_email_refused(self):
        consents = self._count("gdpr.consent")
        for email in ("not-an-email", "jeanne@", "@example.com"):
            with self.subTest(email=email), self.assertRaisesRegex(ValidationError, "not a valid email"):
                self.Consent.create({"email": email, "purpose_id": self.newsletter.id})
        with self.assertRaisesRegex(ValidationError, "needs a data subject"):
            self.Consent.create({"purpose_id": self.newsletter.id})
        self.assertEqual(self._count("gdpr.consent"), consents)
        consent = self.Consent.create({"email": " Jeanne.Dupont@Example.COM ", "purpose_id": self.newsletter.id})
        self.assertEqual(consent.email, "jeanne.dupont@example.com")

    def test_one_consent_per_subject_and_purpose(self):
        self._consent()
        with self.assertRaisesRegex(ValidationError, "already has a consent"):
            self._consent()
        self.Consent.create({"email": "lead@example.com", "purpose_id": self.newsletter.id})
        with self.assertRaisesRegex(ValidationError, "already has a consent"):
            self.Consent.create({"email": "LEAD@example.com", "purpose_id": self.newsletter.id})
        with self.assertRaisesRegex(ValidationError, "appear twice"):
            self.Consent.create([{"email": "twice@example.com", "purpose_id": self.newsletter.id}] * 2)
        self.assertFalse(self.Consent.search([("email", "=", "twice@example.com")]))
        # another purpose, or another subject, is fine
        self._consent(purpose=self.marketing_email)
        self.Consent.create({"email": "other@example.com", "purpose_id": self.newsletter.id})
        # the database enforces it too
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError), self.cr.savepoint():
            self.cr.execute(
                "INSERT INTO gdpr_consent (partner_id, purpose_id, state, company_id, active)"
                " VALUES (%s, %s, 'pending', %s, true)",
                [self.partner.id, self.newsletter.id, self.company.id],
            )

    def test_contact_with_consents_cannot_be_deleted(self):
        self._consent()
        with self.assertRaisesRegex(UserError, "cannot be deleted: archive it"):
            self.partner.unlink()
        self.assertTrue(self.partner.exists())
        self.partner.gdpr_consent_ids._gdpr_purge()
        self.partner.unlink()
        self.assertFalse(self.partner.exists())

    def test_protected_fields_and_no_delete(self):
        consent = self._consent()
        for vals in ({"state": "given"}, {"proof": "forged"}, {"partner_id": self.user_portal.partner_id.id}):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "only change through"):
                consent.write(vals)
        self.assertEqual(consent.state, "pending")
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            consent.unlink()
        self.assertTrue(consent.exists())


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentHistory(ConsentCase):
    def test_events_cannot_be_changed_even_by_admin(self):
        consent = self._consent()
        consent.action_give(**PROOF)
        event = consent.event_ids.filtered(lambda e: e.action == "give")
        for env in (self.env, self.env(su=True)):
            with self.assertRaisesRegex(UserError, "cannot be changed"):
                event.with_env(env).write({"proof": "forged"})
            with self.assertRaisesRegex(UserError, "cannot be deleted"):
                event.with_env(env).unlink()
            with self.assertRaisesRegex(UserError, "written by the consent itself"):
                self.Event.with_env(env).create(
                    {"consent_id": consent.id, "purpose_id": self.newsletter.id, "action": "give", "state": "given"}
                )
        # and the database refuses it too
        for query in (
            "UPDATE gdpr_consent_event SET proof = 'forged' WHERE id = %s",
            "DELETE FROM gdpr_consent_event WHERE id = %s",
        ):
            with (
                self.subTest(query=query),
                mute_logger("odoo.sql_db"),
                self.assertRaisesRegex(psycopg2.Error, "append-only"),
                self.cr.savepoint(),
            ):
                self.cr.execute(query, [event.id])
        with mute_logger("odoo.sql_db"), self.assertRaisesRegex(psycopg2.Error, "append-only"), self.cr.savepoint():
            self.cr.execute("TRUNCATE gdpr_consent_event CASCADE")
        # deleting the consent (its events cascade) is refused by the database
        with mute_logger("odoo.sql_db"), self.assertRaisesRegex(psycopg2.Error, "append-only"), self.cr.savepoint():
            self.cr.execute("DELETE FROM gdpr_consent WHERE id = %s", [consent.id])
        self.assertEqual(event.proof, PROOF["proof"])

    def _tamper(self, query, params):
        self.env.flush_all()
        self.cr.execute("ALTER TABLE gdpr_consent_event DISABLE TRIGGER gdpr_consent_event_append_only")
        self.cr.execute(query, params)
        self.cr.execute("ALTER TABLE gdpr_consent_event ENABLE TRIGGER gdpr_consent_event_append_only")
        self.env.invalidate_all()

    def test_signature_detects_tampering(self):
        consent = self._consent()
        consent.action_give(**PROOF)
        consent.action_withdraw()
        other = self._consent(purpose=self.marketing_email)
        self.assertFalse(self.Event._gdpr_verify_signatures())
        create, give, withdraw = consent.event_ids.sorted("id")
        # a changed proof is seen, and the event named
        self._tamper("UPDATE gdpr_consent_event SET proof = 'I agree to everything' WHERE id = %s", [give.id])
        self.assertEqual(self.Event._gdpr_verify_signatures(), {give.id: "signature"})
        # a removed event breaks the chain of the next one
        self._tamper("DELETE FROM gdpr_consent_event WHERE id = %s", [create.id])
        problems = self.Event._gdpr_verify_signatures()
        self.assertEqual(problems, {give.id: "signature"})  # give's own content still wrong
        self._tamper("DELETE FROM gdpr_consent_event WHERE id = %s", [give.id])
        self.assertEqual(self.Event._gdpr_verify_signatures(), {withdraw.id: "chain"})
        self.assertFalse(self.Event._gdpr_verify_signatures(other.ids))
        # the DPO's button says so, and logs the check
        action = self.Event.with_user(self.user_dpo).action_verify_signatures()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(str(withdraw.id), action["params"]["message"])
        log = self.env["gdpr.audit.log"].search([("model", "=", "gdpr.consent.event")], limit=1)
        self.assertIn("1 event(s) tampered", log.description)

    def test_signature_needs_the_secret(self):
        consent = self._consent()
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.consent_hmac_secret"))
        with patch.dict(config.options, {"gdpr_crm_secret": "another master secret", "gdpr_crm_old_secrets": ""}):
            self.assertEqual(self.Event._gdpr_verify_signatures(consent.ids), {consent.event_ids.id: "signature"})

    def test_purge_for_erasure(self):
        consent = self._consent()
        consent.action_give(**PROOF)
        event_ids = consent.event_ids.ids
        consent._gdpr_purge()
        self.assertFalse(self.Consent.browse(consent.id).exists())
        self.assertFalse(self.Event.browse(event_ids).exists())
        # the trigger is armed again afterwards
        other = self._consent(purpose=self.marketing_email)
        with mute_logger("odoo.sql_db"), self.assertRaisesRegex(psycopg2.Error, "append-only"), self.cr.savepoint():
            self.cr.execute("DELETE FROM gdpr_consent_event WHERE consent_id = %s", [other.id])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentExpiry(ConsentCase):
    def test_cron_expires_in_batches(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Old {i}", "email": f"old{i}@example.com"} for i in range(3)]
        )
        old = self.Consent.browse()
        for partner in partners:
            old |= self._consent(partner=partner)
        old.action_give(**PROOF, date=fields.Datetime.now() - relativedelta(years=3, days=1))
        fresh = self._consent()
        fresh.action_give(**PROOF)
        cron = self.env.ref("gdpr_crm.ir_cron_consent_expiry")
        triggers = self._count("ir.cron.trigger", [("cron_id", "=", cron.id)])
        self.assertEqual(self.Consent._cron_expire_consents(batch_size=2), 2)
        self.assertEqual(sorted(old.mapped("state")), ["expired", "expired", "given"])
        # work remains: the cron is triggered again
        self.assertEqual(self._count("ir.cron.trigger", [("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(self.Consent._cron_expire_consents(batch_size=2), 1)
        self.assertEqual(set(old.mapped("state")), {"expired"})
        self.assertEqual(fresh.state, "given")
        self.assertEqual(self.Consent._cron_expire_consents(batch_size=2), 0)
        for consent in old:
            last = consent.event_ids.sorted("id")[-1]
            self.assertEqual((last.action, last.state, last.previous_state), ("expire", "expired", "given"))
        self.assertFalse(self.Event._gdpr_verify_signatures(old.ids))
        self.assertFalse(partners[0]._gdpr_has_consent("newsletter"))

    def test_cron_reports_progress(self):
        consent = self._consent()
        consent.action_give(**PROOF, date=fields.Datetime.now() - relativedelta(years=4))
        cron = self.env.ref("gdpr_crm.ir_cron_consent_expiry")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "remaining": 0, "done": 0})
        self.Consent.with_context(ir_cron_progress_id=progress.id)._cron_expire_consents()
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(consent.state, "expired")

    def test_no_expiry_when_validity_is_zero(self):
        purpose = self.env["gdpr.purpose"].create({"name": "Forever", "code": "forever", "consent_validity_months": 0})
        consent = self._consent(purpose=purpose)
        consent.action_give(**PROOF, date=fields.Datetime.now() - relativedelta(years=10))
        self.assertFalse(consent.expiry_date)
        self.Consent._cron_expire_consents()
        self.assertEqual(consent.state, "given")

    def test_expiring_this_month_filter(self):
        consent = self._consent()
        today = fields.Date.context_today(consent)
        months = 36
        consent.action_give(**PROOF, date=fields.Datetime.now() - relativedelta(months=months) + relativedelta(days=1))
        expected = consent.expiry_date.month == today.month
        self.assertEqual(
            bool(self.Consent.search([("id", "=", consent.id), ("expiring_this_month", "=", True)])), expected
        )
        self.assertEqual(
            bool(self.Consent.search([("id", "=", consent.id), ("expiring_this_month", "=", False)])), not expected
        )


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentSubjects(ConsentCase):
    def test_has_consent_and_mailing_domain(self):
        Partner = self.env["res.partner"]
        other = Partner.create({"name": "No consent", "email": "none@example.com"})
        consent = self._consent()
        self.assertFalse(self.partner._gdpr_has_consent("newsletter"))
        consent.action_give(**PROOF)
        self.assertTrue(self.partner._gdpr_has_consent("newsletter"))
        self.assertFalse(self.partner._gdpr_has_consent("marketing_email"))
        self.assertFalse(self.partner._gdpr_has_consent("no_such_purpose"))
        self.assertEqual(self.partner.gdpr_consent_purpose_ids, self.newsletter)
        scope = [("id", "in", (self.partner | other).ids)]
        for domain in (
            [("gdpr_consent_purpose_ids.code", "=", "newsletter")],
            [("gdpr_consent_purpose_ids", "in", self.newsletter.ids)],
            [("gdpr_consent_purpose_ids", "=", "newsletter")],
            [("gdpr_consent_purpose_ids", "!=", False)],
        ):
            with self.subTest(domain=domain):
                self.assertEqual(Partner.search(scope + domain), self.partner)
        self.assertEqual(Partner.search([*scope, ("gdpr_consent_purpose_ids", "not in", self.newsletter.ids)]), other)
        self.assertEqual(Partner.search([*scope, ("gdpr_consent_purpose_ids", "=", False)]), other)
        # withdrawing blocks the purpose at once
        consent.action_withdraw()
        self.assertFalse(self.partner._gdpr_has_consent("newsletter"))
        self.assertFalse(Partner.search([*scope, ("gdpr_consent_purpose_ids.code", "=", "newsletter")]))

    def test_lead_without_contact_uses_its_email(self):
        Lead = self.env["crm.lead"]
        lead = Lead.create({"name": "Interested", "email_from": "Paul <Paul.Prospect@Example.com>"})
        other_lead = Lead.create({"name": "Other", "email_from": "other@example.com"})
        consent = self.Consent.create({"lead_id": lead.id, "purpose_id": self.newsletter.id})
        self.assertEqual(consent.email, "paul.prospect@example.com")
        self.assertFalse(consent.partner_id)
        consent.action_give(**PROOF)
        self.assertTrue(lead._gdpr_has_consent("newsletter"))
        self.assertEqual(lead.gdpr_consent_ids, consent)
        self.assertEqual(lead.gdpr_consent_count, 1)
        self.assertEqual(lead.gdpr_consent_purpose_ids, self.newsletter)
        scope = [("id", "in", (lead | other_lead).ids)]
        self.assertEqual(Lead.search([*scope, ("gdpr_consent_purpose_ids.code", "=", "newsletter")]), lead)
        self.assertEqual(Lead.search([*scope, ("gdpr_consent_purpose_ids", "=", False)]), other_lead)
        # a lead of a contact sees the contact's consents
        contact_lead = Lead.create({"name": "Known", "partner_id": self.partner.id})
        given = self._consent(purpose=self.marketing_email, state="given", **PROOF)
        self.assertEqual(contact_lead.gdpr_consent_ids, given)
        self.assertTrue(contact_lead._gdpr_has_consent("marketing_email"))
        self.assertEqual(
            Lead.search([("id", "=", contact_lead.id), ("gdpr_consent_purpose_ids.code", "=", "marketing_email")]),
            contact_lead,
        )
        self.assertEqual(contact_lead._gdpr_preferences_url(), self.partner._gdpr_preferences_url())
        self.assertFalse(lead._gdpr_preferences_url())
        # the wizard of an email-only lead records on its email
        action = other_lead.action_gdpr_record_consent()
        wizard = (
            self.env["gdpr.consent.record"]
            .with_context(action["context"])
            .create({"purpose_id": self.newsletter.id, "answer": "refuse", "source": "phone"})
        )
        wizard.action_record()
        self.assertEqual(other_lead.gdpr_consent_ids.mapped("state"), ["refused"])
        self.assertEqual(other_lead.gdpr_consent_ids.lead_id, other_lead)
        # a lead without contact nor email cannot hold a consent
        with self.assertRaisesRegex(ValidationError, "neither a contact nor an email"):
            self.Consent.create({"lead_id": Lead.create({"name": "Nobody"}).id, "purpose_id": self.newsletter.id})

    def test_lead_conversion_carries_consents_over(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Prospect",
                "contact_name": "Léa Prospect",
                "email_from": "lea.prospect@example.com",
                "type": "lead",
            }
        )
        consent = self.Consent.create({"lead_id": lead.id, "purpose_id": self.newsletter.id})
        consent.action_give(**PROOF)
        refused = self.Consent.create({"lead_id": lead.id, "purpose_id": self.marketing_email.id})
        refused.action_refuse(source="phone")
        wizard = (
            self.env["crm.lead2opportunity.partner"]
            .with_context(active_model="crm.lead", active_id=lead.id, active_ids=lead.ids)
            .create({"name": "convert", "action": "create"})
        )
        wizard.action_apply()
        partner = lead.partner_id
        self.assertTrue(partner)
        self.assertEqual(consent.partner_id, partner)
        self.assertFalse(consent.email)
        self.assertEqual(consent.state, "given")
        self.assertEqual(refused.partner_id, partner)
        self.assertTrue(partner._gdpr_has_consent("newsletter"))
        self.assertFalse(partner._gdpr_has_consent("marketing_email"))
        last = consent.event_ids.sorted("id")[-1]
        self.assertEqual(last.action, "transfer")
        self.assertEqual(last.partner_id, partner)
        self.assertIn("lead #%s" % lead.id, last.note)
        self.assertFalse(self.Event._gdpr_verify_signatures(consent.ids))

    def test_conversion_to_existing_contact_keeps_latest_answer(self):
        partner_consent = self._consent()  # pending on the contact
        lead = self.env["crm.lead"].create({"name": "Prospect", "email_from": "jeanne.martin@example.com"})
        lead_consent = self.Consent.create({"lead_id": lead.id, "purpose_id": self.newsletter.id})
        lead_consent.action_give(**PROOF, ip_address="192.0.2.7", user_agent="Paper", collected_by=self.user_salesman)
        wizard = (
            self.env["crm.lead2opportunity.partner"]
            .with_context(active_model="crm.lead", active_id=lead.id, active_ids=lead.ids)
            .create({"name": "convert", "action": "exist", "partner_id": self.partner.id})
        )
        wizard.action_apply()
        self.assertEqual(lead.partner_id, self.partner)
        self.assertEqual(partner_consent.state, "given")
        # the whole answer and its proof are copied
        for name in ("state", "date_given", "expiry_date", "source", "proof", "proof_version", "ip_address"):
            self.assertEqual(partner_consent[name], lead_consent[name], name)
        self.assertEqual(partner_consent.user_agent, "Paper")
        self.assertEqual(partner_consent.collected_by_id, self.user_salesman)
        self.assertEqual(partner_consent.event_ids.sorted("id")[-1].action, "transfer")
        self.assertTrue(self.partner._gdpr_has_consent("newsletter"))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentRights(ConsentCase):
    def test_salesperson_records_consent_with_proof(self):
        wizard = (
            self.env["gdpr.consent.record"]
            .with_user(self.user_salesman)
            .create({"partner_id": self.partner.id, "purpose_id": self.newsletter.id, "answer": "give", **PROOF})
        )
        wizard.action_record()
        consent = self.Consent.search([("partner_id", "=", self.partner.id), ("purpose_id", "=", self.newsletter.id)])
        self.assertEqual(consent.state, "given")
        self.assertEqual(consent.collected_by_id, self.user_salesman)
        self.assertEqual(consent.event_ids.sorted("id")[-1].user_id, self.user_salesman)
        # withdrawal through the same wizard, opened by the "Withdraw" buttons:
        # it records how the person withdrew
        action = consent.with_context(gdpr_default_answer="withdraw").action_open_record_wizard()
        self.assertEqual(action["context"]["default_answer"], "withdraw")
        withdraw = (
            self.env["gdpr.consent.record"].with_user(self.user_salesman).with_context(action["context"]).create({})
        )
        with self.assertRaisesRegex(ValidationError, "how the person withdrew"):
            withdraw.action_record()
        self.assertEqual(consent.state, "given")
        withdraw.source = "phone"
        withdraw.action_record()
        self.assertEqual(consent.state, "withdrawn")
        self.assertEqual(consent.event_ids.sorted("id")[-1].source, "phone")
        # but cannot alter the history, nor the state directly
        as_sales = consent.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            as_sales.event_ids[:1].write({"proof": "forged"})
        with self.assertRaises(AccessError):
            as_sales.event_ids[:1].unlink()
        with self.assertRaises(AccessError):
            self.Event.with_user(self.user_salesman).create(
                {"consent_id": consent.id, "purpose_id": self.newsletter.id, "action": "give", "state": "given"}
            )
        with self.assertRaisesRegex(UserError, "only change through"):
            as_sales.write({"state": "given"})
        with self.assertRaises(UserError):
            as_sales.unlink()

    def test_wizard_without_proof_writes_nothing(self):
        consents = self._count("gdpr.consent")
        wizard = (
            self.env["gdpr.consent.record"]
            .with_user(self.user_salesman)
            .create(
                {"partner_id": self.partner.id, "purpose_id": self.newsletter.id, "answer": "give", "source": "phone"}
            )
        )
        # the message says what is missing and why proof is needed
        with self.assertRaisesRegex(
            ValidationError, r"must be provable \(GDPR art. 7\(1\)\).*Fill in: Proof Version, Proof Wording\.$"
        ):
            wizard.action_record()
        self.assertEqual(self._count("gdpr.consent"), consents)
        wizard = self.env["gdpr.consent.record"].create(
            {"partner_id": self.partner.id, "purpose_id": self.contract.id, "answer": "refuse"}
        )
        with self.assertRaisesRegex(ValidationError, "not on consent"):
            wizard.action_record()
        self.assertEqual(self._count("gdpr.consent"), consents)

    def test_salesperson_only_on_records_they_can_read(self):
        other_salesman = self.env["res.users"].create(
            {
                "name": "Other Salesman",
                "login": "gdpr_other_salesman",
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        lead = self.env["crm.lead"].create(
            {"name": "Not mine", "email_from": "secret@example.com", "user_id": other_salesman.id}
        )
        with self.assertRaises(AccessError):
            self.Consent.with_user(self.user_salesman).create({"lead_id": lead.id, "purpose_id": self.newsletter.id})
        self.assertFalse(self.Consent.search([("email", "=", "secret@example.com")]))
        own = self.env["crm.lead"].create(
            {"name": "Mine", "email_from": "mine@example.com", "user_id": self.user_salesman.id}
        )
        consent = self.Consent.with_user(self.user_salesman).create(
            {"lead_id": own.id, "purpose_id": self.newsletter.id}
        )
        self.assertEqual(consent.email, "mine@example.com")
        # nor answer for the subject of a lead they cannot read
        hidden = self.Consent.create({"lead_id": lead.id, "purpose_id": self.newsletter.id})
        with self.assertRaises(AccessError):
            hidden.with_user(self.user_salesman).action_give(**PROOF)
        self.assertEqual(hidden.state, "pending")

    def test_portal_and_employee_see_nothing(self):
        consent = self._consent()
        for user in (self.user_portal, self.user_employee):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    consent.with_user(user).read(["state"])
                with self.assertRaises(AccessError):
                    consent.event_ids.with_user(user).read(["proof"])
                with self.assertRaises(AccessError):
                    self.Consent.with_user(user).create(
                        {"partner_id": self.partner.id, "purpose_id": self.marketing_email.id}
                    )

    def test_dpo_reads_history_but_cannot_change_it(self):
        consent = self._consent()
        event = consent.event_ids.with_user(self.user_dpo)
        self.assertEqual(event.read(["action"])[0]["action"], "create")
        with self.assertRaises(AccessError):
            event.write({"note": "x"})
        self.assertFalse(
            "opt_in_token_hash" in consent.with_user(self.user_dpo).fields_get(),
            "the token hash is not even visible to the DPO",
        )


@tagged("post_install", "-at_install", "gdpr_crm")
class TestDoubleOptInMail(ConsentCase):
    def test_token_swapped_in_at_send_time_and_stored_hashed(self):
        consent = self._consent()
        mails = consent._gdpr_send_double_opt_in()
        self.assertEqual(len(mails), 1)
        self.assertIn("__gdpr_opt_in_token__", mails.body_html)
        self.assertEqual(mails.recipient_ids, self.partner)
        self.assertEqual(consent.event_ids.sorted("id")[-1].action, "opt_in_sent")
        self.assertTrue(consent.opt_in_sent_date)
        # the link is made when the email leaves
        body = mails._prepare_outgoing_list()[0]["body"]
        self.assertNotIn("__gdpr_opt_in_token__", body)
        token = body.split("/gdpr/consent/")[1].split('"')[0]
        self.assertGreaterEqual(len(token), 40)
        self.assertEqual(consent.sudo().opt_in_token_hash, consent._gdpr_token_hashes("opt_in", token)[0])
        self.assertNotIn(token, mails.body_html)
        self.assertEqual(self.Consent._gdpr_find_by_opt_in_token(token), consent)
        validity = consent.opt_in_expiry - fields.Datetime.now()
        self.assertTrue(timedelta(days=6, hours=23) < validity <= timedelta(days=7))
        # the email is still pending: nothing is pre-ticked
        self.assertEqual(consent.state, "pending")

    def test_send_to_several_subjects_at_once(self):
        other = self.env["res.partner"].create({"name": "Paul Durand", "email": "paul.durand@example.com"})
        consents = self._consent() | self._consent(partner=other) | self._consent(purpose=self.marketing_email)
        mails = consents._gdpr_send_double_opt_in()
        self.assertEqual(len(mails), 3)
        self.assertEqual(sorted(mails.mapped("res_id")), sorted(consents.ids))
        for mail in mails:
            consent = consents.browse(mail.res_id)
            self.assertEqual(mail.recipient_ids, consent.partner_id)
            self.assertIn(consent.purpose_id.name, mail.body_html)
        self.assertEqual(set(consents.event_ids.mapped("action")), {"create", "opt_in_sent"})

    def test_send_to_the_email_of_a_lead(self):
        consent = self.Consent.create({"email": "prospect@example.com", "purpose_id": self.newsletter.id})
        mail = consent._gdpr_send_double_opt_in()
        self.assertEqual(mail.email_to, "prospect@example.com")
        self.assertFalse(mail.recipient_ids)
        self.assertIn("/gdpr/consent/", mail._prepare_outgoing_list()[0]["body"])

    def test_send_refused_when_given_or_without_email(self):
        consent = self._consent(state="given", **PROOF)
        with self.assertRaisesRegex(UserError, "already given"):
            consent.action_send_double_opt_in()
        nobody = self.env["res.partner"].create({"name": "No email"})
        consent = self._consent(partner=nobody)
        with self.assertRaisesRegex(UserError, "no email address"):
            consent.action_send_double_opt_in()

    def test_validity_setting(self):
        self.env["res.config.settings"].create({"gdpr_opt_in_validity_days": 2}).execute()
        consent = self._consent()
        consent._gdpr_new_opt_in_token()
        self.assertLessEqual(consent.opt_in_expiry, fields.Datetime.now() + timedelta(days=2))
        for days in (0, 91, 100_000_000):
            with self.assertRaisesRegex(ValidationError, "between 1 and 90 days"):
                self.env["res.config.settings"].create({"gdpr_opt_in_validity_days": days})

    def test_preferences_token(self):
        url = self.partner._gdpr_preferences_url()
        token = url.rsplit("/", 1)[1]
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._gdpr_from_preferences_token(token), self.partner)
        other = Partner.create({"name": "Other"})
        forged = "%s-%s" % (other.id, token.split("-", 1)[1])
        for bad in (forged, "%s-" % self.partner.id, "abc", "", token[:-1] + ("1" if token[-1] == "0" else "0")):
            with self.subTest(token=bad):
                self.assertFalse(Partner._gdpr_from_preferences_token(bad))
        # the link expires (a year), and a later expiry cannot be forged
        partner_id, expiry, signature = token.split("-")
        self.assertFalse(Partner._gdpr_from_preferences_token(f"{partner_id}-{int(expiry) + 86400}-{signature}"))
        later = fields.Datetime.now() + timedelta(days=400)
        with patch.object(fields.Datetime, "now", lambda *args: later):
            self.assertFalse(Partner._gdpr_from_preferences_token(token))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentMergeAndViews(ConsentCase):
    def test_merging_contacts_keeps_consents_and_history(self):
        duplicate = self.env["res.partner"].create(
            {"name": "Jeanne Martin (dup)", "email": "jeanne.martin@example.com"}
        )
        kept = self._consent()  # pending on the destination
        moved = self._consent(partner=duplicate, state="given", **PROOF)  # newer answer on the duplicate
        only_dup = self._consent(partner=duplicate, purpose=self.marketing_email)
        only_dup.action_refuse(source="phone")
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((self.partner | duplicate).ids, self.partner)
        self.assertFalse(duplicate.exists())
        consents = self.Consent.with_context(active_test=False).search([("partner_id", "=", self.partner.id)])
        self.assertEqual(consents, kept | moved | only_dup)
        self.assertFalse(kept.active)
        self.assertTrue(moved.active)
        self.assertTrue(self.partner._gdpr_has_consent("newsletter"))
        self.assertEqual(self.partner.gdpr_consent_ids, moved | only_dup)
        self.assertEqual(only_dup.state, "refused")
        last = moved.event_ids.sorted("id")[-1]
        self.assertEqual((last.action, last.subject_partner_id), ("transfer", self.partner.id))
        self.assertIn(kept.event_ids, self.partner.gdpr_consent_event_ids)
        self.assertFalse(self.Event._gdpr_verify_signatures())

    def test_privacy_tab_for_salespeople_only(self):
        for model in ("res.partner", "crm.lead"):
            with self.subTest(model=model):
                arch = (
                    self.env[model].with_user(self.user_salesman).get_views([(False, "form")])["views"]["form"]["arch"]
                )
                self.assertIn('name="gdpr_privacy"', arch)
                self.assertIn('name="gdpr_privacy_main"', arch)
                self.assertIn("gdpr_consent_ids", arch)
        # an employee without the privacy group does not get the tab
        arch = (
            self.env["res.partner"].with_user(self.user_employee).get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertNotIn('name="gdpr_privacy"', arch)
        # the salesperson opens the contact and its consents
        consent = self._consent(state="given", **PROOF)
        partner = self.partner.with_user(self.user_salesman)
        self.assertEqual(partner.gdpr_consent_ids, consent)
        self.assertEqual(partner.gdpr_consent_count, 1)
        self.assertEqual(partner.gdpr_consent_event_ids, consent.event_ids)
        action = partner.action_gdpr_view_consents()
        self.assertEqual(self.Consent.with_user(self.user_salesman).search(action["domain"]), consent)

    def test_salesperson_asks_by_email(self):
        consent = self._consent().with_user(self.user_salesman)
        consent.action_send_double_opt_in()
        self.assertTrue(consent.opt_in_sent_date)
        mail = self.env["mail.mail"].search([("model", "=", "gdpr.consent"), ("res_id", "=", consent.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(consent.event_ids.sorted("id")[-1].user_id, self.user_salesman)
        self.assertEqual(consent.state, "pending")
