# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# The European Economic Area: the 27 member states of the European Union,
# then Iceland, Liechtenstein and Norway; then the EU's outermost regions and
# Åland, which Odoo lists as countries of their own but are part of the EU.
EEA_COUNTRY_CODES = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO "
    "GP MQ GF RE YT MF AX"
).split()


class ResCountry(models.Model):
    _inherit = "res.country"

    gdpr_eea = fields.Boolean(
        string="In the EEA",
        help="Member of the European Economic Area (the EU, Iceland, Liechtenstein and Norway): "
        "personal data flows freely there. A transfer to any other country needs a safeguard "
        "(adequacy decision, standard contractual clauses, binding corporate rules or a "
        "derogation of GDPR art. 49).",
    )

    @api.model
    def _gdpr_set_eea_countries(self):
        """Flag the countries of the EEA (run when the addon is installed or updated)."""
        self.search([("code", "in", EEA_COUNTRY_CODES), ("gdpr_eea", "=", False)]).gdpr_eea = True
