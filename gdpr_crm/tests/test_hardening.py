# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Issue 11: a perimeter that cannot be walked around, sensitive notes that
do not break editing, the access review and the consent wizard."""

import re

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import GdprCase


class PerimeterCase(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_other_salesman = mail_new_test_user(
            cls.env,
            login="gdpr_salesman_b",
            name="Bob Salesman",
            email="bob@example.com",
            groups="sales_team.group_sale_salesman",
        )
        Team = cls.env["crm.team"]
        cls.team_a = Team.create({"name": "Team A", "member_ids": [(6, 0, cls.user_salesman.ids)]})
        cls.team_b = Team.create({"name": "Team B", "member_ids": [(6, 0, cls.user_other_salesman.ids)]})
        Partner = cls.env["res.partner"]
        cls.foreign = Partner.create(
            {
                "name": "Fabrice Foreign",
                "email": "fabrice@example.com",
                "street": "1 rue Secrète",
                "city": "Lyon",
                "vat": "FR23334175221",
                "is_company": True,
                "comment": "<p>VIP, do not call</p>",
                "user_id": cls.user_other_salesman.id,
            }
        )
        cls.mine = Partner.create({"name": "Marie Mine", "email": "marie@example.com", "user_id": cls.user_salesman.id})
        cls.purpose = cls.env.ref("gdpr_crm.purpose_newsletter")
        cls.env["ir.config_parameter"].set_param("gdpr_crm.perimeter_enabled", "True")


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPerimeterGivenNotChosen(PerimeterCase):
    def test_a_lead_of_mine_does_not_open_a_foreign_contact(self):
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            Lead.create({"name": "x", "partner_id": self.foreign.id, "user_id": self.user_salesman.id})
        # an id that does not exist gets the very same answer
        with self.assertRaises(AccessError) as missing:
            Lead.create({"name": "x", "partner_id": 999999999, "user_id": self.user_salesman.id})
        with self.assertRaises(AccessError) as foreign:
            Lead.create({"name": "x", "partner_id": self.foreign.id, "user_id": self.user_salesman.id})
        self.assertEqual(str(missing.exception), str(foreign.exception))
        # nor does re-pointing a lead of mine
        lead = Lead.create({"name": "mine", "user_id": self.user_salesman.id, "partner_id": self.mine.id})
        with self.assertRaises(AccessError):
            lead.write({"partner_id": self.foreign.id})
        with self.assertRaises(AccessError):
            self.foreign.with_user(self.user_salesman).read(["street", "vat", "comment"])

    def test_a_lead_i_created_admits_no_customer_even_when_forced(self):
        # written as superuser on behalf of the salesperson: the rule itself
        # must not let in the customer of a lead they created themselves
        self.env["crm.lead"].with_user(self.user_salesman).sudo().create(
            {"name": "x", "partner_id": self.foreign.id, "user_id": self.user_salesman.id}
        )
        self.env.flush_all()
        self.assertFalse(self.env["res.partner"].with_user(self.user_salesman).search([("id", "=", self.foreign.id)]))

    def test_a_lead_given_by_someone_else_opens_its_customer(self):
        lead = self.env["crm.lead"].create(
            {"name": "given by admin", "partner_id": self.foreign.id, "user_id": self.user_salesman.id}
        )
        self.assertEqual(lead.create_uid, self.env.user)
        self.assertEqual(self.foreign.with_user(self.user_salesman).read(["city"])[0]["city"], "Lyon")

    def test_a_child_contact_does_not_open_a_foreign_company(self):
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            Partner.create({"name": "Child", "parent_id": self.foreign.id})
        child = Partner.create({"name": "Child of mine", "parent_id": self.mine.id})
        with self.assertRaises(AccessError):
            child.write({"parent_id": self.foreign.id})
        self.assertFalse(Partner.search([("parent_id", "=", self.foreign.id)]))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestConsentPerimeter(PerimeterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lead = cls.env["crm.lead"]
        cls.lead_b = Lead.create(
            {
                "name": "B's lead",
                "email_from": "shared@example.com",
                "team_id": cls.team_b.id,
                "user_id": cls.user_other_salesman.id,
            }
        )
        Consent = cls.env["gdpr.consent"]
        cls.email_consent = Consent.create(
            {"email": "lonely@example.com", "purpose_id": cls.purpose.id, "state": "refused", "source": "phone"}
        )
        cls.b_consent = Consent.create(
            {"lead_id": cls.lead_b.id, "purpose_id": cls.purpose.id, "state": "refused", "source": "phone"}
        )

    def test_email_consents_follow_the_leads_of_that_email(self):
        Consent = self.env["gdpr.consent"].with_user(self.user_salesman)
        self.assertFalse(Consent.search([("id", "in", (self.email_consent | self.b_consent).ids)]))
        with self.assertRaises(AccessError):
            self.email_consent.with_user(self.user_salesman).read(["state"])
        # given a lead of that email, they read its consent
        self.env["crm.lead"].create(
            {"name": "A's lead", "email_from": "shared@example.com", "user_id": self.user_salesman.id}
        )
        self.assertEqual(Consent.search([("id", "in", (self.email_consent | self.b_consent).ids)]), self.b_consent)
        # the other salesperson and the DPO read theirs
        Other = self.env["gdpr.consent"].with_user(self.user_other_salesman)
        self.assertEqual(Other.search([("id", "=", self.b_consent.id)]), self.b_consent)
        self.assertEqual(
            self.env["gdpr.consent"].with_user(self.user_dpo).search([("id", "=", self.email_consent.id)]),
            self.email_consent,
        )

    def test_consent_subject_and_company_cannot_be_moved(self):
        lead_a = self.env["crm.lead"].create(
            {"name": "A's lead", "email_from": "shared@example.com", "user_id": self.user_salesman.id}
        )
        consent = self.b_consent.with_user(self.user_salesman)
        other_company = self.env["res.company"].create({"name": "Other Co"})
        for vals in ({"lead_id": lead_a.id}, {"lead_id": False}, {"company_id": other_company.id}):
            with self.assertRaises(UserError):
                consent.write(vals)
        self.assertEqual(self.b_consent.lead_id, self.lead_b)
        self.assertEqual(self.b_consent.company_id, self.env.company)

    def test_creating_a_consent_reveals_nothing(self):
        Consent = self.env["gdpr.consent"].with_user(self.user_salesman)
        # an email with a consent, and one without: the same refusal
        answers = []
        for email in ("lonely@example.com", "nobody@example.com"):
            with self.assertRaises(AccessError) as catcher:
                Consent.create({"email": email, "purpose_id": self.purpose.id})
            answers.append(str(catcher.exception))
        self.assertEqual(answers[0], answers[1])
        # a foreign contact: refused before any lookup
        with self.assertRaises(AccessError):
            Consent.create({"partner_id": self.foreign.id, "purpose_id": self.purpose.id})

    def test_lead_purposes_are_read_as_the_user(self):
        self.b_consent.sudo().action_give(source="phone", proof="Oui", proof_version="v1")
        lead_a = self.env["crm.lead"].create(
            {"name": "A's lead", "email_from": "shared@example.com", "user_id": self.user_salesman.id}
        )
        self.assertEqual(lead_a.with_user(self.user_salesman).gdpr_consent_purpose_ids, self.purpose)
        self.assertEqual(self.lead_b.with_user(self.user_other_salesman).gdpr_consent_purpose_ids, self.purpose)
        # a lead of theirs pointing (somehow) at a contact outside their
        # perimeter does not show that contact's consents
        self.env["gdpr.consent"].create(
            {
                "partner_id": self.foreign.id,
                "purpose_id": self.purpose.id,
                "state": "given",
                "source": "phone",
                "proof": "Oui",
                "proof_version": "v1",
            }
        )
        forced = (
            self.env["crm.lead"]
            .with_user(self.user_salesman)
            .sudo()
            .create({"name": "forced", "partner_id": self.foreign.id, "user_id": self.user_salesman.id})
        )
        self.assertEqual(forced.gdpr_consent_purpose_ids, self.purpose)  # as superuser
        self.assertFalse(forced.with_user(self.user_salesman).gdpr_consent_purpose_ids)

    def test_conversion_does_not_take_another_teams_consent(self):
        lead_a = self.env["crm.lead"].create(
            {"name": "A's lead", "email_from": "shared@example.com", "user_id": self.user_salesman.id}
        )
        lead_a.with_user(self.user_salesman)._handle_partner_assignment(create_missing=True)
        self.assertTrue(lead_a.partner_id)
        # B's consent stays on B's lead's email
        self.assertFalse(self.b_consent.partner_id)
        self.assertEqual(self.b_consent.email, "shared@example.com")
        self.assertEqual(self.lead_b.gdpr_consent_ids, self.b_consent)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestSensitiveNotesDoNotBreakEditing(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create(
            {"name": "Luc Petit", "comment": "<p>Allergic to penicillin</p>", "user_id": cls.user_salesman.id}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Deal",
                "description": "<p>Going through a divorce</p>",
                "user_id": cls.user_salesman.id,
                "partner_id": cls.partner.id,
            }
        )
        cls.env["ir.config_parameter"].set_param(
            "gdpr_crm.sensitive_field_group_ids", str(cls.env.ref("gdpr_crm.group_gdpr_dpo").id)
        )

    def test_salesperson_edits_wins_and_duplicates(self):
        partner = self.partner.with_user(self.user_salesman)
        lead = self.lead.with_user(self.user_salesman)
        partner.write({"phone": "+33 1 23 45 67 89"})
        lead.write({"expected_revenue": 1000})
        view = self.env.ref("crm.crm_lead_view_form")
        spec = {"name": {}, "expected_revenue": {}, "partner_id": {"fields": {"display_name": {}}}}
        lead.web_save({"name": "Deal (saved)"}, spec)
        partner.web_save({"name": "Luc Petit (saved)"}, {"name": {}, "email": {}})
        lead.action_set_won()
        self.assertEqual(self.lead.stage_id.is_won, True)
        lead_copy = lead.copy()
        partner_copy = partner.copy()
        self.assertFalse(lead_copy.sudo().description)
        self.assertFalse(partner_copy.sudo().comment)
        # the notes themselves stay out of reach, and were not touched
        with self.assertRaises(AccessError):
            lead.read(["description"])
        with self.assertRaises(AccessError):
            partner.read(["comment"])
        self.assertIn("divorce", self.lead.description)
        self.assertIn("penicillin", self.partner.comment)
        with Form(self.env["crm.lead"].with_user(self.user_salesman), view=view) as form:
            form.name = "New deal"
        self.assertEqual(form.record.name, "New deal")


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAccessReviewAndWizard(GdprCase):
    def test_access_review_is_for_the_dpo(self):
        Users = self.env["res.users"].with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            Users.search_read([("share", "=", False)], ["gdpr_main_groups", "gdpr_last_login", "gdpr_is_admin"])
        with self.assertRaises(AccessError):
            Users.search([("gdpr_inactive", "=", True)])
        self.assertNotIn("gdpr_is_admin", Users.fields_get())
        action = self.env.ref("gdpr_crm.res_users_action_gdpr_access_review")
        self.assertEqual(action.groups_id, self.env.ref("gdpr_crm.group_gdpr_dpo"))
        menu = self.env.ref("gdpr_crm.menu_gdpr_access_review")
        visible = self.env["ir.ui.menu"].with_user(self.user_salesman)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        # the DPO reads it
        rows = (
            self.env["res.users"]
            .with_user(self.user_dpo)
            .search_read([("id", "=", self.user_salesman.id)], ["gdpr_main_groups", "gdpr_is_admin"])
        )
        self.assertFalse(rows[0]["gdpr_is_admin"])

    def test_wizard_no_hand_made_double_opt_in(self):
        partner = self.env["res.partner"].create({"name": "Zoé", "email": "zoe@example.com"})
        purpose = self.env.ref("gdpr_crm.purpose_newsletter")
        Wizard = self.env["gdpr.consent.record"].with_user(self.user_salesman)
        self.assertNotIn("double_opt_in", dict(Wizard._fields["source"].selection))
        with self.assertRaises(ValidationError):
            Wizard.create({"partner_id": partner.id, "purpose_id": purpose.id, "source": "double_opt_in"})
        # the wording is typed, not copied from the purpose
        with Form(Wizard.with_context(default_partner_id=partner.id)) as form:
            form.purpose_id = purpose
            self.assertFalse(form.proof)
            form.source = "phone"
            form.proof_version = "v1"
            form.proof = "   \u200b "
        with self.assertRaises(ValidationError):
            form.record.action_record()
        # nor through the consent itself
        consent = (
            self.env["gdpr.consent"]
            .with_user(self.user_salesman)
            .create({"partner_id": partner.id, "purpose_id": purpose.id})
        )
        with self.assertRaises(UserError):
            consent.action_give(source="double_opt_in", proof="I agree", proof_version="v1")
        self.assertEqual(consent.state, "pending")


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPublicPagesHardening(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Jeanne Martin", "email": "jeanne.martin@example.com"})
        cls.token = cls.partner._gdpr_preferences_token()

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def _assert_headers(self, response):
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        self.assertEqual(response.headers.get("X-Robots-Tag"), "noindex, nofollow")
        self.assertEqual(response.headers.get("Referrer-Policy"), "no-referrer")

    def test_odd_tokens_get_the_polite_page(self):
        for path in ("/gdpr/preferences/%C2%B2-abc", "/gdpr/preferences/0" + self.token, "/gdpr/consent/%C2%B2"):
            with self.subTest(path=path):
                response = self.url_open(path, allow_redirects=False)
                self.assertEqual(response.status_code, 404)
                self._assert_headers(response)

    def test_preference_page_headers_and_token_once(self):
        path = "/gdpr/preferences/%s" % self.token
        response = self.url_open(path, allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        self._assert_headers(response)
        self.assertEqual(response.text.count(self.token), 1)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
        newsletter = self.env.ref("gdpr_crm.purpose_newsletter")
        response = self.url_open(
            path, data={"csrf_token": csrf, "choice": "%s:give" % newsletter.id}, allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        self._assert_headers(response)
        self.assertTrue(self.partner._gdpr_has_consent("newsletter"))

    def test_consent_page_headers(self):
        consent = self.env["gdpr.consent"].create(
            {"partner_id": self.partner.id, "purpose_id": self.env.ref("gdpr_crm.purpose_newsletter").id}
        )
        token = consent._gdpr_new_opt_in_token()
        response = self.url_open("/gdpr/consent/%s" % token, allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        self._assert_headers(response)
