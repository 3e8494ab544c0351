"""The webhook inbox: every Stripe event stored as it arrives, claimed by one worker.

A delivery stores its event as `pending` and commits (`store_event`); that is
all a request does. Workers then claim events one at a time
(`claim_next`, or `claim_event` for one id), which marks them `processing`
with a lease and commits at once, so no database lock is held while the
worker reads from Stripe. The worker finishes its claim (`finish`) as the
first statement of the short transaction that writes the ledger, or records
a failure with the time of the next attempt (`fail`). Both only touch the
event while the claim is still the worker's own (same `attempts`): a worker
that stalled past its lease cannot overwrite the one that took over.

Claiming, leases and waits follow the rules of every work queue
(`support.work_queue`): rows taken `FOR UPDATE SKIP LOCKED` on PostgreSQL,
so any number of workers on any number of machines never wait on each other
nor take the same event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from support import dialect
from support.extensions import db
from support.json_input import is_plain_text
from support.ledger.fields import timestamp
from support.models import WAITING_EVENTS, StripeEvent, utcnow
from support.privacy.redaction import dump
from support.webhooks import payloads
from support.work_queue import Backoff, WorkQueue

DONE = ("processed", "ignored")
MAX_ATTEMPTS = 10
# Longer than a worker can take over one event (a few Stripe reads, each at most
# STRIPE_TIMEOUT, 20 s by default); past it, a claim whose worker died is taken
# by another.
LEASE = timedelta(minutes=5)
ERROR_LENGTH = 2000
# 9999-12-31T23:59:59Z, the last second a datetime holds.
LATEST_CREATED = 253_402_300_799
QUEUE = WorkQueue(StripeEvent, holding="processing", lease=LEASE)
# A passing trouble (Stripe rate limiting or erroring, no answer) is tried
# again after 15 s, 30 s, 1 min, ...; anything else after 1 min, 2, 4, ...;
# never more than 6 hours apart.
SOON = Backoff((timedelta(seconds=15),), doubling=True, cap=timedelta(hours=6))
LATER = Backoff((timedelta(minutes=1),), doubling=True, cap=timedelta(hours=6))


class UnknownEvent(LookupError):
    """No event with this id is stored."""


class MalformedEvent(ValueError):
    """A signed body that is not a Stripe event."""


@dataclass(frozen=True)
class Claim:
    """An event a worker holds: its stored columns, and which attempt this is."""

    id: str
    type: str
    livemode: bool
    payload: str
    attempts: int


def check_event(event: dict) -> None:
    """Raise MalformedEvent unless `event` has what the inbox needs."""
    created = event.get("created")
    fine = (
        is_plain_text(event.get("id"), 255)
        and event["id"] != ""
        and is_plain_text(event.get("type"), 100)
        and event["type"] != ""
        # A time the database can hold (a bool is an int in Python; 0 would be "no time").
        and type(created) is int
        and 0 < created <= LATEST_CREATED
        and isinstance(event.get("livemode"), bool)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
    if not fine:
        raise MalformedEvent("not a Stripe event: id, type, created, livemode, data.object")


def backoff(attempts: int, transient: bool) -> timedelta:
    """How long to wait after failed attempt number `attempts` (`SOON` for a passing
    trouble, else `LATER`)."""
    return (SOON if transient else LATER).wait(attempts)


def _store_statement(postgres: bool) -> sa.Insert:
    """INSERT the event as pending unless its id is stored; RETURNING the id if new."""
    table = StripeEvent.__table__
    return (
        dialect.insert(table, postgres)
        .values(
            {
                **{
                    column: sa.bindparam(column, type_=table.c[column].type)
                    for column in ("id", "type", "livemode", "created", "payload", "received_at")
                },
                "status": "pending",
                "attempts": 0,
            }
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
    )


# Built once: every delivery runs it, and building it cost more than running it.
_STORE = {postgres: _store_statement(postgres) for postgres in (True, False)}


def store_event(event: dict) -> str:
    """Store a checked event as pending, reduced (`payloads`), and commit; its status
    (a duplicate id changes nothing and answers the stored event's status)."""
    reduced = payloads.reduce_event(event, keep_contact=not payloads.erased_contact(event))
    stored = db.session.execute(
        _STORE[dialect.is_postgres()],
        {
            "id": event["id"],
            "type": event["type"],
            "livemode": event["livemode"],
            "created": timestamp(event["created"]),
            "payload": dump(reduced),
            "received_at": utcnow(),
        },
    ).first()
    status = "pending"
    if stored is None:
        status = db.session.scalar(
            sa.select(StripeEvent.status).where(StripeEvent.id == event["id"])
        )
    db.session.commit()
    return status


def _due(now: datetime, max_attempts: int) -> sa.ColumnElement[bool]:
    """Events a worker may claim at `now`: pending or failed ones whose wait is over
    (and attempts are left), and claims whose lease lapsed."""
    event = StripeEvent
    return sa.and_(
        # What the partial index ix_stripe_event_waiting holds, said so the planner uses it.
        event.status.in_(WAITING_EVENTS),
        sa.or_(
            sa.and_(
                event.status.in_(("pending", "failed")),
                event.attempts < max_attempts,
                QUEUE.waited(now),
            ),
            QUEUE.lapsed(now),
        ),
    )


def _claim(condition: sa.ColumnElement[bool], now: datetime, order_by=None) -> Claim | None:
    """Mark the event matching `condition` (with `order_by`: the first one) as ours for
    a lease, and commit."""
    event = StripeEvent
    returning = (event.id, event.type, event.livemode, event.payload, event.attempts)
    rows = QUEUE.claim(condition, now, returning, order_by=order_by)
    return Claim(*rows[0]) if rows else None


def claim_next(max_attempts: int = MAX_ATTEMPTS) -> Claim | None:
    """The oldest due event, claimed; None when nothing is due."""
    now = utcnow()
    return _claim(_due(now, max_attempts), now, order_by=StripeEvent.received_at)


def claim_event(event_id: str, again: bool = False) -> Claim | None:
    """Claim one event unless it is done (`again`: even then) or another worker holds
    it now; None otherwise."""
    now = utcnow()
    condition = sa.and_(StripeEvent.id == event_id, sa.not_(QUEUE.held(now)))
    if not again:
        condition = sa.and_(condition, StripeEvent.status.not_in(DONE))
    return _claim(condition, now)


def finish(claim: Claim, status: str, note: str | None) -> bool:
    """Set the claimed event's final status in the current transaction (not committed),
    and redact the contact a session kept for applying it; False when the claim is no
    longer ours. Its first statement takes the event's row lock (PostgreSQL) or the
    write lock (SQLite)."""
    values = {"status": status, "last_error": note, "processed_at": utcnow()}
    redacted = payloads.without_contact(claim.payload) if payloads.is_session(claim.type) else None
    if redacted is not None:
        values["payload"] = redacted
    finished = db.session.execute(
        sa.update(StripeEvent)
        .where(QUEUE.still_held(claim.id, claim.attempts))
        .values(next_attempt_at=None, **values)
        .returning(StripeEvent.id)
    ).first()
    return finished is not None


def fail(claim: Claim, error: str, wait: timedelta) -> None:
    """Record a failed attempt and when to try again, and commit."""
    db.session.execute(
        sa.update(StripeEvent)
        .where(QUEUE.still_held(claim.id, claim.attempts))
        .values(
            status="failed",
            last_error=error[:ERROR_LENGTH],
            processed_at=utcnow(),
            next_attempt_at=utcnow() + wait,
        )
    )
    db.session.commit()


def status_of(event_id: str) -> str:
    """A stored event's status; UnknownEvent for an id that is not stored."""
    status = db.session.scalar(sa.select(StripeEvent.status).where(StripeEvent.id == event_id))
    db.session.rollback()
    if status is None:
        raise UnknownEvent(event_id)
    return status
