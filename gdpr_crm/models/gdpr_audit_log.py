# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

_logger = logging.getLogger(__name__)

EVENT_TYPES = [
    ("login", "Login"),
    ("login_failed", "Failed login"),
    ("export", "Export"),
    ("dsar_export", "Data subject access export"),
    ("erasure", "Erasure"),
    ("anonymization", "Anonymization"),
    ("consent", "Consent"),
    ("personal_data_change", "Personal data change"),
    ("restriction", "Restriction"),
    ("retention", "Retention"),
    ("access_change", "Access change"),
    ("breach", "Breach"),
    ("request", "Rights request"),
]


class GdprAuditLog(models.Model):
    """Append-only trail of who did what and when (GDPR art. 5(2), 32).

    Every feature of gdpr_crm writes here through :meth:`_gdpr_log` and
    nothing else, so that the log has one entry point.
    """

    _name = "gdpr.audit.log"
    _description = "Privacy Audit Log"
    _order = "id desc"
    _rec_name = "description"

    create_date = fields.Datetime(string="Date", readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="User", readonly=True, index=True)
    event_type = fields.Selection(EVENT_TYPES, required=True, readonly=True, index=True)
    model = fields.Char(readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="model", readonly=True, index=True)
    record_count = fields.Integer(readonly=True)
    description = fields.Text(readonly=True)
    ip_address = fields.Char(string="IP Address", readonly=True)
    hash = fields.Char(readonly=True, copy=False)
    previous_hash = fields.Char(readonly=True, copy=False)
    company_id = fields.Many2one("res.company", readonly=True, index=True)

    @api.model
    def _gdpr_request_ip(self):
        try:
            return request.httprequest.remote_addr if request else False
        except RuntimeError:  # outside of an HTTP request
            return False

    @api.model
    def _gdpr_log(
        self,
        event_type,
        records=None,
        model=None,
        res_id=None,
        record_count=None,
        description=None,
        user=None,
        ip_address=None,
    ):
        """Append one entry to the audit log and return it.

        :param event_type: one of ``EVENT_TYPES``
        :param records: the recordset concerned (gives model, res_id when it
            holds one record, and record_count)
        :param description: what happened, without personal values (field
            names and ids, never the data itself)
        """
        if records is not None:
            model = model or records._name
            if len(records) == 1:
                res_id = res_id or records.id
            if record_count is None:
                record_count = len(records)
        user = user if user is not None else self.env.user
        vals = {
            "event_type": event_type,
            "model": model or False,
            "res_id": res_id or False,
            "record_count": record_count or 0,
            "description": description or False,
            "user_id": user.id or False,
            "ip_address": ip_address or self._gdpr_request_ip(),
            "company_id": self.env.company.id,
        }
        return self.sudo().with_context(gdpr_audit_log_append=True).create(vals)

    def write(self, vals):
        raise UserError(self.env._("The privacy audit log is append-only: entries cannot be changed."))

    def unlink(self):
        raise UserError(self.env._("The privacy audit log is append-only: entries cannot be deleted."))
