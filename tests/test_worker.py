"""`flask stripe worker` as it runs: bursts, two workers, Stripe's trouble, SIGTERM, a
database restart.

Everything goes through the real `stripe` library to the emulator over HTTP on
127.0.0.1. The worker runs in threads of the test process, or as the real
command in a process of its own where a signal or a database outage has to
reach it as it would in production.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from support import create_app
from support.extensions import db
from support.models import OutboundEmail, StripeEvent, WorkerHeartbeat, utcnow
from support.webhooks import applying
from support.webhooks.worker import Worker
from tests.conftest import (
    WEBHOOK_SECRET,
    RequestScopedClient,
    base_config,
    free_port,
    require_cluster_tools,
)
from tests.stripe_history import (
    actual_ledger,
    apply_due,
    due_now,
    expected_ledger,
    give,
    oldest_first,
    post_event,
)

ROOT = Path(__file__).resolve().parent.parent
DONE = ("processed", "ignored")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Check `condition` every 50 ms until it holds; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holds = condition()
        db.session.rollback()  # the next look sees what the worker committed meanwhile
        if holds:
            return
        time.sleep(0.05)
    raise AssertionError(f"still waiting after {timeout}s for {what}; events: {statuses()}")


def statuses() -> dict[str, int]:
    """Stored events by status."""
    query = sa.select(StripeEvent.status, sa.func.count()).group_by(StripeEvent.status)
    counts = dict(db.session.execute(query).all())
    db.session.rollback()
    return counts


def stored() -> list[StripeEvent]:
    db.session.expire_all()
    return db.session.scalars(sa.select(StripeEvent).order_by(StripeEvent.received_at)).all()


def stored_event(event_id: str) -> StripeEvent:
    db.session.expire_all()
    return db.session.get(StripeEvent, event_id)


def settled() -> bool:
    """Nothing left for the worker: no event pending or in hand, no mail unsent."""
    counts = statuses()
    unsent = db.session.scalar(
        sa.select(sa.func.count()).where(OutboundEmail.status.in_(("pending", "sending")))
    )
    return counts.get("pending", 0) + counts.get("processing", 0) + unsent == 0


def mail_keys() -> list[str]:
    return sorted(db.session.scalars(sa.select(OutboundEmail.key)))


def thank_yous(sessions: list[dict]) -> list[str]:
    return sorted(f"thanks:{session['id']}" for session in sessions)


def received_keys(messages: list) -> list[str]:
    """The outbox keys of the mails an SMTP server received (one entry per message)."""
    return sorted(message["X-Support-Mail"].split("; ")[1] for message in messages)


def gifts(client, emulator) -> list[dict]:
    """Three gifts, two of them by one reader under two Stripe customers; their sessions."""
    return [
        give(client, emulator, "month", "5", email="ana@example.org")[0],
        give(client, emulator, "year", "50", email="ben@example.org")[0],
        give(client, emulator, "once", "7", email="Ana@Example.org")[0],
    ]


def assert_waits(row: StripeEvent, seconds: int) -> None:
    """The failed event's next attempt is `seconds` after this one."""
    assert row.status == "failed"
    assert row.next_attempt_at > utcnow()
    wait = row.next_attempt_at - row.processed_at
    assert abs(wait - timedelta(seconds=seconds)) < timedelta(seconds=1), wait


