# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every key of gdpr_crm, derived from one master secret.

The master secret is ``gdpr_crm_secret`` in the Odoo server configuration
file, outside the database: whoever holds a copy of the database (a dump, a
read-only access, an administrator over RPC) cannot re-sign forged history or
reverse the suppression list's hashes. Each use gets its own key, derived
with HKDF-SHA256 and a label (``"audit"``, ``"consent_event"``, ``"token"``,
``"suppression"``...), so that a key leaked for one use opens no other.

A master secret is identified by its fingerprint (not the secret): entries
signed with it record the fingerprint, so that after a rotation they stay
verifiable with the old secret kept in the configuration.
"""

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_LENGTH = 32
SALT = b"gdpr_crm keys v1"
# A master secret shorter than this is refused: it could be guessed.
MIN_SECRET_LENGTH = 16


def _as_bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def derive_key(master_secret, label):
    """The 32-byte key for ``label`` derived from ``master_secret`` (HKDF-SHA256)."""
    master = _as_bytes(master_secret)
    if len(master) < MIN_SECRET_LENGTH:
        raise ValueError(f"the master secret must have at least {MIN_SECRET_LENGTH} characters")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=SALT, info=_as_bytes(label))
    return hkdf.derive(master)


def fingerprint(master_secret):
    """A short public identifier of ``master_secret`` (16 hex characters)."""
    return derive_key(master_secret, "fingerprint").hex()[:16]


def sign(key, message):
    """The hex HMAC-SHA256 of ``message`` (str or bytes) under ``key``."""
    return hmac.new(key, _as_bytes(message), hashlib.sha256).hexdigest()


def verify(key, message, signature):
    """Whether ``signature`` is the HMAC of ``message`` under ``key`` (constant time)."""
    if not isinstance(signature, str) or not signature:
        return False
    return hmac.compare_digest(sign(key, message), signature)


def consteq(first, second):
    """Constant-time comparison of two strings."""
    if not isinstance(first, str) or not isinstance(second, str):
        return False
    return hmac.compare_digest(first.encode(), second.encode())
