"""The outbox: turning `OutboundEmail` rows into sent mail, exactly once if possible.

Rows are queued by whoever owes a mail (`support.mail.queue`: the ledger for
thank-yous and failed payments, the manage page for links), with a unique key
so a retried event cannot owe it twice. The worker sends them (`flask stripe
worker`, or `flask mail send` from cron). `send_due()` claims due rows as every
work queue does (`support.work_queue`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
concurrent senders never wait on each other), sends each one and records the outcome:

    pending ──claim──▶ sending ──▶ sent
       ▲                 │  └────▶ skipped   (supporter erased or without an address)
       └── failed ◀──────┘                   (error kept, retried after a backoff)

An ask (marketing) to a supporter who unsubscribed since it was queued is skipped.

A claim is a lease: a sender that dies mid-way leaves a "sending" row that
becomes due again when its lease lapses. Nothing here ever raises into the
caller: a webhook or a page must not fail because mail did.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from support.addresses import mask_address
from support.asks.optout import MARKETING_KINDS, opted_out
from support.extensions import db
from support.mail import transport
from support.mail.messages import build_message
from support.models import OutboundEmail, StaffUser, Supporter, utcnow
from support.privacy import error_texts
from support.work_queue import Backoff, WorkQueue

log = logging.getLogger(__name__)

# Wait before retry n (1-based); after the last one the row stays "failed" for staff to see.
BACKOFF = Backoff(
    (
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
        timedelta(hours=24),
    )
)
MAX_ATTEMPTS = len(BACKOFF.waits) + 1
# Longer than any SMTP conversation (the transport's timeout is seconds).
LEASE = timedelta(minutes=10)
ERROR_LENGTH = 1000
QUEUE = WorkQueue(OutboundEmail, holding="sending", lease=LEASE)


@dataclass
class SendReport:
    """What one `send_due` call did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0


def _due(now) -> sa.ColumnElement[bool]:
    """Rows that may be (re)tried at `now`."""
    row = OutboundEmail
    return sa.or_(
        sa.and_(row.status == "pending", QUEUE.waited(now)),
        # A failed row without a next attempt has had its last one.
        sa.and_(row.status == "failed", row.next_attempt_at <= now),
        QUEUE.lapsed(now),
    )


def claim(limit: int, ids: Iterable[int] | None = None) -> list[int]:
    """Mark up to `limit` due rows (optionally among `ids`) as ours ("sending",
    leased), oldest first; their ids."""
    now = utcnow()
    due = _due(now)
    if ids is not None:
        due = sa.and_(due, OutboundEmail.id.in_(list(ids)))
    rows = QUEUE.claim(due, now, (OutboundEmail.id,), order_by=OutboundEmail.id, limit=limit)
    return sorted(row.id for row in rows)


def _skip_reason(supporter: Supporter | None) -> str | None:
    if supporter is None:
        return "no supporter"
    if supporter.erased_at is not None:
        return "supporter erased"
    if not supporter.email:
        return "supporter has no email address"
    return None


def _finish(row: OutboundEmail, status: str, error: str | None = None) -> None:
    now = utcnow()
    row.status = status
    row.last_error = error[:ERROR_LENGTH] if error else None
    row.next_attempt_at = None
    if status == "sent":
        row.sent_at = now
    elif status == "failed":
        row.next_attempt_at = BACKOFF.next_attempt(row.attempts, now)
    db.session.commit()


def _deliver(row: OutboundEmail, message, report: SendReport, personal: tuple) -> None:
    """Hand `message` to the transport and record the outcome on `row`."""
    try:
        transport.send(message, current_app.config["MAIL_URL"])
    except transport.MailError as error:
        text = error_texts.clean(str(error), *personal)
        log.warning("Mail %s (%s) attempt %s failed: %s", row.id, row.kind, row.attempts, text)
        _finish(row, "failed", text)
        report.failed += 1
        return
    log.info("Mail %s (%s) sent to %s", row.id, row.kind, mask_address(str(message["To"])))
    _finish(row, "sent")
    report.sent += 1


def _staff_mails():
    """How staff mails are built: the staff area's own (support/staff/auth/mail.py),
    handed over when its blueprint is registered, so mail imports nothing of staff."""
    return current_app.extensions["staff_mails"]


def send_staff_row(row: OutboundEmail, report: SendReport) -> None:
    """Send one claimed staff mail (invitation, password reset) and record the outcome."""
    user = db.session.get(StaffUser, row.staff_user_id) if row.staff_user_id else None
    reason = _staff_mails().skip_reason(row, user)
    if reason is not None:
        log.info("Mail %s (%s) skipped: %s", row.id, row.kind, reason)
        _finish(row, "skipped", reason)
        report.skipped += 1
        return
    try:
        message = _staff_mails().build(row, user)
    except Exception as error:  # a template problem: keep it on the row for staff
        log.exception("Mail %s (%s) could not be built", row.id, row.kind)
        _finish(row, "failed", error_texts.describe(error, user.email))
        report.failed += 1
        return
    _deliver(row, message, report, (user.email,))


def send_row(row: OutboundEmail, report: SendReport) -> None:
    """Send one claimed row and record the outcome on it."""
    if row.kind in _staff_mails().kinds:
        send_staff_row(row, report)
        return
    supporter = db.session.get(Supporter, row.supporter_id) if row.supporter_id else None
    reason = _skip_reason(supporter)
    if reason is None and row.kind in MARKETING_KINDS and opted_out(supporter):
        reason = "unsubscribed from asks"
    if reason is not None:
        log.info("Mail %s (%s) skipped: %s", row.id, row.kind, reason)
        _finish(row, "skipped", reason)
        report.skipped += 1
        return
    # Kept on the row for staff: never the reader's address or name (see error_texts).
    personal = (supporter.email, supporter.name)
    try:
        message = build_message(row, supporter)
    except Exception as error:  # a template or data problem: keep it on the row for staff
        log.exception("Mail %s (%s) could not be built", row.id, row.kind)
        _finish(row, "failed", error_texts.describe(error, *personal))
        report.failed += 1
        return
    _deliver(row, message, report, personal)


def send_due(limit: int = 50, ids: Iterable[int] | None = None) -> SendReport:
    """Send every due mail (up to `limit`), optionally only rows `ids`. Never raises."""
    report = SendReport()
    try:
        claimed = claim(limit, ids)
    except SQLAlchemyError:
        log.exception("Could not claim mails to send")
        db.session.rollback()
        return report
    for row_id in claimed:
        try:
            row = db.session.get(OutboundEmail, row_id)
            if row is not None:
                send_row(row, report)
        except Exception:
            # The row keeps its lease and is retried when it lapses.
            log.exception("Mail %s: could not record the outcome", row_id)
            db.session.rollback()
    return report
