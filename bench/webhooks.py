"""Webhooks with a worker: deliveries acknowledged, events applied, readers unharmed.

    .venv/bin/python bench/webhooks.py [--quick] [--phases 1,2,3] [--skip-sqlite]
        [--skip-postgres] [--ack-deliveries 2000] [--rounds 3] [--clients 16]
        [--gifts 30] [--threads 4,8] [--latencies 0,0.15] [--budget 20]
        [--rates 50,100,200,400] [--window 8] [--readers 2] [--think 0.05]
        [--reader-threads 4] [--old-events 0] [--all-types] [--strict]

One command, about five minutes (`--quick`: about two). It starts the Stripe
emulator in its own process and builds a realistic history there (monthly and
yearly gifts, one-time gifts, renewals, failed renewals and recoveries,
refunds, cancellations). It serves the app with gunicorn on 127.0.0.1, 4 sync
workers as `deploy/` and the Procfile run it, against a throwaway SQLite
database and a throwaway PostgreSQL database, and runs the worker as its own
process (`flask --app wsgi stripe worker`). Deliveries are the history's
events under fresh ids, one in ten delivered twice, signed before the clock
starts. Every figure is a ratio to something measured in the same run:
absolute times on a shared 2-CPU machine are noise.

1. Acknowledgement throughput. Deliveries answered 200 (verified and stored
   as pending) per second, from 16 client threads, against the baseline app
   `bench/webhook_baseline.py` (signature check only) under the same gunicorn
   settings. Rounds alternate between the servers so that drift hits them
   alike; the median counts. The worker is NOT running: this is the web
   process alone. Goal: ≥ 0.5× the baseline.
2. Apply throughput. The whole history is delivered with the worker stopped,
   then one worker process drains it, with `--threads` 4 and 8, against the
   emulator at 0 ms and 150 ms latency and limited, as Stripe in test mode,
   to 25 requests/s; STRIPE_MAX_REQUESTS_PER_SECOND, the workers' share, is
   20. From the emulator's request timestamps, over the drain (first Stripe
   request to last event applied): events applied per second, Stripe
   requests per event, how busy the budget was while events waited (accepted
   requests in each whole second, averaged, ÷ the budget; goal ≥ 80%), the
   busiest sliding second and the 429s (goal: none). Checks: every event ends
   processed or ignored (a failed attempt is waited for through its backoff,
   then counted as a miss), and the ledger holds what the emulator holds
   (supporters, subscriptions by status, payments, amounts, refunds).
3. A reader's p95 during a burst. Two sequential readers in a process of
   their own fetch `/en/` and `/embed/banner.json?lang=en` in turn, 50 ms
   apart: for 8 s with nothing else happening (worker running, queue empty),
   then for 8 s while deliveries arrive from 8 connections, as Stripe sends
   them, at 50, 100, 200 and 400 per second, and the worker applies them
   against the emulator at 150 ms and 25 requests/s. Each rate starts from an
   empty queue; the idle windows of all rates, pooled, are the denominator.
   Prints p95 during the burst ÷ p95 idle per route (goal ≤ 1.5× for both),
   the acknowledgement times Stripe saw, /healthz's backlog after the burst,
   and the CPU each process group used during it.

Only the event types the endpoint subscribes to are delivered (what Stripe
sends); `--all-types` delivers every event the emulator made, as an endpoint
subscribed to everything would get (the extra types end `ignored`).
`--old-events N` stores N processed events before phases 2 and 3, as in a
database that has been in service. Phase 2 refreshes PostgreSQL's statistics
once its backlog is stored, as autovacuum does during a long one (with old
events, the queue's queries may then take another plan).
Everything listens on 127.0.0.1; PostgreSQL is BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), where it creates and drops a
database. A missed goal is reported; the exit status is 1 only when a check
fails (a delivery not answered 200, an event not applied, the ledger wrong),
or with `--strict` when a goal is missed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import migrate  # noqa: E402
from bench.webhook_bench.acknowledge import phase_ack  # noqa: E402
from bench.webhook_bench.apply import phase_apply  # noqa: E402
from bench.webhook_bench.database import Database, create_postgres, drop_postgres  # noqa: E402
from bench.webhook_bench.history import SECRET, STRIPE_LATENCY, build_history  # noqa: E402
from bench.webhook_bench.processes import (  # noqa: E402
    GUNICORN_WORKERS,
    serve,
    start_emulator,
    stop,
)
from bench.webhook_bench.readers import phase_readers  # noqa: E402
from bench.webhook_bench.setup import Setup  # noqa: E402
from devtools.stripe_emulator import EmulatorClient  # noqa: E402
from support.stripe_api import WEBHOOK_EVENTS  # noqa: E402


def parse_list(kind):
    """An argparse type: comma-separated values of `kind`."""
    return lambda text: [kind(part) for part in text.split(",") if part]


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, rates and configs")
    parser.add_argument("--phases", type=parse_list(int), default=[1, 2, 3])
    parser.add_argument("--ack-deliveries", type=int, default=2000, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--gifts", type=int, default=30, help="size of the history")
    parser.add_argument("--threads", type=parse_list(int), default=[4, 8])
    parser.add_argument("--latencies", type=parse_list(float), default=[0.0, STRIPE_LATENCY])
    parser.add_argument("--budget", type=int, default=20, help="STRIPE_MAX_REQUESTS_PER_SECOND")
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument("--retry-wait", type=float, default=60, help="for failed events")
    parser.add_argument("--rates", type=parse_list(int), default=[50, 100, 200, 400])
    parser.add_argument("--window", type=float, default=8, help="seconds idle, then bursting")
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.05, help="seconds between reads")
    parser.add_argument("--reader-threads", type=int, default=4, help="worker threads, phase 3")
    parser.add_argument(
        "--old-events",
        type=int,
        default=0,
        help="processed events already stored before phases 2 and 3, e.g. 200000",
    )
    parser.add_argument("--all-types", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    if parser.parse_known_args()[0].quick:
        # Smaller defaults; a setting given on the command line still wins.
        parser.set_defaults(rounds=1, ack_deliveries=1000, gifts=15, threads=[8])
        parser.set_defaults(rates=[50, 200], window=4)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    emulator_process, emulator_url = start_emulator()
    emulator = EmulatorClient(emulator_url)
    pg_name = f"bench_webhooks_{os.getpid()}"
    setup = None
    try:
        made = build_history(emulator_url, args.gifts)
        history = made if args.all_types else [e for e in made if e["type"] in WEBHOOK_EVENTS]
        databases = []
        if not args.skip_postgres:
            databases.append(create_postgres(pg_name))
        if not args.skip_sqlite:
            databases.append(Database("SQLite", f"sqlite:///{tmp / 'bench.db'}"))
        setup = Setup(args, tmp, emulator, emulator_process, history, databases)
        kinds = len({e["type"] for e in history})
        print(
            f"History: {args.gifts} gifts, {len(made)} events; delivering the {len(history)} of "
            f"{kinds} types {'(all of them)' if args.all_types else 'the endpoint subscribes to'}."
        )
        print(
            f"Servers: gunicorn, {GUNICORN_WORKERS} sync workers each (as deploy/ runs it), on "
            f"127.0.0.1; {os.cpu_count()} CPUs shared by the servers, the worker, the emulator, "
            f"PostgreSQL and the clients. Logs in {tmp}."
        )
        baseline_env = {"STRIPE_WEBHOOK_SECRET": SECRET}
        setup.servers["baseline"] = serve(
            "bench.webhook_baseline:app", baseline_env, tmp / "baseline.log"
        )
        for db in databases:
            env = db.env(emulator_url, args.budget)
            migrate(env)
            setup.servers[db.label] = serve("wsgi:app", env, tmp / f"app-{db.label}.log")
        if 1 in args.phases:
            phase_ack(setup)
        if 2 in args.phases:
            phase_apply(setup)
        if 3 in args.phases:
            phase_readers(setup)
    finally:
        for process, _ in setup.servers.values() if setup else []:
            stop(process)
        stop(emulator_process)
        for db in setup.databases if setup else []:
            db.dispose()
        if not args.skip_postgres:
            drop_postgres(pg_name)
        if setup is None or not (setup.misses or setup.failures):
            shutil.rmtree(tmp, ignore_errors=True)
    if setup.misses:
        print("\nGoals missed: " + "; ".join(setup.misses) + ".")
    if setup.failures:
        print("\nChecks FAILED: " + "; ".join(setup.failures) + ".")
    if setup.misses or setup.failures:
        print(f"Logs of the servers and the worker kept in {tmp}")
    else:
        print("\nEvery goal and check met.")
    # A missed goal is a finding, not a broken run (`make bench` goes on to the next
    # benchmark); a failed check means something is wrong, and so does --strict.
    return 1 if setup.failures or (args.strict and setup.misses) else 0


if __name__ == "__main__":
    sys.exit(main())
