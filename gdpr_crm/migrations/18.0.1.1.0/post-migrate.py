# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0: the audit log and the consent history get keys outside the database.

Until 18.0.1.0.0 the audit log was chained with an unkeyed SHA-256 and the
consent events were signed with a secret kept in ``ir.config_parameter``. This
upgrade:

1. verifies both as they were (the former algorithms, below);
2. seals the whole audit log again, in id order, with the keyed HMAC of
   ``gdpr.keyring`` (label "audit"), and re-signs every consent event that
   verified with the key "consent_event"; an event that did not verify keeps
   its former signature, without key, so that the new verification reports it;
3. logs the result (code ``audit_upgraded``) and takes a first signed
   checkpoint of the head, written to the server's log;
4. removes the former secret from the database.
"""

import hashlib
import hmac
import json
import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

LEGACY_GENESIS = "0" * 64
LEGACY_COLUMNS = (
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
LEGACY_SECRET_PARAM = "gdpr_crm.consent_hmac_secret"


def _legacy_payload(row):
    values = []
    for column in LEGACY_COLUMNS[1:]:
        value = row.get(column)
        if column == "create_date":
            value = value.isoformat() if value else None
        elif column == "record_count":
            value = value or 0
        else:
            value = value or None
        values.append(value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _legacy_hash(previous, row):
    return hashlib.sha256(f"{previous}|{row['id']}|{_legacy_payload(row)}".encode()).hexdigest()


def _verify_legacy_chain(cr):
    """The id of the first broken entry of the former chain, or None."""
    cr.execute(
        "SELECT res_id, id FROM gdpr_audit_log WHERE event_type = 'retention' AND model = 'gdpr.audit.log' "
        "ORDER BY id DESC LIMIT 1"
    )
    purge = cr.fetchone()
    anchor = purge and (purge[0] or purge[1])
    columns = SQL(", ").join(SQL.identifier(name) for name in (*LEGACY_COLUMNS, "hash", "previous_hash"))
    cr.execute(SQL("SELECT %s FROM gdpr_audit_log ORDER BY id", columns))
    expected = None
    for row in cr.dictfetchall():
        if expected is None:
            if row["previous_hash"] != LEGACY_GENESIS and row["id"] != anchor:
                return row["id"]
        elif row["previous_hash"] != expected:
            return row["id"]
        if _legacy_hash(row["previous_hash"], row) != row["hash"]:
            return row["id"]
        expected = row["hash"]
    return None


def _reseal_audit_log(env):
    cr = env.cr
    cr.execute("ALTER TABLE gdpr_audit_log DISABLE TRIGGER gdpr_audit_log_append_only")
    cr.execute("UPDATE gdpr_audit_log SET hash = NULL, previous_hash = NULL, chain_seq = NULL, key_id = NULL")
    cr.execute("ALTER TABLE gdpr_audit_log ENABLE TRIGGER gdpr_audit_log_append_only")
    total = 0
    AuditLog = env["gdpr.audit.log"]
    while count := AuditLog._gdpr_seal_batch():
        total += count
    return total


def _resign_consent_events(env, legacy_secret):
    """Re-sign the events that verify with the former secret; returns (re-signed, refused ids)."""
    cr = env.cr
    Event = env["gdpr.consent.event"]
    keyring = env["gdpr.keyring"]
    key_id = keyring._gdpr_key_id()
    key = keyring._gdpr_key("consent_event", key_id)
    from odoo.addons.gdpr_crm.lib import keys
    from odoo.addons.gdpr_crm.models.gdpr_consent_event import SIGNED_FIELDS

    columns = SQL(", ").join(SQL.identifier(name) for name in ("id", *SIGNED_FIELDS, "signature"))
    cr.execute(SQL("SELECT %s FROM gdpr_consent_event ORDER BY consent_id, id", columns))
    names = [desc[0] for desc in cr.description]
    rows = [dict(zip(names, values, strict=True)) for values in cr.fetchall()]
    updates, refused = [], []
    old_previous, new_previous = {}, {}
    for row in rows:
        message = Event._gdpr_message(row)
        consent = row["consent_id"]
        valid = (
            legacy_secret
            and row["signature"]
            and hmac.compare_digest(
                hmac.new(legacy_secret.encode(), message.encode(), hashlib.sha256).hexdigest(), row["signature"]
            )
            and (row["previous_signature"] or False) == old_previous.get(consent, False)
        )
        old_previous[consent] = row["signature"]
        if valid:
            row["previous_signature"] = new_previous.get(consent, False)
            signature = keys.sign(key, Event._gdpr_message(row))
            updates.append((row["id"], signature, row["previous_signature"] or None, key_id))
            new_previous[consent] = signature
        else:
            refused.append(row["id"])
            new_previous[consent] = row["signature"]
    if updates:
        cr.execute("ALTER TABLE gdpr_consent_event DISABLE TRIGGER gdpr_consent_event_append_only")
        cr.executemany(
            "UPDATE gdpr_consent_event SET signature = %s, previous_signature = %s, key_id = %s WHERE id = %s",
            [(signature, previous, kid, event_id) for event_id, signature, previous, kid in updates],
        )
        cr.execute("ALTER TABLE gdpr_consent_event ENABLE TRIGGER gdpr_consent_event_append_only")
    return len(updates), refused


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    broken = _verify_legacy_chain(cr)
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (LEGACY_SECRET_PARAM,))
    row = cr.fetchone()
    legacy_secret = row and row[0]
    resigned, refused = _resign_consent_events(env, legacy_secret)
    sealed = _reseal_audit_log(env)
    result = "former chain intact" if broken is None else f"former chain broken at entry #{broken}"
    result += f"; {resigned} consent event(s) re-signed"
    if refused:
        result += f", {len(refused)} did not verify with the former secret (ids {refused[:50]})"
    AuditLog = env["gdpr.audit.log"]
    AuditLog._gdpr_log(
        "retention",
        model="gdpr.audit.log",
        record_count=sealed,
        description=f"Audit log re-sealed with the keys of the configuration: {sealed} entries; {result}",
        code="audit_upgraded",
        params={"count": sealed, "result": result},
    )
    AuditLog._gdpr_seal_batch()
    AuditLog._gdpr_make_checkpoint()
    cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", (LEGACY_SECRET_PARAM,))
    log = _logger.warning if (broken is not None or refused) else _logger.info
    log("gdpr_crm 18.0.1.1.0: %s entries re-sealed; %s", sealed, result)
