# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError

from .gdpr_personal_field import KINDS


class GdprAuditMixin(models.AbstractModel):
    """What contacts and leads share for access control and the audit trail.

    - ``gdpr_in_perimeter``: whether the record is in the current
      salesperson's perimeter (the record rules use it);
    - changes of personal-data fields are written to the audit log (field
      names and ids, never the values);
    - sensitive free-text fields are hidden from the users outside the groups
      chosen in Settings (views, ``fields_get``, reads and exports).

    A model using it overrides ``_gdpr_perimeter_domain``; its personal and
    sensitive fields are read from the personal-data registry
    (``gdpr.personal.data._gdpr_registry``): declare a field there and its
    changes are logged (any kind), or it is restricted (kind ``sensitive``).
    """

    _name = "gdpr.audit.mixin"
    _description = "Personal Data Audit and Perimeter"

    gdpr_in_perimeter = fields.Boolean(
        string="In My Perimeter",
        compute="_compute_gdpr_in_perimeter",
        search="_search_gdpr_in_perimeter",
        help="Whether the record is in the current salesperson's perimeter "
        "(Settings → Privacy → Salespeople see only their perimeter).",
    )

    @api.model
    def _gdpr_perimeter_domain(self):
        """The domain of the current user's perimeter, or None when unrestricted."""
        return None

    @api.model
    def _gdpr_audit_personal_fields(self):
        """Fields holding personal data (every field of the personal-data
        registry): their changes are logged (names, not values)."""
        kinds = [kind for kind, _label in KINDS]
        registry = self.env["gdpr.personal.data"]._gdpr_registry_fields(kinds, self._name)
        return frozenset(registry.get(self._name, ()))

    @api.model
    def _gdpr_sensitive_fields(self):
        """Free-text fields readable only by the groups chosen in Settings:
        the registry's fields of kind ``sensitive``."""
        registry = self.env["gdpr.personal.data"]._gdpr_registry_fields("sensitive", self._name)
        return frozenset(registry.get(self._name, ()))

    def _compute_gdpr_in_perimeter(self):
        domain = self._gdpr_perimeter_domain()
        if domain is None:
            self.gdpr_in_perimeter = True
            return
        ids = [record_id for record_id in self.ids if isinstance(record_id, int)]
        inside = (
            set(self.sudo().with_context(active_test=False)._search([("id", "in", ids), *domain])) if ids else set()
        )
        for record in self:
            record.gdpr_in_perimeter = record.id in inside or not isinstance(record.id, int)

    def _search_gdpr_in_perimeter(self, operator, value):
        return self.env["res.users"]._gdpr_perimeter_search(self._gdpr_perimeter_domain(), operator, value)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(records, "create", set().union(*vals_list))
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(self, "write", vals)
        return result

    def unlink(self):
        records = self.browse(self.ids)
        result = super().unlink()
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(records, "unlink")
        return result

    @api.model
    def check_field_access_rights(self, operation, field_names):
        hidden = self.env["res.users"]._gdpr_hidden_fields(self)
        if hidden and field_names and hidden.intersection(field_names):
            raise AccessError(
                self.env._(
                    "The fields %(fields)s are restricted to the groups chosen in Settings → Privacy.",
                    fields=", ".join(sorted(hidden.intersection(field_names))),
                )
            )
        result = super().check_field_access_rights(operation, field_names)
        if hidden and not field_names:
            result = [name for name in result if name not in hidden]
        return result

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        result = super().fields_get(allfields, attributes)
        for name in self.env["res.users"]._gdpr_hidden_fields(self):
            result.pop(name, None)
        return result

    @api.model
    def get_view(self, view_id=None, view_type="form", **options):
        result = super().get_view(view_id, view_type, **options)
        return self.env["res.users"]._gdpr_strip_sensitive_fields(self, result)

    def _gdpr_check_export_fields(self, fields_to_export):
        self.check_field_access_rights("read", [(name or "").split("/")[0] for name in fields_to_export])
        return super()._gdpr_check_export_fields(fields_to_export)
