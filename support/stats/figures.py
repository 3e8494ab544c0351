"""Figures about supporters, computed in the database.

Every figure is an aggregate query on indexed columns (see the indexes at the
end of `support/models.py`); nothing loads rows into Python to count them.

Definitions the dashboard and `/staff/api/stats.json` share:

* active supporter: a supporter record — one Stripe customer — with at least
  one subscription whose Stripe status is `active`. One person who gave twice
  may have two customers, and addresses typed at Checkout are not verified,
  so records are never merged; `active_people` counts the distinct addresses
  among active supporters instead (an erased record counts as one). New,
  churned and the churn rate count supporter records;
* MRR: the sum of active subscriptions per currency, a yearly plan counting
  1/12 of its amount; summed exactly (in twelfths) and rounded half up to the
  minor unit once per currency;
* new in the last 30 days: people whose subscription started in the window
  (never-paid `incomplete` ones excluded);
* churned in the last 30 days: people whose subscription was canceled in the
  window and who have no active subscription now;
* churn rate: churned ÷ supporters 30 days ago (active now − new + churned);
* one-time revenue: one-time payments paid in the window, net of refunds,
  disputed payments left out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from support.extensions import db
from support.models import (
    WAITING_EVENTS,
    Payment,
    StripeEvent,
    Subscription,
    Supporter,
    WorkerHeartbeat,
    utcnow,
)
from support.process_cache import ProcessCache

WINDOW = timedelta(days=30)
# Subscriptions Stripe created but that were never paid: not supporters.
NEVER_STARTED = ("incomplete", "incomplete_expired")
COUNTED_PAYMENTS = ("paid", "partially_refunded")


def monthly_x12():
    """SQL: a subscription's monthly amount times twelve (exact for yearly plans)."""
    return sa.case(
        (Subscription.interval == "year", Subscription.amount), else_=Subscription.amount * 12
    )


def divide_x12(total_x12: int, count: int = 1) -> int:
    """`total_x12 / (12 * count)` rounded half up to the minor unit (non-negative input)."""
    divisor = 12 * count
    return (total_x12 * 2 + divisor) // (2 * divisor) if divisor else 0


def active_supporters() -> int:
    """People with at least one active subscription."""
    # DISTINCT in a subquery lets PostgreSQL walk the (status, supporter_id) index
    # once, already in order, instead of sorting inside count(DISTINCT ...).
    people = (
        sa.select(Subscription.supporter_id)
        .where(Subscription.status == "active")
        .distinct()
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(people)) or 0


def active_people() -> int:
    """Distinct addresses among active supporters (records without one count once each)."""
    active = (
        sa.select(Subscription.supporter_id)
        .where(Subscription.status == "active")
        .distinct()
        .subquery()
    )
    person = sa.func.coalesce(Supporter.email, "#" + sa.cast(Supporter.id, sa.String))
    people = (
        sa.select(person)
        .select_from(Supporter)
        .join(active, active.c.supporter_id == Supporter.id)
        .distinct()
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(people)) or 0


# What the two counts count, said in `stats.json` itself.
COUNTING = {
    "active_supporters": "Stripe customers with an active subscription",
    "active_people": "distinct email addresses among them (addresses are not verified)",
}


def campaign_supporter_count(slug: str) -> int:
    """People with an active subscription started through the campaign `slug`."""
    people = (
        sa.select(Subscription.supporter_id)
        .where(Subscription.status == "active", Subscription.campaign == slug)
        .distinct()
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(people)) or 0


# How long public pages (appeal, banner) may show a supporter count: counting
# takes a noticeable time at a million supporters and the pages are hot.
PUBLIC_COUNT_MAX_AGE = 30.0
_PUBLIC_COUNT: ProcessCache[int] = ProcessCache("public_supporter_count")


def public_supporter_count() -> int:
    """`active_supporters()` for reader pages, recounted at most every 30 s per process."""
    return _PUBLIC_COUNT.get(active_supporters, seconds=PUBLIC_COUNT_MAX_AGE)


def active_plans() -> dict[str, tuple[int, int]]:
    """Per currency: (active subscriptions, MRR × 12), from one grouped query."""
    rows = db.session.execute(
        sa.select(Subscription.currency, sa.func.count(), sa.func.sum(monthly_x12()))
        .where(Subscription.status == "active")
        .group_by(Subscription.currency)
    ).all()
    return {currency: (count, int(total or 0)) for currency, count, total in rows}


