# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _build_wkhtmltopdf_args(
        self, paperformat_id, landscape, specific_paperformat_args=None, set_viewport_size=False
    ):
        """Let a caller shorten wkhtmltopdf's JavaScript delay
        (``report.print_delay``, 1 s by default) with the context key
        ``gdpr_report_print_delay``: the personal data report runs no
        JavaScript, and an access export should not wait for nothing."""
        args = super()._build_wkhtmltopdf_args(
            paperformat_id,
            landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )
        delay = self.env.context.get("gdpr_report_print_delay")
        # client input: only a whole number of milliseconds, never longer than Odoo's own delay
        if isinstance(delay, int) and 0 <= delay <= 1000 and "--javascript-delay" in args:
            args[args.index("--javascript-delay") + 1] = str(int(delay))
        return args

    def _render(self, report_ref, res_ids, data=None):
        """Log the reports printed on records holding personal data (contacts, leads…).

        The models concerned declare ``_gdpr_audit_personal_fields``.
        """
        result = super()._render(report_ref, res_ids, data=data)
        AuditLog = self.env["gdpr.audit.log"]
        if res_ids and AuditLog._gdpr_logging_enabled():
            report = self._get_report(report_ref)
            Model = self.env.get(report.model)
            if Model is not None and hasattr(Model, "_gdpr_audit_personal_fields"):
                ids = [res_ids] if isinstance(res_ids, int) else list(res_ids)
                AuditLog._gdpr_log(
                    "export",
                    records=Model.browse(ids),
                    description=f"Printed report {report.report_name} ({report.report_type})",
                )
        return result
