# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


# ---- personal-data engine: mention index ----
class MailActivityMention(models.Model):
    _name = "mail.activity"
    _inherit = ["mail.activity", "gdpr.mention.mixin"]
