"""Checkout completion, session expiry, refunds, disputes and customer updates."""

import copy

from . import cards, objects, payments, subscription_flow
from .catalog import format_amount
from .errors import StripeError, card_declined, invalid, missing_param
from .store import Store
from .webhooks import Events

DECLINE_EMAIL = "fail@example.com"


def expire_if_due(store: Store, events: Events, session: dict) -> None:
    """Expire an open session whose ``expires_at`` has passed (emits the event)."""
    if session["status"] == "open" and store.now() >= session["expires_at"]:
        expire(store, events, session)


def expire(store: Store, events: Events, session: dict) -> dict:
    """Expire an open Checkout Session (``checkout.session.expired``)."""
    if session["status"] != "open":
        raise invalid('Only Checkout Sessions with a status in ["open"] can be expired.')
    session["status"] = "expired"
    events.emit("checkout.session.expired", session)
    return session


def pay(store: Store, events: Events, session_id, email=None, name=None, decline=False, card=None):
    """Complete a Checkout Session as if the customer paid by card; returns the session.

    Raises a 402 card error (creating nothing) for ``fail@example.com`` or ``decline``.
    ``card`` is the PaymentMethod paid with (the Stripe.js stand-in makes one); without
    it the payment names an unstored ``pm_`` id, as the hosted page always has.
    """
    session = store.require(session_id, "checkout.session")
    expire_if_due(store, events, session)
    if session["status"] != "open":
        raise StripeError(
            400,
            f"This Checkout Session is {session['status']} and can no longer be paid.",
            code="checkout_session_inactive",
        )
    email = (email or session["customer_email"] or "").strip() or None
    if decline or (email or "").lower() == DECLINE_EMAIL:
        raise card_declined()
    extra = store.extra[session_id]
    customer = store.get(session["customer"], "customer")
    # As Stripe: a subscription always has a customer; a one-time payment gets one only
    # with ``customer_creation=always`` (the default, ``if_required``, makes a guest).
    needs_customer = session["mode"] == "subscription" or session["customer_creation"] == "always"
    created_customer = customer is None and needs_customer
    if created_customer:
        customer = store.add(objects.customer(store, session["livemode"], email, name))
    payer = customer or {"id": None, "email": email, "name": name}
    details = {
        "address": objects.empty_address(),
        "email": email or payer["email"],
        "name": name or payer["name"],
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    sub = inv = pi = ch = None
    if session["mode"] == "subscription":
        sub, inv = subscription_flow.start(
            store, session, customer, extra["line_items"], extra["subscription_data"]
        )
        session.update(subscription=sub["id"], invoice=inv["id"])
    else:
        pi_data = extra["payment_intent_data"]
        pi = payments.payment_intent(
            store,
            session["livemode"],
            session["amount_total"],
            session["currency"],
            payer,
            pi_data.get("metadata"),
            pi_data.get("description"),
        )
        ch = payments.charge(store, pi, payer)
        pi["latest_charge"] = ch["id"]
        store.add(pi)
        store.add(ch)
        session["payment_intent"] = pi["id"]
    session.update(status="complete", payment_status="paid", customer=payer["id"])
    session["customer_details"] = details
    if created_customer:
        events.emit("customer.created", customer)
    if card is not None:
        _paid_with(store, events, card, sub, inv, pi)
    events.emit("checkout.session.completed", session)
    if sub is not None:
        events.emit("customer.subscription.created", sub)
        subscription_flow.emit_invoice_paid(events, inv)
    else:
        events.emit("payment_intent.succeeded", pi)
        events.emit("charge.succeeded", ch)
    return session


def _paid_with(store: Store, events: Events, card: dict, sub, inv, pi) -> None:
    """Name ``card`` on the payment; a subscription keeps it as its default and attaches it."""
    if sub is not None:
        pi = store.get(inv["payments"]["data"][0]["payment"]["payment_intent"], "payment_intent")
        sub["default_payment_method"] = card["id"]
        cards.attach(store, events, card, sub["customer"])
    pi["payment_method"] = card["id"]
    ch = store.get(pi["latest_charge"], "charge")
    ch["payment_method"] = card["id"]
    ch["payment_method_details"]["card"]["last4"] = card["card"]["last4"]


def find_charge(store: Store, charge_id=None, payment_intent_id=None) -> dict:
    """Resolve a charge from a charge id or a PaymentIntent id (its latest charge)."""
    if charge_id:
        return store.require(charge_id, "charge", "charge")
    if payment_intent_id:
        pi = store.require(payment_intent_id, "payment_intent", "payment_intent")
        return store.require(pi["latest_charge"], "charge", "payment_intent")
    raise missing_param("charge")


def refund(store: Store, events: Events, ch: dict, amount=None, reason=None, metadata=None):
    """Refund ``amount`` (default: the rest) of a charge; emits charge.refunded, refund.created."""
    remaining = ch["amount"] - ch["amount_refunded"]
    if ch["disputed"]:
        raise invalid(
            f"Charge {ch['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    if remaining <= 0:
        raise invalid(
            f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise invalid("Refund amount must be positive.", "amount", "parameter_invalid_integer")
    if amount > remaining:
        cur = ch["currency"]
        raise invalid(
            f"Refund amount ({format_amount(amount, cur)}) is greater than unrefunded amount "
            f"on charge ({format_amount(remaining, cur)})",
            "amount",
            "amount_too_large",
        )
    re = store.add(payments.refund(store, ch, amount, reason, metadata))
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    previous["refunds"] = copy.deepcopy(ch["refunds"])
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    ch["refunds"]["data"].insert(0, re)
    events.emit("charge.refunded", ch, previous)
    events.emit("refund.created", re)
    return re


def dispute(store: Store, events: Events, charge_id: str, reason: str = "fraudulent") -> dict:
    """Open a dispute on a charge (``charge.dispute.created``)."""
    ch = store.require(charge_id, "charge", "charge")
    if ch["disputed"]:
        raise invalid(f"Charge {charge_id} is already disputed.", "charge")
    du = store.add(payments.dispute(store, ch, reason))
    ch["disputed"] = True
    events.emit("charge.dispute.created", du)
    return du


def update_customer(store: Store, events: Events, customer_id: str, fields: dict) -> dict:
    """Change customer fields; emits ``customer.updated`` when something changed."""
    customer = store.require(customer_id, "customer")
    if customer.get("deleted"):
        raise invalid(f"No such customer: '{customer_id}'", "id", "resource_missing")
    previous = {}
    for key, value in fields.items():
        if key == "metadata":
            merged = {} if value == "" else {**customer["metadata"], **value}
            value = {k: v for k, v in merged.items() if v != ""}
        elif value == "":
            value = None
        if customer.get(key) != value:
            previous[key] = copy.deepcopy(customer.get(key))
            customer[key] = value
    if previous:
        events.emit("customer.updated", customer, previous)
    return customer