def status_count(status: str) -> int:
    """Subscriptions with this Stripe status (e.g. `past_due`)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Subscription)
            .where(Subscription.status == status)
        )
        or 0
    )


def new_supporters(since: datetime) -> int:
    """People with a subscription started since `since` (never-paid ones left out)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Subscription.supporter_id))).where(
                Subscription.started_at >= since, Subscription.status.not_in(NEVER_STARTED)
            )
        )
        or 0
    )


def churned_supporters(since: datetime) -> int:
    """People whose subscription was canceled since `since` and who support no more."""
    other = aliased(Subscription)
    still_active = sa.exists().where(
        other.supporter_id == Subscription.supporter_id, other.status == "active"
    )
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Subscription.supporter_id))).where(
                Subscription.canceled_at >= since, ~still_active
            )
        )
        or 0
    )


def one_time_revenue(since: datetime) -> dict[str, int]:
    """Per currency: one-time gifts paid since `since`, net of refunds, disputes left out."""
    rows = db.session.execute(
        sa.select(Payment.currency, sa.func.sum(Payment.amount - Payment.refunded_amount))
        .where(
            Payment.kind == "one_time",
            Payment.paid_at >= since,
            Payment.status.in_(COUNTED_PAYMENTS),
            Payment.disputed.is_(False),
        )
        .group_by(Payment.currency)
    ).all()
    return {currency: int(total or 0) for currency, total in rows if total}


@dataclass
class Overview:
    """The dashboard's headline figures (money in minor units per currency)."""

    active_supporters: int
    active_people: int
    mrr: dict[str, int]
    active_subscriptions: dict[str, int]
    average_monthly_amount: dict[str, int]
    new_last_30_days: int
    churned_last_30_days: int
    churn_rate: float | None
    past_due: int
    one_time_revenue_last_30_days: dict[str, int]
    goal: int
    goal_percent: int | None
    as_of: datetime = field(default_factory=utcnow)

    def as_json(self) -> dict:
        """The `stats.json` body: the contract keys and the rest of the figures."""
        body = asdict(self)
        body["as_of"] = self.as_of.isoformat()
        body["counting"] = COUNTING
        return body


def overview(goal: int, now: datetime | None = None) -> Overview:
    """Every headline figure, each from one aggregate query."""
    now = now or utcnow()
    since = now - WINDOW
    active = active_supporters()
    plans = active_plans()
    new = new_supporters(since)
    churned = churned_supporters(since)
    before = active - new + churned
    return Overview(
        active_supporters=active,
        active_people=active_people(),
        mrr={currency: divide_x12(total) for currency, (_, total) in sorted(plans.items())},
        active_subscriptions={currency: count for currency, (count, _) in sorted(plans.items())},
        average_monthly_amount={
            currency: divide_x12(total, count) for currency, (count, total) in sorted(plans.items())
        },
        new_last_30_days=new,
        churned_last_30_days=churned,
        churn_rate=round(churned / before, 4) if before > 0 else None,
        past_due=status_count("past_due"),
        one_time_revenue_last_30_days=one_time_revenue(since),
        goal=goal,
        goal_percent=min(100, active * 100 // goal) if goal > 0 else None,
        as_of=now,
    )


@dataclass(frozen=True)
class WebhookBacklog:
    """Are Stripe's webhooks arriving, is the worker keeping up, is anything failing?"""

    last_received_at: datetime | None
    pending: int  # stored and not applied yet (being applied included)
    failed: int
    oldest_pending_at: datetime | None  # when the longest-waiting event arrived
    worker_last_seen_at: datetime | None


def webhook_backlog() -> WebhookBacklog:
    """The last event received, the queue's length and age, failures, the worker."""
    waiting = ("pending", "processing")
    counts = dict(
        db.session.execute(
            sa.select(StripeEvent.status, sa.func.count())
            .where(StripeEvent.status.in_(WAITING_EVENTS))
            .group_by(StripeEvent.status)
        ).all()
    )
    return WebhookBacklog(
        last_received_at=db.session.scalar(sa.select(sa.func.max(StripeEvent.received_at))),
        pending=sum(counts.get(status, 0) for status in waiting),
        failed=counts.get("failed", 0),
        oldest_pending_at=db.session.scalar(
            sa.select(sa.func.min(StripeEvent.received_at)).where(StripeEvent.status.in_(waiting))
        ),
        worker_last_seen_at=db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.seen_at))),
    )
