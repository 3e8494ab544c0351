"""The webhook inbox: every Stripe event stored before it is applied, applied once.

`receive` stores a verified event (its id is the primary key, so a redelivery
adds nothing) and commits, then `process_event` applies it in a transaction
of its own: `pending` becomes `processed`, `ignored` (other livemode, or a
type we do not handle) or `failed` (with the error and a time to try again).
A failure rolls back everything the event wrote, so nothing is half-applied.

Claiming: on PostgreSQL the event row is taken `FOR UPDATE SKIP LOCKED`, so
two workers (a redelivery racing the first delivery, several
`flask stripe process-events`) never apply the same event at once; SQLite
has a single writer, and the claim is the transaction's first write.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from support.extensions import db
from support.ledger import timestamp
from support.models import StripeEvent, utcnow
from support.webhooks.handlers import HANDLERS

log = logging.getLogger(__name__)

DONE = ("processed", "ignored")
MAX_ATTEMPTS = 10
# Two writers creating the same supporter or subscription: one loses on the
# unique key, rolls back and tries again, then finds the row.
CONFLICT_RETRIES = 3


class UnknownEvent(LookupError):
    """No event with this id is stored."""


class MalformedEvent(ValueError):
    """A signed body that is not a Stripe event."""


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts`: 1 min, 2, 4, ... at most 6 hours."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def check_event(event: dict) -> None:
    """Raise MalformedEvent unless `event` has what the inbox needs."""
    fine = (
        isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and 0 < len(event["type"]) <= 100
        and isinstance(event.get("created"), int)
        and isinstance(event.get("livemode"), bool)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
    if not fine:
        raise MalformedEvent("not a Stripe event: id, type, created, livemode, data.object")


def store_event(event: dict, payload: bytes) -> bool:
    """Insert the event and commit; False when its id was already stored.

    On PostgreSQL this commit does not wait for its WAL flush: every answer
    to Stripe comes after a later synchronous commit (the event applied, or
    marked failed), which flushes this one too. A crash in between loses a
    row Stripe was never answered for, so Stripe delivers it again.
    """
    if _postgres():
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    insert = postgresql.insert if _postgres() else sqlite.insert
    statement = (
        insert(StripeEvent)
        .values(
            id=event["id"],
            type=event["type"],
            livemode=event["livemode"],
            created=timestamp(event["created"]),
            payload=payload.decode("utf-8"),
            status="pending",
            attempts=0,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    stored = db.session.execute(statement).rowcount == 1
    db.session.commit()
    return stored


def receive(event: dict, payload: bytes) -> str:
    """Store a verified event, then apply it unless that was done already.

    A redelivery of a failed event is Stripe retrying, so it is applied again.
    """
    check_event(event)
    if not store_event(event, payload):
        status = db.session.scalar(
            sa.select(StripeEvent.status).where(StripeEvent.id == event["id"])
        )
        db.session.rollback()
        if status in DONE:
            return status
    return process_event(event["id"])


def _claim_by_id(event_id: str) -> Callable[[], StripeEvent | None]:
    def claim() -> StripeEvent | None:
        query = sa.select(StripeEvent).where(StripeEvent.id == event_id)
        if _postgres():
            return db.session.scalar(query.with_for_update(skip_locked=True))
        # The first write takes SQLite's write lock for the whole transaction.
        db.session.execute(
            sa.update(StripeEvent)
            .where(StripeEvent.id == event_id)
            .values(attempts=StripeEvent.attempts)
        )
        return db.session.scalar(query)

    return claim


def _due(max_attempts: int, now: datetime):
    return sa.select(StripeEvent).where(
        StripeEvent.status.in_(("pending", "failed")),
        StripeEvent.attempts < max_attempts,
        sa.or_(StripeEvent.next_attempt_at.is_(None), StripeEvent.next_attempt_at <= now),
    )


def _claim_next(max_attempts: int, skip: set[str]) -> Callable[[], StripeEvent | None]:
    def claim() -> StripeEvent | None:
        query = _due(max_attempts, utcnow()).order_by(StripeEvent.received_at).limit(1)
        if skip:
            query = query.where(StripeEvent.id.not_in(skip))
        if _postgres():
            return db.session.scalar(query.with_for_update(skip_locked=True))
        found = db.session.scalar(query)
        return _claim_by_id(found.id)() if found is not None else None

    return claim


def _apply(event: StripeEvent) -> str:
    """Apply a claimed event inside the current transaction; its new status."""
    event.attempts += 1
    event.processed_at = utcnow()
    event.next_attempt_at = None
    if event.livemode != current_app.config["STRIPE_LIVEMODE"]:
        event.status, event.last_error = "ignored", "livemode differs from the configured key"
    elif event.type not in HANDLERS:
        event.status, event.last_error = "ignored", f"{event.type} is not handled"
    else:
        HANDLERS[event.type](json.loads(event.payload))
        event.status, event.last_error = "processed", None
    return event.status


def _mark_failed(event_id: str, error: Exception) -> None:
    """Record a failure in a fresh transaction (the failed one was rolled back)."""
    try:
        event = db.session.get(StripeEvent, event_id)
        event.attempts += 1
        event.status = "failed"
        event.last_error = f"{type(error).__name__}: {error}"[:2000]
        event.next_attempt_at = utcnow() + backoff(event.attempts)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Could not record the failure of event %s", event_id)


def _run(claim: Callable[[], StripeEvent | None], force: bool) -> tuple[str | None, str | None]:
    """Claim an event and apply it; (event id, status), (None, None) if none was claimed."""
    event_id, event_type = None, None
    last: Exception = RuntimeError("no attempt made")
    for _ in range(CONFLICT_RETRIES):
        event = claim()
        if event is None:
            db.session.rollback()
            return event_id, None
        event_id, event_type = event.id, event.type
        if event.status in DONE and not force:
            db.session.rollback()
            return event_id, event.status
        try:
            status = _apply(event)
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            log.info("Event %s met a concurrent write, trying again: %s", event_id, error.orig)
            last = error
            continue
        except Exception as error:
            db.session.rollback()
            log.exception("Event %s (%s) failed", event_id, event_type)
            _mark_failed(event_id, error)
            return event_id, "failed"
        log.info("Event %s %s", event_id, status)
        return event_id, status
    _mark_failed(event_id, last)
    return event_id, "failed"


def _status_of(event_id: str) -> str:
    status = db.session.scalar(sa.select(StripeEvent.status).where(StripeEvent.id == event_id))
    db.session.rollback()
    if status is None:
        raise UnknownEvent(event_id)
    return status


def process_event(event_id: str) -> str:
    """Apply a stored event unless it is done; its resulting status.

    Returns the current status untouched when another worker holds the event
    right now. Raises UnknownEvent for an id that is not stored.
    """
    _, status = _run(_claim_by_id(event_id), force=False)
    return status or _status_of(event_id)


def replay_event(event_id: str) -> str:
    """Apply any stored event again, even a processed one; its resulting status.

    Safe because the handlers write what Stripe holds now and mails are keyed.
    """
    _, status = _run(_claim_by_id(event_id), force=True)
    return status or _status_of(event_id)


def process_due(max_attempts: int = MAX_ATTEMPTS, limit: int | None = None) -> Counter:
    """Apply pending events and failed ones whose wait is over; counts by status."""
    counts: Counter = Counter()
    seen: set[str] = set()
    while limit is None or len(seen) < limit:
        event_id, status = _run(_claim_next(max_attempts, seen), force=False)
        if event_id is None:
            break
        seen.add(event_id)
        counts[status or "busy"] += 1
    return counts


def due_count(max_attempts: int = MAX_ATTEMPTS) -> int:
    """How many events `process_due` would try now."""
    query = _due(max_attempts, utcnow()).with_only_columns(sa.func.count())
    return db.session.scalar(query) or 0
