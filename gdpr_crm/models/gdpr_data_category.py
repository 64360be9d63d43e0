# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class GdprDataCategory(models.Model):
    """A category of personal data, as the register of processing activities
    lists it (GDPR art. 30(1)(c)). Special categories (art. 9) and data about
    criminal convictions (art. 10) are flagged: processing them needs a
    specific exception and counts towards the need for a DPIA."""

    _name = "gdpr.data.category"
    _description = "Personal Data Category"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True, help="Examples of the data in this category.")
    special_category = fields.Boolean(
        string="Special Category",
        help="Sensitive data (GDPR art. 9: health, religion, political opinions, trade union "
        "membership, ethnic origin, sex life, genetic or biometric data) or data about criminal "
        "convictions (art. 10). Processing it is forbidden unless an exception applies.",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to share the category between all companies."
    )
