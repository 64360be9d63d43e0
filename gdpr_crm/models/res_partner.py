# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


# ---- personal-data engine: mention index ----
class ResPartnerMention(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "gdpr.mention.mixin"]
