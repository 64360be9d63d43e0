# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
from unittest.mock import patch

from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


class GdprCase(TransactionCase):
    """Users every gdpr_crm test needs: a salesperson, a DPO, a portal user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.ref("base.main_company")
        # ---- audit ----
        # gdpr_crm raises the password minimum to 12 characters on install; the
        # test users get their login as password, which is shorter.
        cls.env["ir.config_parameter"].sudo().set_param("auth_password_policy.minlength", 8)
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="gdpr_salesman",
            name="Sally Salesman",
            email="sally@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.user_dpo = mail_new_test_user(
            cls.env,
            login="gdpr_dpo",
            name="Dora DPO",
            email="dora@example.com",
            groups="base.group_user,gdpr_crm.group_gdpr_dpo",
        )
        cls.user_portal = mail_new_test_user(
            cls.env,
            login="gdpr_portal",
            name="Paul Portal",
            email="paul@example.com",
            groups="base.group_portal",
        )
        cls.user_employee = mail_new_test_user(
            cls.env,
            login="gdpr_employee",
            name="Emma Employee",
            email="emma@example.com",
            groups="base.group_user",
        )

    # ---- registers ----
    @contextlib.contextmanager
    def assertRefused(self, exception, pattern):
        """Like assertRaisesRegex, but inside the savepoint of Odoo's
        assertRaises (rolled back on the error), so that the test can then
        check what was kept."""
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertRegex(str(catcher.exception), pattern)

    # ---- erasure, suppression ----
    @contextlib.contextmanager
    def mock_smtp(self):
        """Capture what would leave through SMTP."""
        outgoing = []

        def send_email(server, message, *args, **kwargs):
            outgoing.append(message)
            return message["Message-Id"]

        with patch.object(type(self.env["ir.mail_server"]), "send_email", send_email):
            yield outgoing
