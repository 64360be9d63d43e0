# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Find and normalize the email addresses and phone numbers written in text.

Pure Python (no Odoo import): used by the personal-data engine to index what
message bodies, notes and descriptions mention, and to compare it with what a
data subject's contact fields hold.

- Emails are normalized the way Odoo's ``email_normalized`` is for ASCII
  addresses: trimmed and lowercased, without a display name
  (``"Jo <Jo@Example.COM>"`` gives ``jo@example.com``).
- Phones are reduced to a *phone key*: the last :data:`PHONE_KEY_DIGITS`
  digits of the number. ``+33 6 12 34 56 78``, ``0033612345678`` and
  ``06.12.34.56.78`` all give ``612345678``, so a number written with or
  without its country prefix matches the sanitized (E.164) number of a
  contact. Sequences of fewer than :data:`PHONE_MIN_DIGITS` digits are not
  phone numbers.
"""

import html
import re

PHONE_KEY_DIGITS = 9
PHONE_MIN_DIGITS = 9
PHONE_MAX_DIGITS = 15

# Local part and domain as found in free text; deliberately a bit lenient,
# the result is only ever compared with a subject's own addresses.
_EMAIL_RE = re.compile(
    r"(?<![\w.+-])([\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,63})(?![\w-])",
    re.IGNORECASE,
)
# A run of digits with the separators people type in phone numbers.
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \u00a0.\-/()]{5,24}\d(?!\w)")
# ISO dates and times (2024-01-02, 2024-01-02 10:30) are not phone numbers.
_DATE_RE = re.compile(r"^\d{4}[-/.]\d{2}[-/.]\d{2}")
_TAG_RE = re.compile(r"<[^>]*>")
_NON_DIGIT_RE = re.compile(r"\D")


def html_to_text(value):
    """Return the text of an HTML fragment: tags become spaces, entities are decoded.

    Email addresses kept in attributes (``href="mailto:…"``) are lost for
    the text but found by :func:`extract_emails`, which also reads the raw
    markup.
    """
    if not value:
        return ""
    return html.unescape(_TAG_RE.sub(" ", value))


def normalize_email(value):
    """Return the normalized address of ``value`` (``"Name <a@B.com>"`` → ``a@b.com``), or ``""``."""
    if not value:
        return ""
    found = _EMAIL_RE.findall(value)
    if not found:
        return ""
    return found[0].strip(".").lower()


def phone_key(value):
    """Return the comparable key of a phone number: its last 9 digits, or ``""``.

    ``value`` may be formatted any way (spaces, dots, dashes, parentheses,
    ``+33`` or ``0033`` prefix).
    """
    if not value:
        return ""
    digits = _NON_DIGIT_RE.sub("", value)
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        return ""
    return digits[-PHONE_KEY_DIGITS:]


def extract_emails(value):
    """Return the set of normalized email addresses found in text or HTML."""
    if not value:
        return set()
    text = html.unescape(value) if ("&" in value) else value
    return {email.strip(".").lower() for email in _EMAIL_RE.findall(text)}


def extract_phones(value):
    """Return the set of phone keys of the phone numbers found in text or HTML."""
    if not value:
        return set()
    text = html_to_text(value) if "<" in value or "&" in value else value
    keys = set()
    for candidate in _PHONE_RE.findall(text):
        if _DATE_RE.match(candidate):
            continue
        key = phone_key(candidate)
        if key:
            keys.add(key)
    return keys


def extract_mentions(value):
    """Return ``(emails, phone_keys)`` mentioned in text or HTML, as two sets."""
    return extract_emails(value), extract_phones(value)
