# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import keys
from ..lib.tokens import MAX_TOKEN_LENGTH, new_token

KEY_LABEL = "token"


class GdprTokenMixin(models.AbstractModel):
    """The one way gdpr_crm makes and checks the secret links it emails.

    A model using it declares its token slots in ``_gdpr_token_slots``:
    ``{slot: (hash field, expiry field)}``. A token is random (256 bits),
    stored only as its HMAC under the keyring's ``token`` key (a copy of the
    database holds no usable link, and cannot forge one), expires, is looked
    up by its hash (indexed) and compared in constant time, and can be
    consumed atomically (one winner when two requests race).
    """

    _name = "gdpr.token.mixin"
    _description = "Privacy Link Tokens"
    _gdpr_token_slots = {}

    @api.model
    def _gdpr_token_hashes(self, slot, token):
        """The hashes ``token`` may be stored under: with the current key first,
        then with the keys of former master secrets (rotation)."""
        keyring = self.env["gdpr.keyring"].sudo()
        message = f"{self._name}|{slot}|{token}"
        return [
            keys.sign(keys.derive_key(secret, KEY_LABEL), message)
            for _fingerprint, secret in keyring._gdpr_master_secrets()
        ]

    def _gdpr_token_issue(self, slot, validity=None, expiry=None):
        """A new token for ``slot``, valid for ``validity`` (a timedelta) or
        until ``expiry`` (a datetime); any previous token of the slot stops
        working. Returns it in clear: put it in the email, never in the
        database."""
        self.ensure_one()
        expiry = expiry or fields.Datetime.now() + validity
        hash_field, expiry_field = self._gdpr_token_slots[slot]
        token = new_token()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s = %s, %s = %s WHERE id = %s",
                SQL.identifier(self._table),
                SQL.identifier(hash_field),
                self._gdpr_token_hashes(slot, token)[0],
                SQL.identifier(expiry_field),
                expiry,
                self.id,
            )
        )
        self.invalidate_recordset([hash_field, expiry_field])
        return token

    @api.model
    def _gdpr_token_find(self, slot, token):
        """The record whose ``slot`` token is ``token`` and has not expired (sudo), or empty."""
        if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            return self.browse()
        hash_field, expiry_field = self._gdpr_token_slots[slot]
        hashes = self._gdpr_token_hashes(slot, token)
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM %s WHERE %s = ANY(%s) AND %s >= %s LIMIT 1",
                SQL.identifier(hash_field),
                SQL.identifier(self._table),
                SQL.identifier(hash_field),
                hashes,
                SQL.identifier(expiry_field),
                fields.Datetime.now(),
            )
        )
        row = self.env.cr.fetchone()
        if not row or not any(keys.consteq(row[1], candidate) for candidate in hashes):
            return self.browse()
        return self.sudo().browse(row[0])

    def _gdpr_token_consume(self, slot, token):
        """Invalidate ``token`` atomically; True for the one caller that wins."""
        self.ensure_one()
        hash_field, expiry_field = self._gdpr_token_slots[slot]
        self.flush_recordset([hash_field, expiry_field])
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s = NULL WHERE id = %s AND %s = ANY(%s) AND %s >= %s RETURNING id",
                SQL.identifier(self._table),
                SQL.identifier(hash_field),
                self.id,
                SQL.identifier(hash_field),
                self._gdpr_token_hashes(slot, token),
                SQL.identifier(expiry_field),
                fields.Datetime.now(),
            )
        )
        won = bool(self.env.cr.fetchone())
        self.invalidate_recordset([hash_field])
        return won

    @api.model
    def _gdpr_token_validity(self, days):
        """A validity of ``days`` days, bounded (1 to 365)."""
        try:
            days = int(days)
        except (TypeError, ValueError):
            days = 7
        return timedelta(days=min(max(days, 1), 365))

    # Links that must not need a row: signed, expiring, never stored -----------
    @api.model
    def _gdpr_signed_token(self, scope, res_id, validity):
        """A link token for record ``res_id`` of ``scope`` (e.g. the preference
        centre of a contact, in every marketing email): ``<id>-<expiry>-<HMAC>``
        under the key ``token``, valid for ``validity`` (a timedelta). Nothing
        is stored; it cannot be forged without the master secret."""
        expiry = int((fields.Datetime.now() + validity).timestamp())
        key = self.env["gdpr.keyring"].sudo()._gdpr_key(KEY_LABEL)
        return f"{res_id}-{expiry}-{keys.sign(key, f'{scope}|{res_id}|{expiry}')}"

    @api.model
    def _gdpr_signed_token_id(self, scope, token):
        """The record id of a valid (signed, unexpired) ``token`` of ``scope``, or None."""
        if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            return None
        res_id, _sep, rest = token.partition("-")
        expiry, _sep, signature = rest.partition("-")
        if not (res_id.isdigit() and expiry.isdigit() and signature):
            return None
        if int(expiry) < fields.Datetime.now().timestamp():
            return None
        message = f"{scope}|{res_id}|{expiry}"
        keyring = self.env["gdpr.keyring"].sudo()
        for _fingerprint, secret in keyring._gdpr_master_secrets():
            if keys.verify(keys.derive_key(secret, KEY_LABEL), message, signature):
                return int(res_id)
        return None
