# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bounds of the values gdpr_crm accepts (pure Python, no Odoo import).

Every number that becomes a date has an upper bound, and every date a range,
so that no input can make a later computation overflow (``year 18693 is out
of range``) or fill an index past PostgreSQL's limits.
"""

import datetime
import math

MIN_DATE = datetime.date(1970, 1, 1)
# how far ahead a date may lie (review dates, expiries)
MAX_YEARS_AHEAD = 20
MAX_INT = 2**31 - 1
MAX_FLOAT = 1e15

# longest text accepted, by kind of field
MAX_CODE = 64
MAX_EMAIL = 254  # RFC 5321
MAX_NAME = 256
MAX_CHAR = 1024
MAX_TEXT = 100_000
MAX_HTML = 500_000

# A number of months or days that becomes a date: (minimum, maximum).
CONSENT_VALIDITY_MONTHS = (0, 120)
SETTINGS_BOUNDS = {
    "gdpr_crm.default_consent_validity_months": CONSENT_VALIDITY_MONTHS,
    "gdpr_crm.opt_in_validity_days": (1, 90),
    "gdpr_crm.download_link_validity_days": (1, 365),
    "gdpr_crm.inactive_user_days": (1, 3650),
    # 0 keeps the log forever; otherwise between six months and twenty years
    "gdpr_crm.audit_log_retention_days": (0, 7300),
}


def max_date(today):
    """The latest date accepted, ``MAX_YEARS_AHEAD`` years after ``today``."""
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def is_int(value):
    """An integer, and not a boolean (``True`` is an ``int`` in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return (is_int(value) or isinstance(value, float)) and math.isfinite(value) and abs(value) <= MAX_FLOAT


def max_char_length(field_name, size=None):
    """The longest value of a Char field, from its size or its name."""
    if size:
        return size
    if field_name == "code" or field_name.endswith("_code"):
        return MAX_CODE
    if "email" in field_name:
        return MAX_EMAIL
    if field_name == "name" or field_name.endswith("_name"):
        return MAX_NAME
    return MAX_CHAR


def bounded_setting(key, value, default):
    """The integer value of a numeric setting, clamped to its bounds
    (``default`` when it is not a number)."""
    low, high = SETTINGS_BOUNDS[key]
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def is_vals_list(value):
    """Whether ``value`` is what ``create`` takes: a list of dicts of field values."""
    return isinstance(value, list) and all(isinstance(vals, dict) for vals in value)
