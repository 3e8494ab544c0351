"""Unsubscribing from asks: the opt-out is the supporter's, kept by us alone.

`Supporter.asks_opted_out_at` is written only here; the ledger writes a
supporter's columns one by one from Stripe's objects and never this one, so no
webhook or rebuild clears it. An address that opted out on any supporter row
(one per Stripe customer) gets no ask on any of them. Only asks are held back:
receipts, reminders and failure notices are service mail and still go.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from support.extensions import db
from support.models import Supporter, utcnow

# The mail kinds that are marketing, and so carry the unsubscribe headers and link.
MARKETING_KINDS = frozenset({"upgrade_ask"})


def not_opted_out() -> sa.ColumnElement[bool]:
    """Condition on `Supporter`: neither this row nor any row with its address opted out."""
    other = aliased(Supporter)
    return sa.and_(
        Supporter.asks_opted_out_at.is_(None),
        ~sa.exists().where(other.email == Supporter.email, other.asks_opted_out_at.is_not(None)),
    )


def opted_out(supporter: Supporter) -> bool:
    """Whether this supporter (or another row with their address) opted out of asks."""
    if supporter.asks_opted_out_at is not None:
        return True
    if not supporter.email:
        return False
    query = sa.select(Supporter.id).where(
        Supporter.email == supporter.email, Supporter.asks_opted_out_at.is_not(None)
    )
    return db.session.scalar(query.limit(1)) is not None


def opt_out(supporter_id: int) -> bool:
    """Record the opt-out (committed); doing it again changes nothing. False for an
    unknown supporter."""
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None:
        return False
    db.session.execute(
        sa.update(Supporter)
        .where(Supporter.id == supporter_id, Supporter.asks_opted_out_at.is_(None))
        .values(asks_opted_out_at=utcnow())
    )
    db.session.commit()
    return True
