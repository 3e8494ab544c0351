"""`flask stripe worker` as it runs: a burst of deliveries, two workers racing.

Everything goes through the real `stripe` library to the emulator over HTTP on
127.0.0.1; the worker runs in threads of the test process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from support import create_app
from support.extensions import db
from support.models import OutboundEmail, StripeEvent, WorkerHeartbeat
from support.webhooks.worker import Worker
from tests.conftest import base_config
from tests.stripe_history import (
    actual_ledger,
    expected_ledger,
    give,
    oldest_first,
    post_event,
)


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
