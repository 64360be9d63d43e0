# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

AUTOMATIC_TYPES = ("access", "portability", "erasure", "restriction", "objection")
# The preview lists at most this many records of each kind (the export holds them all).
PREVIEW_LIMIT_PER_MODEL = 200


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
        """One line per record the export will hold: its kind, what it is to the
        subject (own, reference, mention) and what will be exported of it."""
        found = request._gdpr_subject_provenance()
        partners, emails, phones = request._gdpr_subject_criteria()
        Engine = self.env["gdpr.personal.data"].sudo()
        data = Engine._gdpr_export_data(
            found, ident=Engine._gdpr_export_identifiers(partners=partners, emails=emails, phones=phones)
        )
        relations = dict(self.env["gdpr.request.execute.line"]._fields["relation"]._description_selection(self.env))
        lines = []
        for model_data in data["models"]:
            for record in model_data["records"][:PREVIEW_LIMIT_PER_MODEL]:
                shown = [label for fname, label in model_data["fields"].items() if record["values"].get(fname)]
                exported = record["summary"] or self.env._("Its fields: %(fields)s", fields=", ".join(shown[:12]))
                lines.append(
                    {
                        "model": model_data["model"],
                        "model_description": model_data["name"],
                        "res_id": record["id"],
                        "name": record["display_name"] or model_data["name"],
                        "relation": record["relation"] if record["relation"] in relations else "mention",
                        "exported": exported,
                        "count": 1,
                    }
                )
        # found by a name only: possibly somebody else, not exported; listed for the DPO to check
        IrModel = self.env["ir.model"].sudo()
        for model_name, entries in sorted(found.items()):
            for res_id, entry in sorted(entries.items()) if isinstance(entries, dict) else ():
                if entry["relation"] == "name_mention":
                    label = IrModel._get(model_name).name or model_name
                    lines.append(
                        {
                            "model": model_name,
                            "model_description": label,
                            "res_id": res_id,
                            "name": label,
                            "relation": "name_mention",
                            "exported": self.env._("Not exported: check whether it is about this person."),
                            "count": 1,
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
    _order = "model_description, id"

    wizard_id = fields.Many2one("gdpr.request.execute", required=True, ondelete="cascade")
    model = fields.Char(string="Technical Name", readonly=True)
    model_description = fields.Char(string="Data", readonly=True)
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
    res_id = fields.Integer(string="Record ID", readonly=True)
    name = fields.Char(string="Record", readonly=True)
    relation = fields.Selection(
        [
            ("own", "Their data"),
            ("reference", "Lists them"),
            ("mention", "Mentions them"),
            ("name_mention", "Names someone like them"),
        ],
        string="Found As",
        readonly=True,
        help="Their data: exported with its personal fields. Lists them: only what concerns the person. "
        "Mentions them: only the passage that quotes them.",
    )
    exported = fields.Char(string="Exported", readonly=True)
    count = fields.Integer(string="Records", readonly=True, default=1)

    def action_open_record(self):
        """Open the record in its form, for the DPO to check it."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "new",
        }
