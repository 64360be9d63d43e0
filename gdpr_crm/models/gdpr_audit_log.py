# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import contextvars
import json
import logging
import os
from datetime import timedelta

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.sql_db import TestCursor
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..lib import keys

from ..lib.validation import bounded_setting, is_int

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

EVENT_TYPES = [
    ("login", "Login"),
    ("login_failed", "Failed login"),
    ("logout", "Logout"),
    ("export", "Export"),
    ("dsar_export", "Data subject access export"),
    ("erasure", "Erasure"),
    ("anonymization", "Anonymization"),
    ("consent", "Consent"),
    ("personal_data_change", "Personal data change"),
    ("restriction", "Restriction"),
    ("retention", "Retention"),
    ("access_change", "Access change"),
    ("breach", "Breach"),
    ("request", "Rights request"),
]

# What an entry with a code says, in the reader's language. Its parameters
# are ids, field names, counts and codes: never personal values.
EVENT_MESSAGES = {
    "login": _lt("Login"),
    "login_failed": _lt("Failed login"),
    "login_failed_unknown": _lt("Failed login for an unknown login"),
    "personal_data_change": _lt("%(operation)s of %(model)s %(ids)s; personal fields: %(fields)s"),
    "consent_created": _lt("%(count)s consent(s) created: %(ids)s"),
    "consent_changed": _lt("Consent %(state)s (purposes: %(purposes)s; source: %(source)s): %(ids)s"),
    "consent_opt_in_sent": _lt("Confirmation of %(count)s consent(s) requested by email: %(ids)s"),
    "consent_carried_over": _lt("Consent(s) %(ids)s carried over from lead #%(lead)s to contact #%(partner)s"),
    "consent_merged": _lt("Consent(s) %(ids)s moved by a contact merge into #%(partner)s; archived: %(archived)s"),
    "consent_purged": _lt("%(count)s consent(s) and their %(events)s event(s) purged for an erasure: %(ids)s"),
    "consent_verified": _lt("Consent history verified: %(count)s event(s) tampered with %(ids)s"),
    "audit_verified": _lt("Audit log verified: %(count)s problem(s) found"),
    "audit_purged": _lt("%(count)s audit log entries older than %(days)s days purged (up to entry #%(last)s)"),
    "audit_checkpoint": _lt("Audit log checkpoint #%(checkpoint)s of entry #%(entry)s"),
    "audit_upgraded": _lt("Audit log re-sealed with the keys of the configuration: %(count)s entries; %(result)s"),
}
# Translated values of the parameters that hold a code.
PARAM_LABELS = {
    "operation": {"create": _lt("Creation"), "write": _lt("Change"), "unlink": _lt("Deletion")},
    "state": {
        "pending": _lt("Pending"),
        "given": _lt("Given"),
        "refused": _lt("Refused"),
        "withdrawn": _lt("Withdrawn"),
        "expired": _lt("Expired"),
    },
}

# previous_hash of the very first entry of the chain
GENESIS_HASH = "0" * 64
# key of the advisory lock taken, for a few milliseconds, by whoever seals
SEAL_LOCK_KEY = 0x67647072  # "gdpr"
SEAL_BATCH_SIZE = 2000
# cr.postcommit.data key: a seal is already planned after this commit
SEAL_PLANNED_KEY = "gdpr.audit.log.seal"
KEY_LABEL = "audit"
DEFAULT_RETENTION_DAYS = 365
MIN_RETENTION_DAYS = 180
USER_AGENT_MAX = 512
LOGGED_IDS_MAX = 50
# a user's verifications are logged at most once in this many minutes
VERIFICATION_LOG_MINUTES = 10
# key of the transaction's deferred entries in cr.precommit.data
PENDING_KEY = "gdpr.audit.log.pending"

# The caller of the XML-RPC or JSON-RPC call being dispatched (Odoo hides
# ``request`` meanwhile): (ip address, user agent), see controllers/rpc.py.
_RPC_CLIENT = contextvars.ContextVar("gdpr_crm_rpc_client", default=None)


@contextlib.contextmanager
def rpc_client(httprequest):
    """Remember the caller of an RPC call while it is dispatched."""
    token = _RPC_CLIENT.set((httprequest.remote_addr, (httprequest.user_agent.string or "")[:USER_AGENT_MAX]))
    try:
        yield
    finally:
        _RPC_CLIENT.reset(token)


# Automatic logging (logins, exports, personal-data changes, access changes)
# can be switched off inside the server process only, for the benchmark's
# baseline (bench/bench_audit.py), or by the server's environment variable
# GDPR_CRM_AUDIT_AUTOMATIC=0 (bench/bench_concurrency.py). It is deliberately
# not a context key: an RPC client must not be able to hide its exports.
AUTOMATIC_LOGGING = os.environ.get("GDPR_CRM_AUDIT_AUTOMATIC", "1") != "0"

