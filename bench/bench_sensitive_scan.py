# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Throughput of the sensitive-data scan (PRODUCT.md §9: >= 5,000 messages a second).

On a database filled by bench/generate.py (1,000,000 chatter messages at
--scale 1), in one process (one core for Python, PostgreSQL beside it):

1. one message in 200 gets a sensitive sentence (health, union, IBAN...);
2. the scan's watermarks are reset and the whole scan runs, batch after
   batch, exactly as the cron does (``_gdpr_scan_batch``): every source
   (messages, contact notes, lead descriptions, activity notes);
3. the scan runs again over the unchanged texts (it must read nothing);
4. one message is rewritten and the scan runs again (it reads that one).

Everything happens in one transaction that is rolled back: the database is
left as it was. Prints figures, asserts nothing.

    ~/.local/share/gdpr_crm/venv/bin/python bench/bench_sensitive_scan.py -d gdpr_bench
"""

import argparse
import time

from _odoo import open_registry

SENTENCES = [
    "<p>Le client est diabétique, éviter les déjeuners d'affaires.</p>",
    "<p>Elle est syndiquée à la CGT, attention aux négociations.</p>",
    "<p>Son IBAN : FR76 3000 6000 0112 3456 7890 189.</p>",
    "<p>He spent two years in prison for fraud.</p>",
    "<p>She is pregnant and will be on leave from June.</p>",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("-c", "--config")
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    registry = open_registry(args.database, args.config)
    import odoo  # noqa: PLC0415 (found by open_registry)

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Finding = env["gdpr.sensitive.finding"]
        cr.execute("SELECT count(*) FROM mail_message")
        messages = cr.fetchone()[0]
        for i, sentence in enumerate(SENTENCES):
            cr.execute(
                "UPDATE mail_message SET body = %s WHERE id %% 1000 = %s",
                [sentence, i * 200],
            )
        cr.execute("DELETE FROM ir_config_parameter WHERE key LIKE 'gdpr_crm.sensitive_scan_last_id.%%'")
        cr.execute("DELETE FROM gdpr_sensitive_finding")
        cr.execute("DELETE FROM gdpr_sensitive_queue")
        sources = Finding._gdpr_scan_sources()
        print(f"{messages:,} messages; sources: {sources}")

        def run():
            total = batches = 0
            start = time.perf_counter()
            cpu = time.process_time()
            while True:
                done, remaining = Finding._gdpr_scan_batch(batch_size=args.batch)
                total += done
                batches += 1
                if not remaining:
                    break
            return total, batches, time.perf_counter() - start, time.process_time() - cpu

        total, batches, elapsed, cpu = run()
        cr.execute("SELECT res_model, category, count(*) FROM gdpr_sensitive_finding GROUP BY 1, 2 ORDER BY 1, 2")
        found = cr.fetchall()
        print(
            f"full scan: {total:,} records in {batches} batches, {elapsed:.1f} s "
            f"(Python CPU {cpu:.1f} s) = {total / elapsed:,.0f} records/s"
        )
        print("findings:", ", ".join(f"{m}/{c}: {n}" for m, c, n in found))
        total, batches, elapsed, _cpu = run()
        print(f"re-run over unchanged text: {total} records read, {elapsed * 1000:.1f} ms")
        cr.execute("SELECT max(id) FROM mail_message WHERE body IS NOT NULL")
        message = env["mail.message"].browse(cr.fetchone()[0])
        message.write({"body": "<p>Il est séropositif.</p>"})
        total, batches, elapsed, _cpu = run()
        print(f"after one message rewritten: {total} record read, {elapsed * 1000:.1f} ms")
        cr.rollback()


if __name__ == "__main__":
    main()
