# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL, create_index


class GdprSensitiveQueue(models.Model):
    """Records whose free text was rewritten since the sensitive-data scan.

    Filled by ``gdpr.mention._gdpr_on_write`` (the mention index's write hook,
    so that no second override of the same writes is needed) and emptied by
    the cron ``gdpr_crm.ir_cron_sensitive_scan``. Plain inserts, no unique
    key: a user's write never waits for another's; the scan reads each
    record once whatever the number of rows queued for it.
    """

    _name = "gdpr.sensitive.queue"
    _description = "Sensitive Data Scan Queue"
    _log_access = False

    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True, readonly=True)

    def init(self):
        create_index(self.env.cr, "gdpr_sensitive_queue_record_idx", self._table, ["res_model", "res_id"])

    @api.model
    def _gdpr_push(self, model_name, ids):
        if ids:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO gdpr_sensitive_queue (res_model, res_id) SELECT %s, unnest(%s::int[])",
                    model_name,
                    list(ids),
                )
            )

    @api.model
    def _gdpr_pop(self, model_name, limit, below):
        """Take out and return up to ``limit`` distinct record ids queued for
        ``model_name`` with an id up to ``below``; those above are dropped
        (the scan reads them anyway from its watermark)."""
        self.env.cr.execute(
            SQL("DELETE FROM gdpr_sensitive_queue WHERE res_model = %s AND res_id > %s", model_name, below)
        )
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT res_id FROM gdpr_sensitive_queue
                    WHERE res_model = %s ORDER BY res_id LIMIT %s""",
                model_name,
                limit,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if ids:
            self.env.cr.execute(
                SQL("DELETE FROM gdpr_sensitive_queue WHERE res_model = %s AND res_id = ANY(%s)", model_name, ids)
            )
        return ids

    @api.model
    def _gdpr_count(self, model_name):
        self.env.cr.execute(
            SQL("SELECT count(DISTINCT res_id) FROM gdpr_sensitive_queue WHERE res_model = %s", model_name)
        )
        return self.env.cr.fetchone()[0]