# Columns covered by the seal (the keyed hash), in this order.
HASHED_COLUMNS = (
    "id",
    "create_date",
    "user_ref",
    "event_type",
    "model",
    "res_id",
    "record_count",
    "description",
    "ip_address",
    "user_agent",
    "company_id",
    "code",
    "params",
)
# Columns written by the seal, once, on an entry that had none.
SEAL_COLUMNS = ("hash", "previous_hash", "chain_seq", "key_id")
INSERTED_COLUMNS = (*(column for column in HASHED_COLUMNS if column != "id"), "user_id")

_TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION gdpr_audit_log_protect() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    retention_days integer;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
       AND to_jsonb(NEW) - 'user_id' = to_jsonb(OLD) - 'user_id' THEN
        -- a deleted user (ON DELETE SET NULL): user_ref keeps the hashed id
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND to_jsonb(NEW) - ARRAY{list(SEAL_COLUMNS)!r} = to_jsonb(OLD) - ARRAY{list(SEAL_COLUMNS)!r} THEN
        -- the seal of an entry: its keyed hash, once
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        -- the retention of the log itself, checked here: no session setting opens it
        SELECT NULLIF(value, '')::integer INTO retention_days
          FROM ir_config_parameter WHERE key = 'gdpr_crm.audit_log_retention_days';
        retention_days := COALESCE(retention_days, {DEFAULT_RETENTION_DAYS});
        IF retention_days >= {MIN_RETENTION_DAYS}
           AND OLD.create_date < (now() AT TIME ZONE 'UTC') - make_interval(days => retention_days) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'gdpr_audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Entries past the audit log retention are removed by gdpr.audit.log._gdpr_purge_expired().';
