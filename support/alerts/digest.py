"""The staff daily digest: yesterday's supporters in one mail, to staff who opted in.

"Yesterday" is the last whole day in `STAFF_DIGEST_TIMEZONE` (default UTC). Once
that day is over, the worker's main thread (`queue_due`, every minute) computes
its figures once and owes each opted-in, active staff account one mail under the
key `staff_digest:<account>:<day>`; the outbox sends it like every mail. A second
pass, another worker, or a restart owe nothing more: the key is taken. The
figures travel in the mail's row, so what is sent is what was counted.

Figures (aggregate queries on indexed columns, a day at a time):
new recurring supporters (people whose subscription started that day), one-time
gifts, cancellations (subscriptions whose cancellation was asked or made that day)
by reason, payments that failed (first recorded that day), recovered payments
(renewals paid that day after a failed attempt) and their money, pauses asked for
on the account page, the net change (new − cancelled) and MRR as the mail is owed.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from support.extensions import db
from support.mail.queue import queue_mail
from support.models import OutboundEmail, Payment, StaffUser, Subscription, SupporterChange
from support.stats.figures import COUNTED_PAYMENTS, NEVER_STARTED, active_plans, divide_x12

log = logging.getLogger(__name__)

KIND = "staff_digest"


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC start and end of `day` in the time zone `zone`."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def last_whole_day(now: datetime, zone: str) -> date:
    """The day before `now`'s day in `zone`."""
    return now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)


def _count(query) -> int:
    return int(db.session.scalar(query) or 0)


def day_figures(day: date, zone: str) -> dict:
    """Everything the digest says about `day` (money in minor units per currency)."""
    start, end = day_bounds(day, zone)
    sub, pay, change = Subscription, Payment, SupporterChange
    new = _count(
        sa.select(sa.func.count(sa.distinct(sub.supporter_id))).where(
            sub.started_at >= start, sub.started_at < end, sub.status.not_in(NEVER_STARTED)
        )
    )
    one_time = _count(
        sa.select(sa.func.count())
        .select_from(pay)
        .where(
            pay.kind == "one_time",
            pay.paid_at >= start,
            pay.paid_at < end,
            pay.status.in_(COUNTED_PAYMENTS),
        )
    )
    reasons = db.session.execute(
        sa.select(sub.cancel_reason, sa.func.count())
        .where(sub.canceled_at >= start, sub.canceled_at < end)
        .group_by(sub.cancel_reason)
    ).all()
    # Most first; sorted here, where "no reason" (NULL) sorts alike on every database.
    cancelled = sorted(([reason or "", int(count)] for reason, count in reasons),
                       key=lambda pair: (-pair[1], pair[0]))  # fmt: skip
    failed = _count(
        sa.select(sa.func.count())
        .select_from(pay)
        .where(pay.status == "failed", pay.created_at >= start, pay.created_at < end)
    )
    recovered_rows = db.session.execute(
        sa.select(pay.currency, sa.func.count(), sa.func.sum(pay.amount))
        .where(pay.kind == "subscription", pay.paid_at >= start, pay.paid_at < end)
        .where(pay.recovered)
        .group_by(pay.currency)
    ).all()
    paused = _count(
        sa.select(sa.func.count())
        .select_from(change)
        .where(change.kind == "pause", change.created_at >= start, change.created_at < end)
        .where(change.failed_at.is_(None))
    )
    cancelled_total = sum(count for _, count in cancelled)
    return {
        "day": day.isoformat(),
        "timezone": zone,
        "new": new,
        "one_time": one_time,
        "cancelled": cancelled,
        "cancelled_total": cancelled_total,
        "failed": failed,
        "recovered": sum(int(count) for _, count, _ in recovered_rows),
        "recovered_money": {currency: int(total or 0) for currency, _, total in recovered_rows},
        "paused": paused,
        "net": new - cancelled_total,
        "mrr": {
            currency: divide_x12(total) for currency, (_, total) in sorted(active_plans().items())
        },
    }


def _key(user_id: int, day: date) -> str:
    return f"{KIND}:{user_id}:{day.isoformat()}"


def queue_due(now: datetime) -> int:
    """Owe yesterday's digest to each opted-in active account that has not got it
    (commits); how many were owed now. Figures are computed only when one is owed."""
    zone = current_app.config["STAFF_DIGEST_TIMEZONE"]
    day = last_whole_day(now, zone)
    users = db.session.execute(
        sa.select(StaffUser.id, StaffUser.digest_lang)
        .where(StaffUser.daily_digest.is_(True), StaffUser.status == "active")
        .order_by(StaffUser.id)  # queued (and so sent) in a steady order
    ).all()
    if not users:
        db.session.rollback()
        return 0
    keys = {_key(user.id, day): user for user in users}
    owed = set(db.session.scalars(sa.select(OutboundEmail.key).where(OutboundEmail.key.in_(keys))))
    missing = [user for key, user in keys.items() if key not in owed]
    if not missing:
        db.session.rollback()
        return 0
    figures = day_figures(day, zone)
    queued = 0
    for user in missing:
        lang = user.digest_lang or "en"
        if queue_mail(_key(user.id, day), KIND, None, lang, figures, staff_user_id=user.id):
            queued += 1
    db.session.commit()
    if queued:
        log.info("Owed %s staff digests for %s", queued, day.isoformat())
    return queued
