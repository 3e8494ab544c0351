"""The work-queue rules the webhook inbox and the mail outbox share: claiming due rows
oldest first, a lease that lapses, waits between attempts; on SQLite and PostgreSQL.

If these break, a mail goes out twice, an event is applied by two workers at
once, or a dead worker's event is never picked up again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support import dialect
from support.extensions import db
from support.models import OutboundEmail, utcnow
from support.work_queue import Backoff, WorkQueue

QUEUE = WorkQueue(OutboundEmail, holding="sending", lease=timedelta(minutes=10))


def due(now):
    return sa.or_(sa.and_(OutboundEmail.status == "pending", QUEUE.waited(now)), QUEUE.lapsed(now))


def rows(count, **values):
    made = [
        OutboundEmail(key=f"k{n}", kind="thank_you", context=json.dumps({}), **values)
        for n in range(count)
    ]
    db.session.add_all(made)
    db.session.commit()
    return [row.id for row in made]


def claim(limit=1, now=None):
    now = now or utcnow()
    found = QUEUE.claim(
        due(now), now, (OutboundEmail.id, OutboundEmail.attempts), OutboundEmail.id, limit
    )
    return [row.id for row in found]


def row(row_id):
    db.session.expire_all()
    return db.session.get(OutboundEmail, row_id)


def test_claims_the_oldest_due_rows_up_to_the_limit_and_holds_them_for_a_lease(app):
    first, second, third = rows(3)
    now = utcnow()
    assert claim(limit=2, now=now) == [first, second]
    held = row(first)
    assert held.status == "sending" and held.attempts == 1
    assert held.next_attempt_at == now + QUEUE.lease
    assert row(third).status == "pending"
    assert claim(limit=5) == [third]  # the held ones are not due
    assert claim() == []


def test_a_claim_is_committed_at_once(app):
    [only] = rows(1)
    claim()
    with db.engine.connect() as other:  # another worker sees it held
        status = other.execute(sa.select(OutboundEmail.status).where(OutboundEmail.id == only))
        assert status.scalar_one() == "sending"


def test_a_lapsed_lease_makes_the_row_due_again_and_the_old_claim_is_no_longer_held(app):
    [only] = rows(1)
    start = utcnow()
    claim(now=start)
    assert claim(now=start + QUEUE.lease - timedelta(seconds=1)) == []
    assert claim(now=start + QUEUE.lease) == [only]  # the first worker is presumed gone
    assert row(only).attempts == 2
    first_claim = db.session.scalar(sa.select(sa.func.count()).where(QUEUE.still_held(only, 1)))
    second_claim = db.session.scalar(sa.select(sa.func.count()).where(QUEUE.still_held(only, 2)))
    assert (first_claim, second_claim) == (0, 1)


def test_a_waiting_row_is_due_only_once_its_wait_is_over(app):
    later = utcnow() + timedelta(minutes=1)
    [waiting] = rows(1, next_attempt_at=later)
    assert claim() == []
    assert claim(now=later) == [waiting]


def test_one_named_row_is_claimed_without_an_order(app):
    first, second = rows(2)
    now = utcnow()
    found = QUEUE.claim(sa.and_(OutboundEmail.id == second, due(now)), now, (OutboundEmail.id,))
    assert [r.id for r in found] == [second] and row(first).status == "pending"
    held = db.session.scalar(sa.select(sa.func.count()).where(QUEUE.held(now)))
    assert held == 1


def test_claims_skip_rows_another_worker_is_claiming(app):
    if not dialect.is_postgres():
        pytest.skip("SQLite has one writer at a time: a second claim waits instead")
    first, second = rows(2)
    # Waiting for the lock instead of skipping the row would fail here, not hang.
    db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
    with db.engine.connect() as other:  # another worker, mid-claim on the oldest row
        other.execute(
            sa.select(OutboundEmail.id).where(OutboundEmail.id == first).with_for_update()
        )
        assert claim() == [second]  # not blocked, and not the same row
        other.rollback()
    assert claim() == [first]


def test_backoff_takes_its_waits_in_turn_then_stops():
    steps = Backoff((timedelta(minutes=1), timedelta(minutes=5)))
    assert [steps.wait(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=5), None]
    now = utcnow()
    assert steps.next_attempt(2, now) == now + timedelta(minutes=5)
    assert steps.next_attempt(3, now) is None


def test_a_doubling_backoff_doubles_up_to_its_cap():
    doubling = Backoff((timedelta(seconds=15),), doubling=True, cap=timedelta(hours=6))
    assert [doubling.wait(n).total_seconds() for n in (0, 1, 2, 3, 4)] == [15, 15, 30, 60, 120]
    assert doubling.wait(12) == timedelta(hours=6)
    assert doubling.wait(10_000) == timedelta(hours=6)  # no overflow after many attempts
