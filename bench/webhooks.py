"""Webhook throughput: signed Stripe events per second, stored and applied.

    .venv/bin/python bench/webhooks.py [--events 3000] [--clients 16]
        [--workers 4] [--threads 1] [--all-types]

One command. It starts the Stripe emulator (a separate process: the handlers
fetch subscriptions, invoices and charges from "Stripe", and the emulator
answers those fetches), builds a realistic history there (monthly and yearly
gifts, one-time gifts, renewals, failed renewals, recoveries, refunds,
cancellations), then serves the app with gunicorn on 127.0.0.1 against SQLite
and against a throwaway PostgreSQL database, and posts the history's events
(each under a fresh id, one in ten delivered twice) from client threads in
this process. In the same run, under the same gunicorn settings, a bare Flask
app that only verifies the signature gives the baseline. It prints events/s
for each and the ratio to the baseline.

Only the event types the endpoint subscribes to are posted (what Stripe
sends); `--all-types` posts every event the emulator made, as an endpoint
subscribed to everything would get (the extra types are stored and ignored).
Bodies are signed before the clock starts and each client thread keeps one
HTTP/1.1 connection open, so the clients spend little of the two CPUs; what
runs where is printed with the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
import stripe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.stripe_emulator import EmulatorClient  # noqa: E402
from support.stripe_api import WEBHOOK_EVENTS  # noqa: E402

SECRET = "whsec_bench"
KEY = "sk_test_bench"
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, timeout: float = 20) -> None:
    """Block until `url` answers at all."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def start_emulator() -> tuple[subprocess.Popen, str]:
    """The emulator in its own process, so it does not share a GIL with the clients."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url)
    return process, url


def build_history(emulator_url: str, gifts: int) -> list[dict]:
    """Gifts and their lives in the emulator; every event it created, oldest first."""
    api = stripe.StripeClient(KEY, base_addresses={"api": emulator_url})
    emulator = EmulatorClient(emulator_url)
    rng = random.Random(7)
    for n in range(gifts):
        frequency = rng.choice(["month", "month", "month", "year", "once"])
        price = {"currency": "usd", "unit_amount": rng.choice([100, 500, 1000, 2500])}
        price["product_data"] = {"name": "Support"}
        meta = {"lang": rng.choice(["en", "ar"]), "source": "https://news.example.org/a"}
        params = {
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": "http://127.0.0.1/thanks",
            "cancel_url": "http://127.0.0.1/cancelled",
            "metadata": meta,
        }
        if frequency == "once":
            params.update(mode="payment", payment_intent_data={"metadata": meta})
        else:
            price["recurring"] = {"interval": frequency}
            params.update(mode="subscription", subscription_data={"metadata": meta})
        session = api.v1.checkout.sessions.create(params=params)
        paid = emulator.pay(session.id, email=f"reader{n}@example.org")
        sub = paid.get("subscription")
        if sub:
            for step in rng.sample(["renew", "fail", "cancel", "end"], k=2):
                if step == "renew":
                    emulator.renew(sub)
                elif step == "fail":
                    emulator.fail_renewal(sub)
                    emulator.recover(sub)
                elif step == "cancel":
                    emulator.cancel(sub, at_period_end=True)
        elif rng.random() < 0.3:
            intent = api.v1.payment_intents.retrieve(paid["payment_intent"])
            emulator.refund(intent.latest_charge, amount=50)
    events = emulator.events()
    return (
        list(reversed(events))
        if events and events[0]["created"] >= events[-1]["created"]
        else events
    )


def deliveries(history: list[dict], count: int) -> list[bytes]:
    """`count` bodies: the history's events under fresh ids, one in ten twice."""
    bodies, n = [], 0
    while len(bodies) < count:
        event = dict(history[n % len(history)], id=f"evt_bench_{n:08d}")
        body = json.dumps(event).encode()
        bodies.append(body)
        if n % 10 == 0 and len(bodies) < count:
            bodies.append(body)
        n += 1
    return bodies


def post_all(url: str, bodies: list[bytes], clients: int) -> tuple[float, dict]:
    """Post every body from `clients` threads; (seconds, answers by status).

    Bodies are signed first; each thread keeps one keep-alive connection
    (reopened when the server closes it, as gunicorn's sync workers do).
    """
    answers: dict[int, int] = {}
    lock = threading.Lock()
    signed = [(body, sign(body)) for body in bodies]
    chunks = [signed[i::clients] for i in range(clients)]
    parts = urlsplit(url)

    def client(chunk: list[tuple[bytes, str]]) -> None:
        conn = None
        for body, signature in chunk:
            for attempt in range(2):
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                try:
                    conn.request(
                        "POST",
                        parts.path,
                        body=body,
                        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                    )
                    answer = conn.getresponse()
                    answer.read()
                    break
                except (http.client.HTTPException, ConnectionError):
                    conn.close()
                    conn = None
                    if attempt:
                        raise
            if answer.will_close:
                conn.close()
                conn = None
            with lock:
                answers[answer.status] = answers.get(answer.status, 0) + 1

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers


