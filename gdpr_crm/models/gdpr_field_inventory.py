# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

#: personal-data fields of contacts and leads (the engine adds what it discovers elsewhere)
INVENTORY_FIELDS = {
    "res.partner": (
        "name", "title", "function", "email", "phone", "mobile", "street", "street2", "zip", "city",
        "state_id", "country_id", "website", "vat", "lang", "tz", "comment", "parent_id", "user_id",
    ),
    "crm.lead": (
        "contact_name", "partner_name", "title", "function", "email_from", "email_cc", "phone", "mobile",
        "street", "street2", "zip", "city", "state_id", "country_id", "website", "lang_id", "description",
        "partner_id", "user_id",
    ),
}  # fmt: skip


class GdprFieldInventory(models.Model):
    """Minimisation inventory: every personal-data field, how often it is
    filled and the purposes it serves.

    Rows are (re)built by :meth:`action_refresh` (one counting query per
    model); the purposes are the DPO's, kept across refreshes. A field that
    is filled but serves no declared purpose is flagged: collect it for a
    reason, or stop collecting it (art. 5(1)(c)).
    """

    _name = "gdpr.field.inventory"
    _description = "Personal Data Field Inventory"
    _order = "model_name, field_name"
    _rec_name = "field_description"

    field_id = fields.Many2one("ir.model.fields", string="Field", required=True, ondelete="cascade", readonly=True)
    model_name = fields.Char(string="Model", related="field_id.model", store=True)
    model_description = fields.Char(string="Model Name", compute="_compute_model_description")
    field_name = fields.Char(string="Technical Name", related="field_id.name", store=True)
    field_description = fields.Char(string="Field Label", related="field_id.field_description")
    field_type = fields.Selection(related="field_id.ttype", string="Type")
    filled_count = fields.Integer(string="Filled", readonly=True)
    total_count = fields.Integer(string="Records", readonly=True)
    fill_rate = fields.Float(string="Fill Rate (%)", readonly=True, digits=(5, 1))
    purpose_ids = fields.Many2many(
        "gdpr.purpose",
        string="Purposes",
        help="The purposes this field serves. A field filled for no purpose should not be collected.",
    )
    no_purpose = fields.Boolean(
        string="Filled Without Purpose",
        compute="_compute_no_purpose",
        store=True,
        help="Filled in at least one record, and serving no declared purpose.",
    )
    refresh_date = fields.Datetime(string="Counted On", readonly=True)

    _sql_constraints = [("field_uniq", "unique(field_id)", "A field is listed once in the inventory.")]

    @api.depends("model_name")
    def _compute_model_description(self):
        for row in self:
            row.model_description = self.env[row.model_name]._description if row.model_name in self.env else False

    @api.depends("filled_count", "purpose_ids")
    def _compute_no_purpose(self):
        for row in self:
            row.no_purpose = bool(row.filled_count and not row.purpose_ids)

    @api.model
    def _gdpr_inventory_fields(self):
        """``{model: [field names]}``: contacts and leads, then every model the
        personal-data engine discovers (its email, phone and partner link
        fields) and the free text it indexes. Stored columns only."""
        wanted = {model: list(fnames) for model, fnames in INVENTORY_FIELDS.items() if model in self.env}
        for model_name, kinds in self.env["gdpr.personal.data"]._gdpr_discover().items():
            for kind, fnames in kinds.items():
                if kind != "partner_m2m":
                    wanted.setdefault(model_name, []).extend(fnames)
        for model_name, fnames in self.env["gdpr.mention"]._gdpr_mention_sources().items():
            wanted.setdefault(model_name, []).extend(fnames)
        result = {}
        for model_name, fnames in wanted.items():
            model = self.env[model_name]
            kept = []
            for fname in dict.fromkeys(fnames):
                field = model._fields.get(fname)
                if field and field.store and field.column_type and fname not in kept:
                    kept.append(fname)
            if kept:
                result[model_name] = kept
        return result

    @api.model
    def _gdpr_count_filled(self, model_name, fnames):
        """``(records, {field: filled})`` in one query."""
        model = self.env[model_name]
        model.flush_model(fnames)
        counts = []
        for fname in fnames:
            field = model._fields[fname]
            column = SQL.identifier(fname)
            if field.type in ("char", "text", "html", "selection") and not field.translate:
                counts.append(SQL("count(NULLIF(%s, ''))", column))
            elif field.type == "boolean":
                counts.append(SQL("count(*) FILTER (WHERE %s)", column))
            else:
                counts.append(SQL("count(%s)", column))
        self.env.cr.execute(SQL("SELECT count(*), %s FROM %s", SQL(", ").join(counts), SQL.identifier(model._table)))
        row = self.env.cr.fetchone()
        return row[0], dict(zip(fnames, row[1:], strict=True))

    @api.model
    def _gdpr_refresh(self):
        now = fields.Datetime.now()
        existing = {row.field_id.id: row for row in self.search([])}
        seen = set()
        for model_name, fnames in self._gdpr_inventory_fields().items():
            total, filled = self._gdpr_count_filled(model_name, fnames)
            for fname in fnames:
                field = self.env["ir.model.fields"]._get(model_name, fname)
                if not field:
                    continue
                vals = {
                    "filled_count": filled[fname],
                    "total_count": total,
                    "fill_rate": round(100.0 * filled[fname] / total, 1) if total else 0.0,
                    "refresh_date": now,
                }
                seen.add(field.id)
                if field.id in existing:
                    existing[field.id].write(vals)
                else:
                    self.create({**vals, "field_id": field.id})
        self.browse([row.id for fid, row in existing.items() if fid not in seen]).unlink()
        return True

    def action_refresh(self):
        self.check_access("write")
        self.sudo()._gdpr_refresh()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
