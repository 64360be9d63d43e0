# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib.personal_data import normalize_email, phone_key
from ..lib.validation import is_vals_list

HMAC_LABEL = "suppression"
SUPPRESSION_MODE_PARAM = "gdpr_crm.suppression_mode"
SUPPRESSION_MODES = [("warn", "Warn"), ("block", "Block")]
REASONS = [("erasure", "Erasure"), ("objection", "Objection"), ("manual", "Added by hand")]


class GdprSuppression(models.Model):
    """The suppression list (CNIL "liste repoussoir").

    The people who asked to be erased or objected to the processing must not
    come back through an import, a web form or a new lead. The list keeps
    only a keyed hash (HMAC-SHA256 under the ``suppression`` key of
    ``gdpr.keyring``) of their normalized email address and of their phone
    key (last 9 digits), never the value itself: whoever reads the database
    cannot tell who is on it, and the application can still check whether a
    given address is. Entries are archived, never deleted, by :meth:`_remove`
    (like ``mail.blacklist``).
    """

    _name = "gdpr.suppression"
    _description = "Suppression List Entry"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "kind"

    key_hash = fields.Char(string="Keyed Hash", required=True, readonly=True, index=True, copy=False)
    key_id = fields.Char(string="Key", readonly=True, help="Fingerprint of the master secret the hash was made with.")
    kind = fields.Selection([("email", "Email"), ("phone", "Phone")], required=True, readonly=True)
    reason = fields.Selection(REASONS, required=True, default="manual", readonly=True, tracking=True)
    request_id = fields.Many2one("gdpr.request", string="Request", readonly=True, ondelete="set null")
    active = fields.Boolean(default=True, tracking=True)
    value = fields.Char(
        string="Email or Phone",
        compute="_compute_value",
        help="Type the email address or phone number to add; only its keyed hash is stored.",
    )

    _sql_constraints = [
        ("key_hash_unique", "unique(key_hash)", "This address or number is already on the suppression list."),
    ]

    def _compute_value(self):
        # never stored, never shown back: only the hash is known
        self.value = False

    # ------------------------------------------------------------------
    # Hashing
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_normalize(self, value):
        """``(kind, normalized value)`` of an email address or a phone number, or ``(False, "")``."""
        value = (value or "").strip()
        if "@" in value:
            email = normalize_email(value)
            return ("email", email) if email else (False, "")
        key = phone_key(value)
        return ("phone", key) if key else (False, "")

    @api.model
    def _gdpr_hashes(self, kind, normalized):
        """The keyed hashes of ``normalized`` under every known master secret
        (the current one first), so that a rotated key still matches."""
        Keyring = self.env["gdpr.keyring"].sudo()
        return [
            Keyring._gdpr_hmac(HMAC_LABEL, f"{kind}:{normalized}", key_id=fingerprint)
            for fingerprint, _secret in Keyring._gdpr_master_secrets()
        ]

    @api.model
    def _gdpr_values_to_keys(self, emails=(), phones=()):
        """``{(kind, normalized)}`` of the given emails and phones (empty ones dropped)."""
        keys = set()
        for value in [*(emails or ()), *(phones or ())]:
            kind, normalized = self._gdpr_normalize(value)
            if kind:
                keys.add((kind, normalized))
        return keys

    # ------------------------------------------------------------------
    # API
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if not is_vals_list(vals_list):
            raise UserError(self.env._("Give the values of the records to create as a list of {field: value}."))
        for vals in vals_list:
            if vals.get("value"):
                kind, normalized = self._gdpr_normalize(vals.pop("value"))
                if not kind:
                    raise UserError(self.env._("Type a valid email address or phone number."))
                vals["kind"] = kind
                vals["key_hash"] = self._gdpr_hashes(kind, normalized)[0]
                vals["key_id"] = self.env["gdpr.keyring"].sudo()._gdpr_key_id()
            vals.pop("value", None)
            if not vals.get("key_hash"):
                raise UserError(self.env._("Type the email address or phone number to put on the suppression list."))
        return super().create(vals_list)

    @api.model
    def _add(self, emails=(), phones=(), reason="manual", request=None):
        """Put these emails and phones on the list (or reactivate their
        archived entry); return the entries."""
        entries = self.browse()
        key_id = self.env["gdpr.keyring"].sudo()._gdpr_key_id()
        Suppression = self.sudo().with_context(active_test=False)
        for kind, normalized in sorted(self._gdpr_values_to_keys(emails, phones)):
            hashes = self._gdpr_hashes(kind, normalized)
            existing = Suppression.search([("key_hash", "in", hashes)], limit=1)
            if existing:
                if not existing.active:
                    existing.write({"active": True, "reason": reason})
                entries |= existing
                continue
            entries |= Suppression.create(
                {
                    "key_hash": hashes[0],
                    "key_id": key_id,
                    "kind": kind,
                    "reason": reason,
                    "request_id": request.id if request else False,
                }
            )
        return entries

    @api.model
    def _remove(self, emails=(), phones=()):
        """Archive the entries of these emails and phones (they are kept, inactive)."""
        entries = self._gdpr_search_values(emails, phones)
        entries.write({"active": False})
        return entries

    @api.model
    def _gdpr_search_values(self, emails=(), phones=()):
        """The active entries matching any of these emails or phones."""
        hashes = []
        for kind, normalized in self._gdpr_values_to_keys(emails, phones):
            hashes += self._gdpr_hashes(kind, normalized)
        if not hashes:
            return self.browse()
        return self.sudo().search([("key_hash", "in", hashes)])

    @api.model
    def _gdpr_suppressed_values(self, values):
        """The subset of ``values`` (emails and phones, as given) that is on the list."""
        values = [v for v in values or () if v]
        if not values:
            return set()
        by_hash = {}
        for value in values:
            kind, normalized = self._gdpr_normalize(value)
            if kind:
                for digest in self._gdpr_hashes(kind, normalized):
                    by_hash.setdefault(digest, set()).add(value)
        if not by_hash:
            return set()
        self.flush_model(["key_hash", "active"])
        self.env.cr.execute(
            "SELECT key_hash FROM gdpr_suppression WHERE active AND key_hash = ANY(%s)", [list(by_hash)]
        )
        found = set()
        for (digest,) in self.env.cr.fetchall():
            found |= by_hash[digest]
        return found

    @api.model
    def _gdpr_mode(self):
        mode = self.env["ir.config_parameter"].sudo().get_param(SUPPRESSION_MODE_PARAM, "warn")
        return mode if mode in dict(SUPPRESSION_MODES) else "warn"

    def action_archive(self):
        res = super().action_archive()
        self.env["gdpr.audit.log"]._gdpr_log(
            "restriction",
            records=self,
            description=self.env._("%(count)s suppression list entries archived.", count=len(self)),
        )
        return res
