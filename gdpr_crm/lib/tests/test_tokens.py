# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import unittest

from tokens import MAX_TOKEN_LENGTH, hash_token, new_token, token_matches


class TestTokens(unittest.TestCase):
    def test_new_tokens_are_random_and_url_safe(self):
        tokens = {new_token() for _i in range(50)}
        self.assertEqual(len(tokens), 50)
        for token in tokens:
            self.assertGreaterEqual(len(token), 43)
            self.assertRegex(token, r"^[A-Za-z0-9_-]+$")

    def test_hash_is_sha256_hex_not_the_token(self):
        token = new_token()
        digest = hash_token(token)
        self.assertRegex(digest, r"^[0-9a-f]{64}$")
        self.assertNotIn(token, digest)
        self.assertEqual(digest, hash_token(token))

    def test_matches(self):
        token = new_token()
        digest = hash_token(token)
        self.assertTrue(token_matches(digest, token))
        self.assertFalse(token_matches(digest, token[:-1]))
        self.assertFalse(token_matches(digest, digest), "the stored hash is not a usable token")
        self.assertFalse(token_matches(False, token))
        self.assertFalse(token_matches(digest, ""))
        self.assertFalse(token_matches(hash_token("x" * 200), "x" * 200), "over-long tokens are refused")
        self.assertEqual(MAX_TOKEN_LENGTH, 128)


if __name__ == "__main__":
    unittest.main()
