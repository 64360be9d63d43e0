# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class Base(models.AbstractModel):
    _inherit = "base"

    def export_data(self, fields_to_export):
        """Log every export (the list view's CSV/XLSX export goes through here).

        One entry per call with the model, the exported field names and the
        number of records; never the exported values.
        """
        self._gdpr_check_export_fields(fields_to_export)
        result = super().export_data(fields_to_export)
        AuditLog = self.env["gdpr.audit.log"]
        if AuditLog._gdpr_logging_enabled():
            field_names = sorted({(name or "").split("/")[0] for name in fields_to_export if name})
            AuditLog._gdpr_log(
                "export",
                records=self,
                description="Exported fields: %s" % ", ".join(field_names),
            )
        return result

    def _gdpr_check_export_fields(self, fields_to_export):
        """Hook: refuse to export fields the user may not read (see res.partner)."""
        return True
