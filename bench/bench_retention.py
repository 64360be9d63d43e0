#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Time gdpr_crm's retention engine against Odoo's data_recycle.

On a database filled by bench/generate.py (``--scale 2``: 400,000 leads)
with gdpr_crm and data_recycle installed, makes --count leads past due for
each action and prints records a second:

1. data_recycle (automatic mode, archive) archives group A of past-due leads;
   group A is unarchived again (SQL);
2. a gdpr.retention.policy ``archive`` archives the same group A;
3. a policy ``anonymize`` anonymizes group B;
4. a policy ``delete`` deletes group C.

Each run is the cron's engine (``_gdpr_run(commit=True)``, batches of
--batch, a commit per batch). The groups are made past due one at a time
(their ``gdpr_last_interaction_date`` 5 years ago; the generated leads have
none, and the group of the previous run gets none again), so that every
policy has the domain ``[]`` and finds its records by the reference date.
``--explain`` prints the EXPLAIN ANALYZE of the count of past-due records
and of one batch's claim.

It changes the database for good (archives, anonymizes and deletes leads):
run it on a throw-away copy.

    ~/.local/share/gdpr_crm/venv/bin/python bench/bench_retention.py -d gdpr_bench [--explain]
"""

import argparse
import time

from _odoo import open_registry


def make_due(cr, ids, previous=()):
    """Make ``ids`` the only past-due leads (the generated leads have no
    reference date; the group of the previous run gets none again)."""
    if previous:
        cr.execute("UPDATE crm_lead SET gdpr_last_interaction_date = NULL WHERE id = ANY(%s)", [list(previous)])
    cr.execute("UPDATE crm_lead SET gdpr_last_interaction_date = now() - interval '5 years' WHERE id = ANY(%s)", [ids])
    cr.execute("ANALYZE crm_lead")
    cr.execute("ANALYZE mail_message")
    cr.commit()


def explain(env, policy):
    from odoo.osv import expression
    from odoo.tools import SQL

    model = policy._gdpr_due_model()
    domain = policy._gdpr_due_domain()
    count_query = model._search(domain)
    claim_query = model._search(expression.AND([domain, [("id", ">", 0)]]), order="id", limit=1000)
    for title, sql in (
        ("count of past-due records", SQL("SELECT count(*) FROM (%s) t", count_query.select())),
        (
            "claim of one batch",
            SQL(
                "%s FOR UPDATE OF %s SKIP LOCKED",
                claim_query.select(SQL.identifier(model._table, "id")),
                SQL.identifier(model._table),
            ),
        ),
    ):
        env.cr.execute(SQL("EXPLAIN ANALYZE %s", sql))
        print("EXPLAIN ANALYZE, %s:" % title)
        for (line,) in env.cr.fetchall():
            print("    " + line)
    env.cr.rollback()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--database", required=True, help="throw-away database filled by bench/generate.py")
    parser.add_argument("-c", "--config", help="Odoo configuration file (database host, user…)")
    parser.add_argument("--count", type=int, default=100000, help="past-due leads per action")
    parser.add_argument("--batch", type=int, default=1000, help="batch size of the retention engine")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the past-due lookup")
    parser.add_argument(
        "--delete-count", type=int, help="past-due leads to delete (default: --count; deleting goes through the ORM)"
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=0,
        help="add this many chatter messages (incoming emails quoting an address) to each lead to anonymize, "
        "for a database generated without its message step",
    )
    args = parser.parse_args()

    registry = open_registry(args.database, args.config)
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        if "data_recycle.model" not in env:
            raise SystemExit("Install data_recycle in %s first (odoo-bin -i data_recycle)." % args.database)
        cr.execute(
            "SELECT (SELECT count(*) FROM res_partner), (SELECT count(*) FROM crm_lead),"
            " (SELECT count(*) FROM mail_message)"
        )
        print("database {}: {:,} contacts, {:,} leads, {:,} messages".format(args.database, *cr.fetchone()))
        cr.execute("SELECT id FROM crm_lead WHERE active AND gdpr_anonymized_date IS NULL ORDER BY id")
        ids = [row[0] for row in cr.fetchall()]
        if len(ids) < 3 * args.count:
            raise SystemExit("%s active leads, %s needed: use generate.py --scale 2" % (len(ids), 3 * args.count))
        group_a, group_b, group_c = (ids[i * args.count : (i + 1) * args.count] for i in range(3))
        if args.delete_count is not None:
            group_c = group_c[: args.delete_count]
        date_field = env["ir.model.fields"]._get("crm.lead", "gdpr_last_interaction_date")
        lead_model = env["ir.model"]._get("crm.lead")

        def policy(action):
            return env["gdpr.retention.policy"].create(
                {
                    "name": "bench %s" % action,
                    "model_id": lead_model.id,
                    "date_field_id": date_field.id,
                    "domain": "[]",
                    "duration": 3,
                    "duration_unit": "years",
                    "action": action,
                    "mode": "automatic",
                    "company_id": False,
                }
            )

        policies = {action: policy(action) for action in ("archive", "anonymize", "delete")}
        if args.messages:
            cr.execute(
                """INSERT INTO mail_message (model, res_id, message_type, body, email_from, date, create_date,
                                             write_date, create_uid, write_uid)
                   SELECT 'crm.lead', lead_id, 'email', '<p>Hello, write to me at bench' || lead_id
                          || '@example.com</p>', 'bench' || lead_id || '@example.com', now(), now(), now(), 1, 1
                     FROM unnest(%s::int[]) lead_id, generate_series(1, %s)""",
                [group_b, args.messages],
            )
        cr.commit()
        results = []

        # 1. data_recycle archives group A
        make_due(cr, group_a)
        recycle = env["data_recycle.model"].create(
            {
                "name": "bench data_recycle",
                "res_model_id": lead_model.id,
                "time_field_id": date_field.id,
                "time_field_delta": 3,
                "time_field_delta_unit": "years",
                "recycle_mode": "automatic",
                "recycle_action": "archive",
                "domain": "[]",
            }
        )
        cr.commit()
        t0 = time.perf_counter()
        recycle._recycle_records(batch_commits=True)
        cr.commit()
        elapsed = time.perf_counter() - t0
        cr.execute("SELECT count(*) FROM crm_lead WHERE id = ANY(%s) AND NOT active", [group_a])
        recycled = cr.fetchone()[0]
        results.append(("data_recycle archive", recycled, elapsed))
        print("data_recycle archive: %s records in %.1f s" % (recycled, elapsed), flush=True)
        cr.execute("UPDATE crm_lead SET active = TRUE WHERE id = ANY(%s)", [group_a])
        recycle.active = False
        env["data_recycle.record"].search([("recycle_model_id", "=", recycle.id)]).unlink()
        cr.commit()
        env.invalidate_all()

        # 2-4. gdpr_crm's policies
        previous = ()
        for action, group in (("archive", group_a), ("anonymize", group_b), ("delete", group_c)):
            if previous:
                make_due(cr, group, previous)
            previous = group
            if args.explain and action == "archive":
                explain(env, policies[action])
            t0 = time.perf_counter()
            run = policies[action]._gdpr_run(trigger="manual", batch_size=args.batch, commit=True)
            elapsed = time.perf_counter() - t0
            results.append(("gdpr_crm %s" % action, run.processed_count, elapsed))
            print("gdpr_crm %s: %s records in %.1f s" % (action, run.processed_count, elapsed), flush=True)
            env.invalidate_all()

        print("\n{:<24} {:>10} {:>10} {:>12}".format("run", "records", "seconds", "records/s"))
        rates = {}
        for name, count, elapsed in results:
            rates[name] = count / elapsed if elapsed else 0.0
            print(f"{name:<24} {count:>10,} {elapsed:>10.1f} {rates[name]:>12,.0f}")
        if rates.get("data_recycle archive"):
            print(
                "\narchive: gdpr_crm is {:.1f}x data_recycle".format(
                    rates["gdpr_crm archive"] / rates["data_recycle archive"]
                )
            )


if __name__ == "__main__":
    main()
