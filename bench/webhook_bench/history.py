"""Stripe's side of a run: the history built in the emulator, its deliveries, the
signatures, and the ledger that history must leave behind."""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter

import stripe

from devtools.stripe_emulator import EmulatorClient

SECRET = "whsec_bench"
KEY = "sk_test_bench"
STRIPE_LIMIT = 25  # Stripe's test-mode requests per second for the whole account
STRIPE_LATENCY = 0.15  # seconds; a round trip to Stripe


def build_history(emulator_url: str, gifts: int) -> list[dict]:
    """Gifts and their lives in the emulator; every event it created, oldest first."""
    api = stripe.StripeClient(KEY, base_addresses={"api": emulator_url})
    emulator = EmulatorClient(emulator_url)
    rng = random.Random(7)
    for n in range(gifts):
        frequency = rng.choice(["month", "month", "month", "year", "once"])
        price = {"currency": "usd", "unit_amount": rng.choice([100, 500, 1000, 2500])}
        price["product_data"] = {"name": "Support"}
        meta = {"lang": rng.choice(["en", "ar"]), "source": "https://news.example.org/a"}
        params = {
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": "http://127.0.0.1/thanks",
            "cancel_url": "http://127.0.0.1/cancelled",
            "metadata": meta,
        }
        if frequency == "once":
            # As the app asks: every gift has a Stripe customer (and so a supporter) of its own.
            params.update(
                mode="payment", payment_intent_data={"metadata": meta}, customer_creation="always"
            )
        else:
            price["recurring"] = {"interval": frequency}
            params.update(mode="subscription", subscription_data={"metadata": meta})
        session = api.v1.checkout.sessions.create(params=params)
        paid = emulator.pay(session.id, email=f"reader{n}@example.org")
        sub = paid.get("subscription")
        if sub:
            for step in rng.sample(["renew", "fail", "cancel", "end"], k=2):
                if step == "renew":
                    emulator.renew(sub)
                elif step == "fail":
                    emulator.fail_renewal(sub)
                    emulator.recover(sub)
                elif step == "cancel":
                    emulator.cancel(sub, at_period_end=True)
        elif rng.random() < 0.3:
            intent = api.v1.payment_intents.retrieve(paid["payment_intent"])
            emulator.refund(intent.latest_charge, amount=50)
    events = emulator.events()
    return (
        list(reversed(events))
        if events and events[0]["created"] >= events[-1]["created"]
        else events
    )


def deliveries(history: list[dict], count: int, prefix: str) -> list[bytes]:
    """`count` bodies: the history's events in turn under fresh ids, one in ten twice."""
    bodies, n = [], 0
    while len(bodies) < count:
        event = dict(history[n % len(history)], id=f"{prefix}_{n:08d}")
        body = json.dumps(event).encode()
        bodies.append(body)
        if n % 10 == 0 and len(bodies) < count:
            bodies.append(body)
        n += 1
    return bodies


def whole_history(history: list[dict], prefix: str) -> list[bytes]:
    """Every event of the history once under a fresh id (one in ten twice)."""
    bodies = deliveries(history, len(history) + math.ceil(len(history) / 10), prefix)
    assert len({json.loads(body)["id"] for body in bodies}) == len(history)
    return bodies


def sign(body: bytes) -> str:
    """A Stripe-Signature header for `body`."""
    at = int(time.time())
    digest = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    return f"t={at},v1={digest}"


def expected_ledger(emulator: EmulatorClient) -> dict:
    """What the ledger must hold once every event is applied: Stripe's objects now."""
    objects = emulator.state()["objects"]
    charges = [c for c in objects.get("charge", []) if c["status"] == "succeeded"]
    unpaid = [
        i
        for i in objects.get("invoice", [])
        if i["status"] != "paid" and i.get("attempted") and i.get("amount_due")
    ]
    return {
        "supporters": len(objects.get("customer", [])),
        "subscriptions": dict(
            sorted(Counter(s["status"] for s in objects["subscription"]).items())
        ),
        "payments": len(charges),
        "paid": sum(c["amount"] for c in charges),
        "refunded": sum(c.get("amount_refunded") or 0 for c in charges),
        "failed payments": len(unpaid),
    }
