"""Applying a claimed event: read from Stripe, write the ledger, send its mails.

One path for everything that applies events: the worker, `flask stripe
process-events` and the staff inbox's replay.

1. Read what the event needs from Stripe (`handlers`), outside any database
   transaction: Stripe is ~150 ms away and may be slower, and nothing waits
   on a lock meanwhile.
2. Write the ledger in one short transaction whose first statement finishes
   the claim and whose last marks the dashboard's figures stale. A unique-key
   race with another worker (two events creating one supporter) rolls back
   and writes again.
3. Send the mails that writing queued, once it committed.

A failure rolls back everything the event wrote and keeps the error on the
event with the time of its next attempt. A lost database connection is not
the event's failure: it is raised for the worker to wait and try again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import NamedTuple

from flask import current_app
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from support.alerts import digest, sender
from support.extensions import db
from support.mail import outbox
from support.mail.queue import forget_queued, queued
from support.models import utcnow
from support.privacy import error_texts
from support.stats import snapshot as stats_cache
from support.stripe_api import StripeUnavailable
from support.webhooks import inbox, payloads
from support.webhooks.handlers import HANDLERS, Fetched

log = logging.getLogger(__name__)

# Two workers creating the same supporter or subscription: one loses on the
# unique key, rolls back and writes again, then finds the row.
CONFLICT_RETRIES = 3


class Outcome(NamedTuple):
    """What applying one claimed event came to."""

    status: str  # processed, ignored, failed, or "lost": another worker holds it now
    stripe_trouble: bool = False  # Stripe was rate limiting, erroring or silent


def database_down(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached (rather than a bad statement)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError) and isinstance(error.orig, sqlite3.Error):
        # SQLite says OperationalError for a bad statement too; only "locked" is passing.
        return "locked" in str(error.orig)
    return isinstance(error, OperationalError | InterfaceError)


def _rollback() -> None:
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.remove()


def expected_status(event_type: str, livemode: bool) -> tuple[str, str | None]:
    """The status (and note) an event gets when applying it succeeds."""
    if livemode != current_app.config["STRIPE_LIVEMODE"]:
        return "ignored", "livemode differs from the configured key"
    if event_type not in HANDLERS:
        return "ignored", f"{event_type} is not handled"
    return "processed", None


def _failed(claim: inbox.Claim, error: Exception, transient: bool) -> Outcome:
    """Roll back, keep the error on the event and when to try again."""
    _rollback()
    if database_down(error):
        raise error
    # Kept on the event for staff: never the reader's address or name (see error_texts).
    text = error_texts.describe(error, *payloads.contact_values(claim.payload))
    if transient:
        log.warning("Event %s (%s) waits for Stripe: %s", claim.id, claim.type, text)
    else:
        log.error("Event %s (%s) failed", claim.id, claim.type, exc_info=error)
    inbox.fail(claim, text, inbox.backoff(claim.attempts, transient))
    return Outcome("failed", stripe_trouble=transient)


def apply_claimed(claim: inbox.Claim) -> Outcome:
    """Apply an event this worker claimed (see the module)."""
    status, note = expected_status(claim.type, claim.livemode)
    handler = HANDLERS.get(claim.type) if status == "processed" else None
    event: dict = {}
    fetched: Fetched | None = None
    try:
        if handler is not None:
            event = json.loads(claim.payload)
            fetched = handler.fetch(event)
    except StripeUnavailable as error:
        return _failed(claim, error, error.transient)
    except Exception as error:
        return _failed(claim, error, transient=False)
    for attempt in range(1, CONFLICT_RETRIES + 1):
        forget_queued()
        try:
            if not inbox.finish(claim, status, note):
                _rollback()
                log.info("Event %s: claim lapsed, another worker has it", claim.id)
                return Outcome("lost")
            if handler is not None and fetched is not None:
                handler.apply(event, fetched)
                stats_cache.mark_stale()
            db.session.commit()
        except IntegrityError as error:
            _rollback()
            if attempt == CONFLICT_RETRIES:
                return _failed(claim, error, transient=False)
            log.info("Event %s met a concurrent write, writing again: %s", claim.id, error.orig)
            continue
        except Exception as error:
            return _failed(claim, error, transient=False)
        break
    log.info("Event %s (%s) %s", claim.id, claim.type, status)
    mails = queued()
    if mails:
        outbox.send_due(limit=len(mails), ids=mails)
    return Outcome(status)


def apply_event(event_id: str, again: bool = False) -> str:
    """Claim and apply one stored event; its status afterwards.

    Leaves a done event alone unless `again` (a staff replay: safe, because the
    ledger writes what Stripe holds now and mails are keyed), and one another
    worker holds right now. Raises UnknownEvent for an id that is not stored.
    """
    claim = inbox.claim_event(event_id, again=again)
    if claim is None:
        return inbox.status_of(event_id)
    outcome = apply_claimed(claim)
    return inbox.status_of(event_id) if outcome.status == "lost" else outcome.status


def drain(max_attempts: int = inbox.MAX_ATTEMPTS, limit: int | None = None) -> dict[str, int]:
    """Apply every event due now (at most `limit`), then owe yesterday's staff digest,
    send due mails and post due staff alerts, as the worker does; counts by status."""
    counts: dict[str, int] = {}
    while limit is None or sum(counts.values()) < limit:
        claim = inbox.claim_next(max_attempts)
        if claim is None:
            break
        status = apply_claimed(claim).status
        counts[status] = counts.get(status, 0) + 1
    digest.queue_due(utcnow())
    outbox.send_due()
    sender.send_due()
    return counts
