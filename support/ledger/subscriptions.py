"""Subscriptions: a Stripe subscription as our row (amount and period from its items,
a pause from `pause_collection`, the reason given from `cancellation_details`)."""

from __future__ import annotations

import sqlalchemy as sa

from support.extensions import db
from support.ledger.fields import attribution_fields, timestamp
from support.ledger.locks import for_update
from support.ledger.supporters import owe_mail
from support.ledger.versions import upsert_if_newer
from support.models import Subscription, utcnow

SUBSCRIPTION = Subscription.__table__


def subscription_fields(sub: dict) -> dict:
    """Our columns for a Stripe subscription (amount and period from its items)."""
    items = (sub.get("items") or {}).get("data") or []
    recurring = (items[0]["price"].get("recurring") if items else None) or {}
    meta = sub.get("metadata") or {}
    ends = [item["current_period_end"] for item in items if item.get("current_period_end")]
    pause = sub.get("pause_collection") or None
    details = sub.get("cancellation_details") or {}
    return {
        "status": sub["status"],
        "amount": sum(
            (item["price"].get("unit_amount") or 0) * (item.get("quantity") or 1) for item in items
        ),
        "currency": sub["currency"],
        "interval": recurring.get("interval") or "month",
        "started_at": timestamp(sub.get("start_date") or sub["created"]),
        "canceled_at": timestamp(sub.get("canceled_at")),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "current_period_end": timestamp(max(ends)) if ends else None,
        "collection_paused": pause is not None,
        "paused_until": timestamp(pause.get("resumes_at")) if pause else None,
        "cancel_reason": (details.get("feedback") or None) and details["feedback"][:32],
        "cancel_comment": details.get("comment") or None,
        "lang": (meta.get("lang") or None) and meta["lang"][:8],
        **attribution_fields(meta),
    }


def find_subscription(stripe_id: str) -> sa.Row | None:
    """Our row for a Stripe subscription id, locked for update."""
    query = sa.select(SUBSCRIPTION).where(SUBSCRIPTION.c.stripe_id == stripe_id)
    return db.session.execute(for_update(query)).first()


def is_known(stripe_id: str) -> bool:
    """Whether we have a row for this subscription (a plain read, no lock)."""
    query = sa.select(SUBSCRIPTION.c.id).where(SUBSCRIPTION.c.stripe_id == stripe_id)
    return db.session.execute(query).first() is not None


def apply_subscription(
    sub: dict, supporter: sa.Row, version: int, card: dict | None = None
) -> sa.Row:
    """Write a subscription as Stripe had it at `version` (unless ours is newer); our row.

    `card`: the card columns (`cards.card_fields`) read with it at `version`; None
    when the card was not read, which leaves the stored card as it is.
    """
    now = utcnow()
    values = subscription_fields(sub)
    if card is not None:
        values.update(card)
    values.update(
        stripe_id=sub["id"],
        supporter_id=supporter.id,
        stripe_updated=version,
        created_at=now,
        updated_at=now,
    )
    return upsert_if_newer(SUBSCRIPTION, "stripe_id", values) or find_subscription(sub["id"])


def queue_support_stopped(sub: dict, supporter: sa.Row | None) -> bool:
    """Tell the supporter once that their gift ended because it could not be collected
    (Stripe cancelled it after the last retry: `cancellation_details.reason` is
    `payment_failed`), with a link to give the same again (support/gift_links.py)."""
    details = sub.get("cancellation_details") or {}
    if sub["status"] != "canceled" or details.get("reason") != "payment_failed":
        return False
    fields = subscription_fields(sub)
    context = {
        "amount": fields["amount"],
        "currency": fields["currency"],
        "frequency": fields["interval"],
        "subscription_id": sub["id"],
        "date": fields["canceled_at"].isoformat() if fields["canceled_at"] else None,
    }
    return owe_mail(f"support_stopped:{sub['id']}", "support_stopped", supporter, context)
