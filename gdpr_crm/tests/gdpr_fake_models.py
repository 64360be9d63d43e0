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


class GdprTestPartnerSignup(models.Model):
    """A module adding a free-text field to contacts (declared in the
    personal-data registry by the test, with no other code)."""

    _inherit = "res.partner"

    x_signup_notes = fields.Text()


class GdprTestMembership(models.Model):
    """A model whose only link to a person is a field the registry declares
    (its name says neither email nor phone)."""

    _name = "gdpr.test.membership"
    _description = "GDPR test: membership"

    name = fields.Char()
    member_contact = fields.Char()
    member_line = fields.Char()
    remarks = fields.Text()
