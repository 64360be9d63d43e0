# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import json
import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools import SQL

from ..lib.validation import bounded_setting, is_int

_logger = logging.getLogger(__name__)

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

# previous_hash of the very first entry of the chain
GENESIS_HASH = "0" * 64
# key of the transaction-level advisory lock that serializes the writers of the chain
ADVISORY_LOCK_KEY = 0x67647072  # "gdpr"
# transaction-local PostgreSQL setting through which the purge method tells the
# trigger which entries it may delete
PURGE_SETTING = "gdpr_crm.audit_log_purge_before"
DEFAULT_RETENTION_DAYS = 365
MIN_RETENTION_DAYS = 180
USER_AGENT_MAX = 512
LOGGED_IDS_MAX = 50
# key of the transaction's deferred entries in cr.precommit.data
PENDING_KEY = "gdpr.audit.log.pending"

# Automatic logging (logins, exports, personal-data changes, access changes)
# can be switched off inside the server process only, for the benchmark's
# baseline (bench/bench_audit.py). It is deliberately not a context key: an
# RPC client must not be able to hide its exports from the log.
AUTOMATIC_LOGGING = True

# Columns covered by the hash, in this order.
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
)

# One round trip per entry: take the chain's lock, read its head, INSERT the
# entry with the SHA-256 of "previous hash|id|payload" (payload: entry_payload).
_APPEND_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION gdpr_audit_log_append(
    p_create_date timestamp, p_user_id integer, p_event_type varchar, p_model varchar,
    p_res_id integer, p_record_count integer, p_description text, p_ip_address varchar,
    p_user_agent varchar, p_company_id integer, p_payload text)
RETURNS integer LANGUAGE plpgsql
-- the chain head is read through the primary key, whatever the table's size
-- was when the plan was cached (this setting only holds inside the function)
SET enable_seqscan = off
AS $$
DECLARE
    previous varchar;
    new_id integer;
BEGIN
    PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
    SELECT hash INTO previous FROM gdpr_audit_log ORDER BY id DESC LIMIT 1;
    previous := COALESCE(previous, '{GENESIS_HASH}');
    new_id := nextval('gdpr_audit_log_id_seq');
    INSERT INTO gdpr_audit_log (
        id, create_date, user_id, user_ref, event_type, model, res_id, record_count,
        description, ip_address, user_agent, company_id, hash, previous_hash)
    VALUES (
        new_id, p_create_date, p_user_id, p_user_id, p_event_type, p_model, p_res_id, p_record_count,
        p_description, p_ip_address, p_user_agent, p_company_id,
        encode(sha256(convert_to(previous || '|' || new_id || '|' || p_payload, 'UTF8')), 'hex'),
        previous);
    RETURN new_id;
