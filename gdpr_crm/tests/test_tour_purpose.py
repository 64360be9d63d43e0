# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install", "gdpr_crm")
class TestPurposeTour(HttpCase):
    def test_purpose_tour(self):
        # the tour provokes a duplicate-code error on purpose: odoo.http logs it
        with mute_logger("odoo.http"):
            self.start_tour("/odoo", "gdpr_crm_purpose_tour", login="admin")
        purposes = self.env["gdpr.purpose"].search([("code", "=", "trade_fairs")])
        self.assertEqual(len(purposes), 1)
        self.assertEqual(purposes.name, "Trade fairs")
        self.assertEqual(purposes.legal_basis, "legitimate_interest")
