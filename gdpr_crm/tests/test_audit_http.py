# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAuditHttp(HttpCase):
    # /web/session/logout is a read-only route that opens a read/write cursor
    # of its own for the log entry (the primary database, in production). The
    # test cursors cannot nest that way, so read-only routes get test cursors
    # that can write.
    readonly_enabled = False

    def test_login_and_logout_are_logged(self):
        user = mail_new_test_user(
            self.env, login="gdpr_http_salesman", groups="sales_team.group_sale_salesman", name="Hugo Http"
        )
        AuditLog = self.env["gdpr.audit.log"]
        self.authenticate("gdpr_http_salesman", "gdpr_http_salesman")
        self.assertEqual(AuditLog.search_count([("event_type", "=", "login"), ("user_id", "=", user.id)]), 1)
        response = self.url_open("/web/session/logout", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        logout = AuditLog.search([("event_type", "=", "logout"), ("user_id", "=", user.id)])
        self.assertEqual(len(logout), 1)
        self.assertEqual(logout.res_id, user.id)
        self.assertEqual(logout.ip_address, "127.0.0.1")
        self.assertIs(AuditLog.verify_chain(), False)
