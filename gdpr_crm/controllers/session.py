# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID, api, http
from odoo.http import request

from odoo.addons.web.controllers.session import Session


class GdprSession(Session):
    @http.route()
    def logout(self, redirect="/odoo"):
        uid = request.session.uid
        if uid and request.db:
            # the route is read-only: write the entry in a cursor of its own
            with request.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                AuditLog = env["gdpr.audit.log"]
                if AuditLog._gdpr_logging_enabled():
                    AuditLog._gdpr_log(
                        "logout", model="res.users", res_id=uid, user=env["res.users"].browse(uid), description="Logout"
                    )
        return super().logout(redirect=redirect)
