# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..lib import keys
from ..lib.validation import is_vals_list
from .gdpr_audit_log import create_append_only_triggers
from .gdpr_consent import CONSENT_STATES, SOURCES

_logger = logging.getLogger(__name__)

# The secret of the release 18.0.1.0.0, kept in the database: read by the
# upgrade only, which re-signs the history with the keyring's key.
LEGACY_HMAC_SECRET_PARAM = "gdpr_crm.consent_hmac_secret"
KEY_LABEL = "consent_event"
# The only way to create events: a key no RPC client can send (not a string).
_APPEND = object()

EVENT_ACTIONS = [
    ("create", "Created"),
    ("give", "Given"),
    ("refuse", "Refused"),
    ("withdraw", "Withdrawn"),
    ("expire", "Expired"),
    ("opt_in_sent", "Confirmation requested"),
    ("transfer", "Carried over"),
]

# The columns covered by the signature, in this order. Changing this list
# invalidates every existing signature: add a version instead.
SIGNED_FIELDS = (
    "consent_id",
    "subject_partner_id",
    "email",
    "purpose_id",
    "action",
    "state",
    "previous_state",
    "date",
    "user_id",
    "source",
    "proof",
    "proof_version",
    "ip_address",
    "user_agent",
    "note",
    "company_id",
    "previous_signature",
)


