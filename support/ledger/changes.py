"""Supporters' requested changes, marked applied when a webhook shows them at Stripe.

The account page asks Stripe for a change and records it (`SupporterChange`), but
writes nothing of the subscription: the ledger changes only through the webhooks
that follow. When the worker writes a subscription read at `version`, each change
of that subscription still on its way is applied if

- the read began after the change was asked for and shows its effect (the new
  amount and frequency, the pause until its date, the pause gone, the cancellation
  pending, the cancellation undone), or
- the read began after Stripe answered the request: Stripe's state then includes
  the change, even if a later change has since replaced its effect.

Its confirmation mail is queued then, in the same transaction, keyed by the change:
a mail confirms what Stripe holds, never a change Stripe refused, and a duplicate
or late delivery cannot mail it twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from support.extensions import db
from support.ledger.supporters import owe_mail
from support.models import SupporterChange, utcnow

# The mail that confirms each kind of change.
MAIL_KINDS = {
    "amount": "gift_changed",
    "frequency": "gift_changed",
    "pause": "gift_paused",
    "resume": "gift_resumed",
    "cancel": "gift_cancelled",
    "keep": "gift_kept",
}


def shows(change: SupporterChange, sub: sa.Row) -> bool:
    """Whether the subscription row shows the change's effect."""
    if change.kind in ("amount", "frequency"):
        return sub.amount == change.new_amount and sub.interval == change.new_interval
    if change.kind == "pause":
        return bool(sub.collection_paused) and sub.paused_until == change.paused_until
    if change.kind == "resume":
        return not sub.collection_paused
    if change.kind == "cancel":
        return bool(sub.cancel_at_period_end) or sub.status == "canceled"
    if change.kind == "keep":
        return not sub.cancel_at_period_end
    return False


def _mail_context(change: SupporterChange, sub: sa.Row) -> dict:
    date = change.paused_until if change.kind == "pause" else sub.current_period_end
    return {
        "change": change.kind,
        "amount": change.new_amount if change.new_amount is not None else sub.amount,
        "currency": sub.currency,
        "frequency": change.new_interval or sub.interval,
        "date": date.isoformat() if date else None,
    }


def apply_changes(sub: sa.Row, supporter: sa.Row | None, version: int) -> list[int]:
    """Mark the changes of subscription row `sub` that a read at `version` shows as
    applied, queueing each one's mail; their ids. Call after writing `sub`."""
    seen = max(version, sub.stripe_updated or 0)
    pending = db.session.scalars(
        sa.select(SupporterChange)
        .where(
            SupporterChange.subscription_id == sub.id,
            SupporterChange.applied_at.is_(None),
            SupporterChange.failed_at.is_(None),
            SupporterChange.asked_version < seen,
        )
        .order_by(SupporterChange.id)
    ).all()
    applied = []
    now = utcnow()
    for change in pending:
        answered = change.answered_version is not None and change.answered_version < seen
        if not (answered or shows(change, sub)):
            continue
        change.applied_at = now
        applied.append(change.id)
        owe_mail(
            f"supporter_change:{change.id}",
            MAIL_KINDS[change.kind],
            supporter,
            _mail_context(change, sub),
            change.lang,
        )
    db.session.flush()
    return applied
