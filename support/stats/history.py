"""A year of supporter history for the dashboard's charts, from a monthly rollup.

A subscription counts from `started_at` until `canceled_at`, whatever payment
trouble it meets in between (the ledger keeps today's status, not yesterday's).
Closed months are summed once into `stats_month`; a month is summed again
until `SETTLE` after its end, because Stripe may deliver an event days late.
The current month is always counted live from the `started_at`/`canceled_at`
indexes, so the chart ends at "now" without a rollup refresh.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from support.extensions import db
from support.models import StatsMonth, Subscription, utcnow
from support.stats.figures import NEVER_STARTED, divide_x12, monthly_x12

log = logging.getLogger(__name__)

SETTLE = timedelta(days=3)
EMPTY = ""


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (negative: before)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def as_time(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass
class MonthCounts:
    """Subscriptions started and canceled in one month, one currency."""

    started: int = 0
    canceled: int = 0
    mrr_started_x12: int = 0
    mrr_canceled_x12: int = 0


def count_between(start: datetime, end: datetime) -> dict[str, MonthCounts]:
    """Per currency: subscriptions started and canceled in [start, end), two range queries."""
    counts: dict[str, MonthCounts] = defaultdict(MonthCounts)
    begun = Subscription.status.not_in(NEVER_STARTED)
    for column, started in ((Subscription.started_at, True), (Subscription.canceled_at, False)):
        rows = db.session.execute(
            sa.select(Subscription.currency, sa.func.count(), sa.func.sum(monthly_x12()))
            .where(column >= start, column < end, begun)
            .group_by(Subscription.currency)
        ).all()
        for currency, number, total_x12 in rows:
            entry = counts[currency]
            if started:
                entry.started, entry.mrr_started_x12 = number, int(total_x12 or 0)
            else:
                entry.canceled, entry.mrr_canceled_x12 = number, int(total_x12 or 0)
    return dict(counts)


def stale_months(now: datetime) -> list[date]:
    """Closed months missing from the rollup, or summed before they settled."""
    first = db.session.scalar(sa.select(sa.func.min(Subscription.started_at)))
    if first is None:
        return []
    current = month_start(now.date())
    refreshed = dict(
        db.session.execute(
            sa.select(StatsMonth.month, sa.func.min(StatsMonth.refreshed_at)).group_by(
                StatsMonth.month
            )
        ).all()
    )
    stale = []
    month = month_start(first.date())
    while month < current:
        settled_at = as_time(add_months(month, 1)) + SETTLE
        at = refreshed.get(month)
        if at is None or (at < settled_at and now >= at + timedelta(hours=1)):
            stale.append(month)
        month = add_months(month, 1)
    return stale


def refresh(now: datetime | None = None, everything: bool = False) -> int:
    """Sum stale closed months (all of them with `everything`) into the rollup; commits."""
    now = now or utcnow()
    if everything:
        db.session.execute(sa.delete(StatsMonth))
    months = stale_months(now)
    for month in months:
        # An empty month still gets a row (currency ""), so it is not summed again.
        counts = count_between(as_time(month), as_time(add_months(month, 1))) or {
            EMPTY: MonthCounts()
        }
        db.session.execute(sa.delete(StatsMonth).where(StatsMonth.month == month))
        db.session.add_all(
            StatsMonth(month=month, currency=currency, refreshed_at=now, **vars(entry))
            for currency, entry in counts.items()
        )
    try:
        db.session.commit()
    except IntegrityError:
        # Another request summed the same months at the same moment: theirs stands.
        db.session.rollback()
        log.info("Rollup refresh raced with another request; kept the other result")
    return len(months)


@dataclass
class MonthPoint:
    """One month of the charts; totals are as of the month's end (or now)."""

    month: date
    subscriptions: int
    mrr: dict[str, int]
    started: int
    canceled: int


def history(months: int = 12, now: datetime | None = None) -> list[MonthPoint]:
    """The last `months` months, oldest first, ending with the current one."""
    now = now or utcnow()
    refresh(now)
    current = month_start(now.date())
    first = add_months(current, -(months - 1))
    running: dict[str, int] = defaultdict(int)
    mrr_x12: dict[str, int] = defaultdict(int)
    before = db.session.execute(
        sa.select(
            StatsMonth.currency,
            sa.func.sum(StatsMonth.started - StatsMonth.canceled),
            sa.func.sum(StatsMonth.mrr_started_x12 - StatsMonth.mrr_canceled_x12),
        )
        .where(StatsMonth.month < first)
        .group_by(StatsMonth.currency)
    ).all()
    for currency, count, total in before:
        running[currency] += int(count or 0)
        mrr_x12[currency] += int(total or 0)
    by_month: dict[date, dict[str, MonthCounts]] = defaultdict(dict)
    for row in db.session.scalars(sa.select(StatsMonth).where(StatsMonth.month >= first)):
        by_month[row.month][row.currency] = MonthCounts(
            row.started, row.canceled, row.mrr_started_x12, row.mrr_canceled_x12
        )
    by_month[current] = count_between(as_time(current), now + timedelta(microseconds=1))
    points = []
    for index in range(months):
        month = add_months(first, index)
        counts = by_month.get(month, {})
        for currency, entry in counts.items():
            running[currency] += entry.started - entry.canceled
            mrr_x12[currency] += entry.mrr_started_x12 - entry.mrr_canceled_x12
        points.append(
            MonthPoint(
                month=month,
                subscriptions=sum(running.values()),
                mrr={c: divide_x12(max(v, 0)) for c, v in sorted(mrr_x12.items()) if c != EMPTY},
                started=sum(e.started for e in counts.values()),
                canceled=sum(e.canceled for e in counts.values()),
            )
        )
    return points


def points_json(points: list[MonthPoint]) -> list[dict]:
    """The history as JSON-ready dicts (`month` as "YYYY-MM")."""
    return [
        {
            "month": p.month.strftime("%Y-%m"),
            "subscriptions": p.subscriptions,
            "mrr": p.mrr,
            "started": p.started,
            "canceled": p.canceled,
        }
        for p in points
    ]


def points_from_json(items: list[dict]) -> list[MonthPoint]:
    """The inverse of `points_json`."""
    return [
        MonthPoint(
            month=date(int(item["month"][:4]), int(item["month"][5:7]), 1),
            subscriptions=item["subscriptions"],
            mrr=item["mrr"],
            started=item["started"],
            canceled=item["canceled"],
        )
        for item in items
    ]
