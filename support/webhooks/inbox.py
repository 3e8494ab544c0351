"""The webhook inbox: every Stripe event stored before it is applied, applied once.

`receive` stores a verified event (its id is the primary key, so a redelivery
adds nothing) and commits, then applies it in a transaction of its own:
`pending` becomes `processed`, `ignored` (other livemode, or a type we do not
handle) or `failed` (with the error and a time to try again). A failure rolls
back everything the event wrote, so nothing is half-applied.

Claiming: the webhook claims its event with one UPDATE (the transaction's
first statement), so a redelivery racing the first delivery waits for the
row and then finds it done; `process_event`, `replay_event` and
`flask stripe process-events` take rows `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several workers never apply the same event at once. On SQLite
every write transaction starts with a write, which takes the database's
write lock at once (waiting for it, rather than failing, when another
transaction holds it).

Round trips matter more than anything else here (two CPUs shared by the
workers, PostgreSQL and Stripe calls): storing is one statement, the apply
transaction's claim is one statement, and the event is applied from the
verified body instead of being read back.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from support import ledger
from support.driver_sql import Statement, pinned
from support.extensions import db
from support.ledger import lock_number, timestamp
from support.models import StripeEvent, utcnow
from support.webhooks.handlers import HANDLERS, lock_key

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
    return ledger.dialect() == "postgresql"


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

    One statement and one round trip. On PostgreSQL it runs as its own
    transaction (autocommit) whose commit does not wait for its WAL flush
    (`set_config('synchronous_commit', 'off', true)` in the same statement):
    every answer to Stripe comes after a later synchronous commit (the event
    applied, or marked failed), and the WAL is flushed in order, so that
    flush covers this row too. A crash in between loses a row Stripe was
    never answered for, so Stripe delivers it again. The session keeps its
    connection for the apply transaction that follows.
    """
    values = {
        "id": event["id"],
        "type": event["type"],
        "livemode": event["livemode"],
        "created": timestamp(event["created"]),
        "payload": payload.decode("utf-8"),
        "received_at": utcnow(),
    }
    store = _STORE_POSTGRES if _postgres() else _STORE_SQLITE
    return store.run_and_commit(values) is not None


# Statements built once, on the table, and run as `Statement`s (compiled once,
# on the driver on PostgreSQL): building, compiling and executing a statement
# through SQLAlchemy per event cost more CPU than running it.
_TABLE = StripeEvent.__table__
# The CTE makes the commit of this one-statement transaction asynchronous.
_STORE_POSTGRES = Statement(
    sa.text(
        "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)) "
        "INSERT INTO stripe_event "
        "(id, type, livemode, created, payload, status, attempts, received_at) "
        "SELECT :id, :type, :livemode, :created, :payload, 'pending', 0, :received_at "
        "FROM async_commit ON CONFLICT (id) DO NOTHING RETURNING id"
    ).columns(_TABLE.c.id)
)
_STORE_SQLITE = Statement(
    sqlite.insert(_TABLE)
    .values(status="pending", attempts=0)
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_TABLE.c.id)
)
_CLAIM_UPDATE = (
    sa.update(_TABLE)
    .where(_TABLE.c.id == sa.bindparam("event_id"), *(_TABLE.c.status != done for done in DONE))
    .values(
        attempts=_TABLE.c.attempts + 1,
        processed_at=sa.bindparam("claimed_at", type_=_TABLE.c.processed_at.type),
        next_attempt_at=None,
        status=sa.bindparam("outcome", type_=_TABLE.c.status.type),
        last_error=sa.bindparam("note", type_=_TABLE.c.last_error.type),
    )
)
_CLAIM = Statement(_CLAIM_UPDATE.returning(_TABLE.c.id))
# On PostgreSQL the claim also takes the customer's advisory lock (after the
# row's), saving the handler that round trip.
_CLAIM_AND_LOCK = Statement(
    _CLAIM_UPDATE.returning(
        _TABLE.c.id, sa.func.pg_advisory_xact_lock(sa.bindparam("lock", type_=sa.BigInteger))
    )
)


