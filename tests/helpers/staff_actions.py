"""What the staff-action tests share: gifts at Stripe, confirmation and refund forms."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import (
    OutboundEmail,
    Payment,
    Subscription,
    Supporter,
)
from tests.stripe_history import deliver, give, oldest_first

FORM_TOKEN = re.compile(r'name="token"[^>]*value="([^"]*)"')


def deliver_new(client, emulator, seen: set) -> None:
    """Deliver and apply, in order, every event not delivered yet (the webhook path)."""
    for event in oldest_first(emulator):
        if event["id"] not in seen:
            seen.add(event["id"])
            assert deliver(client, event) in ("processed", "ignored"), event["type"]


def confirmation(client, path: str) -> dict[str, str]:
    """The confirmation page's hidden fields, as a browser would send them back."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True)
    return {
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html).group(1),
        "token": FORM_TOKEN.search(html).group(1),
        "confirm": "y",
    }


@pytest.fixture
def gifts(client, emulator):
    """One reader: a $10 one-time gift and a $5 monthly subscription, in the ledger."""
    seen: set = set()
    _, _, once_charge = give(client, emulator, frequency="once", amount="10")
    _, sub_id, _ = give(client, emulator, frequency="month", amount="5")
    deliver_new(client, emulator, seen)
    gift = db.session.scalar(sa.select(Payment).where(Payment.kind == "one_time"))
    sub = db.session.scalar(sa.select(Subscription))
    assert gift.stripe_charge_id == once_charge and sub.stripe_id == sub_id
    # Each Checkout makes a Stripe customer (and so a supporter) of its own; the
    # actions are tried on one supporter holding both kinds of gift.
    reader, giver = db.session.get(Supporter, sub.supporter_id), gift.supporter_id
    for table in (Payment, OutboundEmail):
        db.session.execute(
            sa.update(table).where(table.supporter_id == giver).values(supporter_id=reader.id)
        )
    db.session.commit()
    db.session.expire_all()
    return {
        "supporter": reader.id,
        "payment": gift.id,
        "charge": once_charge,
        "subscription": sub.id,
        "sub_id": sub_id,
        "seen": seen,
        "page": f"/staff/supporters/{reader.id}",
        "refund": f"/staff/supporters/{reader.id}/payments/{gift.id}/refund",
        "cancel": f"/staff/supporters/{reader.id}/subscriptions/{sub.id}/cancel",
    }


def refunded_at_stripe(emulator, charge: str) -> int:
    return emulator.get(charge)["amount_refunded"]


def refund_form(client, gifts, amount: str, **extra) -> dict:
    return {**confirmation(client, gifts["refund"]), "amount": amount, "currency": "usd",
            "reason": "requested_by_customer", **extra}  # fmt: skip
