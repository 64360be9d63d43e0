#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Time gdpr_crm's personal-data engine against Odoo's own privacy lookup.

For several data subjects of a database filled by bench/generate.py, prints
the time of ``gdpr.personal.data._gdpr_find`` (everything about the person),
of the full export (JSON + CSV zip, and the PDF apart), and of Odoo's
``privacy.lookup.wizard`` lookup for the same person (``_get_query()`` and
its execution, as the wizard does), the ratio of the two, and what Odoo's
lookup misses. Median of --runs runs after one warm-up run. Nothing is
written to the database (the export's attachments are rolled back), except
the report's CSS bundle, compiled and stored by the first print as always.

Run it with the Python of gdpr_crm's virtual environment; Odoo is found
through ODOO_HOME or the setup.env that ./scripts/setup.sh writes:

    ~/.local/share/gdpr_crm/venv/bin/python bench/bench_lookup.py -d gdpr_bench [--explain]
"""

import argparse
import re
import statistics
import time
from collections import Counter

from _odoo import open_registry


def timed(func, runs):
    func()  # warm-up (caches, plans)
    durations = []
    result = None
    for _i in range(runs):
        t0 = time.perf_counter()
        result = func()
        durations.append(time.perf_counter() - t0)
    return statistics.median(durations), result


def odoo_lookup(env, name, email):
    wizard = env["privacy.lookup.wizard"].new({"name": name, "email": email})

    def run():
        env.cr.execute(wizard._get_query())
        return env.cr.fetchall()

    return run


# Tables with more rows than this must never be read by a sequential scan.
LARGE_TABLE_ROWS = 10_000
SEQ_SCAN_RE = re.compile(r"Seq Scan on (\w+)")


def explain(env, sql_list, seq_scans=None):
    """Print the EXPLAIN ANALYZE of each query; add to ``seq_scans`` the
    tables it reads sequentially."""
    for query in sql_list:
        env.cr.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING) " + env.cr.mogrify(*_split(query)).decode())
        plan = "\n".join(row[0] for row in env.cr.fetchall())
        print(plan)
        print()
        if seq_scans is not None:
            seq_scans.update(SEQ_SCAN_RE.findall(plan))


def _split(query):
    from odoo.tools import SQL

    if isinstance(query, SQL):
        return query.code, query.params
    return query, None


def subjects(env):
    Partner = env["res.partner"].with_context(active_test=False)
    result = []
    for k in (4242, 50000, 77777):
        partner = Partner.search([("email_normalized", "=", f"contact{k}@example{k % 50}.com")], limit=1)
        if partner:
            result.append((partner.name, partner, partner.name, partner.email, {"partners": partner}))
    company = Partner.search([("name", "=", "Company 5000")], limit=1)
    if company:
        result.append(("Company 5000 + contacts", company, company.name, company.email, {"partners": company}))
    email = "visitor19@mail19.org"
    result.append(("bare email (web lead)", None, email, email, {"emails": [email]}))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--database", required=True, help="database filled by bench/generate.py")
    parser.add_argument("-c", "--config", help="Odoo configuration file (database host, user…)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure (median)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every query")
    args = parser.parse_args()

    registry = open_registry(args.database, args.config)
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        engine = env["gdpr.personal.data"]
        cr.execute(
            "SELECT (SELECT count(*) FROM res_partner), (SELECT count(*) FROM crm_lead),"
            " (SELECT count(*) FROM mail_message), (SELECT count(*) FROM mail_activity),"
            " (SELECT count(*) FROM ir_attachment), (SELECT count(*) FROM mail_followers),"
            " (SELECT count(*) FROM gdpr_mention)"
        )
        sizes = cr.fetchone()
        print(
            "database {}: {:,} contacts, {:,} leads, {:,} messages, {:,} activities, {:,} attachments,"
            " {:,} followers, {:,} mention index rows".format(args.database, *sizes)
        )
        if "mailing.trace" in env:
            cr.execute("SELECT (SELECT count(*) FROM mailing_trace), (SELECT count(*) FROM mail_mail)")
            print("mass_mailing installed: {:,} mailing traces, {:,} outgoing emails kept".format(*cr.fetchone()))
        else:
            print("mass_mailing not installed")
        discovered = engine._gdpr_discover()
        print(
            "lookup columns: "
            + ", ".join(
                f"{env[model]._table}.{fname}"
                for model, by_kind in sorted(discovered.items())
                for kind in ("email", "phone")
                for fname in by_kind[kind]
            )
        )
        cr.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > %s",
            [LARGE_TABLE_ROWS],
        )
        large_tables = {row[0] for row in cr.fetchall()}
        seq_scans = set()
        cr.execute("SELECT id, model FROM ir_model")
        model_names = dict(cr.fetchall())
        # The first report printed in a database compiles and stores its
        # CSS bundle (ir.attachment), as any first print does: do it once.
        engine._gdpr_export_pdf(engine._gdpr_export_data({}), "warm-up")
        cr.commit()
        header = (
            f"{'subject':<24}{'records':>8}{'find':>10}{'Odoo':>10}{'ratio':>8}{'export':>10}{'+PDF':>8}"
            f"{'+names':>10}{'named':>6}"
        )
        print(header)
        print("-" * len(header))
        misses = []
        for label, _partner, name, email, kwargs in subjects(env):
            t_find, found = timed(lambda kw=kwargs: engine._gdpr_find(**kw), args.runs)
            t_odoo, rows = timed(odoo_lookup(env, name, email), args.runs)

            def export(found=found):
                data = engine._gdpr_export_data(found)
                engine._gdpr_export_zip(data, found)
                return data

            t_export, _data = timed(export, args.runs)

            def full_export(found=found):
                cr.execute("SAVEPOINT bench_export")
                engine._gdpr_export_attachments(found, "BENCH")
                cr.execute("ROLLBACK TO SAVEPOINT bench_export")

            t_full, _none = timed(full_export, args.runs)
            t_prov, provenance = timed(lambda kw=kwargs: engine._gdpr_find_provenance(**kw), args.runs)
            named = sum(
                1 for records in provenance.values() for info in records.values() if info["relation"] == "name_mention"
            )
            total = sum(len(ids) for ids in found.values())
            print(
                f"{label:<24}{total:>8}{t_find * 1000:>8.1f}ms{t_odoo * 1000:>8.1f}ms"
                f"{t_odoo / t_find:>7.1f}x{t_export * 1000:>8.1f}ms{t_full:>7.2f}s{t_prov * 1000:>8.1f}ms{named:>6}"
            )
            ours = {(m, i) for m, ids in found.items() for i in ids}
            theirs = {(model_names[m], i) for m, i, _active in rows}
            misses.append((label, Counter(m for m, _i in ours - theirs), Counter(m for m, _i in theirs - ours)))
            if args.explain:
                print(f"== EXPLAIN ANALYZE, {label}: Odoo's lookup")
                explain(env, [odoo_lookup_query(env, name, email)])
                print(f"== EXPLAIN ANALYZE, {label}: gdpr_crm's find, with the name mentions")
                explain_engine(env, engine, kwargs, seq_scans)
        print()
        print("find: gdpr.personal.data._gdpr_find; Odoo: privacy.lookup.wizard._get_query() + execute;")
        print("export: JSON data + CSV zip; +PDF: the three attachments with the QWeb PDF (wkhtmltopdf);")
        print("+names: _gdpr_find_provenance (the same, with the relation of each record and the possible")
        print("mentions of the full name, found through trigram indexes); named: those name mentions.")
        if args.explain:
            large = sorted(seq_scans & large_tables)
            print(
                f"Sequential scans of tables over {LARGE_TABLE_ROWS:,} rows in gdpr_crm's queries: "
                + (", ".join(large) if large else "none")
                + (
                    f" (small tables read sequentially: {', '.join(sorted(seq_scans - large_tables))})"
                    if seq_scans - large_tables
                    else ""
                )
            )
        print()
        print("What Odoo's lookup misses (records found by gdpr_crm only), and finds beyond it:")
        for label, missed, extra in misses:
            print(f"  {label}: misses {dict(missed) or 'nothing'}; finds more: {dict(extra) or 'nothing'}")
        cr.rollback()


def odoo_lookup_query(env, name, email):
    return env["privacy.lookup.wizard"].new({"name": name, "email": email})._get_query()


def explain_engine(env, engine, kwargs, seq_scans=None):
    Engine = type(engine)
    original = Engine._gdpr_execute_union

    def capture(self, queries):
        from odoo.tools import SQL

        if queries:
            explain(env, [SQL(" UNION ALL ").join(queries)], seq_scans)
        return original(self, queries)

    Engine._gdpr_execute_union = capture
    try:
        engine._gdpr_find_provenance(**kwargs)
    finally:
        Engine._gdpr_execute_union = original


if __name__ == "__main__":
    main()
