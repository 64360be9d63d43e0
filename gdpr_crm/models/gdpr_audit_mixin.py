# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression

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

    gdpr_audit_log_count = fields.Integer(
        string="Audit Log Entries", compute="_compute_gdpr_audit_log_count", groups="gdpr_crm.group_gdpr_dpo"
    )
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

    # Audit log entries about the record ------------------------------------------
    # The models whose entries are about the data subject they point to.
    _gdpr_audit_related_models = ("gdpr.consent", "gdpr.request")

    def _gdpr_audit_refs(self):
        """``{model: {res_id: record id}}``: the audit log entries about these
        records are those of the records themselves, of their consents and of
        their rights requests (found through their many2one to this model)."""
        refs = {self._name: {record_id: record_id for record_id in self.ids}}
        for model_name in self._gdpr_audit_related_models:
            Model = self.env[model_name].sudo().with_context(active_test=False)
            links = [
                name
                for name, field in Model._fields.items()
                if field.type == "many2one" and field.comodel_name == self._name and field.store
            ]
            for link in links:
                for group, ids in Model._read_group([(link, "in", self.ids)], [link], ["id:array_agg"]):
                    for res_id in ids:
                        refs.setdefault(model_name, {})[res_id] = group.id
        return refs

    def _gdpr_audit_domain(self):
        refs = self._gdpr_audit_refs()
        domains = [[("model", "=", model), ("res_id", "in", list(ids))] for model, ids in refs.items() if ids]
        return expression.OR(domains) if domains else expression.FALSE_DOMAIN

    def _compute_gdpr_audit_log_count(self):
        refs = self._gdpr_audit_refs()
        counts = dict.fromkeys(self.ids, 0)
        domain = self._gdpr_audit_domain()
        for model, res_id, count in (
            self.env["gdpr.audit.log"].sudo()._read_group(domain, ["model", "res_id"], ["__count"])
        ):
            record_id = refs.get(model, {}).get(res_id)
            if record_id in counts:
                counts[record_id] += count
        for record in self:
            record.gdpr_audit_log_count = counts.get(record.id, 0)

    def action_gdpr_view_audit_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_audit_log_action")
        action["domain"] = self._gdpr_audit_domain()
        action["context"] = {}
        return action

    @api.model
    def _gdpr_perimeter_link_fields(self):
        """Many2one fields a salesperson restricted to their perimeter may only
        point at records of that perimeter (the customer of a lead, the parent
        company of a contact): linking a record must not widen what they see."""
        return frozenset()

    @api.model
    def _gdpr_check_perimeter_links(self, vals_list):
        """Refuse a link, set by a salesperson in perimeter mode, to a record
        outside their perimeter. The error is the same whether that record
        exists or not, so that it reveals nothing."""
        names = {name for vals in vals_list for name in vals if name in self._gdpr_perimeter_link_fields()}
        if not names or self.env.su or not self.env["res.users"]._gdpr_perimeter_applies():
            return
        for name in names:
            comodel = self.env[self._fields[name].comodel_name].with_context(active_test=False)
            values = [vals[name] for vals in vals_list if vals.get(name)]
            wanted = {value for value in values if isinstance(value, int) and not isinstance(value, bool)}
            if len(wanted) != len(set(map(repr, values))) or comodel.search_count([("id", "in", list(wanted))]) != len(
                wanted
            ):
                raise AccessError(
                    self.env._(
                        "You can only link %(what)s of your perimeter (assigned to you or to your sales "
                        "teams): ask your manager to assign it to you first.",
                        what=comodel._description,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._gdpr_check_perimeter_links(vals_list)
        records = super().create(vals_list)
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(records, "create", set().union(*vals_list))
        return records

    def write(self, vals):
        self._gdpr_check_perimeter_links([vals])
        result = super().write(vals)
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(self, "write", vals)
        return result

    def unlink(self):
        records = self.browse(self.ids)
        result = super().unlink()
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(records, "unlink")
        return result

    # Sensitive fields are restricted the way Odoo restricts a field with
    # ``groups=``: asking for one explicitly is refused, but Odoo's own
    # prefetching (which loads every field of a record at once) and the
    # duplication of a record leave them out instead of failing.
    def _fetch_field(self, field):
        hidden = self.env["res.users"]._gdpr_hidden_fields(self)
        if not hidden or field.name in hidden or not (self._context.get("prefetch_fields", True) and field.prefetch):
            return super()._fetch_field(field)
        self.check_field_access_rights("read", [field.name])
        fnames = [
            name
            for name, other in self._fields.items()
            if other.prefetch == field.prefetch and other.is_accessible(self.env) and name not in hidden
        ]
        if field.name not in fnames:
            fnames.append(field.name)
        self.fetch(fnames)

    def copy_data(self, default=None):
        hidden = self.env["res.users"]._gdpr_hidden_fields(self) - set(default or ())
        if not hidden:
            return super().copy_data(default)
        # the duplicate gets no copy of notes its author may not read
        vals_list = super().copy_data(dict(default or {}, **dict.fromkeys(hidden, False)))
        for vals in vals_list:
            for name in hidden:
                if vals:
                    vals.pop(name, None)
        return vals_list

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
