# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Patterns matching a data subject's identifiers in text, for erasure.

Pure Python (no Odoo import). The patterns are written in the common subset
of Python's ``re`` and PostgreSQL's advanced regular expressions, so that
the same pattern scrubs a column in SQL (``regexp_replace(col, p, r, 'gi')``)
and is checked in Python.

- an email matches as a whole address, case-insensitively;
- a phone matches from its last 9 digits, with any separators people type
  (spaces, dots, dashes, slashes, brackets) and an optional international
  prefix or leading 0;
- a name or a street matches as the words given, with any run of spaces.
"""

import re

from .personal_data import PHONE_KEY_DIGITS, normalize_email, phone_key

REPLACEMENT = "[erased]"
# Between two digits of a phone number: up to 3 characters that are neither
# letters, digits nor markup.
_PHONE_SEP = "[^0-9a-zA-Z<>]{0,3}"
# Shorter names or streets are not scrubbed from free text (too many false hits).
MIN_TEXT_LENGTH = 4


def _literal(value):
    """``value`` escaped for both regex dialects (PostgreSQL refuses ``\\-``)."""
    escaped = []
    for char in value:
        if char.isalnum() or char in "@_-":
            escaped.append(char)
        elif char.isspace():
            escaped.append(" ")
        else:
            escaped.append("\\" + char)
    return "".join(escaped)


def email_pattern(email):
    email = normalize_email(email)
    if not email:
        return ""
    return _literal(email)


def phone_pattern(number):
    key = phone_key(number)
    if not key or len(key) < PHONE_KEY_DIGITS:
        return ""
    return _PHONE_SEP.join(key)


def text_pattern(value):
    value = " ".join((value or "").split())
    if len(value) < MIN_TEXT_LENGTH:
        return ""
    return _literal(value).replace(" ", "[[:space:]]+")


def subject_patterns(emails=(), phones=(), names=(), streets=()):
    """``{"email": [...], "phone": [...], "name": [...], "street": [...]}`` of
    distinct non-empty patterns, longest first (so that a longer match wins)."""
    result = {}
    for kind, builder, values in (
        ("email", email_pattern, emails),
        ("phone", phone_pattern, phones),
        ("name", text_pattern, names),
        ("street", text_pattern, streets),
    ):
        patterns = {p for p in (builder(v) for v in values or ()) if p}
        result[kind] = sorted(patterns, key=lambda p: (-len(p), p))
    return result


def combine(patterns):
    """One alternation of ``patterns``, or ``""``."""
    patterns = [p for p in patterns if p]
    if not patterns:
        return ""
    return "(" + "|".join(patterns) + ")"


def python_regex(pattern):
    """The Python ``re`` equivalent of a pattern built here."""
    return re.compile(pattern.replace("[[:space:]]", r"\s"), re.IGNORECASE)
