# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprRequestExtend(models.TransientModel):
    """Extend the deadline of a privacy request by two months, once (art. 12(3))."""

    _name = "gdpr.request.extend"
    _description = "Extend a Privacy Request"

    request_id = fields.Many2one("gdpr.request", required=True, ondelete="cascade")
    date_deadline = fields.Date(related="request_id.date_deadline", string="Current Deadline")
    reason = fields.Text(
        required=True,
        help="Why more time is needed (complexity, number of requests): sent to the requester.",
    )

    def action_extend(self):
        self.ensure_one()
        self.request_id.action_extend(self.reason)
        return {"type": "ir.actions.act_window_close"}
