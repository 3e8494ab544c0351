"""What a supporter changed on their own account page, for the staff supporter page:
amounts and frequencies, pauses, cancellations with their reasons, and saves (the
offer shown before a cancellation, taken)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from support.alerts.labels import REASON_LABELS  # noqa: F401 (templates read it here)
from support.extensions import db
from support.models import Subscription, Supporter, SupporterChange

KIND_LABELS = {
    "amount": _l("amount changed"),
    "frequency": _l("frequency changed"),
    "pause": _l("paused"),
    "resume": _l("resumed"),
    "cancel": _l("cancelled"),
    "keep": _l("cancellation undone"),
}
OFFER_LABELS = {"pause": _l("pause"), "lower": _l("lower amount")}


def of_supporter(supporter: Supporter, limit: int = 50) -> list[tuple[SupporterChange, str]]:
    """The supporter's requested changes, newest first, with their subscription's Stripe id."""
    rows = db.session.execute(
        sa.select(SupporterChange, Subscription.stripe_id)
        .join(Subscription, Subscription.id == SupporterChange.subscription_id)
        .where(SupporterChange.supporter_id == supporter.id)
        .order_by(SupporterChange.created_at.desc(), SupporterChange.id.desc())
        .limit(limit)
    )
    return [tuple(row) for row in rows]
