# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import hmac
import json
import logging
import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .gdpr_audit_log import create_append_only_triggers
from .gdpr_consent import CONSENT_STATES, SOURCES

_logger = logging.getLogger(__name__)

HMAC_SECRET_PARAM = "gdpr_crm.consent_hmac_secret"

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

    def init(self):
        # The database itself refuses to change or delete an event; only the
        # erasure of a data subject (:meth:`gdpr.consent._gdpr_purge`) may
        # delete, inside its own transaction.
        self.env.cr.execute(
            """
                CREATE OR REPLACE FUNCTION gdpr_consent_event_append_only() RETURNS trigger AS $$
                BEGIN
                    IF TG_OP = 'DELETE' AND current_setting('gdpr_crm.consent_event_purge', true) = 'on' THEN
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
    def _gdpr_hmac_secret(self):
        """Return the signing secret, generating it on first use.

        Kept in ``ir.config_parameter`` (``gdpr_crm.consent_hmac_secret``),
        generated at install, never shown in any gdpr_crm view.
        """
        params = self.env["ir.config_parameter"].sudo()
        secret = params.get_param(HMAC_SECRET_PARAM)
        if not secret:
            secret = secrets.token_hex(32)
            params.set_param(HMAC_SECRET_PARAM, secret)
        return secret

    @api.model
    def _gdpr_sign(self, vals, secret=None):
        """HMAC-SHA256 of the signed columns of ``vals`` (a dict of raw values)."""
        payload = []
        for name in SIGNED_FIELDS:
            value = vals.get(name)
            if isinstance(value, models.BaseModel):
                value = value.id
            if name == "date" and value:
                value = fields.Datetime.to_string(fields.Datetime.to_datetime(value))
            # empty values (None, "", 0 of an integer column) sign alike
            payload.append(value or False)
        message = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        secret = secret or self._gdpr_hmac_secret()
        return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()

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
        secret = self._gdpr_hmac_secret()
        for vals in vals_list:
            vals.setdefault("date", now)
            vals.setdefault("user_id", self.env.uid)
            vals["previous_signature"] = last.get(vals["consent_id"]) or False
            vals["signature"] = self._gdpr_sign(vals, secret=secret)
            last[vals["consent_id"]] = vals["signature"]
        return self.sudo().with_context(gdpr_consent_event_append=True).create(vals_list)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("gdpr_consent_event_append"):
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
        naming each event whose content does not match its signature, or
        whose link to the previous event of its consent is broken (an event
        deleted or reordered); empty when the history is intact.
        """
        secret = self._gdpr_hmac_secret()  # before the SELECT: it may query the database
        self.env.flush_all()
        columns = SQL(", ").join(SQL.identifier(name) for name in ("id", *SIGNED_FIELDS, "signature"))
        where = SQL("WHERE consent_id IN %s", tuple(consent_ids)) if consent_ids else SQL()
        self.env.cr.execute(SQL("SELECT %s FROM gdpr_consent_event %s ORDER BY consent_id, id", columns, where))
        problems = {}
        previous = {}
        names = [desc[0] for desc in self.env.cr.description]
        while rows := self.env.cr.fetchmany(5000):
            for values in rows:
                self._gdpr_check_row(dict(zip(names, values, strict=True)), previous, problems, secret)
        return problems

    @api.model
    def _gdpr_check_row(self, row, previous, problems, secret):
        """Check one event row; record what is wrong in ``problems``."""
        expected = self._gdpr_sign(row, secret=secret)
        if not row["signature"] or not hmac.compare_digest(expected, row["signature"]):
            problems[row["id"]] = "signature"
        elif (row["previous_signature"] or False) != previous.get(row["consent_id"], False):
            problems[row["id"]] = "chain"
        previous[row["consent_id"]] = row["signature"]

    @api.model
    def action_verify_signatures(self):
        """Button for the DPO: verify the whole history and say the result."""
        problems = self._gdpr_verify_signatures()
        self.env["gdpr.audit.log"]._gdpr_log(
            "consent",
            model=self._name,
            record_count=len(problems),
            description="Consent history verified: %s event(s) tampered with%s"
            % (len(problems), (": ids %s" % ", ".join(map(str, sorted(problems)))) if problems else ""),
        )
        if problems:
            message = self.env._(
                "The consent history was tampered with: %(count)s event(s) do not match "
                "their signature or their place in the history (ids: %(ids)s). "
                "Keep a copy of the database and investigate.",
                count=len(problems),
                ids=", ".join(map(str, sorted(problems))),
            )
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
                "sticky": bool(problems),
            },
        }
