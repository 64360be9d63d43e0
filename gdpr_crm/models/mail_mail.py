# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from .gdpr_consent import OPT_IN_TOKEN_MARKER


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _prepare_outgoing_body(self):
        """Swap the consent confirmation token in at send time.

        The stored body only holds a marker: the clear token is generated
        when the email leaves, and only its hash is kept in the database.
        """
        body = super()._prepare_outgoing_body()
        if body and self.model == "gdpr.consent" and self.res_id and OPT_IN_TOKEN_MARKER in body:
            consent = self.env["gdpr.consent"].sudo().browse(self.res_id).exists()
            token = consent._gdpr_new_opt_in_token() if consent else ""
            body = body.replace(OPT_IN_TOKEN_MARKER, token)
        return body
