# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


# ---- personal-data engine: mention index ----
class CrmLeadMention(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "gdpr.mention.mixin"]
