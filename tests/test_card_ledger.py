"""The ledger keeps each subscription's card (brand, last 4, expiry) and each payment's
receipt link, from the webhooks, on both databases; a duplicate or late event never
brings back an older card."""

from __future__ import annotations

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.ledger import cards as ledger_cards
from support.models import Payment, Subscription
from support.webhooks import handlers
from tests.helpers.cards import (
    DECLINE_AFTER_ATTACH,
    THREE_D_SECURE,
    actual_cards,
    actual_receipts,
    card_of,
    elements_gift,
    expected_cards,
    expected_receipts,
    ledger_subscription,
    sync,
)
from tests.stripe_history import actual_ledger, expected_ledger, post_event


def new_default_card(emulator, sub_id: str, card: str, three_d_secure=None) -> str:
    """Save `card` for the subscription's customer and make it the subscription's default."""
    sub = emulator.get(sub_id)
    client = stripe_api.client()
    seti = client.v1.setup_intents.create(params={"customer": sub["customer"]})
    emulator.confirm_setup(seti.id, card=card)
    if three_d_secure:
        emulator.confirm_setup(seti.id, three_d_secure=three_d_secure)
    method = emulator.get(seti.id)["payment_method"]
    client.v1.subscriptions.update(sub_id, params={"default_payment_method": method})
    return method


def test_the_card_and_receipts_come_with_the_gift(client, emulator):
    sub_id = elements_gift(emulator)
    sync(client, emulator)
    assert card_of(ledger_subscription(sub_id)) == ("visa", "4242", 12, 2034)
    receipts = actual_receipts()
    assert receipts == expected_receipts(emulator) and len(receipts) == 1
    assert next(iter(receipts.values())).startswith(emulator.url + "/receipts/payment/ch_")
    assert actual_cards() == expected_cards(emulator)
    assert actual_ledger() == expected_ledger(emulator)


def test_a_new_default_card_reaches_the_ledger_and_renewals_keep_receipts(client, emulator):
    sub_id = elements_gift(emulator)
    sync(client, emulator)
    new_default_card(emulator, sub_id, THREE_D_SECURE, three_d_secure="complete")
    sync(client, emulator)
    assert card_of(ledger_subscription(sub_id)) == ("visa", "3155", 12, 2034)
    emulator.renew(sub_id)
    sync(client, emulator)
    assert actual_cards() == expected_cards(emulator)
    assert actual_receipts() == expected_receipts(emulator) and len(actual_receipts()) == 2
    assert actual_ledger() == expected_ledger(emulator)


def test_the_customers_invoice_default_when_the_subscription_names_none(client, emulator):
    sub_id = elements_gift(emulator)
    sync(client, emulator)
    customer = emulator.get(sub_id)["customer"]
    api = stripe_api.client()
    seti = api.v1.setup_intents.create(params={"customer": customer})
    emulator.confirm_setup(seti.id, card=DECLINE_AFTER_ATTACH)
    method = emulator.get(seti.id)["payment_method"]
    api.v1.customers.update(
        customer, params={"invoice_settings": {"default_payment_method": method}}
    )
    api.v1.subscriptions.update(sub_id, params={"default_payment_method": ""})
    sync(client, emulator)
    assert card_of(ledger_subscription(sub_id)) == ("visa", "0341", 12, 2034)
    assert actual_cards() == expected_cards(emulator)


def test_a_late_older_read_and_a_duplicate_never_bring_back_the_old_card(client, emulator):
    sub_id = elements_gift(emulator)
    sync(client, emulator)
    event = next(e for e in emulator.events() if e["type"] == "customer.subscription.created")
    older = handlers.fetch_subscription(event)  # read while the card is still 4242
    new_default_card(emulator, sub_id, DECLINE_AFTER_ATTACH)
    newer = handlers.fetch_subscription(event)
    handlers.apply_subscription(event, newer)
    db.session.commit()
    handlers.apply_subscription(event, older)  # the older read, applied late
    db.session.commit()
    assert card_of(ledger_subscription(sub_id))[1] == "0341"
    for delivered in emulator.events():  # every event again, in any order
        post_event(client, delivered)
    sync(client, emulator)
    assert card_of(ledger_subscription(sub_id))[1] == "0341"
    assert actual_cards() == expected_cards(emulator)


def test_a_hosted_checkout_card_comes_with_the_subscription_read(client, emulator):
    """The card is expanded on the subscription the worker reads anyway: no other read."""
    from tests.stripe_history import give

    _session, sub_id, _charge = give(client, emulator)
    sync(client, emulator)
    row = ledger_subscription(sub_id)
    assert row.status == "active" and card_of(row) == ("visa", "4242", 12, 2034)
    assert actual_cards() == expected_cards(emulator)


def test_only_brand_last4_and_expiry_are_kept():
    method = {
        "id": "pm_1",
        "card": {
            "brand": "mastercard",
            "display_brand": "mastercard",
            "last4": "4444",
            "exp_month": 3,
            "exp_year": 2031,
            "fingerprint": "secret",
            "country": "US",
            "funding": "credit",
        },
        "billing_details": {"name": "Rana", "email": "rana@example.com"},
    }
    assert ledger_cards.card_fields(method) == {
        "card_brand": "mastercard",
        "card_last4": "4444",
        "card_exp_month": 3,
        "card_exp_year": 2031,
    }
    assert ledger_cards.card_fields(None) == ledger_cards.NO_CARD
    assert ledger_cards.card_fields({"type": "sepa_debit"}) == ledger_cards.NO_CARD
    columns = {c.name for c in Subscription.__table__.columns if c.name.startswith("card")}
    assert columns == {"card_brand", "card_last4", "card_exp_month", "card_exp_year"}
    assert "receipt_url" in Payment.__table__.columns and not hasattr(Payment, "card_last4")


def test_a_failed_payment_has_no_receipt(client, emulator):
    sub_id = elements_gift(emulator, card=DECLINE_AFTER_ATTACH)
    sync(client, emulator)
    emulator.fail_renewal(sub_id)
    sync(client, emulator)
    failed = db.session.scalars(sa.select(Payment).where(Payment.status == "failed")).all()
    assert len(failed) == 1 and failed[0].receipt_url is None
    assert ledger_subscription(sub_id).status == "past_due"
    assert actual_ledger() == expected_ledger(emulator)
