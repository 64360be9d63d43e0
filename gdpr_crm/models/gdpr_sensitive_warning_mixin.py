# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..lib import sensitive


class GdprSensitiveWarningMixin(models.AbstractModel):
    """A warning shown under a free-text field (contact notes, lead
    description) while it holds special-category data: recomputed as the
    salesperson types (on each change of the field), it never blocks saving.
    """

    _name = "gdpr.sensitive.warning.mixin"
    _description = "Sensitive Data Warning Mixin"
    #: the field watched (one per model)
    _gdpr_sensitive_text_field = None

    gdpr_sensitive_warning = fields.Html(
        string="Sensitive Data Warning",
        compute="_compute_gdpr_sensitive_warning",
        sanitize=False,
    )

    @api.depends(lambda self: [self._gdpr_sensitive_text_field] if self._gdpr_sensitive_text_field else [])
    def _compute_gdpr_sensitive_warning(self):
        finding_model = self.env["gdpr.sensitive.finding"]
        for record in self:
            text = record[self._gdpr_sensitive_text_field] if self._gdpr_sensitive_text_field else False
            categories = {f.category for f in sensitive.detect(text)} if text else set()
            record.gdpr_sensitive_warning = finding_model._gdpr_warning_html(categories) if categories else False
