# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import unittest

from personal_data import (
    extract_emails,
    extract_mentions,
    extract_phones,
    html_to_text,
    normalize_email,
    phone_key,
)


class TestEmails(unittest.TestCase):
    def test_normalize_email(self):
        self.assertEqual(normalize_email('"Jo Doe" <Jo.Doe@Example.COM>'), "jo.doe@example.com")
        self.assertEqual(normalize_email("  joe@example.com "), "joe@example.com")
        self.assertEqual(normalize_email("no address here"), "")
        self.assertEqual(normalize_email(False), "")

    def test_extract_from_html(self):
        body = (
            '<p>Call back <a href="mailto:Jo@Example.com">Jo</a>, '
            "or write to joe@example.com.</p><p>x&#64;y.fr is not decoded as text: "
            "jo&#64;example.org is.</p>"
        )
        self.assertEqual(
            extract_emails(body),
            {"jo@example.com", "joe@example.com", "x@y.fr", "jo@example.org"},
        )

    def test_similar_addresses_stay_distinct(self):
        emails = extract_emails("jo@example.com and joe@example.com and bjo@example.com")
        self.assertEqual(emails, {"jo@example.com", "joe@example.com", "bjo@example.com"})

    def test_no_false_email(self):
        self.assertEqual(extract_emails("meet @ noon, version 1.2@3"), set())
        self.assertEqual(extract_emails(""), set())
        self.assertEqual(extract_emails(None), set())


class TestPhones(unittest.TestCase):
    def test_phone_key_formats_agree(self):
        keys = {
            phone_key(number) for number in ("+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78", "(06) 12-34-56-78")
        }
        self.assertEqual(keys, {"612345678"})

    def test_phone_key_rejects_short_and_long(self):
        self.assertEqual(phone_key("12 34"), "")
        self.assertEqual(phone_key("1234567890123456"), "")
        self.assertEqual(phone_key(""), "")

    def test_extract_phones_from_html(self):
        body = "<p>Tel: +33&nbsp;6 12 34 56 78</p><p>Office: 01 23 45 67 89, order 42</p>"
        self.assertEqual(extract_phones(body), {"612345678", "123456789"})

    def test_dates_and_small_numbers_are_not_phones(self):
        self.assertEqual(extract_phones("On 2024-01-02 we sold 12 units for 350.00"), set())

    def test_extract_mentions(self):
        emails, phones = extract_mentions("Jo (jo@example.com, 06 12 34 56 78)")
        self.assertEqual(emails, {"jo@example.com"})
        self.assertEqual(phones, {"612345678"})


class TestHtmlToText(unittest.TestCase):
    def test_html_to_text(self):
        self.assertEqual(html_to_text("<p>a&amp;b</p>").strip(), "a&b")
        self.assertEqual(html_to_text(False), "")


if __name__ == "__main__":
    unittest.main()
