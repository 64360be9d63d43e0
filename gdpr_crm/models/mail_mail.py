# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools.mail import email_normalize_all

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

    def _gdpr_suppressed_mails(self):
        """The mails of ``self`` every recipient of which is on the
        suppression list (an erased or objecting person): they never leave."""
        recipients = {}
        for mail in self:
            emails = set(email_normalize_all(mail.email_to or "")) | set(email_normalize_all(mail.email_cc or ""))
            for partner in mail.recipient_ids:
                emails |= set(email_normalize_all(partner.email or ""))
            recipients[mail.id] = emails
        every = set().union(*recipients.values()) if recipients else set()
        suppressed = self.env["gdpr.suppression"].sudo()._gdpr_suppressed_values(every)
        if not suppressed:
            return self.browse()
        return self.filtered(lambda mail: recipients[mail.id] and recipients[mail.id] <= suppressed)

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, **kwargs):
        """No mail leaves Odoo for an address of the suppression list."""
        blocked = self.sudo()._gdpr_suppressed_mails()
        if blocked:
            blocked.write(
                {
                    "state": "cancel",
                    "failure_type": "mail_bl",
                    "failure_reason": self.env._("Recipient on the privacy suppression list: not sent."),
                }
            )
            blocked.notification_ids.write({"notification_status": "canceled", "failure_type": "mail_bl"})
        return super(MailMail, self - blocked)._send(
            auto_commit=auto_commit, raise_exception=raise_exception, smtp_session=smtp_session, **kwargs
        )

    def _prepare_outgoing_list(self, mail_server=False, recipients_follower_status=None):
        """Drop the suppressed addresses from a mail that has other recipients."""
        email_list = super()._prepare_outgoing_list(
            mail_server=mail_server, recipients_follower_status=recipients_follower_status
        )
        every = {e for email in email_list for e in email.get("email_to_normalized") or []}
        suppressed = self.env["gdpr.suppression"].sudo()._gdpr_suppressed_values(every) if every else set()
        if not suppressed:
            return email_list
        kept = []
        for email in email_list:
            normalized = email.get("email_to_normalized") or []
            if normalized and set(normalized) <= suppressed:
                continue
            email["email_to"] = [a for a in email["email_to"] if not set(email_normalize_all(a)) & suppressed]
            email["email_cc"] = [a for a in email["email_cc"] if not set(email_normalize_all(a)) & suppressed]
            email["email_to_normalized"] = [e for e in normalized if e not in suppressed]
            kept.append(email)
        return kept