class GdprConsentEvent(models.Model):
    """One entry of the history of a consent: the proof (GDPR art. 7(1)).

    Events are only ever appended, by :class:`gdpr.consent` itself. They can
    be neither changed nor deleted, through the ORM or in the database (a
    trigger refuses it), and each carries an HMAC-SHA256 signature of its
    content chained to the previous event of the same consent, so that a row
    changed or removed behind Odoo's back is detected by
    :meth:`_gdpr_verify_signatures`.
    """

    _name = "gdpr.consent.event"
    _description = "Consent Event"
    _order = "date desc, id desc"
    _rec_name = "action"

    consent_id = fields.Many2one("gdpr.consent", required=True, readonly=True, index=True, ondelete="cascade")
    # The subject at the time of the event, signed. A plain integer rather
    # than a foreign key, so that merging contacts (which rewrites every
    # foreign key to res.partner) never has to touch this append-only table.
    subject_partner_id = fields.Integer(string="Contact ID", readonly=True, index="btree_not_null")
    partner_id = fields.Many2one(related="consent_id.partner_id", string="Contact")
    email = fields.Char(readonly=True)
    purpose_id = fields.Many2one("gdpr.purpose", string="Purpose", required=True, readonly=True, ondelete="restrict")
    action = fields.Selection(EVENT_ACTIONS, required=True, readonly=True)
    state = fields.Selection(CONSENT_STATES, string="New State", required=True, readonly=True)
    previous_state = fields.Selection(CONSENT_STATES, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Recorded by", readonly=True, ondelete="restrict")
    source = fields.Selection(SOURCES, readonly=True)
    proof = fields.Text(string="Proof Wording", readonly=True)
    proof_version = fields.Char(readonly=True)
    ip_address = fields.Char(string="IP Address", readonly=True)
    user_agent = fields.Char(readonly=True)
    note = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True, ondelete="restrict")
    signature = fields.Char(readonly=True, copy=False)
    previous_signature = fields.Char(readonly=True, copy=False)
    key_id = fields.Char(string="Key", readonly=True, copy=False, help="Fingerprint of the master secret that signed.")

    def init(self):
        # The database itself refuses to change or delete an event. No
        # session setting opens it: an event goes only with its consent
        # (the erasure of a data subject deletes the consent, and the foreign
        # key's ON DELETE CASCADE its events, see gdpr_consent_purge()); that
        # deletion is logged, and the checkpoints of the audit log count the
        # events, so that a consent removed behind Odoo's back is seen.
        self.env.cr.execute(
            """
                CREATE OR REPLACE FUNCTION gdpr_consent_event_append_only() RETURNS trigger AS $$
                BEGIN
                    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM gdpr_consent WHERE id = OLD.consent_id) THEN
                        RETURN OLD;
                    END IF;
                    RAISE EXCEPTION 'gdpr_consent_event is append-only: % refused', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql;
                CREATE INDEX IF NOT EXISTS gdpr_consent_event_consent_id_id_idx
                    ON gdpr_consent_event (consent_id, id);
            """
        )
        create_append_only_triggers(self.env.cr, self._table, "gdpr_consent_event_append_only")

    # ------------------------------------------------------------------
    # Signature
    # ------------------------------------------------------------------
    @api.depends("action", "purpose_id")
    def _compute_display_name(self):
        # "Given - Newsletter", never the action's code
        labels = dict(self._fields["action"]._description_selection(self.env))
        for event in self:
            parts = [labels.get(event.action, ""), event.purpose_id.sudo().display_name or ""]
            event.display_name = " - ".join(part for part in parts if part)

    @api.model
    def _gdpr_message(self, vals):
        """What the signature of an event covers: its signed columns, in order."""
        payload = []
        for name in SIGNED_FIELDS:
            value = vals.get(name)
            if isinstance(value, models.BaseModel):
                value = value.id
            if name == "date" and value:
                value = fields.Datetime.to_string(fields.Datetime.to_datetime(value))
            # empty values (None, "", 0 of an integer column) sign alike
            payload.append(value or False)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

    @api.model
    def _gdpr_sign(self, vals, key=None):
        """HMAC-SHA256 of the signed columns of ``vals`` (a dict of raw values),
        keyed with the keyring's ``consent_event`` key (outside the database)."""
        key = key or self.env["gdpr.keyring"]._gdpr_key(KEY_LABEL)
        return keys.sign(key, self._gdpr_message(vals))

    @api.model
    def _gdpr_last_signatures(self, consent_ids):
        """Map each consent id to the signature of its latest event."""
        if not consent_ids:
            return {}
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (consent_id) consent_id, signature
                  FROM gdpr_consent_event
                 WHERE consent_id IN %s
              ORDER BY consent_id, id DESC
                """,
                tuple(consent_ids),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _gdpr_append(self, vals_list):
        """Append signed events; the only way events are created."""
        last = self._gdpr_last_signatures({vals["consent_id"] for vals in vals_list})
        now = fields.Datetime.now()
        keyring = self.env["gdpr.keyring"]
        key_id = keyring._gdpr_key_id()
        key = keyring._gdpr_key(KEY_LABEL, key_id)
        for vals in vals_list:
            vals.setdefault("date", now)
            vals.setdefault("user_id", self.env.uid)
            vals["previous_signature"] = last.get(vals["consent_id"]) or False
            vals["signature"] = self._gdpr_sign(vals, key=key)
            vals["key_id"] = key_id
            last[vals["consent_id"]] = vals["signature"]
        return self.sudo().create([{**vals, _APPEND: True} for vals in vals_list])

    @api.model_create_multi
    def create(self, vals_list):
        if not is_vals_list(vals_list):
            raise UserError(self.env._("Give the values of the records to create as a list of {field: value}."))
        vals_list = [dict(vals) for vals in vals_list]
        internal = [vals.pop(_APPEND, False) is True for vals in vals_list]
        if not all(internal):
            self.check_access("create")
            raise UserError(
                self.env._(
                    "Consent history is written by the consent itself: record a "
                    "consent, a refusal or a withdrawal on the consent instead."
                )
            )
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        self.check_access("write")
        raise UserError(self.env._("The history of a consent is proof: its events cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        self.check_access("unlink")
        raise UserError(self.env._("The history of a consent is proof: its events cannot be deleted."))

    @api.model
    def _gdpr_verify_signatures(self, consent_ids=None):
        """Check every event (or those of ``consent_ids``) against its signature.

        Reads the rows straight from the database, so that a change made
        behind the ORM's back is seen. Returns a dict ``{event id: reason}``
        naming each event whose content does not match its signature (or
        whose key is unknown), or whose link to the previous event of its
        consent is broken (an event deleted or reordered); empty when the
        history is intact.
        """
        keyring = self.env["gdpr.keyring"].sudo()
        key_cache = {}
        self.env.flush_all()
        columns = SQL(", ").join(SQL.identifier(name) for name in ("id", *SIGNED_FIELDS, "signature", "key_id"))
        where = SQL("WHERE consent_id IN %s", tuple(consent_ids)) if consent_ids else SQL()
        self.env.cr.execute(SQL("SELECT %s FROM gdpr_consent_event %s ORDER BY consent_id, id", columns, where))
        problems = {}
        previous = {}
        names = [desc[0] for desc in self.env.cr.description]
        rows = self.env.cr.fetchall()
        for values in rows:
            row = dict(zip(names, values, strict=True))
            if row["key_id"] not in key_cache:
                key_cache[row["key_id"]] = keyring._gdpr_key(KEY_LABEL, row["key_id"]) if row["key_id"] else None
            self._gdpr_check_row(row, previous, problems, key_cache[row["key_id"]])
        return problems

    @api.model
    def _gdpr_check_row(self, row, previous, problems, key):
        """Check one event row; record what is wrong in ``problems``."""
        if not key or not keys.verify(key, self._gdpr_message(row), row["signature"]):
            problems[row["id"]] = "signature"
        elif (row["previous_signature"] or False) != previous.get(row["consent_id"], False):
            problems[row["id"]] = "chain"
        previous[row["consent_id"]] = row["signature"]

    @api.model
    def _gdpr_consents_off_history(self, limit=1000):
        """Ids of the consents whose state is not the state of their last event
        (changed behind the ORM's back, or their newest events removed)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT c.id FROM gdpr_consent c
              LEFT JOIN LATERAL (
                    SELECT e.state FROM gdpr_consent_event e
                     WHERE e.consent_id = c.id ORDER BY e.id DESC LIMIT 1) last ON true
             WHERE last.state IS DISTINCT FROM c.state
             ORDER BY c.id LIMIT %s
            """,
            (limit,),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def action_verify_signatures(self):
        """Button for the DPO: verify the whole history and say the result.

        A list button calls it on the selected records (or none): the whole
        history is verified either way.
        """
        if not self.env.user.has_group("gdpr_crm.group_gdpr_dpo"):
            raise AccessError(self.env._("Only the Data Protection Officer can verify the consent history."))
        Event = self.browse().sudo()
        problems = Event._gdpr_verify_signatures()
        off_history = Event._gdpr_consents_off_history()
        ids = sorted(problems)
        self.env["gdpr.audit.log"].sudo()._gdpr_log_verification(
            "consent_verified",
            {"count": len(problems), "ids": ids[:50]},
            "Consent history verified: %s event(s) tampered with%s"
            % (len(problems), (": ids %s" % ", ".join(map(str, ids[:50]))) if problems else ""),
            record_count=len(problems),
            model=self._name,
        )
        messages = []
        if problems:
            messages.append(
                self.env._(
                    "The consent history was tampered with: %(count)s event(s) do not match "
                    "their signature or their place in the history (ids: %(ids)s). "
                    "Keep a copy of the database and investigate.",
                    count=len(problems),
                    ids=", ".join(map(str, ids)),
                )
            )
        if off_history:
            messages.append(
                self.env._(
                    "%(count)s consent(s) do not have the state of their last event (ids: %(ids)s): "
                    "they were changed outside of Odoo.",
                    count=len(off_history),
                    ids=", ".join(map(str, off_history[:50])),
                )
            )
        if messages:
            message = " ".join(messages)
            kind = "danger"
        else:
            message = self.env._("Every consent event matches its signature: the history is intact.")
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Consent history"),
                "message": message,
                "type": kind,
                "sticky": bool(messages),
            },
        }
