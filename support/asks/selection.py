"""Who an upgrade ask goes to, and what it asks of each of them.

The group is chosen with the supporters list's filters
(support/staff/supporters/queries.py) in the ask's currency. An ask raises a
supporter's main gift, the list's "primary" subscription (the active one, else
the latest): it must be active, in the ask's currency, of the frequency and age
chosen, under the amount chosen, and the new amount must be more than it is now
(and no more than the largest gift taken). Supporters erased, without an address,
or who unsubscribed from asks (any supporter row with their address did) are never
in the group; this is checked when the ask is queued and again when each mail is
sent (support/asks/optout.py).

An ask's new amount is either one amount for everyone ("set") or each gift plus
an amount ("plus").
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from support.asks.optout import not_opted_out
from support.extensions import db
from support.models import Subscription, Supporter
from support.money import exponent
from support.staff.supporters.queries import Filters, filtered, primary_subscription_id

RULES = ("set", "plus")


def largest_gift(currency: str) -> int:
    """SUPPORT_MAX_AMOUNT in `currency`'s minor units."""
    return int(Decimal(current_app.config["SUPPORT_MAX_AMOUNT"]).scaleb(exponent(currency)))


def new_amount(rule: str, amount: int, gift: int) -> int:
    """What the ask asks of a gift of `gift` (minor units)."""
    return amount if rule == "set" else gift + amount


def group(filters: Filters, currency: str, rule: str, amount: int) -> sa.Select:
    """The group, one row per supporter: supporter id, language, subscription id,
    its amount, the new amount, its interval (in that order)."""
    filters = replace(filters, status="", currency=currency, page=1)
    primary = aliased(Subscription)
    new = sa.literal(amount, sa.BigInteger) if rule == "set" else primary.amount + amount
    query = (
        sa.select(
            Supporter.id.label("supporter_id"),
            Supporter.lang.label("lang"),
            primary.id.label("subscription_id"),
            primary.amount.label("old_amount"),
            new.label("new_amount"),
            primary.interval.label("interval"),
        )
        .select_from(Supporter)
        # The supporter's own subscriptions first (by index), then the primary one among
        # them: a join on the subquery alone makes SQLite try every pair of rows.
        .join(
            primary,
            sa.and_(primary.supporter_id == Supporter.id, primary.id == primary_subscription_id()),
        )
    )
    query = filtered(query, filters, primary).where(
        primary.status == "active",
        primary.currency == currency,
        new > primary.amount,
        new <= largest_gift(currency),
        Supporter.erased_at.is_(None),
        Supporter.email.is_not(None),
        not_opted_out(),
    )
    if filters.interval:
        query = query.where(primary.interval == filters.interval)
    if filters.months:
        query = query.where(primary.started_at <= filters.started_by())
    under = filters.under_minor()
    if under is not None:
        query = query.where(primary.amount < under)
    return query


def count(filters: Filters, currency: str, rule: str, amount: int) -> int:
    """How many supporters the ask would go to now."""
    found = group(filters, currency, rule, amount).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(found)) or 0


def sample(filters: Filters, currency: str, rule: str, amount: int) -> sa.Row | None:
    """One row of the group (the newest supporter), for the preview."""
    query = group(filters, currency, rule, amount).order_by(Supporter.id.desc()).limit(1)
    return db.session.execute(query).first()
