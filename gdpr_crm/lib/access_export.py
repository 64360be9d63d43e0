# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Keep other people out of a data subject's access answer (GDPR art. 15(4)).

Pure Python (no Odoo import): the access export reduces the texts it shows
(a message that quotes the subject, a note about them) with these helpers.

- :func:`mask_text` hides, in a text, every email address and phone number
  that is not the subject's, and the names given (other people's names).
- :func:`excerpt` keeps the context of a mention of the subject: the words
  around each of its occurrences, masked.
"""

import re

try:  # as a package (Odoo), or alone (the pure Python tests run from lib/)
    from .personal_data import _DATE_RE, _EMAIL_RE, _PHONE_RE, PHONE_MIN_DIGITS, html_to_text, phone_key
except ImportError:  # pragma: no cover
    from personal_data import _DATE_RE, _EMAIL_RE, _PHONE_RE, PHONE_MIN_DIGITS, html_to_text, phone_key

HIDDEN_EMAIL = "[…@…]"
HIDDEN_PHONE = "[…]"
HIDDEN_NAME = "[…]"
_SPACES_RE = re.compile(r"\s+")


def _names_re(names):
    names = sorted({n.strip() for n in names or () if n and len(n.strip()) >= 3}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE)


def mask_text(text, keep_emails=(), keep_phone_keys=(), names=()):
    """Return ``text`` with the emails, phones and ``names`` of other people hidden.

    :param keep_emails: the subject's normalized addresses, left as they are
    :param keep_phone_keys: the subject's phone keys (see ``phone_key``), kept
    :param names: other people's names, hidden wherever they appear (whole words)
    """
    if not text:
        return text or ""
    keep_emails = {e.lower() for e in keep_emails}
    keep_phone_keys = set(keep_phone_keys)

    def email(match):
        return match.group(0) if match.group(1).strip(".").lower() in keep_emails else HIDDEN_EMAIL

    def phone(match):
        value = match.group(0)
        digits = re.sub(r"\D", "", value)
        if len(digits) < PHONE_MIN_DIGITS or _DATE_RE.match(value):
            return value
        return value if phone_key(value) in keep_phone_keys else HIDDEN_PHONE

    text = _EMAIL_RE.sub(email, text)
    text = _PHONE_RE.sub(phone, text)
    names_re = _names_re(names)
    if names_re:
        text = names_re.sub(HIDDEN_NAME, text)
    return text


def excerpt(text, needles, width=100, html=False):
    """The context of each occurrence of ``needles`` (case-insensitive) in ``text``.

    :param width: characters kept on each side of an occurrence
    :param html: ``text`` is HTML: its text is searched
    :return: the passages, joined with `` … ``; ``""`` when none is found
    """
    if not text:
        return ""
    if html:
        text = html_to_text(text)
    text = _SPACES_RE.sub(" ", text).strip()
    needles = [n for n in needles or () if n]
    spans = []
    for needle in needles:
        pattern = re.escape(needle) if not needle.isdigit() else r"\D*".join(needle)
        for match in re.finditer(pattern, text, re.IGNORECASE):
            spans.append((max(0, match.start() - width), min(len(text), match.end() + width)))
    if not spans:
        return ""
    spans.sort()
    merged = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts = []
    for start, end in merged:
        part = text[start:end]
        if start > 0:
            part = "…" + part
        if end < len(text):
            part += "…"
        parts.append(part)
    return " ".join(parts)
