#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Fill a database that has gdpr_crm installed with a large, realistic CRM.

At --scale 1: 100,000 contacts (10% companies, 20% of the people attached to
one), 200,000 leads, 1,000,000 chatter messages (12% of them quoting a
contact's email address, 4% a phone number, a third written by contacts,
a fifth with notifications), 100,000 activities (some notes quoting emails),
50,000 attachments, 300,000 followers, 20,000 notes naming a contact (possible
name mentions) and, when mass_mailing is installed, 400,000 mailing traces and
100,000 outgoing emails kept. --scale 2 doubles everything.

Bulk SQL (INSERT … SELECT generate_series), then the mention index of
gdpr_crm is rebuilt with its own batched backfill and the tables are
analyzed. Minutes, not hours. Run it with the Python of gdpr_crm's virtual
environment; Odoo is found through ODOO_HOME or the setup.env that
./scripts/setup.sh writes:

    ~/.local/share/gdpr_crm/venv/bin/python bench/generate.py -d gdpr_bench [--scale 2]

Never run it on a database you care about: it adds a lot of fake data.
Contact k (1-based) has the address contact<k>@example<k % 50>.com and
the phone +33 6 <k on 8 digits>; bench_lookup.py relies on that.
"""

import argparse
import time

from _odoo import open_registry

STEPS = [
    (
        "contacts",
        """
        INSERT INTO res_partner (name, complete_name, email, email_normalized, phone, phone_sanitized,
                                 mobile, is_company, type, active, lang, comment, company_id,
                                 create_uid, write_uid, create_date, write_date)
        SELECT CASE WHEN k %% 10 = 0 THEN 'Company ' || k ELSE 'Contact ' || k END,
               CASE WHEN k %% 10 = 0 THEN 'Company ' || k ELSE 'Contact ' || k END,
               'contact' || k || '@example' || (k %% 50) || '.com',
               'contact' || k || '@example' || (k %% 50) || '.com',
               '+33 6 ' || lpad(k::text, 8, '0'),
               '+336' || lpad(k::text, 8, '0'),
               CASE WHEN k %% 3 = 0 THEN '+33 7 ' || lpad(k::text, 8, '0') END,
               k %% 10 = 0, 'contact', true, 'en_US',
               CASE WHEN k %% 20 = 1 THEN '<p>Assistant: contact' || ((k * 7) %% %(partners)s + 1)
                    || '@example' || (((k * 7) %% %(partners)s + 1) %% 50) || '.com</p>' END,
               1, 2, 2, now() - (k %% 1500) * interval '1 day', now()
          FROM generate_series(1, %(partners)s) AS k
        """,
    ),
    (
        "contact hierarchy",
        """
        UPDATE res_partner p
           SET parent_id = CASE WHEN p.name LIKE 'Contact %%' AND (p.id - %(first)s) %% 5 = 1
                                THEN %(first)s + (((p.id - %(first)s) / 10) * 10) + 9 END,
               commercial_partner_id = p.id
         WHERE p.id BETWEEN %(first)s AND %(last)s;
        UPDATE res_partner p SET commercial_partner_id = p.parent_id
         WHERE p.id BETWEEN %(first)s AND %(last)s AND p.parent_id IS NOT NULL;
        """,
    ),
    (
        "leads",
        """
        INSERT INTO crm_lead (name, type, active, partner_id, email_from, email_normalized, phone,
                              phone_sanitized, description, stage_id, team_id, user_id, company_id,
                              probability, create_uid, write_uid, create_date, write_date)
        SELECT 'Opportunity ' || j,
               CASE WHEN j %% 3 = 0 THEN 'lead' ELSE 'opportunity' END, true,
               CASE WHEN j %% 10 < 7 THEN %(first)s + (j * 13) %% %(partners)s END,
               CASE WHEN j %% 10 < 8 THEN 'contact' || ((j * 13) %% %(partners)s + 1) || '@example'
                                          || (((j * 13) %% %(partners)s + 1) %% 50) || '.com'
                    ELSE 'visitor' || j || '@mail' || (j %% 20) || '.org' END,
               CASE WHEN j %% 10 < 8 THEN 'contact' || ((j * 13) %% %(partners)s + 1) || '@example'
                                          || (((j * 13) %% %(partners)s + 1) %% 50) || '.com'
                    ELSE 'visitor' || j || '@mail' || (j %% 20) || '.org' END,
               CASE WHEN j %% 10 < 7 THEN '+33 6 ' || lpad(((j * 13) %% %(partners)s + 1)::text, 8, '0') END,
               CASE WHEN j %% 10 < 7 THEN '+336' || lpad(((j * 13) %% %(partners)s + 1)::text, 8, '0') END,
               CASE WHEN j %% 10 = 9 THEN '<p>Referred by contact' || ((j * 31) %% %(partners)s + 1)
                    || '@example' || (((j * 31) %% %(partners)s + 1) %% 50) || '.com, budget 20k</p>'
                    ELSE '<p>Needs a quote for ' || (j %% 40 + 1) || ' seats.</p>' END,
               1 + j %% 4, 1, 2, 1, (j %% 10) * 10, 2, 2,
               now() - (j %% 1200) * interval '1 day', now()
          FROM generate_series(1, %(leads)s) AS j
        """,
    ),
    (
        "messages",
        """
        INSERT INTO mail_message (model, res_id, record_name, body, message_type, subtype_id, author_id,
                                  email_from, date, create_uid, write_uid, create_date, write_date)
        SELECT CASE WHEN i %% 2 = 0 THEN 'res.partner' ELSE 'crm.lead' END,
               CASE WHEN i %% 2 = 0 THEN %(first)s + (i * 7) %% %(partners)s
                    ELSE %(first_lead)s + (i * 11) %% %(leads)s END,
               NULL,
               CASE WHEN i %% 100 < 12 THEN '<p>Spoke with them; they asked to write to <a href="mailto:contact'
                         || ((i * 17) %% %(partners)s + 1) || '@example' || (((i * 17) %% %(partners)s + 1) %% 50)
                         || '.com">contact' || ((i * 17) %% %(partners)s + 1) || '@example'
                         || (((i * 17) %% %(partners)s + 1) %% 50) || '.com</a> from now on.</p>'
                    WHEN i %% 100 < 16 THEN '<p>Call back on 06 '
                         || to_char(((i * 19) %% %(partners)s + 1), 'FM00 00 00 00') || ' before Friday.</p>'
                    ELSE '<p>Follow-up #' || i
                         || ': sent the brochure and the price list, waiting for feedback.</p>' END,
               CASE WHEN i %% 5 = 0 THEN 'email' WHEN i %% 5 = 1 THEN 'notification' ELSE 'comment' END,
               CASE WHEN i %% 5 = 1 THEN NULL ELSE 2 END,
               CASE WHEN i %% 3 = 0 THEN %(first)s + (i * 23) %% %(partners)s ELSE 3 END,
               CASE WHEN i %% 3 = 0 THEN '"Contact" <contact' || ((i * 23) %% %(partners)s + 1) || '@example'
                    || (((i * 23) %% %(partners)s + 1) %% 50) || '.com>'
                    ELSE '"Mitchell Admin" <admin@yourcompany.example.com>' END,
               now() - (i %% 2000) * interval '1 hour', 2, 2, now(), now()
          FROM generate_series(1, %(messages)s) AS i
        """,
    ),
    (
        "notifications",
        """
        INSERT INTO mail_notification (mail_message_id, res_partner_id, author_id, notification_type,
                                       notification_status, is_read)
        SELECT m.id, %(first)s + (m.id * 29) %% %(partners)s, m.author_id, 'email', 'sent', true
          FROM mail_message m
         WHERE m.id >= %(first_message)s AND m.id %% 5 = 0
        """,
    ),
    (
        "followers",
        """
        INSERT INTO mail_followers (res_model, res_id, partner_id)
        SELECT 'crm.lead', l.id, l.partner_id FROM crm_lead l
         WHERE l.id >= %(first_lead)s AND l.partner_id IS NOT NULL
        UNION
        SELECT 'crm.lead', l.id, 3 FROM crm_lead l WHERE l.id >= %(first_lead)s
        UNION
        SELECT 'res.partner', p.id, p.parent_id FROM res_partner p
         WHERE p.id BETWEEN %(first)s AND %(last)s AND p.parent_id IS NOT NULL
        ON CONFLICT DO NOTHING
        """,
    ),
    (
        "activities",
        """
        INSERT INTO mail_activity (res_model_id, res_model, res_id, res_name, activity_type_id, summary, note,
                                   date_deadline, user_id, create_uid, write_uid, create_date, write_date)
        SELECT (SELECT id FROM ir_model WHERE model = 'crm.lead'), 'crm.lead',
               %(first_lead)s + (a * 3) %% %(leads)s, 'Opportunity', %(activity_type)s,
               'Call back', CASE WHEN a %% 10 = 0 THEN '<p>Ask for contact' || ((a * 37) %% %(partners)s + 1)
                                 || '@example' || (((a * 37) %% %(partners)s + 1) %% 50) || '.com</p>'
                            ELSE '<p>Discuss the proposal.</p>' END,
               current_date + (a %% 60), 2, 2, 2, now(), now()
          FROM generate_series(1, %(activities)s) AS a
        """,
    ),
    (
        "attachments",
        """
        INSERT INTO ir_attachment (name, type, res_model, res_id, db_datas, file_size, mimetype, public,
                                   company_id, create_uid, write_uid, create_date, write_date)
        SELECT 'document-' || t || '.txt', 'binary',
               CASE WHEN t %% 2 = 0 THEN 'res.partner' ELSE 'crm.lead' END,
               CASE WHEN t %% 2 = 0 THEN %(first)s + (t * 41) %% %(partners)s
                    ELSE %(first_lead)s + (t * 43) %% %(leads)s END,
               convert_to('Signed document ' || t, 'UTF8'), 20, 'text/plain', false, 1, 2, 2, now(), now()
          FROM generate_series(1, %(attachments)s) AS t
        """,
    ),
]

# With mass_mailing installed: its tables hold the contacts' addresses too
# (a mailing trace per recipient, the outgoing emails kept), and some notes
# name the contacts (possible name mentions, found through a trigram index).
MAILING_STEPS = [
    (
        "mailing traces",
        """
        INSERT INTO mailing_trace (trace_type, model, res_id, email, mass_mailing_id, trace_status,
                                   sent_datetime, create_uid, write_uid, create_date, write_date)
        SELECT 'mail', 'res.partner', %(first)s + (t * 7) %% %(partners)s,
               'contact' || ((t * 7) %% %(partners)s + 1) || '@example' || (((t * 7) %% %(partners)s + 1) %% 50)
               || '.com', %(mailing)s, 'sent', now(), 2, 2, now(), now()
          FROM generate_series(1, %(traces)s) AS t
        """,
    ),
    (
        "outgoing emails",
        """
        INSERT INTO mail_mail (mail_message_id, email_to, body_html, state, auto_delete,
                               create_uid, write_uid, create_date, write_date)
        SELECT %(first_message)s, '"Contact ' || ((e * 11) %% %(partners)s + 1) || '" <contact'
               || ((e * 11) %% %(partners)s + 1) || '@example' || (((e * 11) %% %(partners)s + 1) %% 50)
               || '.com>', '<p>Newsletter</p>', 'exception', false, 2, 2, now(), now()
          FROM generate_series(1, %(mails)s) AS e
        """,
    ),
]
NAME_STEPS = [
    (
        "notes naming contacts",
        """
        INSERT INTO mail_message (model, res_id, body, message_type, subtype_id, author_id, email_from, date,
                                  create_uid, write_uid, create_date, write_date)
        SELECT 'res.partner', %(first)s + (n * 53) %% %(partners)s,
               '<p>Lunch with Contact ' || ((n * 97) %% %(partners)s + 1) || ' next week.</p>',
               'comment', 2, 3, '"Mitchell Admin" <admin@yourcompany.example.com>', now(), 2, 2, now(), now()
          FROM generate_series(1, %(named)s) AS n
        """,
    ),
]


def extra_steps(env, cr, scale):
    """The steps of the mass_mailing tables (when installed) and of the notes
    naming contacts, on a database already filled; returns the tables changed."""
    cr.execute("SELECT min(id), max(id) FROM res_partner WHERE name LIKE 'Contact %%' OR name LIKE 'Company %%'")
    first, last = cr.fetchone()
    cr.execute("SELECT min(id) FROM mail_message")
    params = {
        "first": first,
        "partners": last - first + 1,
        "first_message": cr.fetchone()[0],
        "traces": 400_000 * scale,
        "mails": 100_000 * scale,
        "named": 20_000 * scale,
    }
    steps = list(NAME_STEPS)
    tables = ["mail_message"]
    if "mailing.trace" in env:
        mailing = env["mailing.mailing"].create(
            {"subject": "Bench newsletter", "mailing_model_id": env["ir.model"]._get_id("res.partner")}
        )
        params["mailing"] = mailing.id
        steps += MAILING_STEPS
        tables += ["mailing_trace", "mail_mail"]
    for name, sql in steps:
        t0 = time.monotonic()
        cr.execute(sql, params)
        print(f"{name:>15}: {cr.rowcount:>9,} rows in {time.monotonic() - t0:6.1f} s", flush=True)
        cr.commit()
    return tables


def reindex_mentions(env, cr):
    """gdpr_crm's mention index, rebuilt with its own batched backfill."""
    t0 = time.monotonic()
    Mention = env["gdpr.mention"]
    for model_name in Mention._gdpr_mention_sources():
        Mention._gdpr_set_watermark(model_name, 0)
    cr.execute("DELETE FROM gdpr_mention")
    remaining = 1
    while remaining:
        done, remaining = Mention._gdpr_backfill_batch(batch_size=20_000)
        cr.commit()
        print(f"{'mention index':>15}: {done:>9,} records indexed, {remaining:,} remaining", flush=True)
    cr.execute("SELECT count(*) FROM gdpr_mention")
    print(f"{'mention index':>15}: {cr.fetchone()[0]:>9,} rows in {time.monotonic() - t0:6.1f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--database", required=True, help="database with gdpr_crm installed")
    parser.add_argument("-c", "--config", help="Odoo configuration file (database host, user…)")
    parser.add_argument("--scale", type=int, default=1, help="multiply every count (2: the doubled size)")
    parser.add_argument(
        "--extra-only",
        action="store_true",
        help="on a database already filled: add only the mass_mailing rows and the notes naming contacts",
    )
    args = parser.parse_args()

    registry = open_registry(args.database, args.config)
    import odoo

    s = args.scale
    counts = {
        "partners": 100_000 * s,
        "leads": 200_000 * s,
        "messages": 1_000_000 * s,
        "activities": 100_000 * s,
        "attachments": 50_000 * s,
    }
    started = time.monotonic()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "gdpr.mention" not in env:
            raise SystemExit(f"gdpr_crm is not installed in {args.database}: install it first (-i gdpr_crm).")
        if args.extra_only:
            # (the new rows quote no email or phone: the mention index stays)
            tables = extra_steps(env, cr, s)
            cr.commit()
            cr._cnx.autocommit = True
            cr.execute("VACUUM ANALYZE " + ", ".join(tables))
            print(f"done in {time.monotonic() - started:.0f} s")
            return
        cr.execute("SELECT count(*) FROM res_partner")
        if cr.fetchone()[0] > 10_000:
            raise SystemExit(f"{args.database} already holds more than 10,000 contacts: use a fresh database.")
        params = dict(counts)
        params["activity_type"] = env.ref("mail.mail_activity_data_call").id
        for name, sql in STEPS:
            t0 = time.monotonic()
            cr.execute("SELECT coalesce(max(id), 0) + 1 FROM res_partner")
            if name == "contacts":
                params["first"] = cr.fetchone()[0]
                params["last"] = params["first"] + counts["partners"] - 1
            cr.execute("SELECT coalesce(max(id), 0) + 1 FROM crm_lead")
            if name == "leads":
                params["first_lead"] = cr.fetchone()[0]
            cr.execute("SELECT coalesce(max(id), 0) + 1 FROM mail_message")
            if name == "messages":
                params["first_message"] = cr.fetchone()[0]
            cr.execute(sql, params)
            cr.commit()
            print(f"{name:>15}: {cr.rowcount:>9,} rows in {time.monotonic() - t0:6.1f} s", flush=True)

        extra_steps(env, cr, s)
        reindex_mentions(env, cr)
        cr.commit()
    with registry.cursor() as cr:
        # Rewrite the bulk-loaded tables: compact, with fresh statistics, and
        # their indexes usable at once even if another session keeps an old
        # snapshot open (indexes built over recently updated rows are
        # otherwise ignored by the planner until that snapshot ends).
        t0 = time.monotonic()
        cr._cnx.autocommit = True
        cr.execute(
            "VACUUM (FULL, ANALYZE) res_partner, crm_lead, mail_message, mail_notification, mail_followers,"
            " mail_activity, ir_attachment, gdpr_mention"
            + (", mailing_trace, mail_mail" if "mailing.trace" in registry else "")
        )
        print(f"{'vacuum full':>15}: {time.monotonic() - t0:6.1f} s", flush=True)
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
