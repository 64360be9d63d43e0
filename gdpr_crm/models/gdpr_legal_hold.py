# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval


class GdprLegalHold(models.Model):
    """A rule keeping the records of a model under a legal hold.

    Invoices (10 years, French commercial code), contracts, litigation files:
    the administrator names the model (and optionally a domain); the records
    of a data subject it matches are kept and restricted by an erasure
    instead of being erased, and are skipped by retention. Listed, with the
    reason, in the preview of the erasure.
    """

    _name = "gdpr.legal.hold"
    _description = "Legal Hold Rule"
    _order = "model_id, id"

    name = fields.Char(string="Reason", required=True, translate=True, help="Why the law requires keeping them.")
    model_id = fields.Many2one("ir.model", string="Model", required=True, ondelete="cascade", index=True)
    model = fields.Char(string="Model Name", related="model_id.model", store=True, index=True)
    domain = fields.Char(default="[]", help="Only the records matching this domain are held; empty: all of them.")
    active = fields.Boolean(default=True)

    @api.constrains("model_id", "domain")
    def _check_domain(self):
        for rule in self:
            try:
                domain = safe_eval(rule.domain or "[]")
                self.env[rule.model_id.model].sudo().search_count(domain, limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The domain of the legal hold '%(name)s' is not valid: %(error)s", name=rule.name, error=error
                    )
                ) from error

    @api.model
    def _gdpr_held(self, model_name, ids):
        """``{id: reason}`` of the records ``ids`` of ``model_name`` a rule holds."""
        if not ids:
            return {}
        rules = self.sudo().search([("model", "=", model_name)])
        held = {}
        for rule in rules:
            domain = safe_eval(rule.domain or "[]")
            matched = (
                self.env[model_name].sudo().with_context(active_test=False).search([("id", "in", list(ids)), *domain])
            )
            for record_id in matched.ids:
                held.setdefault(record_id, rule.name)
        return held

    @api.model
    def _gdpr_held_models(self):
        """The models some rule holds records of."""
        return set(self.sudo().search([]).mapped("model"))
