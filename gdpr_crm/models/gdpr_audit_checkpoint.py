# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .gdpr_audit_log import create_append_only_triggers

CHECKPOINT_COLUMNS = ("chain_seq", "entry_id", "hash", "event_count", "event_max_id", "date", "key_id", "signature")


class GdprAuditCheckpoint(models.Model):
    """A signed statement of the head of the audit chain at a moment.

    Signed with the audit key (outside the database), written to the
    server's log and mailed to the DPOs: whoever removes the newest entries
    of the log, or whole consent histories, cannot make the chain agree with
    the checkpoints again.
    """

    _name = "gdpr.audit.checkpoint"
    _description = "Audit Log Checkpoint"
    _order = "id desc"
    _rec_name = "hash"
    _log_access = False

    date = fields.Datetime(readonly=True, required=True)
    chain_seq = fields.Integer(string="Place in the Chain", readonly=True)
    entry_id = fields.Integer(string="Entry", readonly=True)
    hash = fields.Char(string="Entry Seal", readonly=True)
    event_count = fields.Integer(string="Consent Events", readonly=True)
    event_max_id = fields.Integer(string="Last Consent Event", readonly=True)
    key_id = fields.Char(string="Key", readonly=True)
    signature = fields.Char(readonly=True)

    def init(self):
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION gdpr_audit_checkpoint_protect() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'gdpr_audit_checkpoint is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$;
            """
        )
        create_append_only_triggers(self.env.cr, self._table, "gdpr_audit_checkpoint_protect")

    @api.model
    def _gdpr_insert(self, values):
        columns = SQL(", ").join(SQL.identifier(name) for name in CHECKPOINT_COLUMNS)
        params = SQL(", ").join(SQL("%s", values[name]) for name in CHECKPOINT_COLUMNS)
        self.env.cr.execute(SQL("INSERT INTO gdpr_audit_checkpoint (%s) VALUES (%s) RETURNING id", columns, params))
        return self.browse(self.env.cr.fetchone()[0])

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise UserError(self.env._("Checkpoints are taken by the application only."))

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("A checkpoint is proof: it cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("A checkpoint is proof: it cannot be deleted."))

    def _gdpr_mail_dpo(self):
        """Mail the checkpoint to every DPO: a copy outside the database."""
        self.ensure_one()
        users = self.env.ref("gdpr_crm.group_gdpr_dpo").sudo().users.filtered(lambda u: u.active and u.email)
        if not users:
            return self.env["mail.mail"]
        rows = [
            (self.env._("Database"), self.env.cr.dbname),
            (self.env._("Checkpoint"), self.id),
            (self.env._("Date (UTC)"), fields.Datetime.to_string(self.date)),
            (self.env._("Place in the chain"), self.chain_seq),
            (self.env._("Entry"), self.entry_id),
            (self.env._("Entry seal"), self.hash),
            (self.env._("Consent events"), "%s (up to #%s)" % (self.event_count, self.event_max_id)),
            (self.env._("Key"), self.key_id),
            (self.env._("Signature"), self.signature),
        ]
        body = Markup("<p>%s</p><table>%s</table>") % (
            self.env._(
                "Keep this email: it proves what the privacy audit log held at this date. "
                "If entries are later removed from the database, verifying the log against "
                "this checkpoint shows it."
            ),
            Markup("").join(
                Markup("<tr><td>%s</td><td><code>%s</code></td></tr>") % (escape(label), escape(str(value)))
                for label, value in rows
            ),
        )
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "subject": self.env._("Privacy audit log checkpoint #%(id)s", id=self.id),
                    "body_html": body,
                    "email_to": ", ".join(users.mapped("email_formatted")),
                    "auto_delete": False,
                }
            )
        )
