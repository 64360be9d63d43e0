# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


# ---- sensitive data: warning under the description ----
class CrmLeadSensitive(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "gdpr.sensitive.warning.mixin"]
    _gdpr_sensitive_text_field = "description"
