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
        if delay is not None and "--javascript-delay" in args:
            args[args.index("--javascript-delay") + 1] = str(int(delay))
        return args
