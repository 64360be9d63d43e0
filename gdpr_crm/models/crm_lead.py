# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ---- requests ----
    gdpr_request_count = fields.Integer(
        string="Privacy Requests",
        compute="_compute_gdpr_request_count",
        groups="gdpr_crm.group_gdpr_dpo",
        help="Privacy requests reported from this lead or about its contact.",
    )

    def _gdpr_request_domain(self):
        domain = [("lead_id", "in", self.ids)]
        if self.partner_id:
            domain = ["|", *domain, ("partner_id", "in", self.partner_id.ids)]
        return domain

    def _compute_gdpr_request_count(self):
        leads = self.filtered("id")
        counts = dict.fromkeys(leads.ids, 0)
        if leads:
            data = (
                self.env["gdpr.request"]
                .sudo()
                ._read_group(leads._gdpr_request_domain(), ["lead_id", "partner_id"], ["__count"])
            )
            for lead_sudo, partner, count in data:
                for lead in leads:
                    if lead_sudo.id == lead.id or (partner and partner == lead.partner_id):
                        counts[lead.id] += count
        for lead in self:
            lead.gdpr_request_count = counts.get(lead.id, 0)

    def action_view_gdpr_requests(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_request_action")
        action["domain"] = self._gdpr_request_domain()
        action["context"] = {"default_lead_id": self.id, "default_partner_id": self.partner_id.id}
        return action
