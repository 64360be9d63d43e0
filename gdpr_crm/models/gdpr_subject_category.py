# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprSubjectCategory(models.Model):
    """A category of data subjects, as the register of processing activities
    lists it (GDPR art. 30(1)(c)): customers, prospects, employees..."""

    _name = "gdpr.subject.category"
    _description = "Data Subject Category"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    vulnerable = fields.Boolean(
        help="Vulnerable people (children, patients, employees towards their employer, "
        "elderly people...): one of the criteria that call for a DPIA.",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to share the category between all companies."
    )
