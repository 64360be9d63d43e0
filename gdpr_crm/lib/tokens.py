# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Secret link tokens: only their hash is ever stored.

A token is generated when the email carrying it is sent; the database keeps
its SHA-256 only, so that a copy of the database (a backup, a read-only
access, a leaked dump) holds no usable link.
"""

import hashlib
import hmac
import secrets

# Tokens longer than this are refused before hashing (no work for junk).
MAX_TOKEN_LENGTH = 128


def new_token():
    """A fresh random URL-safe token (256 bits of entropy)."""
    return secrets.token_urlsafe(32)


def hash_token(token):
    """The hex SHA-256 of ``token``, the only form in which it is stored."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def token_matches(stored_hash, token):
    """Whether ``token`` is the one whose hash is ``stored_hash`` (constant time)."""
    if not stored_hash or not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(stored_hash, hash_token(token))