END
$$;
"""

_TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION gdpr_audit_log_protect() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    purge_before timestamp;
    retention_days integer;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
       AND to_jsonb(NEW) - 'user_id' = to_jsonb(OLD) - 'user_id' THEN
        -- a deleted user (ON DELETE SET NULL): user_ref keeps the hashed id
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        purge_before := NULLIF(current_setting('{PURGE_SETTING}', true), '')::timestamp;
        SELECT NULLIF(value, '')::integer INTO retention_days
          FROM ir_config_parameter WHERE key = 'gdpr_crm.audit_log_retention_days';
        retention_days := COALESCE(retention_days, {DEFAULT_RETENTION_DAYS});
        IF purge_before IS NOT NULL
           AND retention_days >= {MIN_RETENTION_DAYS}
           AND purge_before <= (now() AT TIME ZONE 'UTC') - make_interval(days => retention_days)
           AND OLD.create_date < purge_before THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'gdpr_audit_log is append-only: % refused', TG_OP
        USING HINT = 'Entries past the audit log retention are removed by gdpr.audit.log._gdpr_purge_expired().';
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
    """The content of an entry that its hash covers, besides its id.

    ``row`` maps the columns of ``HASHED_COLUMNS`` to their values as stored.
    Empty values are normalised so that the payload computed before the
    INSERT equals the payload recomputed from the row read back.
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
        else:
            value = value or None
        values.append(value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def compute_entry_hash(previous_hash, row):
    """SHA-256 of an entry: ``previous hash|id|payload`` (see ``gdpr_audit_log_append``)."""
    return hashlib.sha256(f"{previous_hash}|{row['id']}|{entry_payload(row)}".encode()).hexdigest()


class GdprAuditLog(models.Model):
    """Append-only, hash-chained trail of who did what and when (GDPR art. 5(2), 32).

    Every feature of gdpr_crm writes here through :meth:`_gdpr_log` and
    nothing else, so that the log has one entry point. Each entry stores the
    SHA-256 of its content and of the previous entry's hash; a database
    trigger refuses UPDATE, DELETE and TRUNCATE (except the purge of entries
    past the log's own retention, by :meth:`_gdpr_purge_expired`);
    :meth:`verify_chain` names the first entry whose link is broken.
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
    model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="model", readonly=True, index="btree_not_null")
    record_count = fields.Integer(readonly=True)
    description = fields.Text(readonly=True)
    ip_address = fields.Char(string="IP Address", readonly=True)
    user_agent = fields.Char(readonly=True)
    hash = fields.Char(readonly=True, copy=False)
    previous_hash = fields.Char(readonly=True, copy=False)
    company_id = fields.Many2one("res.company", readonly=True, ondelete="restrict")

    _sql_constraints = [
        # Two entries chained to the same predecessor would fork the chain.
        ("previous_hash_uniq", "unique (previous_hash)", "The audit log chain cannot fork."),
    ]

    def init(self):
        self.env.cr.execute(_APPEND_FUNCTION_SQL)
        self.env.cr.execute(_TRIGGER_SQL)
        create_append_only_triggers(self.env.cr, self._table, "gdpr_audit_log_protect")

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_request_ip(self):
        try:
            return request.httprequest.remote_addr if request else False
        except RuntimeError:  # outside of an HTTP request
            return False

    @api.model
    def _gdpr_request_user_agent(self):
        try:
            return request.httprequest.user_agent.string[:USER_AGENT_MAX] if request else False
        except (RuntimeError, AttributeError):
            return False

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
    ):
        """Append one entry to the audit log and return it.

        :param event_type: one of ``EVENT_TYPES``
        :param records: the recordset concerned (gives model, res_id when it
            holds one record, and record_count)
        :param description: what happened, without personal values (field
            names and ids, never the data itself)
        :param user: who did it (default: the current user)
        """
        vals = self._gdpr_entry_vals(event_type, records, model, res_id, record_count, description, user, ip_address)
        return self.sudo()._gdpr_append(vals)

    @api.model
    def _gdpr_entry_vals(self, event_type, records, model, res_id, record_count, description, user, ip_address):
        if records is not None:
            model = model or records._name
            if len(records) == 1:
                res_id = res_id or records.id
            if record_count is None:
                record_count = len(records)
        user = user if user is not None else self.env.user
        vals = {
            "event_type": event_type,
            "model": model or False,
            "res_id": res_id or False,
            "record_count": record_count or 0,
            "description": description or False,
            "user_id": user.id or False,
            "ip_address": ip_address or self._gdpr_request_ip(),
            "user_agent": self._gdpr_request_user_agent(),
            "company_id": self.env.company.id,
        }
        return vals

    @api.model
    def _gdpr_log_deferred(self, event_type, records=None, description=None):
        """Like :meth:`_gdpr_log`, but the entry is written with the others of
        the transaction in one statement just before the commit.

        For the frequent automatic entries (personal-data changes): no round
        trip per change, and the chain's lock is held only during the commit.
        Searching the log, or :meth:`verify_chain`, writes them first.
        """
        vals = self._gdpr_entry_vals(event_type, records, None, None, None, description, None, None)
        if vals.get("event_type") not in dict(EVENT_TYPES):
            raise UserError(self.env._("Unknown audit event type: %s", vals.get("event_type")))
        cr = self.env.cr
        pending = cr.precommit.data.setdefault(PENDING_KEY, [])
        if not pending:
            cr.precommit.add(self.sudo()._gdpr_flush_pending)
        pending.append(self._gdpr_row(vals))

    @api.model
    def _gdpr_flush_pending(self):
        """Write the deferred entries of this transaction, chained, in one statement."""
        rows = self.env.cr.precommit.data.pop(PENDING_KEY, None)
        if not rows:
            return
        records = [dict(row, create_date=row["create_date"].isoformat(), payload=entry_payload(row)) for row in rows]
        try:
            self.env.cr.execute(
                """
                SELECT gdpr_audit_log_append(r.create_date, r.user_ref, r.event_type, r.model, r.res_id,
                                             r.record_count, r.description, r.ip_address, r.user_agent,
                                             r.company_id, r.payload)
                  FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS (
                        create_date timestamp, user_ref integer, event_type varchar, model varchar,
                        res_id integer, record_count integer, description text, ip_address varchar,
                        user_agent varchar, company_id integer, payload text)) WITH ORDINALITY AS r
                 ORDER BY r.ordinality
                """,
                (json.dumps(records),),
            )
        except pg_errors.UniqueViolation as exc:
            raise pg_errors.SerializationFailure(
                "gdpr.audit.log: a concurrent transaction extended the chain; retrying"
            ) from exc

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
        return self._gdpr_log_deferred("personal_data_change", records=records, description=description)

    @api.model
    def _gdpr_row(self, vals):
        """The values of an entry as stored and hashed (its id comes at INSERT)."""
        row = {column: vals.get(column) or None for column in HASHED_COLUMNS}
        row["user_ref"] = vals.get("user_id") or None
        row["create_date"] = fields.Datetime.now().replace(microsecond=0)
        row["record_count"] = vals.get("record_count") or 0
        return row

    def _gdpr_append(self, vals):
        """INSERT one chained entry, in one round trip (``gdpr_audit_log_append``).

        The transaction-level advisory lock makes concurrent writers wait for
        each other until commit. Odoo runs in REPEATABLE READ, so a writer
        that waited may still read a stale chain head from its snapshot: the
        unique index on ``previous_hash`` then refuses its INSERT, which is
        turned into a serialization failure so that Odoo retries the whole
        transaction with a fresh snapshot. The chain can therefore never fork.
        """
        if vals.get("event_type") not in dict(EVENT_TYPES):
            raise UserError(self.env._("Unknown audit event type: %s", vals.get("event_type")))
        self._gdpr_flush_pending()  # keep the entries of the transaction in order
        row = self._gdpr_row(vals)
        cr = self.env.cr
        try:
            # No savepoint: on a conflict the whole transaction is retried.
            cr.execute(
                "SELECT gdpr_audit_log_append(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    row["create_date"],
                    row["user_ref"],
                    row["event_type"],
                    row["model"],
                    row["res_id"],
                    row["record_count"],
                    row["description"],
                    row["ip_address"],
                    row["user_agent"],
                    row["company_id"],
                    entry_payload(row),
                ),
            )
        except pg_errors.UniqueViolation as exc:
            raise pg_errors.SerializationFailure(
                "gdpr.audit.log: a concurrent transaction extended the chain; retrying"
            ) from exc
        new_id = cr.fetchone()[0]
        return self.browse(new_id)

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        """Entries are only created through :meth:`_gdpr_log` (chained)."""
        if not self.env.su:
            raise AccessError(self.env._("Audit log entries are written by the application only."))
        allowed = {"event_type", "model", "res_id", "record_count", "description", "user_id", "ip_address"}
        allowed |= {"user_agent", "company_id"}
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
    # Verification
    # ------------------------------------------------------------------
    @api.model
    def verify_chain(self, batch_size=5000):
        """Check every link of the chain, oldest first.

        :return: the id of the first entry whose hash or link is wrong, or
            ``False`` when the whole chain is intact.
        """
        self.check_access("read")  # the DPO's tool: raw SQL below
        if not is_int(batch_size) or not 1 <= batch_size <= 100_000:
            raise UserError(self.env._("The batch size must be a whole number between 1 and 100000."))
        cr = self.env.cr
        self.env.flush_all()
        self._gdpr_flush_pending()
        cr.execute(
            """
            SELECT res_id, id FROM gdpr_audit_log
             WHERE event_type = 'retention' AND model = 'gdpr.audit.log'
             ORDER BY id DESC LIMIT 1
            """
        )
        purge = cr.fetchone()
        anchor_id = purge and (purge[0] or purge[1])
        columns = ", ".join((*HASHED_COLUMNS, "hash", "previous_hash"))
        expected_previous = None
        last_id = 0
        while True:
            cr.execute(
                f"SELECT {columns} FROM gdpr_audit_log WHERE id > %s ORDER BY id LIMIT %s",
                (last_id, batch_size),
            )
            rows = cr.dictfetchall()
            if not rows:
                return False
            for row in rows:
                if expected_previous is None:
                    # First entry: the genesis, or the first entry kept by the last purge.
                    if row["previous_hash"] != GENESIS_HASH and row["id"] != anchor_id:
                        return row["id"]
                elif row["previous_hash"] != expected_previous:
                    return row["id"]
                if compute_entry_hash(row["previous_hash"], row) != row["hash"]:
                    return row["id"]
                expected_previous = row["hash"]
                last_id = row["id"]

    def action_verify_chain(self):
        broken_id = self.verify_chain()
        if broken_id:
            message = self.env._(
                "The audit log was tampered with: entry #%(id)s does not match its hash or its predecessor.",
                id=broken_id,
            )
            notification_type = "danger"
        else:
            message = self.env._("The audit log is intact: every entry matches its hash and its predecessor.")
            notification_type = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": notification_type, "sticky": bool(broken_id)},
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
        middle). The purge is itself logged first, naming the first entry
        kept, so that :meth:`verify_chain` knows where the chain now starts.
        Returns the number of entries deleted.
        """
        days = self._gdpr_retention_days()
        if days < MIN_RETENTION_DAYS:
            return 0  # 0 keeps the log forever
        cr = self.env.cr
        # the transaction's timestamp, the one the trigger compares with
        cutoff = cr.now().replace(microsecond=0) - timedelta(days=days)
        cr.execute("SELECT min(id) FROM gdpr_audit_log WHERE create_date >= %s", (cutoff,))
        first_kept = cr.fetchone()[0]
        if first_kept:
            cr.execute(
                "SELECT count(*), max(id) FROM gdpr_audit_log WHERE id < %s AND create_date < %s",
                (first_kept, cutoff),
            )
        else:
            cr.execute("SELECT count(*), max(id) FROM gdpr_audit_log WHERE create_date < %s", (cutoff,))
        count, last_purged = cr.fetchone()
        if not count:
            return 0
        self._gdpr_log(
            "retention",
            model=self._name,
            res_id=first_kept or False,
            record_count=count,
            description=f"Purged {count} audit log entries older than {days} days (up to entry #{last_purged})",
        )
        cr.execute("SELECT set_config(%s, %s, true)", (PURGE_SETTING, fields.Datetime.to_string(cutoff)))
        try:
            cr.execute("DELETE FROM gdpr_audit_log WHERE id <= %s AND create_date < %s", (last_purged, cutoff))
        finally:
            cr.execute("SELECT set_config(%s, '', true)", (PURGE_SETTING,))
        self.invalidate_model()
        _logger.info("gdpr.audit.log: purged %s entries older than %s days", count, days)
        return count

    @api.model
    def _cron_purge_expired(self):
        self._gdpr_purge_expired()
