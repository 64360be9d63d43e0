# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPurpose(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Purpose = cls.env["gdpr.purpose"]
        cls.company_2 = cls.env["res.company"].create({"name": "GDPR Company 2"})

    def test_shipped_purposes_and_legal_bases(self):
        expected = {
            "marketing_email": "consent",
            "marketing_phone": "consent",
            "newsletter": "consent",
            "profiling": "consent",
            "customer_relationship": "contract",
            "prospecting_b2b": "legitimate_interest",
        }
        purposes = self.Purpose.search([("code", "in", list(expected))])
        self.assertEqual({p.code: p.legal_basis for p in purposes}, expected)
        self.assertEqual(self.env.ref("gdpr_crm.purpose_newsletter").code, "newsletter")
        self.assertEqual(self.Purpose._gdpr_get_by_code("newsletter"), self.env.ref("gdpr_crm.purpose_newsletter"))

    def test_code_is_normalized(self):
        purpose = self.Purpose.create({"name": "Events", "code": "  Events_2026 "})
        self.assertEqual(purpose.code, "events_2026")

    def test_empty_code_refused(self):
        for code in (False, "", "   "):
            with self.subTest(code=code), self.assertRaisesRegex(ValidationError, "needs a code|Code is required"):
                self.Purpose.create({"name": "No code", "code": code})
        purpose = self.Purpose.create({"name": "Events", "code": "events"})
        with self.assertRaisesRegex(ValidationError, "needs a code"):
            purpose.write({"code": " "})
        self.assertEqual(purpose.code, "events")

    def test_invalid_code_refused(self):
        with self.assertRaisesRegex(ValidationError, "is not valid"):
            self.Purpose.create({"name": "Bad", "code": "bad code!"})

    def test_code_unique_per_company(self):
        self.Purpose.create({"name": "Events", "code": "events", "company_id": self.company.id})
        # the same code in another company is fine
        other = self.Purpose.create({"name": "Events", "code": "events", "company_id": self.company_2.id})
        self.assertEqual(other.company_id, self.company_2)
        with self.assertRaisesRegex(ValidationError, "already used"):
            self.Purpose.create({"name": "Events again", "code": "events", "company_id": self.company.id})
        # a company purpose may not shadow a shared one
        with self.assertRaisesRegex(ValidationError, "already used"):
            self.Purpose.create({"name": "Newsletter", "code": "newsletter", "company_id": self.company.id})
        # nor may two shared purposes share a code
        with self.assertRaisesRegex(ValidationError, "already used"):
            self.Purpose.create({"name": "Newsletter 2", "code": "newsletter"})

    def test_same_code_twice_in_one_create_refused(self):
        with self.assertRaisesRegex(ValidationError, "two new purposes"):
            self.Purpose.create([{"name": "Events", "code": "events"}, {"name": "Events 2", "code": "Events"}])
        self.assertFalse(self.Purpose.search([("code", "=", "events")]))

    def test_code_unique_enforced_by_database(self):
        self.Purpose.create({"name": "Events", "code": "events", "company_id": self.company.id})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.cr.execute(
                "INSERT INTO gdpr_purpose (name, code, legal_basis, company_id, active, consent_validity_months)"
                " VALUES ('{\"en_US\": \"x\"}', 'events', 'consent', %s, true, 0)",
                [self.company.id],
            )

    def test_negative_validity_refused(self):
        for months in (-1, 121, 200000):
            with self.assertRaisesRegex(ValidationError, "between 0 and 120"):
                self.Purpose.create({"name": "Events", "code": "events", "consent_validity_months": months})

    def test_default_validity_from_settings(self):
        settings = self.env["res.config.settings"].create({"gdpr_default_consent_validity_months": 24})
        settings.execute()
        self.assertEqual(self.Purpose.create({"name": "Events", "code": "events"}).consent_validity_months, 24)
        for months in (-2, 121):
            with self.assertRaisesRegex(ValidationError, "between 0 and 120"):
                self.env["res.config.settings"].create({"gdpr_default_consent_validity_months": months})

    def test_salesperson_reads_but_cannot_create(self):
        purpose = self.env.ref("gdpr_crm.purpose_newsletter").with_user(self.user_salesman)
        self.assertEqual(purpose.legal_basis, "consent")
        with self.assertRaises(AccessError):
            self.Purpose.with_user(self.user_salesman).create({"name": "Mine", "code": "mine"})
        with self.assertRaises(AccessError):
            purpose.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            purpose.unlink()

    def test_dpo_manages_purposes(self):
        purpose = self.Purpose.with_user(self.user_dpo).create({"name": "Events", "code": "events"})
        purpose.write({"legal_basis": "legitimate_interest"})
        self.assertEqual(purpose.legal_basis, "legitimate_interest")

    def test_portal_and_employee_cannot_read(self):
        for user in (self.user_portal, self.user_employee):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env.ref("gdpr_crm.purpose_newsletter").with_user(user).read(["name"])

    def test_multi_company_rule(self):
        purpose_2 = self.Purpose.create({"name": "Company 2 only", "code": "c2_only", "company_id": self.company_2.id})
        visible = self.Purpose.with_user(self.user_dpo).search([("code", "in", ["c2_only", "newsletter"])])
        self.assertEqual(visible.mapped("code"), ["newsletter"])
        self.user_dpo.write({"company_ids": [(4, self.company_2.id)]})
        visible = (
            self.Purpose.with_user(self.user_dpo)
            .with_context(allowed_company_ids=[self.company.id, self.company_2.id])
            .search([("code", "=", "c2_only")])
        )
        self.assertEqual(visible, purpose_2)

    def test_french_translation(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        purpose = self.env.ref("gdpr_crm.purpose_marketing_email").with_context(lang="fr_FR")
        self.assertEqual(purpose.name, "E-mails marketing")
        field = self.env["ir.model.fields"]._get("gdpr.purpose", "legal_basis")
        selection = dict(
            self.env["gdpr.purpose"].with_context(lang="fr_FR").fields_get(["legal_basis"])["legal_basis"]["selection"]
        )
        self.assertTrue(field)
        self.assertEqual(selection["legitimate_interest"], "Intérêt légitime")
        menu = self.env.ref("gdpr_crm.menu_gdpr_root").with_context(lang="fr_FR")
        self.assertEqual(menu.name, "Confidentialité")
