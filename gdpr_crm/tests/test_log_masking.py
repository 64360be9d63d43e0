# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo.tests import HttpCase, TransactionCase, tagged


@tagged("post_install", "-at_install", "gdpr_crm")
class TestLogMasking(TransactionCase):
    def test_request_loggers_mask_public_link_tokens(self):
        """The HTTP server's request lines (logger werkzeug, as Odoo's server
        writes them) never show the token of a consent or download link."""
        for logger_name in ("werkzeug", "odoo.http"):
            with self.subTest(logger=logger_name), self.assertLogs(logger_name, level=logging.INFO) as logs:
                logging.getLogger(logger_name).info(
                    '127.0.0.1 - - [22/Nov/2026 10:00:00] "%s" %s %s',
                    "GET /gdpr/consent/NotARealToken-123 HTTP/1.1",
                    "200",
                    "-",
                )
            output = "\n".join(logs.output)
            self.assertIn("/gdpr/consent/[token]", output)
            self.assertNotIn("NotARealToken", output)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestLogMaskingHttp(HttpCase):
    def test_served_links_are_logged_without_their_token(self):
        for path in ("/gdpr/consent/NotARealToken-123", "/gdpr/download/NotARealToken-456"):
            with self.subTest(path=path), self.assertLogs("werkzeug", level=logging.INFO) as logs:
                self.url_open(path)
            output = "\n".join(logs.output)
            self.assertIn(path.rsplit("/", 1)[0] + "/[token]", output)
            self.assertNotIn("NotARealToken", output)
