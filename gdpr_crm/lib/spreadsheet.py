# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""CSV cells that a spreadsheet opens as text, never as a formula."""

# A cell starting with one of these is run as a formula by Excel, LibreOffice
# and Google Sheets (CSV injection, OWASP): "=HYPERLINK(...)" typed into a web
# form must not become a live link in the export a person or the DPO opens.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """``value`` for a CSV cell: text that could run as a formula is prefixed
    with an apostrophe, which spreadsheets show as plain text. Numbers and
    other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
