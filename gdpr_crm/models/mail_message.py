# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

# messages that can come from the data subject (outgoing mailings, system
# notifications and automated messages never do)
INTERACTION_MESSAGE_TYPES = ("email", "comment")


# ---- personal-data engine: mention index ----
class MailMessageMention(models.Model):
    _name = "mail.message"
    _inherit = ["mail.message", "gdpr.mention.mixin"]

    # ---- retention: last interaction ----
    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        messages._gdpr_track_interactions()
        return messages

    def _gdpr_track_interactions(self):
        """Move the last interaction date of the people these messages come
        from, set-based: incoming emails and replies (kind ``email``), and
        messages written by someone who is not an internal user (kind
        ``message``), date the author contact and the contact or lead the
        message is posted on. Internal notes, messages of internal users
        (a salesperson's note or email) and outgoing mailings do not."""
        candidates = self.filtered(lambda m: m.message_type in INTERACTION_MESSAGE_TYPES and not m.is_internal)
        if not candidates:
            return
        author_ids = list(set(candidates.author_id.ids))
        internal = set()
        if author_ids:
            self.env.cr.execute(
                SQL(
                    "SELECT partner_id FROM res_users WHERE partner_id = ANY(%s) AND share IS NOT TRUE",
                    author_ids,
                )
            )
            internal = {row[0] for row in self.env.cr.fetchall()}
        now = fields.Datetime.now()
        # (model, kind, date) -> ids
        touched = defaultdict(set)
        for message in candidates:
            author = message.author_id.id
            if author in internal or (not author and message.message_type != "email"):
                continue
            kind = "email" if message.message_type == "email" else "message"
            date = min(message.date or now, now)
            if author:
                touched["res.partner", kind, date].add(author)
            model = self.env.get(message.model) if message.model else None
            if model is None or not message.res_id or "gdpr_last_interaction_date" not in model._fields:
                continue
            if message.model == "res.partner" and author and author != message.res_id:
                # someone else writing on this contact's chatter
                continue
            touched[message.model, kind, date].add(message.res_id)
        for (model_name, kind, date), ids in touched.items():
            self.env[model_name].sudo()._gdpr_touch_interaction(ids, kind, date)
