"""The reminder before a recurring gift renews, from Stripe's `invoice.upcoming`.

Stripe sends `invoice.upcoming` the days before a renewal its dashboard is set
to (Billing → Subscriptions → upcoming renewal events). The invoice in it is a
preview: it has no id, so nothing here keys on one. The reminder is owed under
the subscription and the end of the period that renews, so a redelivered event,
or a second `invoice.upcoming` for the same renewal, mails once.

Which frequencies are reminded is `SUPPORT_RENEWAL_REMINDERS` (yearly by
default). Before reading Stripe, the worker checks the ledger (`worth_reading`),
so the monthly renewals of a large list cost no Stripe read when only yearly
ones are reminded. The subscription is then read as it is now and the mail is
owed only if the renewal the event announces is still ahead and the gift still
renews: not cancelled, not set to cancel at period end, not paused.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from support.extensions import db
from support.ledger.supporters import owe_mail
from support.models import Subscription, utcnow

KIND = "renewal_reminder"
# Gifts that renew as they stand (`trialing` turns into a first payment, also a renewal).
RENEWING = ("active", "trialing")


def reminded(interval: str | None) -> bool:
    """Whether gifts of this frequency get a reminder (`SUPPORT_RENEWAL_REMINDERS`)."""
    return interval in current_app.config["SUPPORT_RENEWAL_REMINDERS"]


def renews(row) -> bool:
    """Whether a subscription row (model or ledger row) renews as it stands."""
    return (
        row.status in RENEWING
        and not row.cancel_at_period_end
        and not row.collection_paused
        and row.current_period_end is not None
    )


def worth_reading(subscription_id: str) -> bool:
    """Whether the ledger's subscription may be owed a reminder: known, of a reminded
    frequency, renewing. Otherwise the event needs no Stripe read at all."""
    if not current_app.config["SUPPORT_RENEWAL_REMINDERS"]:
        return False
    row = db.session.execute(
        sa.select(Subscription.__table__).where(Subscription.stripe_id == subscription_id)
    ).first()
    return row is not None and reminded(row.interval) and renews(row)


def renewal_time(invoice: dict) -> int | None:
    """When the renewal an upcoming invoice announces happens: the end of its period."""
    end = invoice.get("period_end")
    return end if isinstance(end, int) and not isinstance(end, bool) else None


def queue_reminder(invoice: dict, row: sa.Row, supporter: sa.Row | None) -> bool:
    """Owe the supporter the reminder of the renewal `invoice` announces, once; False
    when not owed (frequency not reminded, gift not renewing, renewal passed or moved)."""
    renews_at = renewal_time(invoice)
    if renews_at is None or not (reminded(row.interval) and renews(row)):
        return False
    if int(row.current_period_end.timestamp()) != renews_at or row.current_period_end <= utcnow():
        return False  # applied after that renewal (or the period changed since)
    key = f"{KIND}:{row.stripe_id}:{renews_at}"
    return owe_mail(key, KIND, supporter, next_payment(row), lang=row.lang)


def next_payment(row) -> dict:
    """A mail's words for a subscription's next payment: amount, date and the card charged
    (the renewal reminder's and the expiring card's)."""
    return {
        "amount": row.amount,
        "currency": row.currency,
        "frequency": row.interval,
        "date": row.current_period_end.isoformat(),
        "card_brand": row.card_brand,
        "card_last4": row.card_last4,
        "card_exp_month": row.card_exp_month,
        "card_exp_year": row.card_exp_year,
    }
