# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, fields, models

from ..lib import sensitive

GUIDANCE_URL = "/odoo/action-gdpr_crm.gdpr_sensitive_guidance_action"


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


class GdprSensitiveFindingWarning(models.Model):
    _inherit = "gdpr.sensitive.finding"

    @api.model
    def _gdpr_category_labels(self, categories):
        labels = dict(self._fields["category"]._description_selection(self.env))
        return [labels[c] for c in sensitive.CATEGORIES if c in categories]

    @api.model
    def _gdpr_warning_text(self, categories):
        return self.env._(
            "This text seems to hold %(categories)s. Following the CNIL, free-text fields must only hold "
            "objective, relevant facts needed for the relationship: never health, origins, opinions, beliefs, "
            "union membership, sex life, offences or bank and social security numbers. "
            "Please remove it unless the law allows it.",
            categories=", ".join(self._gdpr_category_labels(categories)),
        )

    @api.model
    def _gdpr_warning_html(self, categories):
        return Markup(
            '<div class="alert alert-warning o_gdpr_sensitive_warning mb-2" role="alert">'
            "<strong>%s</strong> %s "
            '<a href="%s" target="_blank">%s</a></div>'
        ) % (
            self.env._("Sensitive data:"),
            escape(self._gdpr_warning_text(categories)),
            GUIDANCE_URL,
            self.env._("Read the guidance of the data-protection charter"),
        )

    @api.model
    def _gdpr_notify_user(self, user, categories):
        """Non-blocking notification to ``user`` (after a chatter note is posted)."""
        user._bus_send(
            "simple_notification",
            {
                "type": "warning",
                "sticky": True,
                "title": self.env._("Sensitive data in your note"),
                "message": self._gdpr_warning_text(categories)
                + " "
                + self.env._("See Privacy > Guidance."),
            },
        )
