# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


# ---- sensitive data: warning under the internal notes ----
class ResPartnerSensitive(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "gdpr.sensitive.warning.mixin"]
    _gdpr_sensitive_text_field = "comment"

    @api.model
    def _gdpr_sensitive_fields(self):
        # whoever may not read the text may not read the warning computed from it either
        fields = super()._gdpr_sensitive_fields()
        if self._gdpr_sensitive_text_field in fields:
            fields = frozenset(fields) | {"gdpr_sensitive_warning"}
        return fields
