# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import secrets

from odoo import api, models
from odoo.tools import config

from ..lib import keys

_logger = logging.getLogger(__name__)

# Options of the server configuration file (odoo.conf, [options] section).
SECRET_OPTION = "gdpr_crm_secret"
# Former master secrets, comma-separated, kept after a rotation so that what
# they signed stays verifiable.
OLD_SECRETS_OPTION = "gdpr_crm_old_secrets"
# Where the secret generated when the configuration has none is kept: in the
# database, hence weaker (Settings warns the DPO).
FALLBACK_PARAM = "gdpr_crm.fallback_secret"


class GdprKeyring(models.AbstractModel):
    """The one place where gdpr_crm gets its keys.

    Every key (audit chain, consent events, link tokens, suppression list) is
    derived by :func:`..lib.keys.derive_key` from the master secret
    ``gdpr_crm_secret`` of the server configuration file. Without it, a
    secret generated at install and kept in ``ir.config_parameter`` is used,
    which whoever holds the database can read: :meth:`_gdpr_secret_in_database`
    tells the Settings to warn the DPO.
    """

    _name = "gdpr.keyring"
    _description = "Privacy Keys"

    def init(self):
        if not config.get(SECRET_OPTION):
            self._gdpr_generate_fallback()

    @api.model
    def _gdpr_generate_fallback(self):
        """Generate the fallback secret kept in the database, once."""
        self.env.cr.execute(
            """
                INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
                VALUES (%s, %s, 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
                ON CONFLICT (key) DO NOTHING
                """,
            [FALLBACK_PARAM, secrets.token_urlsafe(32)],
        )

    @api.model
    def _gdpr_secret_in_database(self):
        """Whether the master secret is the weaker fallback kept in the database."""
        return not config.get(SECRET_OPTION)

    @api.model
    def _gdpr_master_secrets(self):
        """``[(fingerprint, secret)]``: the current master secret first, then
        the former ones still accepted for verification."""
        current = config.get(SECRET_OPTION) or self.env["ir.config_parameter"].sudo().get_param(FALLBACK_PARAM)
        if not current:
            # installed with a secret in the configuration, since removed from it
            self._gdpr_generate_fallback()
            self.env.registry.clear_cache()
            current = self.env["ir.config_parameter"].sudo().get_param(FALLBACK_PARAM)
        if not current:
            raise RuntimeError("gdpr_crm has no master secret: set gdpr_crm_secret in the configuration file")
        olds = [s.strip() for s in (config.get(OLD_SECRETS_OPTION) or "").split(",") if s.strip()]
        return [(keys.fingerprint(secret), secret) for secret in (current, *olds)]

    @api.model
    def _gdpr_key_id(self):
        """The fingerprint of the current master secret, to store beside a signature."""
        return self._gdpr_master_secrets()[0][0]

    @api.model
    def _gdpr_key(self, label, key_id=None):
        """The key for ``label`` derived from the current master secret, or
        from the former one whose fingerprint is ``key_id``. ``None`` when
        ``key_id`` is unknown (its secret was dropped from the configuration)."""
        for fingerprint, secret in self._gdpr_master_secrets():
            if key_id is None or key_id == fingerprint:
                return keys.derive_key(secret, label)
        return None

    @api.model
    def _gdpr_hmac(self, label, message, key_id=None):
        """The hex HMAC-SHA256 of ``message`` under the key of ``label``."""
        key = self._gdpr_key(label, key_id)
        if key is None:
            raise KeyError(key_id)
        return keys.sign(key, message)

    @api.model
    def _gdpr_hmac_verify(self, label, message, signature, key_id=None):
        """Whether ``signature`` is the HMAC of ``message`` (constant time);
        False when the key ``key_id`` is no longer known."""
        key = self._gdpr_key(label, key_id)
        return bool(key) and keys.verify(key, message, signature)
