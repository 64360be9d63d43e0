# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ---- requests ----
    gdpr_request_count = fields.Integer(
        string="Privacy Requests",
        compute="_compute_gdpr_request_count",
        groups="gdpr_crm.group_gdpr_dpo",
        help="Privacy requests about this contact or one of its contacts.",
    )

    def _gdpr_request_domain(self):
        """Requests about these partners or their contacts (a company's employees)."""
        return ["|", ("partner_id", "in", self.ids), ("partner_id.commercial_partner_id", "in", self.ids)]

    def _compute_gdpr_request_count(self):
        partners = self.filtered("id")
        counts = dict.fromkeys(partners.ids, 0)
        if partners:
            data = (
                self.env["gdpr.request"]
                .sudo()
                ._read_group(partners._gdpr_request_domain(), ["partner_id"], ["__count"])
            )
            for subject, count in data:
                for partner_id in {subject.id, subject.commercial_partner_id.id} & set(counts):
                    counts[partner_id] += count
        for partner in self:
            partner.gdpr_request_count = counts.get(partner.id, 0)

    def action_view_gdpr_requests(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_request_action")
        action["domain"] = self._gdpr_request_domain()
        action["context"] = {"default_partner_id": self.id}
        return action