END
$$;
"""


def create_append_only_triggers(cr, table, function):
    """Make ``table`` append-only in the database itself.

    The trigger function ``function`` (plpgsql, created by the caller: it
    decides which DELETEs, if any, it lets through) runs before every UPDATE
    and DELETE (``<table>_append_only``, per row) and every TRUNCATE
    (``<table>_no_truncate``). Shared by the audit log and the consent history.
    """
    cr.execute(
        SQL(
            """
            DROP TRIGGER IF EXISTS %(row_trigger)s ON %(table)s;
            CREATE TRIGGER %(row_trigger)s
                BEFORE UPDATE OR DELETE ON %(table)s
                FOR EACH ROW EXECUTE FUNCTION %(function)s();
            DROP TRIGGER IF EXISTS %(truncate_trigger)s ON %(table)s;
            CREATE TRIGGER %(truncate_trigger)s
                BEFORE TRUNCATE ON %(table)s
                FOR EACH STATEMENT EXECUTE FUNCTION %(function)s();
            """,
            table=SQL.identifier(table),
            function=SQL.identifier(function),
            row_trigger=SQL.identifier(f"{table}_append_only"),
            truncate_trigger=SQL.identifier(f"{table}_no_truncate"),
        )
    )


def entry_payload(row):
    """The content of an entry that its seal covers, besides its id.

    ``row`` maps the columns of ``HASHED_COLUMNS`` to their values as read
    back from the database.
    """
    values = []
    for column in HASHED_COLUMNS:
        if column == "id":
            continue
        value = row.get(column)
        if column == "create_date":
            value = value.isoformat() if value else None
        elif column == "record_count":
            value = value or 0
        elif column == "params":
            value = json.dumps(value, sort_keys=True, ensure_ascii=False) if value else None
        else:
            value = value or None
        values.append(value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def seal_message(previous_hash, row, chain_seq):
    """What the keyed hash of an entry signs: its predecessor, place and content."""
    return f"{previous_hash}|{row['id']}|{chain_seq}|{entry_payload(row)}"


def checkpoint_message(values):
    """What the signature of a checkpoint covers."""
    return "|".join(
        str(values[name] or 0) for name in ("chain_seq", "entry_id", "hash", "event_count", "event_max_id", "date")
    )


class GdprAuditLog(models.Model):
    """Append-only, keyed-hash-chained trail of who did what and when (GDPR art. 5(2), 32).

    Every feature of gdpr_crm writes here through :meth:`_gdpr_log` and
    nothing else. Writing an entry is a plain INSERT: it takes no lock and
    cannot fail on a concurrent writer. Right after the commit (and every few
    minutes, by a cron) a short transaction of its own *seals* the new entries
    in the order it finds them: each gets its place in the chain
    (``chain_seq``), the hash of its predecessor and an HMAC-SHA256 keyed with
    a key derived from ``gdpr_crm_secret`` (see ``gdpr.keyring``), which the
    database does not hold. A database trigger refuses UPDATE (except that
    one seal), DELETE (except past the log's retention) and TRUNCATE.
    :meth:`verify_chain` names the first broken link; signed checkpoints of
    the head (``gdpr.audit.checkpoint``, also written to the server log and
    mailed to the DPO) reveal removed newest entries and consent histories.
    """

    _name = "gdpr.audit.log"
    _description = "Privacy Audit Log"
    _order = "id desc"
    _rec_name = "description"
    # The actor is user_id and the date create_date: no create_uid/write_uid/
    # write_date columns, whose foreign keys would cost on every INSERT.
    _log_access = False

    # Few indexes, to keep the INSERT cheap: by date, by user, by record.
    create_date = fields.Datetime(string="Date", readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="User", readonly=True, index=True, ondelete="set null")
    # The id of the user as hashed: it stays when the user is deleted (the
    # trigger lets ON DELETE SET NULL empty user_id, and nothing else).
    user_ref = fields.Integer(string="User ID", readonly=True)
    event_type = fields.Selection(EVENT_TYPES, required=True, readonly=True)
    code = fields.Char(string="Event Code", readonly=True)
    params = fields.Json(string="Parameters", readonly=True)
    message = fields.Text(string="Event", compute="_compute_message")
    model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="model", readonly=True, index="btree_not_null")
    record_count = fields.Integer(readonly=True)
    description = fields.Text(readonly=True)
    ip_address = fields.Char(string="IP Address", readonly=True)
    user_agent = fields.Char(readonly=True)
    hash = fields.Char(readonly=True, copy=False)
    previous_hash = fields.Char(readonly=True, copy=False)
    chain_seq = fields.Integer(string="Place in the Chain", readonly=True, copy=False)
    key_id = fields.Char(string="Key", readonly=True, copy=False, help="Fingerprint of the master secret of the seal.")
    company_id = fields.Many2one("res.company", readonly=True, ondelete="restrict")

    _sql_constraints = [
        # Two entries chained to the same predecessor would fork the chain.
        ("previous_hash_uniq", "unique (previous_hash)", "The audit log chain cannot fork."),
    ]

    def init(self):
        cr = self.env.cr
        cr.execute(
            """
            DROP FUNCTION IF EXISTS gdpr_audit_log_append(
                timestamp, integer, varchar, varchar, integer, integer, text, varchar, varchar, integer, text);
            CREATE UNIQUE INDEX IF NOT EXISTS gdpr_audit_log_chain_seq_uniq
                ON gdpr_audit_log (chain_seq) WHERE chain_seq IS NOT NULL;
            CREATE INDEX IF NOT EXISTS gdpr_audit_log_unsealed_idx
                ON gdpr_audit_log (id) WHERE hash IS NULL;
            CREATE INDEX IF NOT EXISTS gdpr_audit_log_code_idx
                ON gdpr_audit_log (code, user_ref, create_date) WHERE code IS NOT NULL;
            """
        )
        cr.execute(_TRIGGER_SQL)
        create_append_only_triggers(cr, self._table, "gdpr_audit_log_protect")

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------
    @api.depends("code", "params", "description")
    def _compute_message(self):
        for entry in self:
            entry.message = entry._gdpr_render() or entry.description

    def _gdpr_render(self):
        """The entry in the reader's language, from its code and parameters."""
        self.ensure_one()
        template = EVENT_MESSAGES.get(self.code or "")
        if template is None:
            return False
        values = {}
        for name, value in (self.params or {}).items():
            labels = PARAM_LABELS.get(name)
            if labels and value in labels:
                value = self.env._(labels[value])  # a lazy text: translated in the reader's language
            elif isinstance(value, list):
                value = ", ".join(map(str, value)) or "-"
            elif value in (None, False, ""):
                value = "-"
            values[name] = value
        try:
            return self.env._(template) % values
        except (KeyError, TypeError, ValueError):
            return False

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_request_ip(self):
        try:
            if request:
                return request.httprequest.remote_addr
        except RuntimeError:  # outside of an HTTP request
            return False
        client = _RPC_CLIENT.get()
        return client[0] if client else False

    @api.model
    def _gdpr_request_user_agent(self):
        try:
            if request:
                return request.httprequest.user_agent.string[:USER_AGENT_MAX]
        except (RuntimeError, AttributeError):
            return False
        client = _RPC_CLIENT.get()
        return (client[1] or False) if client else False

    @api.model
    def _gdpr_logging_enabled(self):
        """Whether automatic logging (logins, exports, data changes) is on."""
        return AUTOMATIC_LOGGING

    @api.model
    def _gdpr_log(
        self,
        event_type,
        records=None,
        model=None,
        res_id=None,
        record_count=None,
        description=None,
        user=None,
        ip_address=None,
        code=None,
        params=None,
    ):
        """Append one entry to the audit log and return it.

        :param event_type: one of ``EVENT_TYPES``
        :param records: the recordset concerned (gives model, res_id when it
            holds one record, and record_count)
        :param description: what happened, without personal values (field
            names and ids, never the data itself)
        :param user: who did it (default: the current user)
        :param code: the event's code (a key of ``EVENT_MESSAGES``), with
            ``params`` (ids, field names, counts, codes; never personal
            values): the entry is then shown in the reader's language
        """
        vals = self._gdpr_entry_vals(
            event_type, records, model, res_id, record_count, description, user, ip_address, code, params
        )
        return self.sudo()._gdpr_append(vals)

    @api.model
    def _gdpr_entry_vals(
        self, event_type, records, model, res_id, record_count, description, user, ip_address, code=None, params=None
    ):
        if records is not None:
            model = model or records._name
            if len(records) == 1:
                res_id = res_id or records.id
            if record_count is None:
                record_count = len(records)
        user = user if user is not None else self.env.user
        return {
            "event_type": event_type,
            "model": model or False,
            "res_id": res_id or False,
            "record_count": record_count or 0,
            "description": description or False,
            "user_id": user.id or False,
            "ip_address": ip_address or self._gdpr_request_ip(),
            "user_agent": self._gdpr_request_user_agent(),
            "company_id": self.env.company.id,
            "code": code or False,
            "params": params or False,
        }

    @api.model
    def _gdpr_log_deferred(self, event_type, records=None, description=None, code=None, params=None):
        """Like :meth:`_gdpr_log`, but the entry is written with the others of
        the transaction in one statement just before the commit.

        For the frequent automatic entries (personal-data changes): no round
        trip per change. Searching the log writes them first.
        """
        vals = self._gdpr_entry_vals(event_type, records, None, None, None, description, None, None, code, params)
        self._gdpr_check_event_type(vals)
        cr = self.env.cr
        pending = cr.precommit.data.setdefault(PENDING_KEY, [])
        if not pending:
            cr.precommit.add(self.sudo()._gdpr_flush_pending)
        pending.append(self._gdpr_row(vals))

    @api.model
    def _gdpr_check_event_type(self, vals):
        if vals.get("event_type") not in dict(EVENT_TYPES):
            raise UserError(self.env._("Unknown audit event type: %s", vals.get("event_type")))

    @api.model
    def _gdpr_flush_pending(self):
        """Write the deferred entries of this transaction, in one statement."""
        rows = self.env.cr.precommit.data.pop(PENDING_KEY, None)
        if rows:
            self._gdpr_insert(rows)

    @api.model
    def _search(self, domain, *args, **kwargs):
        self._gdpr_flush_pending()
        return super()._search(domain, *args, **kwargs)

    @api.model
    def _gdpr_log_personal_change(self, records, operation, field_names=None):
        """Log a create/write/unlink touching personal-data fields of ``records``.

        ``records`` defines ``_gdpr_audit_personal_fields()``. One entry per
        call, naming the fields and the record ids, never the values.
        """
        if not records or not self._gdpr_logging_enabled():
            return self.browse()
        personal = records._gdpr_audit_personal_fields()
        if operation == "unlink":
            touched = []
        else:
            touched = sorted(personal.intersection(field_names or ()))
            if not touched:
                return self.browse()
        ids = records.ids
        shown = ", ".join(str(record_id) for record_id in ids[:LOGGED_IDS_MAX])
        if len(ids) > LOGGED_IDS_MAX:
            shown += ", …"
        description = f"{operation} {records._name} [{shown}]"
        if touched:
            description += ": " + ", ".join(touched)
        params = {
            "operation": operation,
            "model": records._name,
            "ids": ids[:LOGGED_IDS_MAX],
            "fields": touched,
        }
        return self._gdpr_log_deferred(
            "personal_data_change", records=records, description=description, code="personal_data_change", params=params
        )

    @api.model
    def _gdpr_row(self, vals):
        """The values of an entry as inserted (its id comes at INSERT)."""
        row = {column: vals.get(column) or None for column in INSERTED_COLUMNS}
        row["user_ref"] = vals.get("user_id") or None
        row["create_date"] = fields.Datetime.now().replace(microsecond=0)
        row["record_count"] = vals.get("record_count") or 0
        row["params"] = json.dumps(vals["params"]) if vals.get("params") else None
        return row

    @api.model
    def _gdpr_insert(self, rows):
        """INSERT unsealed entries (no lock, no read of the chain) and plan
        their seal right after the commit. Returns their ids, in order."""
        columns = SQL(", ").join(SQL.identifier(column) for column in INSERTED_COLUMNS)
        values = SQL(", ").join(
            SQL(
                "(%s)",
                SQL(", ").join(
                    SQL("%s::jsonb", row[column]) if column == "params" else SQL("%s", row[column])
                    for column in INSERTED_COLUMNS
                ),
            )
            for row in rows
        )
        self.env.cr.execute(SQL("INSERT INTO gdpr_audit_log (%s) VALUES %s RETURNING id", columns, values))
        ids = [row[0] for row in self.env.cr.fetchall()]
        self._gdpr_plan_seal()
        return ids

    @api.model
    def _gdpr_plan_seal(self):
        """Seal this transaction's entries in a transaction of their own, right after the commit."""
        cr = self.env.cr
        if cr.postcommit.data.get(SEAL_PLANNED_KEY):
            return
        cr.postcommit.data[SEAL_PLANNED_KEY] = True
        registry = self.pool

        @cr.postcommit.add
        def seal():
            try:
                seal_in_own_transaction(registry)
            except Exception:
                _logger.info("gdpr.audit.log: sealing after commit postponed to the cron", exc_info=True)

    def _gdpr_append(self, vals):
        """INSERT one unsealed entry (one round trip) and return it."""
        self._gdpr_check_event_type(vals)
        self._gdpr_flush_pending()  # keep the entries of the transaction in order
        [new_id] = self._gdpr_insert([self._gdpr_row(vals)])
        return self.browse(new_id)

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        """Entries are only created through :meth:`_gdpr_log`."""
        if not self.env.su:
            raise AccessError(self.env._("Audit log entries are written by the application only."))
        allowed = {"event_type", "model", "res_id", "record_count", "description", "user_id", "ip_address"}
        allowed |= {"user_agent", "company_id", "code", "params"}
        entries = self.browse()
        for vals in vals_list:
            clean = {key: value for key, value in vals.items() if key in allowed}
            clean.setdefault("company_id", self.env.company.id)
            entries |= self._gdpr_append(clean)
        return entries

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The privacy audit log is append-only: entries cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("The privacy audit log is append-only: entries cannot be deleted."))

    # ------------------------------------------------------------------
    # Sealing
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_head(self):
        """``(chain_seq, hash)`` of the newest sealed entry, or ``(0, GENESIS_HASH)``."""
        self.env.cr.execute(
            "SELECT chain_seq, hash FROM gdpr_audit_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1"
        )
        row = self.env.cr.fetchone()
        return tuple(row) if row else (0, GENESIS_HASH)

    @api.model
    def _gdpr_seal_batch(self, batch_size=SEAL_BATCH_SIZE):
        """Seal the oldest unsealed entries after the head; the caller holds the seal lock.

        Returns how many entries were sealed.
        """
        cr = self.env.cr
        seq, previous = self._gdpr_head()
        columns = ", ".join(HASHED_COLUMNS)
        cr.execute(
            f"SELECT {columns} FROM gdpr_audit_log WHERE hash IS NULL ORDER BY id LIMIT %s FOR UPDATE",
            (batch_size,),
        )
        rows = cr.dictfetchall()
        if not rows:
            return 0
        keyring = self.env["gdpr.keyring"]
        key_id = keyring._gdpr_key_id()
        key = keyring._gdpr_key(KEY_LABEL, key_id)
        sealed = []
        for row in rows:
            seq += 1
            digest = keys.sign(key, seal_message(previous, row, seq))
            sealed.append((row["id"], digest, previous, seq, key_id))
            previous = digest
        cr.execute(
            SQL(
                """
                UPDATE gdpr_audit_log AS log
                   SET hash = v.hash, previous_hash = v.previous_hash, chain_seq = v.chain_seq, key_id = v.key_id
                  FROM (VALUES %s) AS v (id, hash, previous_hash, chain_seq, key_id)
                 WHERE log.id = v.id
                """,
                SQL(", ").join(SQL("(%s, %s, %s, %s, %s)", *values) for values in sealed),
            )
        )
        self.invalidate_model(list(SEAL_COLUMNS))
        return len(rows)

    @api.model
    def _gdpr_seal(self):
        """Seal, inside the current transaction, what it sees unsealed.

        Only safe when nobody else can seal meanwhile and the current
        snapshot already holds the committed head of the chain: the seal lock
        is taken (without waiting) and the committed head is read from a
        second connection. Returns the number of entries sealed, or ``None``
        when it was not safe (they are sealed after the commit, or by the cron).
        """
        cr = self.env.cr
        self._gdpr_flush_pending()
        self.env.flush_all()
        cr.execute("SELECT pg_try_advisory_xact_lock(%s)", (SEAL_LOCK_KEY,))
        if not cr.fetchone()[0]:
            return None
        if not isinstance(cr, TestCursor):
            with self.pool.cursor() as other:
                other.execute(
                    "SELECT chain_seq, hash FROM gdpr_audit_log WHERE chain_seq IS NOT NULL "
                    "ORDER BY chain_seq DESC LIMIT 1"
                )
                committed = other.fetchone()
            if committed:
                cr.execute("SELECT hash FROM gdpr_audit_log WHERE chain_seq = %s", (committed[0],))
                mine = cr.fetchone()
                if not mine or mine[0] != committed[1]:
                    return None  # the snapshot is older than the chain
        total = 0
        while count := self._gdpr_seal_batch():
            total += count
        return total

    @api.model
    def _cron_seal(self):
        """Seal what the seals after commit left (a worker killed, a lock taken)."""
        seal_in_own_transaction(self.pool, wait=True)

    # ------------------------------------------------------------------
    # Checkpoints
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_checkpoint_values(self):
        """The values of a new checkpoint of the head, as seen by this transaction."""
        seq, head_hash = self._gdpr_head()
        cr = self.env.cr
        cr.execute("SELECT id FROM gdpr_audit_log WHERE chain_seq = %s", (seq,))
        row = cr.fetchone()
        cr.execute("SELECT count(*), COALESCE(max(id), 0) FROM gdpr_consent_event")
        event_count, event_max_id = cr.fetchone()
        return {
            "chain_seq": seq,
            "entry_id": row[0] if row else 0,
            "hash": head_hash,
            "event_count": event_count,
            "event_max_id": event_max_id,
            "date": fields.Datetime.now().replace(microsecond=0),
        }

    @api.model
    def _gdpr_make_checkpoint(self):
        """Sign and store a checkpoint of the sealed head (caller holds the seal lock)."""
        values = self._gdpr_checkpoint_values()
        keyring = self.env["gdpr.keyring"]
        key_id = keyring._gdpr_key_id()
        signature = keyring._gdpr_hmac(KEY_LABEL, "checkpoint|" + checkpoint_message(values), key_id)
        checkpoint = self.env["gdpr.audit.checkpoint"]._gdpr_insert(
            {**values, "key_id": key_id, "signature": signature}
        )
        _logger.info(
            "gdpr_crm audit checkpoint: db=%s checkpoint=%s seq=%s entry=%s hash=%s events=%s/%s date=%s key=%s "
            "signature=%s",
            self.env.cr.dbname,
            checkpoint.id,
            values["chain_seq"],
            values["entry_id"],
            values["hash"],
            values["event_count"],
            values["event_max_id"],
            values["date"],
            key_id,
            signature,
        )
        return checkpoint

    @api.model
    def _gdpr_checkpoint(self):
        """Seal everything committed and take a signed checkpoint of the head, in
        a transaction of its own; returns the checkpoint's id."""
        return seal_in_own_transaction(self.pool, wait=True, checkpoint=True)

    @api.model
    def _cron_checkpoint(self):
        """Daily: a signed checkpoint of the head, written to the server log and mailed to the DPOs."""
        checkpoint_id = self._gdpr_checkpoint()
        checkpoint = self.env["gdpr.audit.checkpoint"].sudo().browse(checkpoint_id).exists()
        if checkpoint:
            checkpoint._gdpr_mail_dpo()

    # ------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_check_verifier(self):
        """Verification is the DPO's (it reads raw SQL and tells what was tampered)."""
        if not self.env.su and not self.env.user.has_group("gdpr_crm.group_gdpr_dpo"):
            raise AccessError(self.env._("Only the Data Protection Officer can verify the audit trail."))

    @api.model
    def _gdpr_log_verification(self, code, params, description, record_count=0, model=None):
        """Log a verification, at most once every few minutes per user and kind."""
        cr = self.env.cr
        cr.execute(
            """
            SELECT 1 FROM gdpr_audit_log
             WHERE code = %s AND user_ref = %s AND create_date > %s
             LIMIT 1
            """,
            (code, self.env.uid, fields.Datetime.now() - timedelta(minutes=VERIFICATION_LOG_MINUTES)),
        )
        if cr.fetchone():
            return self.browse()
        return self._gdpr_log(
            "consent" if code == "consent_verified" else "retention",
            model=model or self._name,
            record_count=record_count,
            description=description,
            code=code,
            params=params,
        )

    @api.model
    def _gdpr_chain_problems(self, batch_size=5000):
        """Every problem of the trail, oldest first: a list of dicts
        ``{"kind": ..., "id": entry id or False, ...}``.

        - ``link``: the entry's seal, place or predecessor is wrong (the
          first broken link of the chain);
        - ``checkpoint``: a checkpoint's signature is wrong, or its entry is
          gone or changed (newest entries removed);
        - ``events``: consent events removed since the last checkpoint;
        - ``consent``: a consent whose state is not that of its last event.
        """
        self.check_access("read")  # the DPO's tool: raw SQL below
        if not is_int(batch_size) or not 1 <= batch_size <= 100_000:
            raise UserError(self.env._("The batch size must be a whole number between 1 and 100000."))
        cr = self.env.cr
        self.env.flush_all()
        self._gdpr_flush_pending()
        keyring = self.env["gdpr.keyring"].sudo()
        key_cache = {}

        def key_for(key_id):
            if key_id not in key_cache:
                key_cache[key_id] = keyring._gdpr_key(KEY_LABEL, key_id) if key_id else None
            return key_cache[key_id]

        problems = []
        # where the chain may start: the genesis, or the first entry kept by the last purge
        cr.execute(
            """
            SELECT res_id FROM gdpr_audit_log
             WHERE event_type = 'retention' AND model = 'gdpr.audit.log' AND code = 'audit_purged'
             ORDER BY id DESC LIMIT 1
            """
        )
        purge = cr.fetchone()
        anchor_id = purge and purge[0]
        columns = ", ".join((*HASHED_COLUMNS, *SEAL_COLUMNS))
        expected_previous = None
        expected_seq = None
        first_seq = None
        last_seq = 0
        broken = False
        while not broken:
            cr.execute(
                f"SELECT {columns} FROM gdpr_audit_log WHERE chain_seq > %s ORDER BY chain_seq LIMIT %s",
                (last_seq, batch_size),
            )
            rows = cr.dictfetchall()
            if not rows:
                break
            for row in rows:
                if expected_previous is None:
                    first_seq = row["chain_seq"]
                    ok = (row["previous_hash"] == GENESIS_HASH and row["chain_seq"] == 1) or row["id"] == anchor_id
                else:
                    ok = row["previous_hash"] == expected_previous and row["chain_seq"] == expected_seq
                key = key_for(row["key_id"])
                ok = ok and key is not None
                ok = ok and keys.verify(key, seal_message(row["previous_hash"], row, row["chain_seq"]), row["hash"])
                if not ok:
                    problems.append({"kind": "link", "id": row["id"]})
                    broken = True
                    break
                expected_previous = row["hash"]
                expected_seq = row["chain_seq"] + 1
                last_seq = row["chain_seq"]
        # checkpoints: signed, and their entry still there as it was
        cr.execute(
            "SELECT id, chain_seq, entry_id, hash, event_count, event_max_id, date, key_id, signature "
            "FROM gdpr_audit_checkpoint ORDER BY id"
        )
        checkpoints = cr.dictfetchall()
        for checkpoint in checkpoints:
            if not keyring._gdpr_hmac_verify(
                KEY_LABEL, "checkpoint|" + checkpoint_message(checkpoint), checkpoint["signature"], checkpoint["key_id"]
            ):
                problems.append({"kind": "checkpoint", "id": False, "checkpoint": checkpoint["id"]})
                continue
            if not checkpoint["chain_seq"] or (first_seq and checkpoint["chain_seq"] < first_seq):
                continue  # before the chain's start (purged past its retention)
            cr.execute("SELECT hash FROM gdpr_audit_log WHERE chain_seq = %s", (checkpoint["chain_seq"],))
            row = cr.fetchone()
            if not row or row[0] != checkpoint["hash"]:
                problems.append({"kind": "checkpoint", "id": checkpoint["entry_id"], "checkpoint": checkpoint["id"]})
        valid = [cp for cp in checkpoints if not any(p.get("checkpoint") == cp["id"] for p in problems)]
        if valid:
            last = valid[-1]
            cr.execute("SELECT count(*) FROM gdpr_consent_event WHERE id <= %s", (last["event_max_id"],))
            present = cr.fetchone()[0]
            cr.execute(
                """
                SELECT COALESCE(sum((params->>'events')::integer), 0) FROM gdpr_audit_log
                 WHERE code = 'consent_purged' AND (chain_seq > %s OR chain_seq IS NULL)
                """,
                (last["chain_seq"],),
            )
            purged = cr.fetchone()[0]
            if present + purged < last["event_count"]:
                problems.append(
                    {
                        "kind": "events",
                        "id": False,
                        "checkpoint": last["id"],
                        "missing": last["event_count"] - present - purged,
                    }
                )
        off_history = self.env["gdpr.consent.event"].sudo()._gdpr_consents_off_history()
        problems.extend({"kind": "consent", "id": consent_id} for consent_id in off_history)
        return problems

    @api.model
    def verify_chain(self, batch_size=5000):
        """Check the whole trail (see :meth:`_gdpr_chain_problems`).

        :return: the id of the first entry whose seal or link is wrong (or of
            the entry of a checkpoint that no longer matches), ``-1`` when
            only consent histories are wrong, or ``False`` when everything is
            intact. Entries not sealed yet are not checked.
        """
        self._gdpr_check_verifier()
        self.sudo()._gdpr_seal()
        problems = self.sudo()._gdpr_chain_problems(batch_size)
        for problem in problems:
            if problem["kind"] in ("link", "checkpoint") and problem["id"]:
                return problem["id"]
        return -1 if problems else False

    @api.model
    def _gdpr_unsealed_count(self):
        self.env.cr.execute("SELECT count(*) FROM gdpr_audit_log WHERE hash IS NULL")
        return self.env.cr.fetchone()[0]

    @api.model
    def action_verify_chain(self, *_args):
        """Button for the DPO: verify the trail and say the result."""
        self._gdpr_check_verifier()
        sealed_now = self.sudo()._gdpr_seal()
        if sealed_now is None:
            seal_in_own_transaction(self.pool)
        problems = self.sudo()._gdpr_chain_problems()
        lines = []
        for problem in problems:
            kind = problem["kind"]
            if kind == "link":
                lines.append(
                    self.env._(
                        "Entry #%(id)s does not match its seal or its predecessor: it was changed, or entries "
                        "before it were removed.",
                        id=problem["id"],
                    )
                )
            elif kind == "checkpoint" and problem["id"]:
                lines.append(
                    self.env._(
                        "Checkpoint #%(checkpoint)s no longer matches entry #%(id)s: the newest entries were "
                        "removed or changed.",
                        checkpoint=problem["checkpoint"],
                        id=problem["id"],
                    )
                )
            elif kind == "checkpoint":
                lines.append(
                    self.env._("Checkpoint #%(checkpoint)s has a wrong signature.", checkpoint=problem["checkpoint"])
                )
            elif kind == "events":
                lines.append(
                    self.env._(
                        "%(count)s consent event(s) were removed since checkpoint #%(checkpoint)s.",
                        count=problem["missing"],
                        checkpoint=problem["checkpoint"],
                    )
                )
        consents = [problem["id"] for problem in problems if problem["kind"] == "consent"]
        if consents:
            lines.append(
                self.env._(
                    "%(count)s consent(s) do not have the state of their last event (ids: %(ids)s).",
                    count=len(consents),
                    ids=", ".join(map(str, consents[:LOGGED_IDS_MAX])),
                )
            )
        self.sudo()._gdpr_log_verification(
            "audit_verified",
            {"count": len(problems)},
            "Audit log verified: %s problem(s) found" % len(problems),
            record_count=len(problems),
        )
        if lines:
            message = self.env._("The audit trail was tampered with:") + " " + " ".join(lines)
            notification_type = "danger"
        else:
            message = self.env._("The audit log is intact: every entry matches its seal and its predecessor.")
            pending = self.sudo()._gdpr_unsealed_count()
            if pending:
                message += " " + self.env._(
                    "%(count)s newer entries are not sealed yet: verify again in a few minutes.", count=pending
                )
            notification_type = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": notification_type, "sticky": bool(lines)},
        }

    # ------------------------------------------------------------------
    # Retention of the log itself
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_retention_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.audit_log_retention_days")
        if value in (None, False, ""):
            return DEFAULT_RETENTION_DAYS
        # bounded: a setting written straight into the parameters cannot overflow a date
        return bounded_setting("gdpr_crm.audit_log_retention_days", value, DEFAULT_RETENTION_DAYS)

    @api.model
    def _gdpr_purge_expired(self):
        """Delete the entries older than the log's retention period.

        Only the oldest part of the chain is removed (never a hole in the
        middle); the database trigger itself checks that each deleted entry
        is past the retention. The purge is logged first, naming the first
        entry kept, so that :meth:`verify_chain` knows where the chain now
        starts. Returns the number of entries deleted.
        """
        days = self._gdpr_retention_days()
        if days < MIN_RETENTION_DAYS:
            return 0  # 0 keeps the log forever
        cr = self.env.cr
        # the transaction's timestamp, the one the trigger compares with
        cutoff = cr.now().replace(microsecond=0) - timedelta(days=days)
        self._gdpr_seal()
        cr.execute(
            "SELECT min(chain_seq) FROM gdpr_audit_log WHERE chain_seq IS NOT NULL AND create_date >= %s", (cutoff,)
        )
        first_kept_seq = cr.fetchone()[0]
        if not first_kept_seq:
            return 0  # keep at least the newest sealed entries
        cr.execute(
            "SELECT count(*), max(id) FROM gdpr_audit_log WHERE chain_seq < %s AND create_date < %s",
            (first_kept_seq, cutoff),
        )
        count, last_purged = cr.fetchone()
        if not count:
            return 0
        cr.execute("SELECT id FROM gdpr_audit_log WHERE chain_seq = %s", (first_kept_seq,))
        first_kept = cr.fetchone()[0]
        self._gdpr_log(
            "retention",
            model=self._name,
            res_id=first_kept,
            record_count=count,
            description=f"Purged {count} audit log entries older than {days} days (up to entry #{last_purged})",
            code="audit_purged",
            params={"count": count, "days": days, "last": last_purged},
        )
        cr.execute("DELETE FROM gdpr_audit_log WHERE chain_seq < %s AND create_date < %s", (first_kept_seq, cutoff))
        self.invalidate_model()
        _logger.info("gdpr.audit.log: purged %s entries older than %s days", count, days)
        return count

    @api.model
    def _cron_purge_expired(self):
        self._gdpr_purge_expired()


