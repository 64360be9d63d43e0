# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import unittest

from access_export import HIDDEN_EMAIL, HIDDEN_NAME, HIDDEN_PHONE, excerpt, mask_text


class TestMaskText(unittest.TestCase):
    def test_other_people_hidden_subject_kept(self):
        text = "Jean Autre (jean.autre@example.com, 07 99 88 77 66) forwarded jeanne.sujet@example.com, 06 12 34 56 78."
        masked = mask_text(text, {"jeanne.sujet@example.com"}, {"612345678"}, ["Jean Autre"])
        self.assertNotIn("jean.autre", masked)
        self.assertNotIn("Jean Autre", masked)
        self.assertNotIn("07 99 88 77 66", masked)
        self.assertIn("jeanne.sujet@example.com", masked)
        self.assertIn("06 12 34 56 78", masked)
        self.assertIn(HIDDEN_EMAIL, masked)
        self.assertIn(HIDDEN_PHONE, masked)
        self.assertTrue(masked.startswith(HIDDEN_NAME))

    def test_dates_and_short_numbers_are_not_phones(self):
        text = "Meeting on 2024-01-02 10:30, order 12345."
        self.assertEqual(mask_text(text), text)

    def test_names_are_whole_words(self):
        self.assertEqual(mask_text("Jeanne met Jean", names=["Jean"]), "Jeanne met " + HIDDEN_NAME)
        self.assertEqual(mask_text("", names=["Jean"]), "")


class TestExcerpt(unittest.TestCase):
    def test_context_of_each_mention(self):
        text = "a" * 300 + " write to Jo@Example.com please " + "b" * 300
        found = excerpt(text, ["jo@example.com"], width=10)
        self.assertEqual(found, "… write to Jo@Example.com please bb…")

    def test_phone_key_matches_a_formatted_number(self):
        self.assertIn("06 12 34 56 78", excerpt("<p>Call 06 12 34 56 78 today</p>", ["612345678"], html=True))

    def test_nothing_found(self):
        self.assertEqual(excerpt("nothing here", ["jo@example.com"]), "")
        self.assertEqual(excerpt(False, ["jo@example.com"]), "")

    def test_overlapping_mentions_merge(self):
        self.assertEqual(excerpt("x jo@a.fr y jo@a.fr z", ["jo@a.fr"], width=5), "x jo@a.fr y jo@a.fr z")
