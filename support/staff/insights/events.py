"""The webhook inbox: stored Stripe events, failed ones first, and replay.

Ignored events (types the ledger does not handle, the other mode's events)
are hidden unless asked for (`status=ignored`, or `status=all` for every one):
they need nothing from anyone and would bury the ones that do.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from support.extensions import db
from support.models import StripeEvent
from support.stats import figures as stats
from support.webhooks.applying import apply_event

log = logging.getLogger(__name__)

STATUSES = ("pending", "processed", "failed", "ignored")
# The status filter's other choice: every event, ignored ones included.
ALL = "all"
PER_PAGE = 50
FAILED_SHOWN = 100
PAYLOAD_LIMIT = 20_000


@dataclass
class InboxPage:
    """What the inbox shows: failed events, one page of all events, and totals."""

    failed: list[StripeEvent]
    events: list[StripeEvent]
    has_next: bool
    last_received_at: datetime | None
    counts: dict[str, int]


def _filtered(query: sa.Select, event_type: str | None, status: str | None) -> sa.Select:
    """`status`: one of STATUSES, ALL, or None for every status but `ignored`."""
    if event_type:
        query = query.where(StripeEvent.type == event_type)
    if status is None:
        query = query.where(StripeEvent.status != "ignored")
    elif status != ALL:
        query = query.where(StripeEvent.status == status)
    return query


def inbox(event_type: str | None, status: str | None, page: int) -> InboxPage:
    """Failed events on top (few, by design), then the events `status` asks for
    (None: all but ignored ones) newest first, paginated."""
    failed = []
    if status in (None, ALL):  # with a status filter, the list below is that status
        failed = list(
            db.session.scalars(
                _filtered(sa.select(StripeEvent), event_type, "failed")
                .order_by(StripeEvent.received_at.desc())
                .limit(FAILED_SHOWN)
            )
        )
    events = list(
        db.session.scalars(
            _filtered(sa.select(StripeEvent), event_type, status)
            .order_by(StripeEvent.received_at.desc(), StripeEvent.id)
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    )
    backlog = stats.webhook_backlog()
    return InboxPage(
        failed=failed,
        events=events[:PER_PAGE],
        has_next=len(events) > PER_PAGE,
        last_received_at=backlog.last_received_at,
        counts={"pending": backlog.pending, "failed": backlog.failed},
    )


def pretty_payload(payload: str) -> str:
    """The payload indented for reading, cut at PAYLOAD_LIMIT; shown escaped, never as HTML."""
    try:
        text = json.dumps(json.loads(payload), indent=2, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        text = payload
    if len(text) > PAYLOAD_LIMIT:
        text = text[:PAYLOAD_LIMIT] + "\n…"
    return text


def replay(event_id: str) -> str:
    """Apply a stored event again, the way the worker does; the event's status afterwards.

    Raises UnknownEvent for an id that is not stored.
    """
    log.info("Staff replay of event %s", event_id)
    return apply_event(event_id, again=True)
