# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Cost of gdpr_crm's audit logging (PRODUCT.md §9: under 10 %).

Measures, with and without the audit log:
- BENCH_WRITES (default 10,000) writes of a personal-data field, one partner
  per write() call, each flushed to the database (the worst case: one log
  entry per write, written with the others at commit time), logging on for
  one write in two (interleaved, so that the noise of a shared machine falls
  on both modes alike);
- one export_data() of BENCH_ROWS (default 100,000) partners (one log entry).

Run it inside `odoo shell` on a database where gdpr_crm is installed (see the
README). It creates its own data in the current transaction and rolls
everything back at the end: the database is left unchanged. It prints
figures and asserts nothing.
"""

import os
import time

from odoo.addons.gdpr_crm.models import gdpr_audit_log as audit_module

WRITES = int(os.environ.get("BENCH_WRITES", 10000))
ROWS = int(os.environ.get("BENCH_ROWS", 100000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
EXPORT_FIELDS = ["name", "email", "phone", "city", "country_id/name"]


def set_logging(enabled):
    audit_module.AUTOMATIC_LOGGING = enabled


def log_count(env):
    env["gdpr.audit.log"]._gdpr_flush_pending()
    env.cr.execute("SELECT count(*) FROM gdpr_audit_log")
    return env.cr.fetchone()[0]


def make_partners(env, count, prefix):
    """Insert ``count`` partners in one SQL statement (set-up, not measured)."""
    env.cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, email, phone, city, active, type, is_company,
                                 partner_share, lang, create_uid, write_uid, create_date, write_date)
        SELECT %(prefix)s || n, %(prefix)s || n, 'bench' || n || '@example.com', '+33 1 00 ' || n,
               'Lyon', true, 'contact', false, true, 'en_US', %(uid)s, %(uid)s,
               now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM generate_series(1, %(count)s) AS n
        RETURNING id
        """,
        {"prefix": prefix, "count": count, "uid": env.uid},
    )
    ids = [row[0] for row in env.cr.fetchall()]
    env.cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", (ids,))
    return env["res.partner"].browse(ids)


def bench_writes(env, partners, tag):
    """Time each write with and without logging, alternating write by write.

    The machine may be shared: interleaving both modes spreads any noise
    evenly between them.
    """
    elapsed = {True: 0.0, False: 0.0}
    for index, partner in enumerate(partners):
        enabled = index % 2 == 1
        set_logging(enabled)
        start = time.perf_counter()
        partner.write({"phone": f"+33 6 {tag} {index:05d}"})
        env.flush_all()
        elapsed[enabled] += time.perf_counter() - start
    set_logging(True)
    # the entries of personal-data changes are written together at commit
    # time: that statement is part of the cost of logging
    start = time.perf_counter()
    env["gdpr.audit.log"]._gdpr_flush_pending()
    elapsed[True] += time.perf_counter() - start
    # both halves did len(partners) / 2 writes: scale to len(partners) writes each
    return {enabled: total * 2 for enabled, total in elapsed.items()}


def bench_export(env, partners):
    env.invalidate_all()
    start = time.perf_counter()
    rows = partners.export_data(EXPORT_FIELDS)["datas"]
    elapsed = time.perf_counter() - start
    assert len(rows) == len(partners)
    return elapsed


def report(label, without, with_log):
    ratio = with_log / without if without else float("nan")
    overhead = (ratio - 1) * 100
    print(f"{label:<38} without log {without:8.3f} s   with log {with_log:8.3f} s   ", end="")
    print(f"ratio {ratio:5.3f} ({overhead:+.1f} %)")


def main(env):
    env = env(context=dict(env.context, tracking_disable=True, mail_notrack=True))
    print(f"gdpr_crm audit log benchmark on database {env.cr.dbname}: {WRITES} writes, export of {ROWS} rows")
    try:
        write_set = make_partners(env, WRITES, "Bench writer ")
        export_set = make_partners(env, ROWS, "Bench export ")
        env.cr.execute("ANALYZE res_partner")
        writes = {True: [], False: []}
        exports = {True: [], False: []}
        for round_no in range(ROUNDS):
            before = log_count(env)
            for enabled, seconds in bench_writes(env, write_set, round_no).items():
                writes[enabled].append(seconds)
            print(f"  round {round_no + 1}: writes done, {log_count(env) - before} log entries written")
            # alternate the order so that neither mode always runs on a warmer cache
            for enabled in (False, True) if round_no % 2 == 0 else (True, False):
                set_logging(enabled)
                exports[enabled].append(bench_export(env, export_set))
            set_logging(True)
        print()
        report(f"{WRITES} partner writes (best of {ROUNDS})", min(writes[False]), min(writes[True]))
        report(f"export of {ROWS} rows (best of {ROUNDS})", min(exports[False]), min(exports[True]))
        per_write = (min(writes[True]) - min(writes[False])) / WRITES * 1000
        print(f"{'cost of one log entry on a write':<38} {per_write:.3f} ms")
        env["gdpr.audit.log"].invalidate_model()
        start = time.perf_counter()
        broken = env["gdpr.audit.log"].verify_chain()
        print(
            f"{'verify_chain() over ' + str(log_count(env)) + ' entries':<38} {time.perf_counter() - start:.3f} s "
            f"({'intact' if not broken else f'broken at #{broken}'})"
        )
    finally:
        set_logging(True)
        env.cr.rollback()
        print("rolled back: the database is unchanged")


main(env)  # noqa: F821 - `env` is given by `odoo shell`
