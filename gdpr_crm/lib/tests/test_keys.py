# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import unittest

from keys import derive_key, fingerprint, sign, verify

SECRET = "a master secret of enough length"


class TestKeys(unittest.TestCase):
    def test_labels_give_independent_keys(self):
        self.assertEqual(derive_key(SECRET, "audit"), derive_key(SECRET, "audit"))
        self.assertNotEqual(derive_key(SECRET, "audit"), derive_key(SECRET, "consent_event"))
        self.assertEqual(len(derive_key(SECRET, "token")), 32)

    def test_secrets_give_independent_keys(self):
        self.assertNotEqual(derive_key(SECRET, "audit"), derive_key(SECRET + "!", "audit"))
        self.assertNotEqual(fingerprint(SECRET), fingerprint(SECRET + "!"))
        self.assertNotIn(SECRET, fingerprint(SECRET))

    def test_short_secret_refused(self):
        with self.assertRaises(ValueError):
            derive_key("short", "audit")

    def test_sign_and_verify(self):
        key = derive_key(SECRET, "audit")
        signature = sign(key, "message")
        self.assertTrue(verify(key, "message", signature))
        self.assertFalse(verify(key, "message!", signature))
        self.assertFalse(verify(derive_key(SECRET, "other"), "message", signature))
        self.assertFalse(verify(key, "message", None))
