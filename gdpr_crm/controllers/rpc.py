# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.http import request, route

from odoo.addons.base.controllers.rpc import RPC

from ..models.gdpr_audit_log import rpc_client


class GdprRPC(RPC):
    """XML-RPC and JSON-RPC calls run without ``request`` (Odoo hides it
    while it dispatches them): keep the caller's address and agent for the
    audit log (logins over RPC)."""

    def _xmlrpc(self, service):
        with rpc_client(request.httprequest):
            return super()._xmlrpc(service)

    @route()
    def jsonrpc(self, service, method, args):
        with rpc_client(request.httprequest):
            return super().jsonrpc(service, method, args)
