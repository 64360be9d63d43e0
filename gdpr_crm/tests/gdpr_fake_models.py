# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A model of a "module installed later", loaded only by the tests
(odoo_test_helper.FakeModelLoader): the engine must find it with no code."""

from odoo import fields, models


class GdprTestLoyaltyCard(models.Model):
    _name = "gdpr.test.loyalty.card"
    _description = "GDPR test: loyalty card"

    name = fields.Char()
    holder_id = fields.Many2one("res.partner")
    email = fields.Char()
