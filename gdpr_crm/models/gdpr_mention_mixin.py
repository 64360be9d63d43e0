# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class GdprMentionMixin(models.AbstractModel):
    """Keeps ``gdpr.mention`` up to date for the models that inherit it.

    Inherited by ``mail.message``, ``res.partner``, ``crm.lead`` and
    ``mail.activity``: a created record is indexed, a record whose indexed
    text changes is re-indexed, a deleted record is forgotten (so that an
    erased person leaves no trace in the index). The fields indexed are
    those of ``gdpr.mention._gdpr_mention_sources()``.
    """

    _name = "gdpr.mention.mixin"
    _description = "Personal Data Mention Index Mixin"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["gdpr.mention"].sudo()._gdpr_index_records(records._name, records.ids, fresh=True)
        return records

    def write(self, vals):
        res = super().write(vals)
        self.env["gdpr.mention"].sudo()._gdpr_on_write(self, vals)
        return res

    def unlink(self):
        self.env["gdpr.mention"].sudo()._gdpr_forget_records(self._name, self.ids)
        return super().unlink()
