"""Paying an open invoice on demand (``POST /v1/invoices/{id}/pay``).

The PaymentMethod charged is the one named, else the subscription's default, else the
customer's ``invoice_settings.default_payment_method``. A saved card that declines
(``4000000000000341``) counts a failed attempt and emits ``invoice.payment_failed``.
"""

from . import cards, subscription_flow
from .errors import card_declined, invalid
from .store import Store
from .webhooks import Events


def _subscription(store: Store, inv: dict):
    details = (inv["parent"] or {}).get("subscription_details") or {}
    return store.get(details.get("subscription"), "subscription")


def pay(store: Store, events: Events, invoice_id: str, pm_id=None) -> dict:
    """Charge an open invoice; the subscription becomes active again when it was past due."""
    inv = store.require(invoice_id, "invoice")
    if inv["status"] == "paid":
        raise invalid("Invoice is already paid", code="invoice_already_paid")
    if inv["status"] != "open":
        raise invalid(f"You cannot pay an invoice with status {inv['status']}.")
    sub = _subscription(store, inv)
    customer = store.require(inv["customer"], "customer", "customer")
    if pm_id is not None:
        pm = store.require(pm_id, "payment_method", "payment_method")
        if pm["customer"] != customer["id"]:
            cards.attach(store, events, pm, customer["id"])
    else:
        pm_id = (sub or {}).get("default_payment_method")
        pm_id = pm_id or customer["invoice_settings"]["default_payment_method"]
    if cards.number_of(store, pm_id) in (cards.DECLINE, cards.DECLINE_AFTER_ATTACH):
        inv.update(attempted=True, attempt_count=inv["attempt_count"] + 1)
        events.emit("invoice.payment_failed", inv)
        error = card_declined()
        error.keep_state = True
        raise error
    pi, ch = subscription_flow.collect(store, inv, customer, "Subscription update")
    if pm_id:
        pi["payment_method"] = ch["payment_method"] = pm_id
    events.emit("invoice.paid", inv)
    events.emit("invoice.payment_succeeded", inv)
    if sub is not None and sub["status"] != "active":
        previous = {"status": sub["status"]}
        sub["status"] = "active"
        events.emit("customer.subscription.updated", sub, previous)
    return inv
