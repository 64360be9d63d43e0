# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ---- audit ----
    gdpr_in_perimeter = fields.Boolean(
        string="In My Perimeter",
        compute="_compute_gdpr_in_perimeter",
        search="_search_gdpr_in_perimeter",
        help="Whether the contact is in the current salesperson's perimeter "
        "(Settings → Privacy → Salespeople see only their perimeter).",
    )
    gdpr_audit_log_count = fields.Integer(
        string="Audit Log Entries", compute="_compute_gdpr_audit_log_count", groups="gdpr_crm.group_gdpr_dpo"
    )

    @api.model
    def _gdpr_audit_personal_fields(self):
        """Fields holding personal data: their changes are logged (names, not values)."""
        names = {
            "name", "email", "phone", "mobile", "street", "street2", "zip", "city", "state_id",
            "country_id", "vat", "function", "title", "comment", "website", "image_1920",
            "parent_id", "lang", "category_id",
        }  # fmt: skip
        return frozenset(names & set(self._fields))

    @api.model
    def _gdpr_sensitive_fields(self):
        """Free-text fields readable only by the groups chosen in Settings."""
        return frozenset({"comment"})

    def _compute_gdpr_in_perimeter(self):
        domain = self.env["res.users"]._gdpr_partner_perimeter_domain()
        if domain is None:
            self.gdpr_in_perimeter = True
            return
        ids = [record_id for record_id in self.ids if isinstance(record_id, int)]
        inside = (
            set(self.sudo().with_context(active_test=False)._search([("id", "in", ids), *domain])) if ids else set()
        )
        for partner in self:
            partner.gdpr_in_perimeter = partner.id in inside or not isinstance(partner.id, int)

    def _search_gdpr_in_perimeter(self, operator, value):
        Users = self.env["res.users"]
        return Users._gdpr_perimeter_search(Users._gdpr_partner_perimeter_domain(), operator, value)

    def _compute_gdpr_audit_log_count(self):
        counts = dict(
            self.env["gdpr.audit.log"]
            .sudo()
            ._read_group([("model", "=", self._name), ("res_id", "in", self.ids)], ["res_id"], ["__count"])
        )
        for partner in self:
            partner.gdpr_audit_log_count = counts.get(partner.id, 0)

    def action_gdpr_view_audit_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_audit_log_action")
        action["domain"] = [("model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        self.env["gdpr.audit.log"]._gdpr_log_personal_change(partners, "create", set().union(*vals_list))
        return partners

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
