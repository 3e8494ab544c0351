"""Helpers for webhook and ledger tests: gifts in the emulator, signed deliveries,
and the ledger that the emulator's final state implies."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import sqlalchemy as sa
import stripe

from support.extensions import db
from support.models import Payment, StripeEvent, Subscription, Supporter
from support.webhooks import inbox
from support.webhooks.applying import drain
from tests.conftest import WEBHOOK_SECRET, form_tokens


def start_checkout(client, frequency="month", amount="5", lang="en", **fields) -> str:
    """Submit the appeal form; the Checkout Session id the app created."""
    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    data = {"amount": amount, "frequency": frequency, "currency": "usd", **tokens, **fields}
    response = client.post(f"/{lang}/checkout", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return re.search(r"cs_test_\w+", response.headers["Location"]).group(0)


def give(
    client,
    emulator,
    frequency="month",
    amount="5",
    email="Reader@Example.org",
    name="Reader",
    **kw,
):
    """A paid gift, by a reader typing `email` and `name` at Checkout:
    (session, subscription id or None, charge id)."""
    session = emulator.pay(start_checkout(client, frequency, amount, **kw), email=email, name=name)
    charge = None
    if session["subscription"]:
        invoice = emulator.get(emulator.get(session["subscription"])["latest_invoice"])
        intent = invoice["payments"]["data"][0]["payment"]["payment_intent"]
        charge = emulator.get(intent)["latest_charge"]
    else:
        charge = emulator.get(session["payment_intent"])["latest_charge"]
    return session, session["subscription"], charge


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header, made the way Stripe's own library makes one."""
    at = int(time.time()) if at is None else at
    digest = stripe.WebhookSignature._compute_signature(f"{at}.{payload.decode()}", secret)
    return f"t={at},v1={digest}"


def post_event(client, event: dict, **signature_args):
    """Deliver one event to the app, signed (it is stored, not applied)."""
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": signature(payload, **signature_args)}
    return client.post("/stripe/webhook", data=payload, headers=headers)


def apply_due() -> dict[str, int]:
    """What the worker does with what is due now: apply events, send mail."""
    return drain()


def due_now() -> None:
    """Make every failed event due at once (as if its wait were over)."""
    db.session.execute(sa.update(StripeEvent).values(next_attempt_at=None))
    db.session.commit()


def deliver(client, event: dict) -> str:
    """Deliver one event (it must be stored) and apply what is due; the event's status."""
    response = post_event(client, event)
    assert response.status_code == 200, (event["type"], response.get_json())
    apply_due()
    return inbox.status_of(event["id"])


def oldest_first(emulator) -> list[dict]:
    """Every event the emulator created, in creation order."""
    return list(reversed(emulator.events()))


def _time(value):
    return datetime.fromtimestamp(value, UTC) if value else None


def expected_ledger(emulator) -> dict:
    """Subscriptions, payments and supporters as the emulator's objects imply them."""
    objects = emulator.state()["objects"]
    charges = {c["payment_intent"]: c for c in objects.get("charge", [])}
    subs = {}
    for sub in objects.get("subscription", []):
        item = sub["items"]["data"][0]
        subs[sub["id"]] = (
            sub["status"],
            item["price"]["unit_amount"] * item["quantity"],
            item["price"]["recurring"]["interval"],
            sub["cancel_at_period_end"],
            _time(item["current_period_end"]),
            _time(sub["canceled_at"]),
        )
    pays = {}
    for invoice in objects.get("invoice", []):
        if invoice["status"] == "paid":
            intent = invoice["payments"]["data"][0]["payment"]["payment_intent"]
            charge = charges[intent]
            pays[invoice["id"]] = _payment(invoice["amount_paid"], charge)
        elif invoice["attempted"]:
            pays[invoice["id"]] = ("failed", invoice["amount_due"], 0, False)
    for session in objects.get("checkout.session", []):
        if session["mode"] == "payment" and session["status"] == "complete":
            charge = charges[session["payment_intent"]]
            pays[session["payment_intent"]] = _payment(session["amount_total"], charge)
    # One supporter per Stripe customer, even when two customers share an address
    # (an address typed at Checkout proves nothing, so it never merges them).
    customers = {(c["id"], (c["email"] or "").lower()) for c in objects.get("customer", [])}
    return {"subscriptions": subs, "payments": pays, "supporters": customers}


def _payment(amount: int, charge: dict) -> tuple:
    refunded = charge["amount_refunded"]
    status = "refunded" if refunded >= amount else "partially_refunded" if refunded else "paid"
    return (status, amount, refunded, charge["disputed"])


def actual_ledger() -> dict:
    """The same shape, read from our tables."""
    db.session.expire_all()
    subs = {
        s.stripe_id: (
            s.status,
            s.amount,
            s.interval,
            s.cancel_at_period_end,
            s.current_period_end,
            s.canceled_at,
        )
        for s in db.session.scalars(sa.select(Subscription))
    }
    pays = {
        p.stripe_id: (p.status, p.amount, p.refunded_amount, p.disputed)
        for p in db.session.scalars(sa.select(Payment))
    }
    supporters = [(s.stripe_customer_id, s.email) for s in db.session.scalars(sa.select(Supporter))]
    assert len(supporters) == len({customer for customer, _ in supporters})
    return {"subscriptions": subs, "payments": pays, "supporters": set(supporters)}
