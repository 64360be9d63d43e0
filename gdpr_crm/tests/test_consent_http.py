# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentPublicPages(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Consent = cls.env["gdpr.consent"]
        cls.newsletter = cls.env.ref("gdpr_crm.purpose_newsletter")
        cls.marketing_email = cls.env.ref("gdpr_crm.purpose_marketing_email")
        cls.partner = cls.env["res.partner"].create({"name": "Jeanne Martin", "email": "jeanne.martin@example.com"})

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)  # a public visitor's session

    def _get(self, path):
        return self.url_open(path, allow_redirects=False)

    def _post(self, path, csrf_token, **data):
        return self.url_open(path, data={"csrf_token": csrf_token, **data}, allow_redirects=False)

    def _csrf(self, response):
        match = CSRF_RE.search(response.text)
        self.assertTrue(match, "the page has a CSRF-protected form")
        return match.group(1)

    def _events(self, consent):
        return self.env["gdpr.consent.event"].sudo().search_count([("consent_id", "=", consent.id)])

    def _new_link(self, consent):
        mails = consent._gdpr_send_double_opt_in()
        body = mails._prepare_outgoing_list()[0]["body"]
        match = re.search(r'href="[^"]*(/gdpr/consent/[^"]+)"', body)
        self.assertTrue(match, "the email holds the confirmation link")
        return match.group(1)

    def test_double_opt_in_flow(self):
        consent = self.Consent.create({"partner_id": self.partner.id, "purpose_id": self.newsletter.id})
        path = self._new_link(consent)
        # GET (a mail scanner following the link) only shows the page
        response = self._get(path)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Please confirm your consent", response.text)
        self.assertIn("Newsletter", response.text)
        self.assertIn("Receive our newsletter.", response.text)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "pending")
        csrf = self._csrf(response)
        events = self._events(consent)
        # a POST without the CSRF token is refused
        with mute_logger("odoo.http"):
            response = self.url_open(path, data={"confirm": "1"}, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "pending")
        # the POST gives consent, with its proof
        response = self._post(path, csrf)
        self.assertEqual(response.status_code, 200)
        self.assertIn("your consent is recorded", response.text)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "given")
        self.assertEqual(consent.source, "double_opt_in")
        self.assertEqual(consent.ip_address, "127.0.0.1")
        self.assertTrue(consent.user_agent)
        self.assertFalse(consent.collected_by_id)
        self.assertIn("Newsletter", consent.proof)
        self.assertTrue(consent.proof_version.startswith("opt-in-v1-"))
        last = consent.event_ids.sorted("id")[-1]
        self.assertEqual((last.action, last.source, last.ip_address), ("give", "double_opt_in", "127.0.0.1"))
        self.assertEqual(self._events(consent), events + 1)
        self.assertFalse(consent.sudo().opt_in_token_hash)
        # replaying the link changes nothing
        for response in (self._post(path, csrf), self._get(path)):
            self.assertEqual(response.status_code, 404)
            self.assertIn("This link is no longer valid", response.text)
        self.assertEqual(self._events(consent), events + 1)

    def test_expired_link(self):
        consent = self.Consent.create({"partner_id": self.partner.id, "purpose_id": self.newsletter.id})
        path = self._new_link(consent)
        csrf = self._csrf(self._get(path))
        consent.sudo()._gdpr_write_internal({"opt_in_expiry": fields.Datetime.now() - timedelta(minutes=1)})
        events = self._events(consent)
        for response in (self._get(path), self._post(path, csrf)):
            self.assertEqual(response.status_code, 404)
            self.assertIn("This link is no longer valid", response.text)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "pending")
        self.assertEqual(self._events(consent), events)

    def test_forged_and_superseded_links(self):
        consent = self.Consent.create({"partner_id": self.partner.id, "purpose_id": self.newsletter.id})
        path = self._new_link(consent)
        csrf = self._csrf(self._get(path))
        for forged in ("/gdpr/consent/forged-token", path[:-2] + "xx", "/gdpr/consent/" + "a" * 300):
            with self.subTest(path=forged):
                for response in (self._get(forged), self._post(forged, csrf)):
                    self.assertEqual(response.status_code, 404)
                    self.assertIn("This link is no longer valid", response.text)
        # a new email makes the previous link useless
        newer = self._new_link(consent)
        self.assertEqual(self._post(path, csrf).status_code, 404)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "pending")
        self.assertEqual(self._post(newer, csrf).status_code, 200)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "given")

    def test_purpose_no_longer_based_on_consent(self):
        purpose = self.env["gdpr.purpose"].create({"name": "Events", "code": "events", "description": "Invitations."})
        consent = self.Consent.create({"partner_id": self.partner.id, "purpose_id": purpose.id})
        path = self._new_link(consent)
        csrf = self._csrf(self._get(path))
        purpose.legal_basis = "legitimate_interest"
        response = self._post(path, csrf)
        self.assertEqual(response.status_code, 404)
        self.assertIn("This link is no longer valid", response.text)
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "pending")
        self.assertTrue(consent.sudo().opt_in_token_hash, "the token was not consumed")

    def test_lead_email_subject_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        self.partner.lang = "fr_FR"
        consent = self.Consent.create({"partner_id": self.partner.id, "purpose_id": self.newsletter.id})
        path = self._new_link(consent)
        response = self._get(path)
        self.assertIn("Merci de confirmer votre consentement", response.text)
        self._post(path, self._csrf(response))
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "given")
        self.assertIn("retirer ce consentement", consent.proof)

    def test_preference_centre(self):
        url = self.partner._gdpr_preferences_url()
        path = url[url.index("/gdpr/preferences/") :]
        response = self._get(path)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your privacy preferences", response.text)
        for purpose in ("Newsletter", "Marketing emails", "Profiling"):
            self.assertIn(purpose, response.text)
        self.assertNotIn("Customer relationship", response.text)  # not based on consent
        csrf = self._csrf(response)
        self.assertFalse(self.Consent.search([("partner_id", "=", self.partner.id)]))
        # give
        response = self._post(path, csrf, purpose_id=self.newsletter.id, answer="give")
        self.assertEqual(response.status_code, 303)
        consent = self.Consent.search([("partner_id", "=", self.partner.id), ("purpose_id", "=", self.newsletter.id)])
        self.assertEqual(consent.state, "given")
        self.assertEqual((consent.source, consent.ip_address), ("web_form", "127.0.0.1"))
        self.assertIn("Newsletter", consent.proof)
        self.assertTrue(self.partner._gdpr_has_consent("newsletter"))
        self.assertIn("Your consent is recorded", self._get(path + "?updated=give").text)
        # withdraw, in one click
        self._post(path, csrf, purpose_id=self.newsletter.id, answer="withdraw")
        consent.invalidate_recordset()
        self.assertEqual(consent.state, "withdrawn")
        self.assertFalse(self.partner._gdpr_has_consent("newsletter"))
        # saying no to a purpose never asked records a refusal
        self._post(path, csrf, purpose_id=self.marketing_email.id, answer="withdraw")
        self.assertFalse(
            self.Consent.search([("partner_id", "=", self.partner.id), ("purpose_id", "=", self.marketing_email.id)])
        )
        # bad input changes nothing
        events = self._events(consent)
        contract = self.env.ref("gdpr_crm.purpose_customer_relationship")
        for data in (
            {"purpose_id": contract.id, "answer": "give"},
            {"purpose_id": "x", "answer": "give"},
            {"purpose_id": self.newsletter.id, "answer": "delete"},
        ):
            with self.subTest(data=data):
                self.assertEqual(self._post(path, csrf, **data).status_code, 404)
        self.assertEqual(self._events(consent), events)
        self.assertFalse(self.Consent.search([("partner_id", "=", self.partner.id), ("purpose_id", "=", contract.id)]))
        # a forged token shows the polite page
        other = self.env["res.partner"].create({"name": "Other"})
        forged = "/gdpr/preferences/%s-%s" % (other.id, path.rsplit("-", 1)[1])
        self.assertEqual(self._get(forged).status_code, 404)
        self.assertEqual(self._post(forged, csrf, purpose_id=self.newsletter.id, answer="give").status_code, 404)
        self.assertFalse(self.Consent.search([("partner_id", "=", other.id)]))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentTour(HttpCase):
    def test_salesperson_records_consent_from_contact(self):
        mail_new_test_user(
            self.env,
            login="gdpr_tour_salesman",
            name="Tour Salesman",
            email="tour.salesman@example.com",
            groups="sales_team.group_sale_salesman",
        )
        partner = self.env["res.partner"].create({"name": "Jeanne Martin", "email": "jeanne.martin@example.com"})
        self.start_tour(f"/odoo/contacts/{partner.id}", "gdpr_crm_consent_tour", login="gdpr_tour_salesman")
        consent = self.env["gdpr.consent"].search([("partner_id", "=", partner.id)])
        self.assertEqual(consent.purpose_id, self.env.ref("gdpr_crm.purpose_newsletter"))
        self.assertEqual((consent.state, consent.source), ("given", "phone"))
        self.assertEqual(consent.proof_version, "Call script v2")
        self.assertEqual(consent.collected_by_id.login, "gdpr_tour_salesman")
