"""A supporter's gifts as the ledger holds them, ready for the account page.

Read from the database only: the page opens without asking Stripe, and the
webhooks keep the ledger current. One `Customer` per supporter row (Stripe
customer) with that row's gifts, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from support.account.actions import available, pending
from support.extensions import db
from support.models import Payment, Subscription, Supporter, SupporterChange
from support.money import to_major

LIVE = ("active", "trialing")
WAITING = ("past_due", "unpaid", "incomplete")


@dataclass(frozen=True)
class Gift:
    """One gift: `state` is active, ending, waiting, paused, cancelled, paid or refunded;
    `date` goes with it (next payment, end, resumption, cancellation or payment date)."""

    amount: int
    currency: str
    frequency: str  # month, year or once
    state: str
    date: datetime | None
    # A subscription's own: our row's id, what can be done with it now
    # (support/account/actions.available) and a change on its way, if any.
    subscription_id: int | None = None
    actions: tuple[str, ...] = ()
    pending: SupporterChange | None = None

    def major(self) -> str:
        """The amount in major units as the appeal's `amount` query takes it ("7.50")."""
        return str(to_major(self.amount, self.currency))


@dataclass
class Customer:
    """One Stripe customer's gifts (a supporter row)."""

    supporter_id: int
    gifts: list[Gift] = field(default_factory=list)


def _subscription_gift(sub: Subscription, pending: SupporterChange | None = None) -> Gift:
    if sub.status in LIVE and sub.cancel_at_period_end:
        state, date = "ending", sub.current_period_end
    elif sub.status in LIVE and sub.collection_paused:
        state, date = "paused", sub.paused_until
    elif sub.status in LIVE:
        state, date = "active", sub.current_period_end
    elif sub.status in WAITING:
        state, date = "waiting", None
    elif sub.status == "paused":
        state, date = "paused", None
    else:
        state, date = "cancelled", sub.canceled_at
    return Gift(
        sub.amount, sub.currency, sub.interval, state, date, sub.id, available(sub), pending
    )


def _one_time_gift(payment: Payment) -> Gift:
    state = "refunded" if payment.refunded_amount >= payment.amount else "paid"
    return Gift(payment.amount, payment.currency, "once", state, payment.paid_at)


def customers_gifts(supporters: list[Supporter]) -> list[Customer]:
    """Each supporter's subscriptions (newest first), then one-time gifts (newest first)."""
    result = []
    for supporter in supporters:
        subs = db.session.scalars(
            sa.select(Subscription)
            .where(Subscription.supporter_id == supporter.id)
            .order_by(Subscription.started_at.desc(), Subscription.id.desc())
        )
        once = db.session.scalars(
            sa.select(Payment)
            .where(
                Payment.supporter_id == supporter.id,
                Payment.kind == "one_time",
                Payment.paid_at.is_not(None),
            )
            .order_by(Payment.paid_at.desc(), Payment.id.desc())
        )
        subs = list(subs)
        on_the_way = pending([s.id for s in subs])
        gifts = [_subscription_gift(s, on_the_way.get(s.id)) for s in subs]
        gifts += [_one_time_gift(p) for p in once]
        result.append(Customer(supporter.id, gifts))
    return result