def receive(event: dict, payload: bytes) -> tuple[str, list[int]]:
    """Store a verified event that passed `check_event`, then apply it unless that
    was done already; its status and the ids of the mails applying it queued.

    A redelivery of a failed event is Stripe retrying, so it is applied again.
    """
    store_event(event, payload)
    return _run_received(event)


def _claim_received(event: dict, status: str, note: str | None) -> bool:
    """Claim a stored event that is not done, setting the status (and note) it
    gets if applying succeeds; False when it is done already.

    One UPDATE, the transaction's first statement, which takes the row lock
    (PostgreSQL) or the write lock (SQLite) at once: a concurrent delivery of
    the same event waits for this one and then finds it done. On PostgreSQL it
    also takes the lock of the customer the handler is about to lock.
    """
    values = {"event_id": event["id"], "claimed_at": utcnow(), "outcome": status, "note": note}
    key = lock_key(event) if status == "processed" and _postgres() else None
    if key is None:
        return _CLAIM.run(values).first() is not None
    claimed = _CLAIM_AND_LOCK.run({**values, "lock": lock_number(key)})
    if claimed.first() is None:
        return False
    ledger.holding_lock(key)
    return True


def _run_received(event: dict) -> tuple[str, list[int]]:
    """Apply a just-received event in its own transaction; its status and the ids
    of the mails it queued."""
    last: Exception = RuntimeError("no attempt made")
    status, note = _outcome(event["type"], event["livemode"])
    for _ in range(CONFLICT_RETRIES):
        ledger.start_mail_log()
        try:
            with pinned():
                claimed = _claim_received(event, status, note)
                if claimed and status == "processed":
                    HANDLERS[event["type"]](event)
            if not claimed:
                return _status_of(event["id"]), []
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            log.info("Event %s met a concurrent write, trying again: %s", event["id"], error.orig)
            last = error
            continue
        except Exception as error:
            db.session.rollback()
            log.exception("Event %s (%s) failed", event["id"], event["type"])
            _mark_failed(event["id"], error)
            return "failed", []
        return status, ledger.queued_mail()
    _mark_failed(event["id"], last)
    return "failed", []


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


def _outcome(event_type: str, livemode: bool) -> tuple[str, str | None]:
    """The status (and note) an event gets when applying it succeeds."""
    if livemode != current_app.config["STRIPE_LIVEMODE"]:
        return "ignored", "livemode differs from the configured key"
    if event_type not in HANDLERS:
        return "ignored", f"{event_type} is not handled"
    return "processed", None


def _apply(event: StripeEvent) -> str:
    """Apply a claimed event inside the current transaction; its new status."""
    event.attempts += 1
    event.processed_at = utcnow()
    event.next_attempt_at = None
    event.status, event.last_error = _outcome(event.type, event.livemode)
    if event.status == "processed":
        HANDLERS[event.type](json.loads(event.payload))
    return event.status


def _mark_failed(event_id: str, error: Exception) -> None:
    """Record a failure in a fresh transaction (the failed one was rolled back).

    Writes only (no read first), so on SQLite the transaction takes the write
    lock with its first statement and waits its turn like any writer.
    """
    try:
        attempts = db.session.execute(
            sa.update(StripeEvent)
            .where(StripeEvent.id == event_id)
            .values(
                attempts=StripeEvent.attempts + 1,
                status="failed",
                last_error=f"{type(error).__name__}: {error}"[:2000],
            )
            .returning(StripeEvent.attempts)
        ).scalar()
        if attempts is not None:
            db.session.execute(
                sa.update(StripeEvent)
                .where(StripeEvent.id == event_id)
                .values(next_attempt_at=utcnow() + backoff(attempts))
            )
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


_STATUS = Statement(sa.select(_TABLE.c.status).where(_TABLE.c.id == sa.bindparam("event_id")))


def _status_of(event_id: str) -> str:
    status = _STATUS.run({"event_id": event_id}).scalar()
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
