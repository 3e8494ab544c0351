"""Retention figures for the dashboard: monthly cohorts, lifetime value, money won back.

* Cohorts: the subscriptions started in each of the last `COHORT_MONTHS` calendar
  months (UTC; never-paid ones left out), and the share of them still giving at
  the start of the 1st, 2nd, 3rd, 6th and 12th month after — a subscription stops
  giving at `canceled_at` (when the cancellation was asked or made), as in the
  history charts. A share whose month has not come yet is None. One query per
  cohort, each a range of the `started_at` index.
* Average lifetime value per currency: everything supporters paid (net of refunds,
  disputed payments left out) ÷ the supporters who paid in that currency.
* Recovered payments: renewals paid after a failed attempt (`Payment.recovered`),
  counted and summed per currency over the last `WINDOW`.
* Saves, undone cancellations and pauses over the same window, from the changes
  supporters asked for on the account page (`supporter_change`).

Lifetime value reads every payment (seconds at a million supporters), so these
figures are computed at most every `MAX_AGE` and otherwise carried over from the
last snapshot (support/stats/snapshot.py): cohorts move by the month.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import Payment, Subscription, Supporter, SupporterChange, utcnow
from support.stats.figures import COUNTED_PAYMENTS, NEVER_STARTED
from support.stats.history import add_months, as_time, month_start

COHORT_MONTHS = 13  # the oldest has its 12th month
AFTER = (1, 2, 3, 6, 12)
WINDOW = timedelta(days=90)
MAX_AGE = timedelta(minutes=10)


def cohort(month_first: datetime, now: datetime) -> dict:
    """One cohort: its size and the share still giving after each of `AFTER` months."""
    sub = Subscription
    start = as_time(month_first)
    end = as_time(add_months(month_first, 1))
    marks = {k: as_time(add_months(month_first, k)) for k in AFTER}
    due = {k: at for k, at in marks.items() if at <= now}
    columns = [sa.func.count()] + [
        sa.func.sum(sa.case((sa.or_(sub.canceled_at.is_(None), sub.canceled_at >= at), 1), else_=0))
        for at in due.values()
    ]
    row = db.session.execute(
        sa.select(*columns).where(
            sub.started_at >= start, sub.started_at < end, sub.status.not_in(NEVER_STARTED)
        )
    ).one()
    size = int(row[0] or 0)
    kept = dict(zip(due, row[1:], strict=True))
    return {
        "month": month_first.isoformat(),
        "started": size,
        "kept": {
            str(k): (round(int(kept[k] or 0) / size, 4) if size and k in kept else None)
            for k in AFTER
        },
    }


def cohorts(now: datetime) -> list[dict]:
    """The last `COHORT_MONTHS` cohorts, newest first (the current month included)."""
    this_month = month_start(now.date())
    return [cohort(add_months(this_month, -back), now) for back in range(COHORT_MONTHS)]


def lifetime_value() -> dict[str, dict]:
    """Per currency: the average paid per supporter who paid in it, and how many did.

    The supporters who paid in a currency are counted from the supporter table, each
    asking the payment index whether one of its payments counts (a semi-join per
    currency): at 10M payments a few seconds, where grouping every (currency,
    supporter) pair of the payment table spilled to disk for minutes.
    """
    pay = Payment
    counted = (pay.status.in_(COUNTED_PAYMENTS), pay.disputed.is_(False))
    totals = dict(
        db.session.execute(
            sa.select(pay.currency, sa.func.sum(pay.amount - pay.refunded_amount))
            .where(*counted, pay.supporter_id.is_not(None))
            .group_by(pay.currency)
        ).all()
    )
    people = {}
    for currency in sorted(totals):
        paid_in = (
            sa.select(pay.id)
            .where(pay.supporter_id == Supporter.id, pay.currency == currency, *counted)
            .exists()
        )
        people[currency] = db.session.scalar(
            sa.select(sa.func.count()).select_from(Supporter).where(paid_in)
        )
    return {
        currency: {"average": int(totals[currency] or 0) // count, "supporters": count}
        for currency, count in people.items()
        if count
    }


def recovered(since: datetime) -> dict[str, dict]:
    """Per currency: renewals recovered since `since`, and their money (net of refunds)."""
    pay = Payment
    rows = db.session.execute(
        sa.select(pay.currency, sa.func.count(), sa.func.sum(pay.amount - pay.refunded_amount))
        .where(pay.kind == "subscription", pay.paid_at >= since, pay.recovered)
        .group_by(pay.currency)
    ).all()
    return {
        currency: {"payments": int(count), "amount": int(total or 0)}
        for currency, count, total in sorted(rows)
    }


def change_counts(since: datetime) -> dict[str, int]:
    """Saves (an offer taken instead of cancelling), undone cancellations and pauses."""
    change = SupporterChange
    live = (change.created_at >= since, change.failed_at.is_(None))

    def count(*where) -> int:
        query = sa.select(sa.func.count()).select_from(change).where(*live, *where)
        return int(db.session.scalar(query) or 0)

    return {
        "saves": count(change.saved.is_(True)),
        "undone": count(change.kind == "keep"),
        "pauses": count(change.kind == "pause"),
    }


def compute(now: datetime | None = None) -> dict:
    """Every retention figure, from the database."""
    now = now or utcnow()
    since = now - WINDOW
    return {
        "as_of": now.isoformat(),
        "days": WINDOW.days,
        "after": list(AFTER),
        "cohorts": cohorts(now),
        "lifetime_value": lifetime_value(),
        "recovered": recovered(since),
        **change_counts(since),
    }


def carried_or_computed(previous: dict | None, now: datetime) -> dict:
    """The previous snapshot's figures while younger than `MAX_AGE`, else new ones."""
    if previous and "as_of" in previous:
        try:
            age = now - datetime.fromisoformat(previous["as_of"])
        except (TypeError, ValueError):
            age = MAX_AGE
        if timedelta(0) <= age < MAX_AGE:
            return previous
    return compute(now)
