"""Figures about supporters, computed in the database."""

from __future__ import annotations

import sqlalchemy as sa

from support.extensions import db
from support.models import Subscription


def active_supporters() -> int:
    """People with at least one active subscription."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Subscription.supporter_id))).where(
                Subscription.status == "active"
            )
        )
        or 0
    )
