# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPerimeter(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman.write({"groups_id": [(4, cls.env.ref("base.group_allow_export").id)]})
        cls.user_other_salesman = mail_new_test_user(
            cls.env,
            login="gdpr_salesman_b",
            name="Bob Salesman",
            email="bob@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.user_manager = mail_new_test_user(
            cls.env,
            login="gdpr_sales_manager",
            name="Mia Manager",
            email="mia@example.com",
            groups="sales_team.group_sale_manager",
        )
        Team = cls.env["crm.team"]
        cls.team_a = Team.create({"name": "Team A", "member_ids": [(6, 0, cls.user_salesman.ids)]})
        cls.team_b = Team.create({"name": "Team B", "member_ids": [(6, 0, cls.user_other_salesman.ids)]})
        Partner = cls.env["res.partner"]
        cls.partner_a = Partner.create(
            {"name": "Alice A", "email": "alice@example.com", "user_id": cls.user_salesman.id}
        )
        cls.partner_a_contact = Partner.create({"name": "Anna A", "parent_id": cls.partner_a.id})
        cls.partner_b = Partner.create(
            {"name": "Bernard B", "email": "bernard@example.com", "user_id": cls.user_other_salesman.id}
        )
        cls.partner_b_lead = Partner.create({"name": "Berthe B", "email": "berthe@example.com"})
        Lead = cls.env["crm.lead"]
        cls.lead_a = Lead.create({"name": "Lead A", "team_id": cls.team_a.id, "user_id": cls.user_salesman.id})
        cls.lead_b = Lead.create(
            {
                "name": "Lead B",
                "team_id": cls.team_b.id,
                "user_id": cls.user_other_salesman.id,
                "partner_id": cls.partner_b_lead.id,
            }
        )
        # unassigned: Odoo's own "Personal Leads" rule shows it to every salesperson
        cls.lead_b_unassigned = Lead.create({"name": "Lead B unassigned", "team_id": cls.team_b.id, "user_id": False})
        cls.test_partners = cls.partner_a | cls.partner_a_contact | cls.partner_b | cls.partner_b_lead
        cls.test_leads = cls.lead_a | cls.lead_b | cls.lead_b_unassigned

    def _set_perimeter(self, enabled):
        self.env["ir.config_parameter"].set_param("gdpr_crm.perimeter_enabled", "True" if enabled else "False")

    def test_salesperson_sees_only_their_perimeter(self):
        self._set_perimeter(True)
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        domain = [("id", "in", self.test_partners.ids)]
        # search and count
        self.assertEqual(Partner.search(domain), self.partner_a | self.partner_a_contact)
        self.assertEqual(Partner.search_count(domain), 2)
        self.assertEqual(Partner.search_count([("name", "ilike", "Bernard")]), 0)
        self.assertEqual(Partner._read_group(domain, aggregates=["__count"])[0][0], 2)
        lead_domain = [("id", "in", self.test_leads.ids)]
        self.assertEqual(Lead.search(lead_domain), self.lead_a)
        self.assertEqual(Lead.search_count(lead_domain), 1)
        # read
        with self.assertRaises(AccessError):
            self.partner_b.with_user(self.user_salesman).read(["name"])
        with self.assertRaises(AccessError):
            self.partner_b_lead.with_user(self.user_salesman).read(["email"])
        with self.assertRaises(AccessError):
            self.lead_b.with_user(self.user_salesman).read(["name"])
        with self.assertRaises(AccessError):
            self.lead_b_unassigned.with_user(self.user_salesman).read(["name"])
        # export: of what they can search, and of a record they name
        exported = Partner.search(domain).export_data(["name", "email"])["datas"]
        self.assertEqual(sorted(row[0] for row in exported), ["Alice A", "Anna A"])
        with self.assertRaises(AccessError):
            self.partner_b.with_user(self.user_salesman).export_data(["name", "email"])
        with self.assertRaises(AccessError):
            self.lead_b.with_user(self.user_salesman).export_data(["name"])
        self.assertEqual(self.partner_a.with_user(self.user_salesman).gdpr_in_perimeter, True)
        # Odoo keeps working: their own and their colleagues' partners, the company
        self.assertTrue(Partner.search_count([("id", "=", self.user_other_salesman.partner_id.id)]))
        self.assertTrue(Partner.search_count([("id", "=", self.company.partner_id.id)]))

    def test_consents_follow_the_perimeter(self):
        purpose = self.env.ref("gdpr_crm.purpose_newsletter")
        Consent = self.env["gdpr.consent"]
        consent_a = Consent.create({"partner_id": self.partner_a.id, "purpose_id": purpose.id})
        consent_b = Consent.create({"partner_id": self.partner_b.id, "purpose_id": purpose.id})
        consent_lead_b = Consent.create(
            {"lead_id": self.lead_b_unassigned.id, "email": "lead.b@example.com", "purpose_id": purpose.id}
        )
        consents = consent_a | consent_b | consent_lead_b
        events = self.env["gdpr.consent.event"].search([("consent_id", "in", consents.ids)])
        self.assertTrue(events)
        self._set_perimeter(True)
        as_salesman = Consent.with_user(self.user_salesman)
        self.assertEqual(as_salesman.search([("id", "in", consents.ids)]), consent_a)
        with self.assertRaises(AccessError):
            consent_b.with_user(self.user_salesman).read(["state"])
        visible_events = self.env["gdpr.consent.event"].with_user(self.user_salesman).search([("id", "in", events.ids)])
        self.assertEqual(visible_events.consent_id, consent_a)
        # the DPO sees every consent, and without the perimeter so does the salesperson
        self.assertEqual(Consent.with_user(self.user_dpo).search([("id", "in", consents.ids)]), consents)
        self._set_perimeter(False)
        self.assertEqual(as_salesman.search([("id", "in", consents.ids)]), consents)

    def test_team_members_share_the_perimeter(self):
        self._set_perimeter(True)
        self.team_b.write({"member_ids": [(4, self.user_salesman.id)]})
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        self.assertEqual(Partner.search([("id", "in", self.test_partners.ids)]), self.test_partners)
        # the team's unassigned lead; a colleague's own lead stays theirs (Odoo's rule)
        self.assertEqual(Lead.search([("id", "in", self.test_leads.ids)]), self.lead_a | self.lead_b_unassigned)

    def test_created_contact_stays_visible(self):
        self._set_perimeter(True)
        partner = self.env["res.partner"].with_user(self.user_salesman).create({"name": "New prospect"})
        self.assertEqual(partner.read(["name"])[0]["name"], "New prospect")

    def test_option_off_restores_odoo_rules(self):
        self._set_perimeter(False)
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        self.assertEqual(Partner.search_count([("id", "in", self.test_partners.ids)]), 4)
        self.assertEqual(Lead.search([("id", "in", self.test_leads.ids)]), self.lead_a | self.lead_b_unassigned)

    def test_managers_dpo_and_portal_are_not_restricted_by_the_option(self):
        self._set_perimeter(True)
        self.assertEqual(
            self.env["res.partner"].with_user(self.user_manager).search_count([("id", "in", self.test_partners.ids)]), 4
        )
        self.assertEqual(
            self.env["crm.lead"].with_user(self.user_manager).search_count([("id", "in", self.test_leads.ids)]), 3
        )
        self.assertEqual(
            self.env["res.partner"].with_user(self.user_dpo).search_count([("id", "in", self.test_partners.ids)]), 4
        )
        # portal users keep Odoo's own rule: their commercial partner only
        portal_partners = (
            self.env["res.partner"].with_user(self.user_portal).search([("id", "in", self.test_partners.ids)])
        )
        self.assertFalse(portal_partners)
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(self.user_portal).search([])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRights(GdprCase):
    def test_dpo_rights(self):
        AuditLog = self.env["gdpr.audit.log"]
        entry = AuditLog._gdpr_log("request", description="for the DPO")
        self.assertIn(entry, AuditLog.with_user(self.user_dpo).search([]))
        self.assertIs(AuditLog.with_user(self.user_dpo).verify_chain(), False)
        self.env["gdpr.processing.activity"].with_user(self.user_dpo).check_access("create")
        self.env["gdpr.purpose"].with_user(self.user_dpo).check_access("write")
        self.env["gdpr.user.archive"].with_user(self.user_dpo).check_access("create")

    def test_salesperson_and_portal_rights(self):
        for user in (self.user_salesman, self.user_portal, self.user_employee):
            with self.assertRaises(AccessError):
                self.env["gdpr.audit.log"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["gdpr.processing.activity"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["gdpr.user.archive"].with_user(user).create({"user_ids": [(6, 0, user.ids)], "reason": "x"})
        # salespeople read purposes but do not change them
        self.env["gdpr.purpose"].with_user(self.user_salesman).check_access("read")
        with self.assertRaises(AccessError):
            self.env["gdpr.purpose"].with_user(self.user_salesman).check_access("write")
        with self.assertRaises(AccessError):
            self.env["gdpr.purpose"].with_user(self.user_portal).search([])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestSensitiveFields(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Luc Petit", "comment": "<p>Allergic to penicillin</p>"})
        cls.lead = cls.env["crm.lead"].create({"name": "Deal", "description": "<p>Going through a divorce</p>"})
        cls.env["ir.config_parameter"].set_param(
            "gdpr_crm.sensitive_field_group_ids", str(cls.env.ref("gdpr_crm.group_gdpr_dpo").id)
        )

    def test_only_chosen_groups_read_sensitive_notes(self):
        partner = self.partner.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            partner.read(["comment"])
        with self.assertRaises(AccessError):
            self.lead.with_user(self.user_salesman).read(["description"])
        self.assertNotIn("comment", partner.read()[0])
        self.assertNotIn("comment", partner.fields_get())
        arch = partner.get_view(self.env.ref("base.view_partner_form").id, "form")["arch"]
        self.assertNotIn('name="comment"', arch)
        self.user_salesman.write({"groups_id": [(4, self.env.ref("base.group_allow_export").id)]})
        with self.assertRaises(AccessError):
            partner.export_data(["name", "comment"])
        # the chosen group reads them
        self.assertIn("penicillin", self.partner.with_user(self.user_dpo).read(["comment"])[0]["comment"])
        admin = self.env.ref("base.user_admin")  # a DPO with access to the CRM
        self.assertIn("divorce", self.lead.with_user(admin).read(["description"])[0]["description"])

    def test_no_restriction_by_default(self):
        self.env["ir.config_parameter"].set_param("gdpr_crm.sensitive_field_group_ids", "")
        self.assertIn("penicillin", self.partner.with_user(self.user_salesman).read(["comment"])[0]["comment"])

    def test_setting_stores_the_groups(self):
        settings = self.env["res.config.settings"].create(
            {"gdpr_sensitive_group_ids": [(6, 0, self.env.ref("sales_team.group_sale_manager").ids)]}
        )
        settings.execute()
        self.assertEqual(
            self.env["res.users"]._gdpr_sensitive_group_ids(), self.env.ref("sales_team.group_sale_manager").ids
        )


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAccessReview(GdprCase):
    def _set_last_login(self, user, days_ago):
        self.env["res.users.log"].with_user(user).sudo().create({})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_users_log SET create_date = %s WHERE create_uid = %s",
            (fields.Datetime.now() - timedelta(days=days_ago), user.id),
        )
        user.invalidate_recordset()

    def test_access_review_flags_inactive_and_never_logged_users(self):
        self._set_last_login(self.user_salesman, 200)
        self._set_last_login(self.user_dpo, 2)
        users = self.user_salesman | self.user_dpo | self.user_employee
        self.assertTrue(self.user_salesman.gdpr_inactive)
        self.assertEqual(self.user_salesman.gdpr_days_inactive, 200)
        self.assertFalse(self.user_dpo.gdpr_inactive)
        self.assertFalse(self.user_dpo.gdpr_never_logged_in)
        self.assertTrue(self.user_employee.gdpr_never_logged_in)
        flagged = self.env["res.users"]._gdpr_access_review_users()
        self.assertIn(self.user_salesman, flagged)
        self.assertIn(self.user_employee, flagged)
        self.assertNotIn(self.user_dpo, flagged)
        self.assertNotIn(self.user_portal, flagged)
        self.assertEqual(users.filtered_domain([("gdpr_inactive", "=", True)]), self.user_salesman)
        self.assertEqual(
            self.env["res.users"].search([("id", "in", users.ids), ("gdpr_inactive", "=", True)]), self.user_salesman
        )
        Users = self.env["res.users"]
        self.assertEqual(
            Users.search([("id", "in", users.ids), ("gdpr_inactive", "!=", True)]), users - self.user_salesman
        )
        self.assertEqual(
            Users.search([("id", "in", users.ids), ("gdpr_never_logged_in", "=", True)]), self.user_employee
        )
        self.assertEqual(
            Users.search([("id", "in", users.ids), ("gdpr_never_logged_in", "=", False)]),
            self.user_salesman | self.user_dpo,
        )
        # the threshold comes from the settings
        self.env["ir.config_parameter"].set_param("gdpr_crm.inactive_user_days", 365)
        self.user_salesman.invalidate_recordset()
        self.assertFalse(self.user_salesman.gdpr_inactive)
        self.assertTrue(self.env.ref("base.user_admin").gdpr_is_admin)
        self.assertFalse(self.user_salesman.gdpr_is_admin)

    def test_shared_login_flag(self):
        AuditLog = self.env["gdpr.audit.log"]
        for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            AuditLog._gdpr_log("login", user=self.user_salesman, ip_address=ip)
        self.assertTrue(self.user_salesman.gdpr_shared_login)
        self.assertFalse(self.user_dpo.gdpr_shared_login)
        generic = mail_new_test_user(self.env, login="info@example.com", name="Info Desk", groups="base.group_user")
        self.assertTrue(generic.gdpr_shared_login)
        # logins of deleted users (user_id emptied) must not hide everyone from "not shared"
        for ip in ("10.0.1.1", "10.0.1.2", "10.0.1.3"):
            AuditLog._gdpr_log("login", user=self.env["res.users"].browse(), ip_address=ip)
        users = self.user_salesman | self.user_dpo | self.user_employee | generic
        Users = self.env["res.users"]
        self.assertEqual(
            Users.search([("id", "in", users.ids), ("gdpr_shared_login", "=", True)]), self.user_salesman | generic
        )
        self.assertEqual(
            Users.search([("id", "in", users.ids), ("gdpr_shared_login", "=", False)]),
            self.user_dpo | self.user_employee,
        )

    def test_weekly_mail_to_the_dpo(self):
        self._set_last_login(self.user_salesman, 200)
        mails = self.env["res.users"]._cron_access_review()
        self.assertTrue(mails)
        self.assertIn(self.user_dpo.partner_id, mails.recipient_ids)
        self.assertIn("Sally Salesman", str(mails.mapped("body_html")))
        self.assertTrue(self.env.ref("gdpr_crm.ir_cron_access_review").active)

    def test_archive_with_reason_is_logged(self):
        wizard = (
            self.env["gdpr.user.archive"]
            .with_user(self.user_dpo)
            .create({"user_ids": [(6, 0, self.user_salesman.ids)], "reason": "Left the company"})
        )
        wizard.action_archive()
        self.assertFalse(self.user_salesman.active)
        entry = self.env["gdpr.audit.log"].search([("event_type", "=", "access_change")], limit=1)
        self.assertEqual(entry.user_id, self.user_dpo)
        self.assertIn("Left the company", entry.description)

    def test_archive_bad_input(self):
        Wizard = self.env["gdpr.user.archive"].with_user(self.user_dpo)
        with self.assertRaisesRegex(UserError, "reason"):
            Wizard.create({"user_ids": [(6, 0, self.user_salesman.ids)], "reason": "   "}).action_archive()
        with self.assertRaisesRegex(UserError, "your own account"):
            Wizard.create({"user_ids": [(6, 0, self.user_dpo.ids)], "reason": "test"}).action_archive()
        admin = self.env.ref("base.user_admin")
        with self.assertRaisesRegex(UserError, "settings administrator"):
            Wizard.create({"user_ids": [(6, 0, admin.ids)], "reason": "test"}).action_archive()
        self.assertTrue(self.user_salesman.active)
        self.assertTrue(admin.active)

    def test_dpo_opens_the_access_review(self):
        action = self.env.ref("gdpr_crm.res_users_action_gdpr_access_review")
        Users = self.env["res.users"].with_user(self.user_dpo)
        views = Users.get_views([(action.view_id.id, "list"), (action.search_view_id.id, "search")])
        self.assertIn("gdpr_days_inactive", views["views"]["list"]["arch"])
        rows = Users.search_read(
            [("share", "=", False), ("gdpr_never_logged_in", "=", True)],
            ["name", "gdpr_main_groups", "gdpr_last_login", "gdpr_days_inactive", "gdpr_is_admin", "gdpr_shared_login"],
        )
        self.assertIn(self.user_employee.id, [row["id"] for row in rows])
        with self.assertRaises(AccessError):
            self.env["gdpr.audit.log"].with_user(self.user_salesman).verify_chain()

    def test_action_opens_the_wizard(self):
        action = self.user_salesman.action_gdpr_archive()
        self.assertEqual(action["res_model"], "gdpr.user.archive")
        self.assertEqual(action["context"]["default_user_ids"], [(6, 0, self.user_salesman.ids)])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAuditSettings(GdprCase):
    def test_inactive_threshold_must_be_positive(self):
        params = self.env["ir.config_parameter"]
        params.set_param("gdpr_crm.inactive_user_days", 90)
        for value in (0, -5):
            with self.assertRaisesRegex(ValidationError, "positive number of days"):
                self.env["res.config.settings"].create({"gdpr_inactive_user_days": value})
        self.assertEqual(params.get_param("gdpr_crm.inactive_user_days"), "90")

    def test_audit_log_retention_minimum(self):
        with self.assertRaisesRegex(ValidationError, "at least 180 days"):
            self.env["res.config.settings"].create({"gdpr_audit_log_retention_days": 30})
        settings = self.env["res.config.settings"].create({"gdpr_audit_log_retention_days": 400})
        settings.execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param("gdpr_crm.audit_log_retention_days"), "400")

    def test_perimeter_setting(self):
        self.env["res.config.settings"].create({"gdpr_perimeter_enabled": True}).execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param("gdpr_crm.perimeter_enabled"), "True")

    def test_two_factor_share(self):
        share = self.env["res.users"]._gdpr_totp_share()
        self.assertTrue(share["available"])
        self.env.cr.execute("UPDATE res_users SET totp_secret = 'ABCDEFGH' WHERE id = %s", (self.user_dpo.id,))
        after = self.env["res.users"]._gdpr_totp_share()
        self.assertEqual(after["with_2fa"], share["with_2fa"] + 1)
        self.assertEqual(after["users"], share["users"])
        self.assertAlmostEqual(after["percent"], round(100.0 * after["with_2fa"] / after["users"], 1))
        self.assertEqual(self.env["res.config.settings"].create({}).gdpr_totp_percent, after["percent"])


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPasswordPolicy(TransactionCase):
    def test_minimum_length_is_12_after_install(self):
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(int(params.get_param("auth_password_policy.minlength")), 12)
        with self.assertRaises(UserError):
            self.env["res.users"]._check_password_policy(["elevenchars"])
        self.env["res.users"]._check_password_policy(["twelve-chars"])
        # an administrator may choose more; installing again does not lower it
        params.set_param("auth_password_policy.minlength", 16)
        self.env["res.users"]._gdpr_set_password_minlength()
        self.assertEqual(int(params.get_param("auth_password_policy.minlength")), 16)
