"""Webhook throughput: signed Stripe events per second, stored and applied.

    .venv/bin/python bench/webhooks.py [--events 3000] [--clients 4] [--workers 4]

One command. It starts the Stripe emulator (a separate process: the handlers
fetch subscriptions, invoices and charges from "Stripe", and the emulator
answers those fetches), builds a realistic history there (monthly and yearly
gifts, one-time gifts, renewals, failed renewals, recoveries, refunds,
cancellations), then serves the app with gunicorn on 127.0.0.1 against SQLite
and against a throwaway PostgreSQL database, and posts the history's events
(each under a fresh id, one in ten delivered twice) from a few client threads.
In the same run a bare Flask app that only verifies the signature gives the
baseline. It prints events/s for each and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
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

import requests
import stripe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.stripe_emulator import EmulatorClient  # noqa: E402

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
    """Post every body from `clients` threads; (seconds, answers by status)."""
    answers: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]

    def client(chunk: list[bytes]) -> None:
        http = requests.Session()
        for body in chunk:
            headers = {"Stripe-Signature": sign(body)}
            status = http.post(url, data=body, headers=headers).status_code
            with lock:
                answers[status] = answers.get(status, 0) + 1

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


def serve(app: str, env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    """gunicorn on 127.0.0.1 serving `app`."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/healthz")
    return process, url


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


def run(label, app, env, workers, bodies, clients) -> float:
    """Serve, post, stop; print and return events/s."""
    process, url = serve(app, env, workers)
    try:
        post_all(url + "/stripe/webhook", bodies[: max(clients * 5, 20)], clients)  # warm up
        seconds, answers = post_all(url + "/stripe/webhook", bodies, clients)
    finally:
        process.terminate()
        process.wait(10)
    rate = len(bodies) / seconds
    print(f"{label:<28} {len(bodies):>6} events {seconds:>7.2f} s {rate:>8.0f} events/s  {answers}")
    return rate


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--gifts", type=int, default=40)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    emulator, emulator_url = start_emulator()
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    pg_name = f"bench_webhooks_{os.getpid()}"
    try:
        history = build_history(emulator_url, args.gifts)
        bodies = deliveries(history, args.events)
        kinds = sorted({e["type"] for e in history})
        print(f"History: {args.gifts} gifts, {len(history)} events of {len(kinds)} types")
        print(
            f"Posting {len(bodies)} signed events from {args.clients} threads to gunicorn "
            f"({args.workers} workers) on {os.cpu_count()} CPUs; the handlers fetch from the "
            f"Stripe emulator at {emulator_url}.\n"
        )
        baseline = run(
            "baseline (verify only)",
            "bench.webhook_baseline:app",
            {"STRIPE_WEBHOOK_SECRET": SECRET},
            args.workers,
            bodies,
            args.clients,
        )
        sqlite_url = f"sqlite:///{tmp / 'bench.db'}"
        env = app_env(sqlite_url, emulator_url)
        migrate(env)
        rate = run("app on SQLite", "wsgi:app", env, args.workers, bodies, args.clients)
        print(f"{'':<28} ratio to baseline {rate / baseline:.2f}; events: {statuses(sqlite_url)}")
        if not args.skip_postgres:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            pg_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
            env = app_env(pg_url, emulator_url)
            migrate(env)
            rate = run("app on PostgreSQL", "wsgi:app", env, args.workers, bodies, args.clients)
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
