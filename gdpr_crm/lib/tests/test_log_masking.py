# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import unittest

from log_masking import TokenMaskingFilter, install, mask_tokens


class TestLogMasking(unittest.TestCase):
    def test_tokens_of_public_links_are_masked(self):
        line = "GET /gdpr/consent/Abc-123_xyz HTTP/1.1"
        self.assertEqual(mask_tokens(line), "GET /gdpr/consent/[token] HTTP/1.1")
        self.assertEqual(
            mask_tokens("POST /gdpr/preferences/42-deadbeef?lang=fr"), "POST /gdpr/preferences/[token]?lang=fr"
        )
        self.assertEqual(mask_tokens("GET /gdpr/download/s3cr3t/17 HTTP/1.1"), "GET /gdpr/download/[token]/17 HTTP/1.1")

    def test_other_paths_untouched(self):
        for line in ("GET /web/login HTTP/1.1", "GET /gdpr/request HTTP/1.1", "GET /my/privacy HTTP/1.1"):
            self.assertEqual(mask_tokens(line), line)

    def test_filter_rewrites_arguments_and_keeps_the_record(self):
        record = logging.LogRecord(
            "werkzeug", logging.INFO, __file__, 1, '127.0.0.1 - - "%s" %s %s',
            ("GET /gdpr/consent/very-secret HTTP/1.1", "200", "-"), None,
        )  # fmt: skip
        self.assertTrue(TokenMaskingFilter().filter(record))
        self.assertEqual(record.getMessage(), '127.0.0.1 - - "GET /gdpr/consent/[token] HTTP/1.1" 200 -')
        self.assertNotIn("very-secret", record.getMessage())

    def test_install_adds_one_filter(self):
        logger_name = "gdpr_crm.test.masking"
        install((logger_name,))
        install((logger_name,))
        filters = [f for f in logging.getLogger(logger_name).filters if isinstance(f, TokenMaskingFilter)]
        self.assertEqual(len(filters), 1)


if __name__ == "__main__":
    unittest.main()
