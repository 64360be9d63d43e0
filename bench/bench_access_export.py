#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Time the execution of an access request end to end (GDPR art. 15).

For the data subjects of a database filled by bench/generate.py (the same as
bench_lookup.py), creates an access request, verifies it and executes it as
the DPO's button does: find the subject's data with its provenance, build the
JSON, the CSV zip, the HTML page and the PDF (wkhtmltopdf), attach them to
the request. Prints, per subject, the records exported, the time of each
phase, the total (target: 3 s at the doubled size, PDF included) and the
size of the PDF (target: under 1 MB). Median of --runs runs after one
warm-up run; everything is rolled back (savepoints), except the report's CSS
bundle, compiled and stored by the first print as always.

Run it with the Python of gdpr_crm's virtual environment; Odoo is found
through ODOO_HOME or the setup.env that ./scripts/setup.sh writes:

    ~/.local/share/gdpr_crm/venv/bin/python bench/bench_access_export.py -d gdpr_bench
"""

import argparse
import statistics
import time

from _odoo import open_registry
from bench_lookup import subjects


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--database", required=True, help="database filled by bench/generate.py")
    parser.add_argument("-c", "--config", help="Odoo configuration file (database host, user…)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per subject (median)")
    args = parser.parse_args()

    registry = open_registry(args.database, args.config)
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"gdpr_request_no_acknowledgement": True})
        cr.execute("SELECT (SELECT count(*) FROM res_partner), (SELECT count(*) FROM mail_message)")
        print("database {}: {:,} contacts, {:,} messages".format(args.database, *cr.fetchone()))
        engine = env["gdpr.personal.data"]
        # The first report printed in a database compiles and stores its CSS bundle: do it once.
        engine._gdpr_export_pdf(engine._gdpr_export_data({}), "warm-up")
        cr.commit()
        phases = ("find", "json", "zip", "html", "pdf")
        header = f"{'subject':<24}{'records':>8}" + "".join(f"{p:>8}" for p in phases) + f"{'total':>9}{'PDF':>9}"
        print(header)
        print("-" * len(header))
        for label, partner, _name, email, _kwargs in subjects(env):
            durations = {p: [] for p in (*phases, "total")}
            result = {}
            for run in range(args.runs + 1):
                cr.execute("SAVEPOINT bench_access")
                times = timed_execution(env, engine, partner, email, result)
                cr.execute("ROLLBACK TO SAVEPOINT bench_access")
                env.invalidate_all()
                if run:  # the first run warms the caches
                    for phase, value in times.items():
                        durations[phase].append(value)
            median = {p: statistics.median(v) for p, v in durations.items()}
            print(
                f"{label:<24}{result['records']:>8}"
                + "".join(f"{median[p] * 1000:>6.0f}ms" for p in phases)
                + f"{median['total']:>8.2f}s{result['pdf_size'] / 1024:>7.0f}kB"
            )
        print()
        print("find: provenance of the subject's data; json: adapted records, art. 15(1) information;")
        print("zip: CSV per kind and files; html: the self-contained page; pdf: QWeb + wkhtmltopdf;")
        print("total: request.action_execute() end to end (files attached, audit logged).")
        cr.rollback()


def timed_execution(env, engine, partner, email, result):
    """Execute one access request, timing each phase of the export apart and the whole."""
    Request = env["gdpr.request"]
    vals = {"request_type": "access", "channel": "email"}
    if partner:
        vals["partner_id"] = partner.id
    else:
        vals["requester_email"] = email
    request = Request.create(vals)
    request.action_verify()
    times = {}
    t0 = time.perf_counter()
    found = request._gdpr_subject_provenance()
    times["find"] = time.perf_counter() - t0
    partners, emails, phones = request._gdpr_subject_criteria()
    ident = engine._gdpr_export_identifiers(partners=partners, emails=emails, phones=phones)
    t0 = time.perf_counter()
    data = engine._gdpr_export_data(found, ident=ident, tz=request.requester_tz)
    data["information"] = engine._gdpr_export_information(request.company_id, data)
    times["json"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine._gdpr_export_zip(data)
    times["zip"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    document = engine._gdpr_export_document(data, request.name, company=request.company_id)
    engine._gdpr_export_html(document)
    times["html"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine._gdpr_export_pdf(data, request.name, document=document)
    times["pdf"] = time.perf_counter() - t0
    env.invalidate_all()
    t0 = time.perf_counter()
    request.action_execute()
    env.flush_all()
    times["total"] = time.perf_counter() - t0
    pdf = request.attachment_ids.filtered(lambda a: a.name.endswith(".pdf"))
    result["records"] = data["record_count"]
    result["pdf_size"] = len(pdf.raw or b"")
    return times


if __name__ == "__main__":
    main()