def seal_in_own_transaction(registry, wait=False, checkpoint=False):
    """Seal the committed unsealed entries in a short transaction of its own.

    READ COMMITTED, so that the head of the chain is read after the seal lock
    is taken (under REPEATABLE READ it would be read from a snapshot taken
    before). Without ``wait``, gives up at once when another process is
    sealing (that one, the next commit or the cron seals the rest). Returns
    the number of entries sealed, or the id of the checkpoint taken.
    """
    with registry.cursor() as cr:
        if not isinstance(cr, TestCursor):
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
        if wait:
            cr.execute("SET LOCAL lock_timeout = '30s'")
            cr.execute("SELECT pg_advisory_xact_lock(%s), true", (SEAL_LOCK_KEY,))
        else:
            cr.execute("SELECT pg_try_advisory_xact_lock(%s)", (SEAL_LOCK_KEY,))
            if not cr.fetchone()[0]:
                return 0
        env = api.Environment(cr, SUPERUSER_ID, {})
        AuditLog = env["gdpr.audit.log"]
        total = 0
        while count := AuditLog._gdpr_seal_batch():
            total += count
            cr.commit()  # releases the lock: take it again for the next batch
            cr.execute("SELECT pg_advisory_xact_lock(%s)", (SEAL_LOCK_KEY,))
        if checkpoint:
            return AuditLog._gdpr_make_checkpoint().id
        return total
