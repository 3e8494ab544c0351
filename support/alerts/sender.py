"""Posting owed chat alerts to `STAFF_ALERT_WEBHOOK_URL`, by the worker, at most once each.

Rows are claimed as every work queue's are (support/work_queue.py: a lease, `FOR
UPDATE SKIP LOCKED` on PostgreSQL), then posted as Slack's incoming webhooks
take them, `{"text": ...}` as JSON, outside any transaction:

    pending ──claim──▶ sending ──▶ sent
       ▲                 │
       └── failed ◀──────┘  (5xx, 429, timeout, no answer: tried again after a
                             backoff; a 4xx, or the last attempt: stays failed)

A worker that dies mid-post leaves the row held until its lease lapses; it is
then posted again, so a receiver may, rarely, see an alert twice (as with mail):
nothing else posts one more than once. The URL is a secret and is never kept in
an error.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from support.extensions import db
from support.models import StaffAlert, utcnow
from support.work_queue import Backoff, WorkQueue

log = logging.getLogger(__name__)

BACKOFF = Backoff(
    (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
    )
)
MAX_ATTEMPTS = len(BACKOFF.waits) + 1
TIMEOUT_SECONDS = 10
LEASE = timedelta(minutes=2)  # longer than one post can take
QUEUE = WorkQueue(StaffAlert, holding="sending", lease=LEASE)


class PostFailed(Exception):
    """The receiver did not take the alert; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


@dataclass
class PostReport:
    """What one `send_due` call did."""

    sent: int = 0
    failed: int = 0


def post(url: str, text: str) -> None:
    """POST `{"text": text}` to a Slack-compatible incoming webhook; raises PostFailed."""
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            answer.read(1024)
    except urllib.error.HTTPError as error:
        status = error.code
        raise PostFailed(f"HTTP {status}", retry=status >= 500 or status == 429) from None
    except TimeoutError:
        raise PostFailed("timed out", retry=True) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PostFailed(f"no answer: {type(reason).__name__}", retry=True) from None


def _due(now: datetime) -> sa.ColumnElement[bool]:
    row = StaffAlert
    return sa.or_(
        sa.and_(row.status == "pending", QUEUE.waited(now)),
        # A failed row without a next attempt has had its last one.
        sa.and_(row.status == "failed", row.next_attempt_at <= now),
        QUEUE.lapsed(now),
    )


def _finish(row_id: int, attempts: int, values: dict) -> None:
    """Record an outcome, if the claim is still ours (see `WorkQueue.still_held`)."""
    db.session.execute(
        sa.update(StaffAlert).where(QUEUE.still_held(row_id, attempts)).values(**values)
    )
    db.session.commit()


def send_due(limit: int = 20, now: datetime | None = None) -> PostReport:
    """Post every due alert (up to `limit`); never raises. `now`: the time to judge
    what is due by (tests move it past a backoff)."""
    report = PostReport()
    url = current_app.config.get("STAFF_ALERT_WEBHOOK_URL")
    if not url:
        return report
    now = now or utcnow()
    try:
        claimed = QUEUE.claim(
            _due(now),
            now,
            (StaffAlert.id, StaffAlert.attempts, StaffAlert.text, StaffAlert.kind),
            order_by=StaffAlert.id,
            limit=limit,
        )
    except SQLAlchemyError:
        log.exception("Could not claim staff alerts to post")
        db.session.rollback()
        return report
    for row in claimed:
        try:
            post(url, row.text)
        except PostFailed as failure:
            again = BACKOFF.next_attempt(row.attempts, now) if failure.retry else None
            log.warning(
                "Staff alert %s (%s) attempt %s: %s", row.id, row.kind, row.attempts, failure
            )
            values = {"status": "failed", "last_error": str(failure), "next_attempt_at": again}
            report.failed += 1
        else:
            values = {
                "status": "sent",
                "sent_at": utcnow(),
                "next_attempt_at": None,
                "last_error": None,
            }
            report.sent += 1
        try:
            _finish(row.id, row.attempts, values)
        except SQLAlchemyError:
            log.exception("Staff alert %s: could not record the outcome", row.id)
            db.session.rollback()
    return report
