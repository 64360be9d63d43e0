# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprSecurityMeasure(models.Model):
    """A technical or organisational security measure (GDPR art. 32), as the
    register of processing activities lists it (art. 30(1)(g))."""

    _name = "gdpr.security.measure"
    _description = "Security Measure"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to share the measure between all companies."
    )
