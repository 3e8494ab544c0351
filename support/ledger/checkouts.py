"""Checkout completion: our attempt marked paid, and the thank-you owed once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from support.extensions import db
from support.gift_links import gift_before_fees, monthly_offer
from support.ledger.locks import for_update
from support.ledger.supporters import owe_mail, update_supporter
from support.models import CheckoutAttempt

CHECKOUT = CheckoutAttempt.__table__
PAID = ("paid", "no_payment_required")


def session_is_paid(session: dict) -> bool:
    """A Checkout Session whose gift is paid (a slow payment method may complete unpaid)."""
    return session.get("status") == "complete" and session.get("payment_status") in PAID


def attempt_supporter_id(session_id: str) -> int | None:
    """The supporter our attempt for this session records (once it was completed)."""
    query = sa.select(CHECKOUT.c.supporter_id).where(CHECKOUT.c.session_id == session_id)
    return db.session.execute(query).scalar()


def complete_checkout(
    session: dict, supporter: sa.Row | None, completed_at: datetime, context: dict
) -> sa.Row | None:
    """Mark our checkout attempt paid (first time only) and owe its thank-you mail.

    A session that is complete but not paid yet waits for
    `checkout.session.async_payment_succeeded`.
    """
    if not session_is_paid(session):
        return None
    query = sa.select(CHECKOUT).where(CHECKOUT.c.session_id == session["id"])
    attempt = db.session.execute(for_update(query)).first()
    lang = supporter.lang if supporter is not None else None
    if attempt is not None:
        values = {}
        if attempt.completed_at is None:
            values["completed_at"] = completed_at
        customer = session.get("customer")
        if isinstance(customer, str) and customer and attempt.stripe_customer_id != customer:
            # Who paid, for the paying browser's access; never who was typed.
            values["stripe_customer_id"] = customer
        if supporter is not None:
            if attempt.supporter_id != supporter.id:
                values["supporter_id"] = supporter.id
            if attempt.lang and attempt.lang != supporter.lang:
                update_supporter(supporter.id, lang=attempt.lang)
                lang = attempt.lang
        if values:
            db.session.execute(
                sa.update(CHECKOUT).where(CHECKOUT.c.id == attempt.id).values(**values)
            )
    if attempt is not None and attempt.frequency == "once":
        # The receipt of a one-time gift offers a monthly one (support/gift_links.py).
        gift = gift_before_fees(attempt.amount, attempt.cover_fees)
        offer = monthly_offer(gift, attempt.currency)
        if offer:
            context = {**context, "monthly": offer, "cover_fees": attempt.cover_fees}
    owe_mail(f"thanks:{session['id']}", "thank_you", supporter, context, lang)
    return attempt
