# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

# contact field -> the lead field holding the same value
LEAD_FIELDS = {
    "name": "contact_name",
    "email": "email_from",
    "phone": "phone",
    "mobile": "mobile",
    "street": "street",
    "street2": "street2",
    "zip": "zip",
    "city": "city",
    "country_id": "country_id",
}


class GdprRequestRectify(models.TransientModel):
    """Rectification (GDPR art. 16): the DPO corrects the subject's data.

    The old and new values are kept on the request (not in the chatter of
    other records); the change is propagated to the child contacts and open
    leads that hold the old value.
    """

    _name = "gdpr.request.rectify"
    _description = "Rectify a Data Subject's Data"

    request_id = fields.Many2one("gdpr.request", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="request_id.partner_id")
    name = fields.Char()
    email = fields.Char()
    phone = fields.Char()
    mobile = fields.Char()
    street = fields.Char()
    street2 = fields.Char()
    zip = fields.Char()
    city = fields.Char()
    country_id = fields.Many2one("res.country", string="Country")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        request = self.env["gdpr.request"].browse(values.get("request_id"))
        partner = request.partner_id
        if partner:
            for fname in LEAD_FIELDS:
                if fname in fields_list:
                    value = partner[fname]
                    values[fname] = value.id if fname == "country_id" else value
        return values

    def _gdpr_changes(self):
        """``{field: (old, new)}`` of what the DPO changed."""
        self.ensure_one()
        partner = self.partner_id
        changes = {}
        for fname in LEAD_FIELDS:
            old, new = partner[fname], self[fname]
            if fname == "country_id":
                if old != new:
                    changes[fname] = (old, new)
            elif (old or "") != (new or ""):
                changes[fname] = (old or False, new or False)
        return changes

    @staticmethod
    def _gdpr_write_value(value):
        return value.id if isinstance(value, models.BaseModel) else value

    @staticmethod
    def _gdpr_show(value):
        if isinstance(value, models.BaseModel):
            return value.display_name or ""
        return value or ""

    def action_apply(self):
        self.ensure_one()
        request = self.request_id
        if not self.env.user.has_group("gdpr_crm.group_gdpr_dpo"):
            raise UserError(self.env._("Only the DPO can rectify a data subject's data."))
        if request.request_type != "rectification":
            raise UserError(self.env._("Request %(name)s is not a rectification request.", name=request.name))
        request._gdpr_check_executable()
        partner = self.partner_id
        if not partner:
            raise UserError(
                self.env._("Request %(name)s names no contact: choose the data subject first.", name=request.name)
            )
        changes = self._gdpr_changes()
        if not changes:
            raise UserError(self.env._("Nothing was changed: correct at least one value."))
        env = self.env(su=True, context=dict(self.env.context, tracking_disable=True, mail_notrack=True))
        partner = partner.with_env(env)
        children = (
            env["res.partner"]
            .with_context(active_test=False)
            .search([("id", "child_of", partner.id), ("id", "!=", partner.id)])
        )
        leads = env["crm.lead"].search([("partner_id", "in", (partner | children).ids), ("probability", "<", 100)])
        propagated = {"children": 0, "leads": 0}
        partner.write({f: self._gdpr_write_value(new) for f, (_old, new) in changes.items()})
        for fname, (old, new) in changes.items():
            if fname == "name":
                continue  # the name of a child contact is another person's
            holders = children.filtered(lambda c, f=fname, o=old: c[f] == o)
            if holders:
                holders.write({fname: self._gdpr_write_value(new)})
                propagated["children"] += len(holders)
        for fname, (old, new) in changes.items():
            lead_field = LEAD_FIELDS[fname]
            holders = leads.filtered(lambda lead, f=lead_field, o=old: lead[f] == o)
            if holders:
                holders.write({lead_field: self._gdpr_write_value(new)})
                propagated["leads"] += len(holders)
        when = fields.Datetime.to_string(fields.Datetime.now())
        lines = [
            "%s %s: %s -> %s"
            % (when, partner._fields[f]._description_string(self.env), self._gdpr_show(old), self._gdpr_show(new))
            for f, (old, new) in changes.items()
        ]
        request.sudo().rectification_log = "\n".join(filter(None, [request.sudo().rectification_log, *lines]))
        self.env["gdpr.audit.log"]._gdpr_log(
            "personal_data_change",
            records=partner,
            description=self.env._(
                "Rectification (request %(name)s) of %(fields)s, propagated to %(children)s contacts "
                "and %(leads)s leads.",
                name=request.name,
                fields=", ".join(sorted(changes)),
                children=propagated["children"],
                leads=propagated["leads"],
            ),
        )
        request.action_execute()
        return {"type": "ir.actions.act_window_close"}
