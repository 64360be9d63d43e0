# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from .gdpr_consent import OPT_IN_TOKEN_MARKER
from .gdpr_request import DOWNLOAD_TOKEN_MARKER

# model: (marker in the stored body, method issuing a token and returning it in clear)
GDPR_TOKEN_MARKERS = {
    "gdpr.consent": (OPT_IN_TOKEN_MARKER, "_gdpr_new_opt_in_token"),
    "gdpr.request": (DOWNLOAD_TOKEN_MARKER, "_gdpr_new_download_token"),
}


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _prepare_outgoing_body(self):
        """Swap the secret link tokens in at send time.

        The stored body only holds a marker: the clear token (consent
        confirmation, download of a rights request's files) is generated
        when the email leaves, and only its hash is kept in the database.
        """
        body = super()._prepare_outgoing_body()
        marker, method = GDPR_TOKEN_MARKERS.get(self.model, (None, None))
        if body and marker and self.res_id and marker in body:
            record = self.env[self.model].sudo().browse(self.res_id).exists()
            token = getattr(record, method)() if record else ""
            body = body.replace(marker, token)
        return body
