# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprRequestReject(models.TransientModel):
    """Reject a privacy request; the reason is emailed to the requester (art. 12(4))."""

    _name = "gdpr.request.reject"
    _description = "Reject a Privacy Request"

    request_id = fields.Many2one("gdpr.request", required=True, ondelete="cascade")
    reason = fields.Text(
        required=True,
        help="Sent to the requester, with their right to lodge a complaint with the supervisory authority.",
    )

    def action_reject(self):
        self.ensure_one()
        self.request_id.action_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
