#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Time the erasure of one data subject, and compare with OCA's anonymization.

On a database filled by bench/generate.py (``--scale 2``: the doubled size),
for a few data subjects (a person with leads, messages, followers,
notifications, activities and attachments), prints:

- gdpr_crm: the time of ``gdpr.request.action_execute()`` for an erasure
  request (plan, deletions, anonymization, scrubbing and the residue check),
  the residue check's own time, and the residues it found (0 or the
  erasure is rolled back);
- OCA ``privacy_partner_to_be_forgotten`` (when installed in the database and
  its folder given with ``--oca-addons``): the time of
  ``res.partner.anonymize_partner_data()`` for a similar subject, and what
  is left of that subject afterwards, counted by gdpr_crm's engine (records
  still holding their email or phone) and in the leads (name, email).

Every measure is rolled back: the database is left as it was, except the
tracking values this script adds once (one change of email per fifth lead
message, as a real CRM database has, ``generate.py`` writes none).

Install OCA's module from its wheel into a folder OCA_DIR outside the project
(never vendored):

    pip download --no-deps "odoo-addon-privacy-partner-to-be-forgotten>=18.0,<18.1" -d "$OCA_DIR"
    python -m zipfile -e "$OCA_DIR"/*.whl "$OCA_DIR"/x
    odoo-bin -d gdpr_bench --addons-path=<gdpr_crm>,<odoo>/odoo/addons,"$OCA_DIR"/x/odoo/addons \\
        -i gdpr_crm,privacy_partner_to_be_forgotten --without-demo=all --stop-after-init
    $VENV/bin/python bench/generate.py -d gdpr_bench --scale 2
    $VENV/bin/python bench/bench_erasure.py -d gdpr_bench --oca-addons "$OCA_DIR"/x/odoo/addons
"""

import argparse
import json
import time

from _odoo import open_registry

TRACKING_EVERY = 5


def add_tracking_values(env):
    """Once: tracking values (old and new email) on a fifth of the lead messages."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM mail_tracking_value")
    if cr.fetchone()[0] > 1000:
        return 0
    field_id = env["ir.model.fields"]._get("crm.lead", "email_from").id
    cr.execute(
        """
        INSERT INTO mail_tracking_value (field_id, mail_message_id, old_value_char, new_value_char,
                                         create_uid, write_uid, create_date, write_date)
        SELECT %s, m.id, l.email_from, 'changed-' || l.id || '@example.net', 1, 1, m.date, m.date
          FROM mail_message m JOIN crm_lead l ON l.id = m.res_id
         WHERE m.model = 'crm.lead' AND m.id %% %s = 0
        """,
        [field_id, TRACKING_EVERY],
    )
    count = cr.rowcount
    cr.commit()
    return count


def pick_subjects(env, count, offset=0):
    """People (no company) with an email, two leads or more and messages."""
    env.cr.execute(
        """
        SELECT p.id FROM res_partner p
          JOIN crm_lead l ON l.partner_id = p.id
         WHERE p.email IS NOT NULL AND NOT p.is_company AND p.active
           AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = p.id)
           AND EXISTS (SELECT 1 FROM mail_message m WHERE m.author_id = p.id)
         GROUP BY p.id HAVING count(*) >= 2
         ORDER BY p.id LIMIT %s OFFSET %s
        """,
        [count, offset],
    )
    return env["res.partner"].browse([row[0] for row in env.cr.fetchall()])


def left_of(env, partner_ids, emails, phones, names):
    """What still holds the subject: records found by the engine through
    their email or phone, and leads naming them."""
    found = env["gdpr.personal.data"]._gdpr_find(emails=emails, phones=phones)
    counts = {m: len(ids) for m, ids in found.items() if ids}
    if names:
        env.cr.execute(
            "SELECT count(*) FROM crm_lead WHERE contact_name = ANY(%s) OR partner_id = ANY(%s)",
            [list(names), list(partner_ids)],
        )
        leads = env.cr.fetchone()[0]
        if leads:
            counts["crm.lead (name)"] = leads
    return counts


def describe(env, partner):
    closure = env["gdpr.personal.data"]._gdpr_partner_closure({partner.id})
    records = env["res.partner"].browse(sorted(closure)).with_context(active_test=False)
    emails = {p.email_normalized for p in records if p.email_normalized}
    phones = {n for p in records for n in (p.phone, p.mobile) if n}
    names = set(records.mapped("name"))
    return closure, emails, phones, names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--database", required=True, help="database filled by bench/generate.py")
    parser.add_argument("-c", "--config", help="Odoo configuration file (database host, user…)")
    parser.add_argument("--subjects", type=int, default=3, help="subjects erased (each rolled back)")
    parser.add_argument("--oca-addons", help="folder holding privacy_partner_to_be_forgotten (from its wheel)")
    args = parser.parse_args()

    registry = open_registry(args.database, args.config, extra_paths=[args.oca_addons] if args.oca_addons else ())
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        added = add_tracking_values(env)
        cr.execute(
            "SELECT (SELECT count(*) FROM res_partner), (SELECT count(*) FROM crm_lead),"
            " (SELECT count(*) FROM mail_message), (SELECT count(*) FROM mail_followers),"
            " (SELECT count(*) FROM mail_notification), (SELECT count(*) FROM mail_tracking_value),"
            " (SELECT count(*) FROM mail_activity), (SELECT count(*) FROM ir_attachment)"
        )
        sizes = cr.fetchone()
        print(
            "database %s: %s contacts, %s leads, %s messages, %s followers, %s notifications, "
            "%s tracking values (%s added now), %s activities, %s attachments"
            % (
                args.database,
                *(f"{n:,}" for n in sizes[:5]),
                f"{sizes[5]:,}",
                f"{added:,}",
                *(f"{n:,}" for n in sizes[6:]),
            )
        )
        print()
        print(f"{'gdpr_crm erasure':<34}{'records':>9}{'erasure':>10}{'check':>9}{'residues':>10}{'left':>6}")
        for partner in pick_subjects(env, args.subjects):
            closure, emails, phones, names = describe(env, partner)
            request = env["gdpr.request"].create(
                {"request_type": "erasure", "partner_id": partner.id, "erasure_child_policy": "erase"}
            )
            request.action_verify()
            env.flush_all()
            t0 = time.perf_counter()
            request.action_execute()
            env.flush_all()
            elapsed = time.perf_counter() - t0
            proof = json.loads(request.erasure_proof)
            records = sum(m["count"] for m in proof["models"])
            left = left_of(env, closure, emails, phones, names)
            print(
                f"{partner.name[:33]:<34}{records:>9}{elapsed * 1000:>8.0f}ms"
                f"{proof['residue_check']['duration_ms']:>7.0f}ms{proof['residue_check']['residues']:>10}"
                f"{sum(left.values()):>6}"
            )
            cr.rollback()

        if "privacy_partner_to_be_forgotten" not in env.registry._init_modules:
            print("\nOCA privacy_partner_to_be_forgotten is not installed here: no comparison.")
            return
        print()
        print(f"{'OCA privacy_partner_to_be_forgotten':<34}{'time':>10}  left (records still holding the person)")
        for partner in pick_subjects(env, args.subjects, offset=args.subjects):
            closure, emails, phones, names = describe(env, partner)
            partners = env["res.partner"].browse(sorted(closure))
            env.flush_all()
            t0 = time.perf_counter()
            for each in partners:
                each.anonymize_partner_data()
            env.flush_all()
            elapsed = time.perf_counter() - t0
            left = left_of(env, closure, emails, phones, names)
            detail = ", ".join(f"{m}: {n}" for m, n in sorted(left.items()))
            print(f"{partner.name[:33]:<34}{elapsed * 1000:>8.0f}ms  {sum(left.values())} ({detail})")
            cr.rollback()


if __name__ == "__main__":
    main()
