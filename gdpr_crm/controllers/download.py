# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request

from .common import gdpr_public_page


class GdprDownloadController(http.Controller):
    """The requester's personal, expiring link to the files of their request.

    The link is emailed with the answer instead of the files themselves. An
    unknown and an expired token get the same page, so that the page tells a
    stranger nothing.
    """

    def _gdpr_request_from_token(self, token):
        gdpr_request = request.env["gdpr.request"].sudo()._gdpr_get_by_download_token(token)
        lang = gdpr_request.lang
        # (a language deactivated since the request was filed would be refused by the ORM)
        if lang and lang != request.env.lang and lang in dict(request.env["res.lang"].get_installed()):
            request.update_context(lang=lang)
        return gdpr_request

    def _gdpr_invalid_link(self):
        return request.render("gdpr_crm.gdpr_request_download_invalid", {}, status=404)

    @http.route(
        "/gdpr/download/<string:token>", type="http", auth="public", methods=["GET"], website=True, sitemap=False
    )
    @gdpr_public_page
    def gdpr_download_page(self, token, **kwargs):
        gdpr_request = self._gdpr_request_from_token(token)
        if not gdpr_request:
            return self._gdpr_invalid_link()
        values = {
            "gdpr_request": gdpr_request,
            "attachments": gdpr_request.attachment_ids.sorted("name"),
            "token": token,
        }
        return request.render("gdpr_crm.gdpr_request_download_page", values)

    @http.route(
        "/gdpr/download/<string:token>/<int:attachment_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    @gdpr_public_page
    def gdpr_download_file(self, token, attachment_id, **kwargs):
        gdpr_request = self._gdpr_request_from_token(token)
        attachment = gdpr_request.attachment_ids.filtered(lambda a: a.id == attachment_id)
        if not gdpr_request or not attachment:
            return self._gdpr_invalid_link()
        request.env["gdpr.audit.log"].sudo()._gdpr_log(
            "request",
            records=gdpr_request,
            description=request.env._(
                "Export file %(file)s of request %(name)s downloaded by the requester.",
                file=attachment.id,
                name=gdpr_request.name,
            ),
        )
        stream = request.env["ir.binary"]._get_stream_from(attachment)
        return stream.get_response(as_attachment=True)