def sign(body: bytes) -> str:
    """A Stripe-Signature header for `body`."""
    at = int(time.time())
    digest = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    return f"t={at},v1={digest}"


def serve(app: str, env: dict, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    """gunicorn on 127.0.0.1 serving `app` (gthread workers when `threads` > 1)."""
    port = free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers)]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/healthz")
    return process, url


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each of `pids` (Linux /proc)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def process_tree(pid: int) -> list[int]:
    """`pid` and its children (gunicorn's master and workers)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [pid, *map(int, found.stdout.split())]


def backends(database: str | None) -> list[int]:
    """PostgreSQL server processes serving `database`."""
    if not database:
        return []
    found = subprocess.run(["pgrep", "-f", f"postgres: .* {database} "], capture_output=True)
    return [int(pid) for pid in found.stdout.split()]


def app_env(database_url: str, emulator_url: str) -> dict:
    """Settings for the app under test."""
    return {
        "SECRET_KEY": "bench",
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": KEY,
        "STRIPE_API_BASE": emulator_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
    }


def migrate(env: dict) -> None:
    """Build the schema with the real migrations."""
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


def statuses(database_url: str) -> dict:
    """Events by status in the app's database after the run."""
    import sqlalchemy as sa

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, count(*) FROM stripe_event GROUP BY status"))
        found = dict(rows.all())
    engine.dispose()
    return found


def run(label, app, env, args, bodies, emulator, database=None) -> float:
    """Serve, post, stop; print and return events/s with CPU ms per event by process."""
    process, url = serve(app, env, args.workers, args.threads)
    try:
        post_all(url + "/stripe/webhook", bodies[: max(args.clients * 5, 20)], args.clients)

        def groups() -> dict[str, list[int]]:
            return {
                "gunicorn": process_tree(process.pid),
                "PostgreSQL": backends(database),
                "emulator": [emulator.pid],
                "clients": [os.getpid()],
            }

        before = {name: cpu_seconds(pids) for name, pids in groups().items()}
        seconds, answers = post_all(url + "/stripe/webhook", bodies, args.clients)
        # Processes started during the run (new database connections) count from zero.
        used = {
            name: sum(now - before[name].get(pid, 0.0) for pid, now in cpu_seconds(pids).items())
            for name, pids in groups().items()
        }
    finally:
        process.terminate()
        process.wait(10)
    rate = len(bodies) / seconds
    print(f"{label:<28} {len(bodies):>6} events {seconds:>7.2f} s {rate:>8.0f} events/s  {answers}")
    cpu = ", ".join(
        f"{name} {1000 * value / len(bodies):.2f}" for name, value in used.items() if value
    )
    print(f"{'':<28} CPU ms per event: {cpu}")
    return rate


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gifts", type=int, default=40)
    parser.add_argument("--all-types", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    emulator, emulator_url = start_emulator()
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    pg_name = f"bench_webhooks_{os.getpid()}"
    try:
        made = build_history(emulator_url, args.gifts)
        history = made if args.all_types else [e for e in made if e["type"] in WEBHOOK_EVENTS]
        bodies = deliveries(history, args.events)
        kinds = sorted({e["type"] for e in history})
        print(
            f"History: {args.gifts} gifts, {len(made)} events; posting {len(history)} "
            f"of {len(kinds)} types ({'all' if args.all_types else 'the subscribed ones'})"
        )
        server = f"{args.workers} workers" + (
            f" x {args.threads} threads (gthread)" if args.threads > 1 else " (sync)"
        )
        print(
            f"{len(bodies)} signed events (one in ten twice) from {args.clients} keep-alive "
            f"client threads in this process -> gunicorn, {server}, on {os.cpu_count()} CPUs; "
            f"the handlers fetch from the Stripe emulator (its own process, {emulator_url}); "
            "PostgreSQL and the emulator share the same CPUs.\n"
        )
        baseline = run(
            "baseline (verify only)",
            "bench.webhook_baseline:app",
            {"STRIPE_WEBHOOK_SECRET": SECRET},
            args,
            bodies,
            emulator,
        )
        if not args.skip_sqlite:
            sqlite_url = f"sqlite:///{tmp / 'bench.db'}"
            env = app_env(sqlite_url, emulator_url)
            migrate(env)
            rate = run("app on SQLite", "wsgi:app", env, args, bodies, emulator)
            print(
                f"{'':<28} ratio to baseline {rate / baseline:.2f}; events: {statuses(sqlite_url)}"
            )
        if not args.skip_postgres:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            pg_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
            env = app_env(pg_url, emulator_url)
            migrate(env)
            rate = run("app on PostgreSQL", "wsgi:app", env, args, bodies, emulator, pg_name)
            print(f"{'':<28} ratio to baseline {rate / baseline:.2f}; events: {statuses(pg_url)}")
    finally:
        emulator.terminate()
        emulator.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.skip_postgres:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
