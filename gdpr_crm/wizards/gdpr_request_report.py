# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..models.gdpr_request import CHANNELS, REQUEST_TYPES


class GdprRequestReport(models.TransientModel):
    """Report a privacy request to the DPO from a contact or a lead.

    Salespeople have no access to ``gdpr.request`` (requests can hold
    sensitive details): this wizard validates what they enter, then files the
    request as superuser, notes it on the contact or lead and gives the DPO an
    activity.
    """

    _name = "gdpr.request.report"
    _description = "Report a Privacy Request"

    partner_id = fields.Many2one("res.partner", string="Contact")
    lead_id = fields.Many2one("crm.lead", string="Lead")
    request_type = fields.Selection(REQUEST_TYPES, string="What does the person ask?", required=True, default="access")
    channel = fields.Selection(CHANNELS, string="Received By", required=True, default="email")
    date_received = fields.Date(string="Received On", required=True, default=fields.Date.context_today)
    requester_name = fields.Char(string="Requester Name")
    requester_email = fields.Char(string="Requester Email")
    description = fields.Text(
        string="Details",
        help="What the person asks, in their words. Do not copy sensitive details (health, etc.) here.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        record_id = self.env.context.get("active_id")
        if model == "res.partner" and record_id and not values.get("partner_id"):
            values["partner_id"] = record_id
        elif model == "crm.lead" and record_id and not values.get("lead_id"):
            values["lead_id"] = record_id
        return values

    @api.onchange("partner_id", "lead_id")
    def _onchange_subject(self):
        for wizard in self:
            if wizard.lead_id and not wizard.partner_id:
                wizard.partner_id = wizard.lead_id.partner_id
            subject = wizard.partner_id
            lead = wizard.lead_id
            wizard.requester_name = wizard.requester_name or subject.name or lead.contact_name or lead.partner_name
            wizard.requester_email = wizard.requester_email or subject.email or lead.email_from

    def _gdpr_request_vals(self):
        self.ensure_one()
        partner = self.partner_id or self.lead_id.partner_id
        vals = {
            "request_type": self.request_type,
            "channel": self.channel,
            "date_received": self.date_received,
            "partner_id": partner.id,
            "lead_id": self.lead_id.id,
            "requester_name": self.requester_name or partner.name or self.lead_id.contact_name,
            "requester_email": (self.requester_email or partner.email or self.lead_id.email_from or "").strip(),
            "description": self.description,
        }
        # The requester is written to in their language when it is known.
        lang = partner.lang or self.lead_id.lang_id.code
        if lang in dict(self.env["res.lang"].get_installed()):
            vals["lang"] = lang
        return vals

    def action_report(self):
        """Check, then file the request for the DPO and say so."""
        self.ensure_one()
        # The reporter must be able to see what they report on; the request
        # itself is then created as superuser (they have no access to it).
        for record in (self.partner_id, self.lead_id):
            if record:
                record.check_access("read")
        vals = self._gdpr_request_vals()
        # The reporter must not follow a request they cannot read.
        Request = self.env["gdpr.request"].sudo().with_context(mail_create_nosubscribe=True)
        Request._gdpr_validate_vals(vals)
        dpo_users = Request._gdpr_dpo_users(self.env.company)
        if not dpo_users:
            raise UserError(
                self.env._("Nobody is in the Data Protection Officer group: ask your administrator to name a DPO.")
            )
        request = Request.create(vals)
        request.message_post(
            body=self.env._("Reported by %(user)s.", user=self.env.user.name),
            subtype_xmlid="mail.mt_note",
        )
        types = dict(self._fields["request_type"]._description_selection(self.env))
        note = self.env._(
            "Privacy request %(name)s (%(type)s) reported to the DPO by %(user)s.",
            name=request.name,
            type=types[request.request_type],
            user=self.env.user.name,
        )
        for record in (self.partner_id, self.lead_id):
            if record:
                record.sudo().with_context(mail_create_nosubscribe=True).message_post(
                    body=note, subtype_xmlid="mail.mt_note", author_id=self.env.user.partner_id.id
                )
        for user in dpo_users:
            request.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self),
                summary=self.env._("New privacy request to process"),
                note=note,
                user_id=user.id,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Privacy request reported"),
                "message": self.env._(
                    "Request %(name)s was filed for the DPO, who must answer by %(date)s.",
                    name=request.name,
                    date=format_date(self.env, request.date_deadline),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
