# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Keep the secret tokens of gdpr_crm's public links out of the server log.

The links emailed to data subjects (double opt-in, preference centre, data
download) carry their secret in the URL path, and the HTTP server logs every
request line. Whoever reads the log could otherwise confirm a consent or
download somebody's data. ``install()`` masks those tokens in the records of
the request loggers; nothing else of the line changes.
"""

import logging
import re

TOKEN_PATH = re.compile(r"(/gdpr/(?:consent|preferences|download)/)[^/?#\s\"']+")
MASK = r"\1[token]"
LOGGERS = ("werkzeug", "odoo.http")


def mask_tokens(text):
    """``text`` with the token of every gdpr_crm public link replaced."""
    return TOKEN_PATH.sub(MASK, text) if "/gdpr/" in text else text


def _mask(value):
    return mask_tokens(value) if isinstance(value, str) else value


class TokenMaskingFilter(logging.Filter):
    """Rewrites a record's message and arguments; never drops a record."""

    def filter(self, record):
        record.msg = _mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _mask(arg) for key, arg in record.args.items()}
        return True


def install(logger_names=LOGGERS):
    """Add the filter to the request loggers, once."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, TokenMaskingFilter) for existing in logger.filters):
            logger.addFilter(TokenMaskingFilter())
