# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


# ---- sensitive data: warning under the internal notes ----
class ResPartnerSensitive(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "gdpr.sensitive.warning.mixin"]
    _gdpr_sensitive_text_field = "comment"
