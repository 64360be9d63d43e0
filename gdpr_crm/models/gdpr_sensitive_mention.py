# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID, api, models

from ..lib import sensitive


class GdprMentionSensitive(models.Model):
    """The sensitive-data scan follows the mention index's change tracking.

    The mention mixin's ``create``/``write`` already call
    ``gdpr.mention._gdpr_index_records`` and ``_gdpr_on_write``; hooking them
    here (instead of overriding the same writes a second time) queues the
    rewritten texts for the scan and warns a user who has just posted a
    chatter note holding special-category data.
    """

    _inherit = "gdpr.mention"

    @api.model
    def _gdpr_on_write(self, records, vals):
        res = super()._gdpr_on_write(records, vals)
        fnames = self.env["gdpr.sensitive.finding"]._gdpr_scan_sources().get(records._name, ())
        if records and any(f in vals for f in fnames):
            self.env["gdpr.sensitive.queue"].sudo()._gdpr_push(records._name, records.ids)
        return res

    @api.model
    def _gdpr_index_records(self, model_name, ids, fresh=False):
        res = super()._gdpr_index_records(model_name, ids, fresh=fresh)
        if fresh and model_name == "mail.message":
            self._gdpr_warn_sensitive_notes(ids)
        return res

    @api.model
    def _gdpr_warn_sensitive_notes(self, ids):
        """Tell the internal user who just wrote a chatter note or message what
        special-category data it holds (a non-blocking notification)."""
        user = self.env.user
        if user._is_public() or user.share or self.env.uid == SUPERUSER_ID:
            return
        messages = self.env["mail.message"].sudo().browse(ids)
        categories = set()
        for message in messages:
            if message.message_type != "comment" or message.author_id != user.partner_id or not message.body:
                continue
            categories |= {f.category for f in sensitive.detect(message.body)}
        if categories:
            self.env["gdpr.sensitive.finding"]._gdpr_notify_user(user, categories)
