# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestSecurityGroups(GdprCase):
    def test_salesperson_is_privacy_user(self):
        self.assertTrue(self.user_salesman.has_group("gdpr_crm.group_gdpr_user"))
        self.assertFalse(self.user_salesman.has_group("gdpr_crm.group_gdpr_dpo"))

    def test_dpo_implies_user(self):
        self.assertTrue(self.user_dpo.has_group("gdpr_crm.group_gdpr_user"))
        self.assertIn(
            self.env.ref("gdpr_crm.group_gdpr_user"),
            self.env.ref("gdpr_crm.group_gdpr_dpo").implied_ids,
        )

    def test_settings_admin_is_dpo(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("gdpr_crm.group_gdpr_dpo"))
        self.user_employee.write({"groups_id": [(4, self.env.ref("base.group_system").id)]})
        self.assertTrue(self.user_employee.has_group("gdpr_crm.group_gdpr_dpo"))

    def test_plain_employee_and_portal_have_no_privacy_group(self):
        self.assertFalse(self.user_employee.has_group("gdpr_crm.group_gdpr_user"))
        self.assertFalse(self.user_portal.has_group("gdpr_crm.group_gdpr_user"))

    def test_privacy_menu_visibility(self):
        root = self.env.ref("gdpr_crm.menu_gdpr_root")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(root.id, Menu.with_user(self.user_dpo)._visible_menu_ids())
        self.assertNotIn(root.id, Menu.with_user(self.user_employee)._visible_menu_ids())
        config = self.env.ref("gdpr_crm.menu_gdpr_config")
        self.assertIn(config.id, Menu.with_user(self.user_dpo)._visible_menu_ids())
        self.assertNotIn(config.id, Menu.with_user(self.user_salesman)._visible_menu_ids())

    def test_audit_log_entry_readable_by_dpo_only(self):
        entry = self.env["gdpr.audit.log"]._gdpr_log("request", model="res.partner", res_id=1, description="test entry")
        self.assertEqual(entry.user_id, self.env.user)
        self.assertEqual(entry.company_id, self.env.company)
        self.assertEqual(entry.with_user(self.user_dpo).read(["description"])[0]["description"], "test entry")
        with self.assertRaises(AccessError):
            entry.with_user(self.user_salesman).read(["description"])
        with self.assertRaises(AccessError):
            entry.with_user(self.user_portal).read(["description"])
