# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.gdpr_crm.lib import keys
from odoo.addons.gdpr_crm.models.gdpr_keyring import FALLBACK_PARAM


@tagged("post_install", "-at_install", "gdpr_crm")
class TestKeyring(TransactionCase):
    def test_fallback_secret_in_database_without_configuration(self):
        keyring = self.env["gdpr.keyring"]
        with patch.dict(config.options, {"gdpr_crm_secret": "", "gdpr_crm_old_secrets": ""}):
            key = keyring._gdpr_key("audit")
            fallback = self.env["ir.config_parameter"].sudo().get_param(FALLBACK_PARAM)
            self.assertTrue(fallback, "a secret is generated at install when the configuration has none")
            self.assertTrue(keyring._gdpr_secret_in_database())
            self.assertEqual(key, keys.derive_key(fallback, "audit"))

    def test_configured_secret_wins_and_old_ones_still_verify(self):
        keyring = self.env["gdpr.keyring"]
        old, new = "the former master secret", "the current master secret"
        with patch.dict(config.options, {"gdpr_crm_secret": old, "gdpr_crm_old_secrets": ""}):
            old_id = keyring._gdpr_key_id()
            signature = keyring._gdpr_hmac("audit", "entry 1")
        with patch.dict(config.options, {"gdpr_crm_secret": new, "gdpr_crm_old_secrets": old}):
            self.assertFalse(keyring._gdpr_secret_in_database())
            self.assertNotEqual(keyring._gdpr_key_id(), old_id)
            self.assertNotEqual(keyring._gdpr_hmac("audit", "entry 1"), signature)
            self.assertTrue(keyring._gdpr_hmac_verify("audit", "entry 1", signature, key_id=old_id))
            self.assertFalse(keyring._gdpr_hmac_verify("audit", "entry 2", signature, key_id=old_id))
            self.assertFalse(keyring._gdpr_hmac_verify("consent_event", "entry 1", signature, key_id=old_id))
        with patch.dict(config.options, {"gdpr_crm_secret": new, "gdpr_crm_old_secrets": ""}):
            # the former secret dropped from the configuration: its signatures no longer verify
            self.assertFalse(keyring._gdpr_hmac_verify("audit", "entry 1", signature, key_id=old_id))
