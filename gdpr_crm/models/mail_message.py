# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


# ---- personal-data engine: mention index ----
class MailMessageMention(models.Model):
    _name = "mail.message"
    _inherit = ["mail.message", "gdpr.mention.mixin"]