@contextmanager
def running(*workers: Worker) -> Iterator[None]:
    """Run `workers` in threads for the block, then stop them as SIGTERM would."""
    threads = [
        threading.Thread(target=worker.run, kwargs={"handle_signals": False}, daemon=True)
        for worker in workers
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a worker did not stop"


@contextmanager
def latency(emulator, seconds: float) -> Iterator[None]:
    """Stripe `seconds` away for the block (reset() keeps latency, so it is put back here)."""
    before = emulator.latency
    emulator.latency = seconds
    try:
        yield
    finally:
        emulator.latency = before


def heartbeat_of(process: subprocess.Popen) -> WorkerHeartbeat | None:
    db.session.expire_all()
    return db.session.get(WorkerHeartbeat, f"{socket.gethostname()}:{process.pid}")


@contextmanager
def worker_process(url: str, emulator, log_path: Path) -> Iterator[subprocess.Popen]:
    """`flask stripe worker` in a process of its own on database `url`, once it beat."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "STRIPE_SECRET_KEY": "sk_test_emulator",
        "STRIPE_API_BASE": emulator.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MAIL_URL": "",  # mails go to the log
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "stripe", "worker"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "--threads", "2", "--poll", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: process.poll() is not None or heartbeat_of(process) is not None,
            20,
            "the worker process to start",
        )
        assert process.poll() is None, log_path.read_text()[-3000:]
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def rate_limit_next(emulator, count: int = 1) -> None:
    """Stripe refuses the next `count` requests as it does past the account's rate."""
    emulator.fail_next(
        status=429,
        type="invalid_request_error",
        code="rate_limit",
        message="Request rate limit exceeded. Please slow down.",
        count=count,
    )


@pytest.mark.slow
def test_a_running_worker_applies_a_burst_of_deliveries_exactly_once(
    app, client, emulator, smtp_server
):
    """Deliveries arriving while the worker runs, some of them twice, are each applied
    once: the ledger matches Stripe, each gift gets one thank-you, and /healthz shows
    the worker alive with nothing waiting."""
    sessions = gifts(client, emulator)
    delivered = oldest_first(emulator)
    worker = Worker(app, threads=3, poll=0.05)
    with running(worker):
        for number, event in enumerate(delivered):
            copies = 2 if number % 3 == 0 else 1  # Stripe delivers at least once
            for _ in range(copies):
                assert post_event(client, event).status_code == 200
        wait_until(settled, 20, "the worker to apply every delivery")
        health = client.get("/healthz").get_json()

    rows = stored()
    assert len(rows) == len(delivered)
    assert {(row.status, row.attempts) for row in rows} <= {("processed", 1), ("ignored", 1)}
    assert actual_ledger() == expected_ledger(emulator)
    assert mail_keys() == thank_yous(sessions)
    assert received_keys(smtp_server.wait_for(len(sessions))) == thank_yous(sessions)
    assert db.session.get(WorkerHeartbeat, worker.name) is not None
    assert health["worker_last_seen_at"] is not None
    assert health["oldest_pending_age_seconds"] is None
    assert (health["pending_events"], health["failed_events"]) == (0, 0)


def test_two_workers_racing_on_one_backlog_apply_each_event_once(
    app, client, emulator, smtp_server, database
):
    """Two worker processes (here: two apps, as on two machines) taking the same backlog
    never apply an event twice nor send a mail twice, and the ledger matches Stripe."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several workers are for PostgreSQL (SKIP LOCKED); SQLite has one writer")
    sessions = gifts(client, emulator) + gifts(client, emulator)
    delivered = oldest_first(emulator)
    for event in delivered:
        assert post_event(client, event).status_code == 200
    other_app = create_app({**base_config(database, emulator.url), "MAIL_URL": smtp_server.url})
    first = Worker(app, threads=3, poll=0.05)
    second = Worker(other_app, threads=3, poll=0.05)
    second.name += "-second"  # its own heartbeat, as another machine's
    try:
        # Stripe a round trip away, so claims overlap while reads are in flight.
        with latency(emulator, 0.05), running(first, second):
            wait_until(settled, 30, "the two workers to apply the backlog")
    finally:
        with other_app.app_context():
            db.engine.dispose()

    rows = stored()
    assert len(rows) == len(delivered)
    assert {(row.status, row.attempts) for row in rows} <= {("processed", 1), ("ignored", 1)}
    assert actual_ledger() == expected_ledger(emulator)
    assert mail_keys() == thank_yous(sessions)
    assert received_keys(smtp_server.wait_for(len(sessions))) == thank_yous(sessions)
    names = set(db.session.scalars(sa.select(WorkerHeartbeat.name)))
    assert {first.name, second.name} <= names


@pytest.mark.slow
def test_stripe_rate_limiting_then_erroring_then_silent_each_wait_then_it_applies(
    app, client, emulator
):
    """An event whose Stripe reads meet a 429, then a 500, then no answer waits 15 s,
    30 s, then 60 s between attempts (Stripe's passing trouble), never hangs on the
    silence, and is applied in full once Stripe answers."""
    # The worker's reads give up after this long; the client is built with it.
    app.config["STRIPE_TIMEOUT"] = 1
    app.extensions.pop("stripe_client", None)
    session, _, _ = give(client, emulator, "once", "7")
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    assert post_event(client, completed).status_code == 200

    rate_limit_next(emulator)
    assert applying.apply_event(completed["id"]) == "failed"
    row = stored_event(completed["id"])
    assert row.attempts == 1
    assert "RateLimitError" in row.last_error and "rate limit" in row.last_error.lower()
    assert_waits(row, 15)

    due_now()
    emulator.fail_next(status=500)
    assert applying.apply_event(completed["id"]) == "failed"
    row = stored_event(completed["id"])
    assert row.attempts == 2 and "APIError" in row.last_error
    assert_waits(row, 30)

    due_now()
    emulator.stall_next(3)  # longer than STRIPE_TIMEOUT
    started = time.monotonic()
    assert applying.apply_event(completed["id"]) == "failed"
    assert time.monotonic() - started < 2.5  # gave up after ~1 s, not the default 20 s
    row = stored_event(completed["id"])
    assert row.attempts == 3 and "APIConnectionError" in row.last_error
    assert_waits(row, 60)  # still Stripe's trouble: a refused request would wait 4 min

    due_now()
    assert applying.apply_event(completed["id"]) == "processed"
    assert stored_event(completed["id"]).attempts == 4
    assert actual_ledger() == expected_ledger(emulator)
    assert mail_keys() == thank_yous([session])


def test_a_500_that_stripe_says_not_to_retry_waits_a_minute(app, client, emulator):
    """When Stripe answers an error and says trying again will not help
    (`Stripe-Should-Retry: false`), the event waits like any other failure (1 min),
    not the 15 s of Stripe's passing trouble."""
    give(client, emulator, "once", "7")
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    assert post_event(client, completed).status_code == 200
    emulator.fail_next(status=500, should_retry=False)
    assert applying.apply_event(completed["id"]) == "failed"
    row = stored_event(completed["id"])
    assert "APIError" in row.last_error
    assert_waits(row, 60)
    due_now()
    assert applying.apply_event(completed["id"]) == "processed"
    assert actual_ledger() == expected_ledger(emulator)


@pytest.mark.slow
def test_a_worker_meeting_429s_pauses_instead_of_hammering_stripe(app, client, emulator):
    """While Stripe answers 429 to everything, a worker with a backlog makes a handful
    of requests over two seconds and leaves the rest of the backlog for later, rather
    than running through it (which would only prolong the rate limiting)."""
    # The workers' own budget would cap them at 10 a second; only the pause is tested.
    app.config["STRIPE_MAX_REQUESTS_PER_SECOND"] = 1000
    backlog = 60
    for n in range(backlog):
        refund = {
            "id": f"evt_refund_{n}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "type": "charge.refunded",
            "data": {"object": {"id": f"ch_missing_{n}", "object": "charge"}},
        }
        assert post_event(client, refund).status_code == 200
    rate_limit_next(emulator, count=1000)
    emulator.reset_api_stats()
    with running(Worker(app, threads=3, poll=0.05)):
        time.sleep(2.0)
    # Counted once the worker has stopped: a thread finishing its event while stopping
    # still made its request, and failed its event, before this line.
    requests = emulator.api_stats()["requests"]
    emulator.failures.clear()

    # Each thread: a request, 0.5 s pause, a request, 1 s pause, a request: about 9.
    assert 3 <= requests <= 12, requests
    counts = statuses()
    assert counts.get("failed", 0) <= requests
    assert counts.get("pending", 0) >= backlog - requests
    failed = db.session.scalars(
        sa.select(StripeEvent.last_error).where(StripeEvent.status == "failed")
    ).all()
    assert failed and all("RateLimitError" in error for error in failed)


@pytest.mark.slow
def test_sigterm_mid_batch_finishes_the_events_in_hand_and_exits(app, client, emulator, tmp_path):
    """Stopping the worker (a deploy, systemd stop) while it works through a batch: it
    exits cleanly within seconds, no event is left claimed or failed, and the next
    worker applies the rest once each, so the ledger still matches Stripe."""
    sessions = [*gifts(client, emulator), give(client, emulator, "once", "3")[0]]
    delivered = oldest_first(emulator)
    assert len(delivered) >= 20
    url = db.engine.url.render_as_string(hide_password=False)
    log_path = tmp_path / "worker.log"
    with latency(emulator, 0.3), worker_process(url, emulator, log_path) as process:
        for event in delivered:
            assert post_event(client, event).status_code == 200

        def in_the_middle() -> bool:
            counts = statuses()
            return sum(counts.get(s, 0) for s in DONE) >= 3 and counts.get("processing", 0) >= 1

        wait_until(in_the_middle, 20, "the worker to be in the middle of the batch")
        done_before = sum(statuses().get(s, 0) for s in DONE)
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert process.wait(15) == 0, log_path.read_text()[-3000:]
        # Seconds, not the rest of the batch: each of the 2 threads finishes the event in
        # its hand (and at most one it claimed as the signal arrived), nothing more.
        assert time.monotonic() - stopped < 10

    counts = statuses()
    assert sum(counts.get(s, 0) for s in DONE) - done_before <= 2 * 2, counts
    assert set(counts) <= {"processed", "ignored", "pending"}, counts
    assert counts.get("pending", 0) > 0  # it was stopped mid-batch
    assert apply_due().keys() <= set(DONE)
    rows = stored()
    assert len(rows) == len(delivered)
    assert {(row.status, row.attempts) for row in rows} <= {("processed", 1), ("ignored", 1)}
    assert actual_ledger() == expected_ledger(emulator)
    assert mail_keys() == thank_yous(sessions)


def cluster_tool(command: str) -> None:
    """Run one of Debian's PostgreSQL cluster tools; fail with what it said."""
    done = subprocess.run(command.split(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{command}: {done.stderr or done.stdout}"


@pytest.mark.pgcluster
def test_postgresql_restarting_under_a_running_worker(emulator, tmp_path):
    """The database going away for a few seconds (a restart, a failover) does not kill
    the worker: it waits, finishes the events it held, applies every event once, and
    /healthz answers again, with the worker's heartbeat, once the database is back."""
    require_cluster_tools()
    # A cluster of its own on a free port: the shared one on 5432 is never stopped.
    name, port = f"worker_test_{os.getpid()}", free_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/support"
    emulator.reset()
    emulator.webhook_url = None
    try:
        cluster_tool(f"pg_createcluster 15 {name} -p {port} --start-conf manual -- --auth=trust")
        cluster_tool(f"pg_ctlcluster 15 {name} start")
        cluster_tool(f"createdb -h 127.0.0.1 -p {port} -U postgres support")
        app = create_app(base_config(url, emulator.url))
        app.test_client_class = RequestScopedClient
        with app.app_context():
            upgrade()
            try:
                _restart_under_a_worker(app, name, url, emulator, tmp_path / "worker.log")
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        subprocess.run(["pg_dropcluster", "--stop", "15", name], capture_output=True, timeout=60)


def _restart_under_a_worker(app, cluster: str, url: str, emulator, log_path: Path) -> None:
    client = app.test_client()
    sessions = gifts(client, emulator)
    with latency(emulator, 0.3), worker_process(url, emulator, log_path) as process:
        for event in oldest_first(emulator):
            assert post_event(client, event).status_code == 200
        wait_until(lambda: statuses().get("processing", 0) >= 1, 20, "the worker to hold an event")
        cluster_tool(f"pg_ctlcluster 15 {cluster} stop -m immediate")
        down = time.monotonic()
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "unreachable"
        time.sleep(max(0.0, 3.0 - (time.monotonic() - down)))
        cluster_tool(f"pg_ctlcluster 15 {cluster} start")
        restarted = utcnow()

        assert client.get("/healthz").status_code == 200
        before = {event["id"] for event in oldest_first(emulator)}
        sessions.append(give(client, emulator, "month", "9", email="cleo@example.org")[0])
        later = [event for event in oldest_first(emulator) if event["id"] not in before]
        for event in later:
            assert post_event(client, event).status_code == 200
        wait_until(settled, 30, "the worker to apply every event after the restart")
        assert process.poll() is None, log_path.read_text()[-3000:]
        # Its heartbeat resumes too, so /healthz does not report a dead worker.
        wait_until(
            lambda: heartbeat_of(process).seen_at > restarted, 10, "the worker's next heartbeat"
        )
        health = client.get("/healthz").get_json()
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0, log_path.read_text()[-3000:]

    rows = stored()
    assert len(rows) == len(oldest_first(emulator))
    assert {(row.status, row.attempts) for row in rows} <= {("processed", 1), ("ignored", 1)}
    assert actual_ledger() == expected_ledger(emulator)
    assert mail_keys() == thank_yous(sessions)
    assert health["database"] == "ok"
    assert datetime.fromisoformat(health["worker_last_seen_at"]) > restarted
    assert (health["pending_events"], health["failed_events"]) == (0, 0)
