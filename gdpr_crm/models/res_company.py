# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    gdpr_dpo_partner_id = fields.Many2one(
        "res.partner",
        string="Data Protection Officer",
        help="The DPO (or privacy contact) named in the registers, the privacy "
        "notices and the answers to data subjects.",
    )
