# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

AUTOMATIC_TYPES = ("access", "portability", "erasure", "restriction", "objection")


class GdprRequestExecute(models.TransientModel):
    """Show the DPO what the request will act on, then execute it and answer."""

    _name = "gdpr.request.execute"
    _description = "Execute a Privacy Request"

    request_id = fields.Many2one("gdpr.request", required=True, ondelete="cascade")
    request_type = fields.Selection(related="request_id.request_type")
    is_automatic = fields.Boolean(compute="_compute_is_automatic")
    already_executed = fields.Boolean(compute="_compute_is_automatic")
    line_ids = fields.One2many("gdpr.request.execute.line", "wizard_id", string="Found", readonly=True)
    total_count = fields.Integer(string="Records Found", compute="_compute_total_count")
    send_response = fields.Boolean(
        string="Send the answer",
        default=True,
        help="Email the answer to the requester, with a personal download link to the files (never the files "
        "themselves).",
    )
    response = fields.Html(string="Answer", help="Included in the email to the requester.")

    @api.depends("request_id")
    def _compute_is_automatic(self):
        for wizard in self:
            wizard.is_automatic = wizard.request_type in AUTOMATIC_TYPES
            wizard.already_executed = bool(wizard.request_id.date_executed)

    @api.depends("line_ids.count")
    def _compute_total_count(self):
        for wizard in self:
            wizard.total_count = sum(wizard.line_ids.mapped("count"))

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        request = self.env["gdpr.request"].browse(values.get("request_id"))
        if request:
            values.setdefault("response", request.response)
            if "send_response" in fields_list and (not request.requester_email or request.request_type == "erasure"):
                # an erasure removes the requester's address too: answer before, or by another channel
                # nowhere to email it: the answer goes by post or by hand
                values["send_response"] = False
            if "line_ids" in fields_list and request.request_type in AUTOMATIC_TYPES and not request.date_executed:
                if request.request_type == "erasure":
                    lines = self.env["gdpr.erasure"]._gdpr_preview(request)
                elif request.request_type in ("access", "portability"):
                    lines = self._gdpr_preview_lines(request)
                else:
                    lines = []
                values["line_ids"] = [
                    fields.Command.create({k: v for k, v in vals.items() if k != "action_label"}) for vals in lines
                ]
        return values

    @api.model
    def _gdpr_preview_lines(self, request):
        """One line per model holding the subject's data: its label and count."""
        found = request._gdpr_find_subject_data()
        models_by_name = {m.model: m for m in self.env["ir.model"].sudo().search([("model", "in", list(found))])}
        lines = []
        for model_name, ids in sorted(found.items()):
            if not ids:
                continue
            ir_model = models_by_name.get(model_name)
            lines.append(
                {
                    "model": model_name,
                    "model_description": ir_model.name if ir_model else model_name,
                    "count": len(ids),
                }
            )
        return lines

    def action_execute(self):
        """Execute the request (once), store the answer, and send it when asked."""
        self.ensure_one()
        request = self.request_id
        if self.is_automatic and not request.date_executed:
            request.action_execute()
        if self.response:
            request.response = self.response
        if self.send_response:
            request.action_send_response()
        return {
            "type": "ir.actions.act_window",
            "res_model": "gdpr.request",
            "res_id": request.id,
            "view_mode": "form",
            "target": "current",
        }


class GdprRequestExecuteLine(models.TransientModel):
    _name = "gdpr.request.execute.line"
    _description = "Privacy Request Preview Line"
    _order = "count desc, model"

    wizard_id = fields.Many2one("gdpr.request.execute", required=True, ondelete="cascade")
    model = fields.Char(string="Technical Name", readonly=True)
    model_description = fields.Char(string="Data", readonly=True)
    count = fields.Integer(string="Records", readonly=True)
    action = fields.Selection(
        [
            ("delete", "Delete"),
            ("anonymize", "Anonymize"),
            ("scrub", "Scrub mentions"),
            ("keep", "Keep (legal hold)"),
            ("name_mention", "Mentions the name"),
        ],
        readonly=True,
        help="What the erasure does with these records.",
    )
    reason = fields.Char(readonly=True, help="Why the records are kept.")
