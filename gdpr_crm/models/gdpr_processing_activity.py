# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprProcessingActivity(models.Model):
    """An entry of the register of processing activities (GDPR art. 30)."""

    _name = "gdpr.processing.activity"
    _description = "Processing Activity"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    purpose_ids = fields.One2many("gdpr.purpose", "processing_activity_id", string="Purposes")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
