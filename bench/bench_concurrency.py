# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Load benchmark of the audit log: 1, 2, 4 and 8 XML-RPC clients against an
Odoo server started with ``--workers=4``, with the addon's logging on, then off.

Each client does ``--rounds`` rounds of: log in (``common.authenticate``),
write a contact's email (a personal-data change), export that contact
(``export_data``). The script starts the server itself (twice: logging on,
then off through the server-side environment variable
``GDPR_CRM_AUDIT_AUTOMATIC=0``, which no RPC client can set), on a copy of an
existing database with the addon installed, and prints throughput (rounds per
second), the 95th percentile of a round's latency, the errors, and with
logging on: the audit entries lost (expected minus written), whether the
chain verifies, and the entries not sealed yet. It asserts nothing.

    python bench/bench_concurrency.py --odoo-home $ODOO_HOME --python $VENV/bin/python \\
        --config ~/.local/share/gdpr_crm/odoo.conf --template gdpr_crm [--rounds 15] [--port 8269]

The template database is copied (``createdb -T``) to ``<template>_bench``,
dropped at the end. Its ``admin`` user (password ``--password``, default
``admin``) runs the clients and the verification.
"""

import argparse
import os
import statistics
import subprocess
import threading
import time
import xmlrpc.client

CLIENTS = (1, 2, 4, 8)


def wait_for(url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").version()
            return
        except (OSError, xmlrpc.client.Error):  # not listening yet, or still loading
            time.sleep(0.5)
    raise SystemExit(f"the server at {url} did not start")


def wait_port_free(port, timeout=120):
    """The previous server (prefork: its workers too) may take a while to let the port go."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("localhost", port)) != 0:
                return
        time.sleep(0.5)


def start_server(args, db, logging_on):
    wait_port_free(args.port)
    env = dict(os.environ, GDPR_CRM_AUDIT_AUTOMATIC="1" if logging_on else "0")
    command = [
        args.python,
        os.path.join(args.odoo_home, "odoo-bin"),
        "-c",
        args.config,
        "-d",
        db,
        "--db-filter",
        f"^{db}$",
        "--workers=4",
        "--max-cron-threads=0",
        f"--http-port={args.port}",
        "--log-level=warn",
        "--limit-time-real=600",
    ]
    log = open(args.server_log, "a")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    wait_for(f"http://localhost:{args.port}")
    return server


def client_rounds(url, db, login, password, partner_id, rounds, latencies, errors):
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", allow_none=True)
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
    for number in range(rounds):
        began = time.perf_counter()
        try:
            uid = common.authenticate(db, login, password, {})
            if not uid:
                raise RuntimeError("login refused")
            models.execute_kw(
                db, uid, password, "res.partner", "write", [[partner_id], {"email": f"bench{number}@example.com"}]
            )
            models.execute_kw(db, uid, password, "res.partner", "export_data", [[partner_id], ["name", "email"]])
        except Exception as exc:
            errors.append(repr(exc)[:200])
        latencies.append(time.perf_counter() - began)


def audit_state(url, db, uid, password):
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
    count = models.execute_kw(db, uid, password, "gdpr.audit.log", "search_count", [[]])
    return count


def run_level(args, url, db, uid, partners, clients, logging_on):
    latencies, errors = [], []
    before = audit_state(url, db, uid, args.password) if logging_on else 0
    threads = [
        threading.Thread(
            target=client_rounds,
            args=(url, db, "admin", args.password, partners[n], args.rounds, latencies, errors),
        )
        for n in range(clients)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    result = {
        "throughput": clients * args.rounds / elapsed,
        "p95": statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0],
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }
    if logging_on:
        after = audit_state(url, db, uid, args.password)
        # per round: the login, the personal-data change, the export
        result["lost"] = clients * args.rounds * 3 - (after - before)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--odoo-home", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--password", default="admin")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--port", type=int, default=8269)
    parser.add_argument("--server-log", default="bench_concurrency_server.log")
    args = parser.parse_args()
    db = f"{args.template}_bench"
    url = f"http://localhost:{args.port}"
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    subprocess.run(["createdb", "-T", args.template, db], check=True)
    results = {}
    try:
        for logging_on in (True, False):
            server = start_server(args, db, logging_on)
            try:
                uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, "admin", args.password, {})
                models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
                partners = models.execute_kw(
                    db,
                    uid,
                    args.password,
                    "res.partner",
                    "create",
                    [[{"name": f"Bench contact {n}", "email": f"bench{n}@example.com"} for n in range(max(CLIENTS))]],
                )
                for clients in CLIENTS:
                    results[(logging_on, clients)] = run_level(args, url, db, uid, partners, clients, logging_on)
                if logging_on:
                    time.sleep(2)  # the seals after commit, or the next verification, close the chain
                    broken = models.execute_kw(db, uid, args.password, "gdpr.audit.log", "verify_chain", [])
                    unsealed = models.execute_kw(
                        db, uid, args.password, "gdpr.audit.log", "search_count", [[("hash", "=", False)]]
                    )
                    results["chain"] = "intact" if broken is False else f"broken at #{broken}"
                    results["unsealed"] = unsealed
            finally:
                server.terminate()
                server.wait(60)
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=False)
    print(f"{args.rounds} rounds per client (login, write a contact's email, export it), server --workers=4")
    print(f"{'clients':>7} {'log':>4} {'rounds/s':>9} {'p95 (s)':>8} {'errors':>6} {'lost':>5}   cost of logging")
    for clients in CLIENTS:
        on, off = results[(True, clients)], results[(False, clients)]
        cost = off["throughput"] / on["throughput"] - 1
        for label, res in (("on", on), ("off", off)):
            lost = res.get("lost", "")
            extra = f"   {cost:+.1%}" if label == "on" else ""
            print(
                f"{clients:>7} {label:>4} {res['throughput']:>9.2f} {res['p95']:>8.3f} {res['errors']:>6} {lost!s:>5}"
                f"{extra}"
            )
            if res["first_error"]:
                print("        first error:", res["first_error"])
    print(f"chain after the run: {results['chain']}; entries not sealed yet: {results['unsealed']}")


if __name__ == "__main__":
    main()
