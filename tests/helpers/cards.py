"""What the card tests share: a monthly gift paid with a given test card through the
Payment Element (so its card is a real PaymentMethod), events delivered to the app,
and the cards and receipts the emulator's objects imply."""

from __future__ import annotations

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.models import Payment, Subscription, Supporter
from tests.stripe_history import apply_due, oldest_first, post_event

SUCCESS = "4242424242424242"
DECLINE = "4000000000000002"
THREE_D_SECURE = "4000002500003155"
DECLINE_AFTER_ATTACH = "4000000000000341"


def elements_gift(emulator, card=SUCCESS, email="rana@example.com", lang="en", amount=500):
    """A monthly gift paid with `card` on an Elements Checkout Session; the subscription id."""
    price = {
        "currency": "usd",
        "unit_amount": amount,
        "product_data": {"name": "Monthly support"},
        "recurring": {"interval": "month"},
    }
    session = stripe_api.client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "ui_mode": "elements",
            "return_url": "http://support.test/en/thanks?session_id={CHECKOUT_SESSION_ID}",
            "line_items": [{"price_data": price, "quantity": 1}],
            "customer_email": email,
            "metadata": {"lang": lang},
            "subscription_data": {"metadata": {"lang": lang}},
        }
    )
    answer = emulator.confirm_checkout(session.id, card=card, email=email, name="Rana")
    assert answer["status"] == "complete"
    return emulator.get(session.id)["subscription"]


def sync(client, emulator) -> None:
    """Deliver every event the emulator made (again: duplicates are stored once), apply them."""
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()


def ledger_subscription(stripe_id: str) -> Subscription:
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscription).where(Subscription.stripe_id == stripe_id))


def supporter_of(stripe_id: str) -> Supporter:
    return db.session.get(Supporter, ledger_subscription(stripe_id).supporter_id)


def card_of(row: Subscription) -> tuple:
    return (row.card_brand, row.card_last4, row.card_exp_month, row.card_exp_year)


def expected_cards(emulator) -> dict:
    """Each subscription's card as the emulator has it (its default, else the customer's)."""
    found = {}
    for sub in emulator.state()["objects"].get("subscription", []):
        method_id = sub["default_payment_method"]
        if not method_id:
            customer = emulator.get(sub["customer"])
            method_id = customer["invoice_settings"]["default_payment_method"]
        method = emulator.get(method_id) if method_id else None
        card = (method or {}).get("card")
        found[sub["id"]] = (
            (card["brand"], card["last4"], card["exp_month"], card["exp_year"])
            if card
            else (None, None, None, None)
        )
    return found


def actual_cards() -> dict:
    db.session.expire_all()
    return {row.stripe_id: card_of(row) for row in db.session.scalars(sa.select(Subscription))}


def expected_receipts(emulator) -> dict:
    """Each paid invoice's receipt link: its charge's `receipt_url`."""
    charges = {c["payment_intent"]: c for c in emulator.state()["objects"].get("charge", [])}
    found = {}
    for invoice in emulator.state()["objects"].get("invoice", []):
        if invoice["status"] == "paid":
            intent = invoice["payments"]["data"][0]["payment"]["payment_intent"]
            found[invoice["id"]] = charges[intent]["receipt_url"]
    return found


def actual_receipts() -> dict:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Payment).where(Payment.status != "failed"))
    return {row.stripe_id: row.receipt_url for row in rows}
