# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprSensitiveGuidance(models.TransientModel):
    """The page the sensitive-data warnings link to: what not to write in
    free-text fields, and why (text in its form view, translated)."""

    _name = "gdpr.sensitive.guidance"
    _description = "Sensitive Data Guidance"

    name = fields.Char(default="Guidance")
