"""Subscription lifecycle: start, renew, failed renewal and its retries, recovery, the end
for non-payment, cancellation, update."""

import copy

from . import billing, payments
from .catalog import period_seconds
from .errors import invalid
from .store import Store
from .webhooks import Events


def _items(sub: dict) -> list[dict]:
    return sub["items"]["data"]


def _customer(store: Store, sub: dict) -> dict:
    return store.require(sub["customer"], "customer", "customer")


def collect(store: Store, inv: dict, customer: dict, description: str):
    """Pay ``inv`` with a new PaymentIntent and charge; returns (payment_intent, charge)."""
    pi = payments.payment_intent(
        store, inv["livemode"], inv["amount_due"], inv["currency"], customer, {}, description
    )
    ch = payments.charge(store, pi, customer)
    pi["latest_charge"] = ch["id"]
    store.add(pi)
    store.add(ch)
    now = store.now()
    inv["payments"]["data"] = [billing.invoice_payment(store, inv, pi), *inv["payments"]["data"]]
    inv.update(amount_paid=inv["amount_due"], amount_remaining=0, status="paid")
    inv.update(attempted=True, attempt_count=inv["attempt_count"] + 1, next_payment_attempt=None)
    inv["status_transitions"]["paid_at"] = now
    return pi, ch


def emit_invoice_paid(events: Events, inv: dict) -> None:
    """Emit created/finalized/paid/payment_succeeded with each stage's snapshot."""
    draft = copy.deepcopy(inv)
    draft.update(status="draft", amount_paid=0, amount_remaining=inv["amount_due"])
    draft["status_transitions"].update(finalized_at=None, paid_at=None)
    draft["payments"]["data"] = []
    opened = copy.deepcopy(draft)
    opened["status"] = "open"
    opened["status_transitions"]["finalized_at"] = inv["status_transitions"]["finalized_at"]
    events.emit("invoice.created", draft)
    events.emit("invoice.finalized", opened)
    events.emit("invoice.paid", inv)
    events.emit("invoice.payment_succeeded", inv)


def start(store: Store, session: dict, customer: dict, line_items, sub_data: dict):
    """Create an active subscription with a paid first invoice; returns (sub, invoice)."""
    sub = billing.subscription(
        store,
        session["livemode"],
        customer["id"],
        session["currency"],
        sub_data.get("metadata"),
        sub_data.get("description"),
    )
    now = store.now()
    for item in line_items:
        price = item["price"]
        end = now + period_seconds(price["recurring"])
        si = billing.subscription_item(store, sub["id"], price, item["quantity"], now, end)
        _items(sub).append(si)
    inv = billing.invoice(store, sub, customer, "subscription_create", (now, now))
    collect(store, inv, customer, "Subscription creation")
    sub["latest_invoice"] = inv["id"]
    store.add(sub)
    store.add(inv)
    return sub, inv


def _advance_period(store: Store, sub: dict) -> dict:
    """Move every item one period forward (and the clock to the old period end)."""
    previous = {"items": copy.deepcopy(sub["items"]), "latest_invoice": sub["latest_invoice"]}
    period_end = min(item["current_period_end"] for item in _items(sub))
    if store.now() < period_end:
        store.offset += period_end - store.now()
    for item in _items(sub):
        start = item["current_period_end"]
        item["current_period_start"] = start
        item["current_period_end"] = start + period_seconds(item["price"]["recurring"])
    return previous


def _ended(previous: dict) -> tuple[int, int]:
    """(start, end) of the period that ``_advance_period`` just closed."""
    item = previous["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def _require_live(sub: dict) -> None:
    if sub["status"] == "canceled":
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )


def _end(store: Store, events: Events, sub: dict, at: int) -> dict:
    sub.update(status="canceled", ended_at=at, canceled_at=sub["canceled_at"] or at)
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    events.emit("customer.subscription.deleted", sub)
    return sub


def renew(store: Store, events: Events, sub_id: str) -> dict:
    """Bill the next period: paid ``subscription_cycle`` invoice, items move forward.

    A subscription set to cancel at period end is ended instead.
    """
    sub = store.require(sub_id, "subscription")
    _require_live(sub)
    if sub["cancel_at_period_end"]:
        end = min(item["current_period_end"] for item in _items(sub))
        if store.now() < end:
            store.offset += end - store.now()
        return _end(store, events, sub, end)
    customer = _customer(store, sub)
    previous = _advance_period(store, sub)
    inv = store.add(billing.invoice(store, sub, customer, "subscription_cycle", _ended(previous)))
    collect(store, inv, customer, "Subscription update")
    sub["latest_invoice"] = inv["id"]
    if sub["status"] != "active":
        previous["status"] = sub["status"]
        sub["status"] = "active"
    emit_invoice_paid(events, inv)
    events.emit("customer.subscription.updated", sub, previous)
    return sub


def fail_renewal(store: Store, events: Events, sub_id: str) -> dict:
    """Bill the next period but fail the payment: open invoice, subscription past_due."""
    sub = store.require(sub_id, "subscription")
    _require_live(sub)
    customer = _customer(store, sub)
    previous = _advance_period(store, sub)
    inv = store.add(billing.invoice(store, sub, customer, "subscription_cycle", _ended(previous)))
    inv.update(attempted=True, attempt_count=1, next_payment_attempt=store.now() + 3 * 86400)
    sub["latest_invoice"] = inv["id"]
    previous["status"] = sub["status"]
    sub["status"] = "past_due"
    draft = copy.deepcopy(inv)
    draft.update(status="draft", attempted=False, attempt_count=0, next_payment_attempt=None)
    draft["status_transitions"]["finalized_at"] = None
    events.emit("invoice.created", draft)
    events.emit("invoice.finalized", inv)
    events.emit("invoice.payment_failed", inv)
    events.emit("customer.subscription.updated", sub, previous)
    return sub


# Smart Retries' next tries after a failed renewal, in days from the failure before.
RETRY_DAYS = (3, 5, 7)


def _failing_invoice(store: Store, sub: dict) -> dict:
    """The open invoice a past_due (or unpaid) subscription is failing to collect."""
    inv = store.get(sub["latest_invoice"], "invoice")
    if sub["status"] not in ("past_due", "unpaid") or inv is None or inv["status"] != "open":
        raise invalid(f"Subscription {sub['id']} has no failed invoice to retry.", "subscription")
    return inv


def retry_failed(
    store: Store, events: Events, sub_id: str, final: bool = False, mark_unpaid: bool = False
) -> dict:
    """One more of Stripe's retries of a failed renewal, failing again.

    The clock moves to the scheduled attempt; the invoice's ``attempt_count`` grows and
    ``next_payment_attempt`` names the next retry, or is null when this was the last
    (``final``). As under "mark the subscription unpaid" after the last retry,
    ``mark_unpaid`` turns the subscription ``unpaid``; otherwise it stays ``past_due``.
    Emits ``invoice.updated``, ``invoice.payment_failed`` (and
    ``customer.subscription.updated`` when it turns unpaid).
    """
    sub = store.require(sub_id, "subscription")
    inv = _failing_invoice(store, sub)
    if inv["next_payment_attempt"] is None:
        raise invalid(f"Invoice {inv['id']} has no retry left.", "subscription")
    if store.now() < inv["next_payment_attempt"]:
        store.offset += inv["next_payment_attempt"] - store.now()
    previous = {
        "attempt_count": inv["attempt_count"],
        "next_payment_attempt": inv["next_payment_attempt"],
    }
    days = RETRY_DAYS[min(inv["attempt_count"], len(RETRY_DAYS)) - 1]
    inv.update(
        attempt_count=inv["attempt_count"] + 1,
        next_payment_attempt=None if final else store.now() + days * 86400,
    )
    events.emit("invoice.updated", inv, previous)
    events.emit("invoice.payment_failed", inv)
    if final and mark_unpaid and sub["status"] != "unpaid":
        before = {"status": sub["status"]}
        sub["status"] = "unpaid"
        events.emit("customer.subscription.updated", sub, before)
    return sub


def end_unpaid(store: Store, events: Events, sub_id: str, void_invoice: bool = False) -> dict:
    """End a subscription whose renewal could not be collected, as Stripe does after the
    last retry under "cancel the subscription": ``canceled`` with
    ``cancellation_details.reason`` ``payment_failed``; no retry is left on its invoice,
    which stays ``open`` (Stripe's default) or is voided (``invoice.voided``).
    Emits ``customer.subscription.deleted`` last.
    """
    sub = store.require(sub_id, "subscription")
    inv = _failing_invoice(store, sub)
    now = store.now()
    if inv["next_payment_attempt"] is not None:
        previous = {"next_payment_attempt": inv["next_payment_attempt"]}
        inv["next_payment_attempt"] = None
        events.emit("invoice.updated", inv, previous)
    if void_invoice:
        inv.update(status="void", amount_remaining=0)
        inv["status_transitions"]["voided_at"] = now
        events.emit("invoice.voided", inv)
    sub.update(status="canceled", ended_at=now, canceled_at=now)
    sub["cancellation_details"]["reason"] = "payment_failed"
    events.emit("customer.subscription.deleted", sub)
    return sub


def recover(store: Store, events: Events, sub_id: str) -> dict:
    """Pay the subscription's open invoice; the subscription becomes active again."""
    sub = store.require(sub_id, "subscription")
    inv = store.get(sub["latest_invoice"], "invoice")
    if inv is None or inv["status"] != "open":
        raise invalid(f"Subscription {sub_id} has no open invoice to pay.", "subscription")
    collect(store, inv, _customer(store, sub), "Subscription update")
    events.emit("invoice.paid", inv)
    events.emit("invoice.payment_succeeded", inv)
    # Paying a canceled subscription's invoice settles the debt; the gift stays ended.
    if sub["status"] in ("past_due", "unpaid"):
        previous = {"status": sub["status"]}
        sub["status"] = "active"
        events.emit("customer.subscription.updated", sub, previous)
    return sub


def cancel(store: Store, events: Events, sub_id: str, at_period_end=False, details=None):
    """Cancel now (``customer.subscription.deleted``) or at period end (``...updated``)."""
    sub = store.require(sub_id, "subscription")
    if sub["status"] == "canceled":
        raise invalid(f"This subscription has already been canceled: {sub_id}")
    if details:
        sub["cancellation_details"].update(details)
    if not at_period_end:
        return _end(store, events, sub, store.now())
    if sub["cancel_at_period_end"]:
        return sub
    previous = {
        "cancel_at": sub["cancel_at"],
        "cancel_at_period_end": False,
        "canceled_at": sub["canceled_at"],
        "cancellation_details": copy.deepcopy(sub["cancellation_details"]),
    }
    sub.update(
        cancel_at_period_end=True,
        cancel_at=min(item["current_period_end"] for item in _items(sub)),
        canceled_at=store.now(),
    )
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    events.emit("customer.subscription.updated", sub, previous)
    return sub


def _change_prices(sub: dict, new_prices: dict, previous: dict) -> None:
    """Switch items to new prices (``{item_id: price}``) without proration.

    The current period and its dates stay; the next invoice bills the new price.
    """
    old = copy.deepcopy(sub["items"])
    changed = False
    for item in _items(sub):
        price = new_prices.get(item["id"])
        if price is not None and price["id"] != item["price"]["id"]:
            item.update(price=price, plan=billing.plan(price))
            changed = True
    if changed:
        previous.setdefault("items", old)


def update(store: Store, events: Events, sub_id: str, params: dict) -> dict:
    """Apply API update params (metadata, cancel_at_period_end, pause_collection, ...).

    ``new_prices`` (``{item_id: price}``) is resolved from ``items`` by the API handler.
    """
    sub = store.require(sub_id, "subscription")
    _require_live(sub)
    previous: dict = {}

    def change(key, value):
        if sub[key] != value:
            previous.setdefault(key, copy.deepcopy(sub[key]))
            sub[key] = value

    if "metadata" in params:
        meta = {} if params["metadata"] == "" else {**sub["metadata"], **params["metadata"]}
        change("metadata", {k: v for k, v in meta.items() if v != ""})
    if "cancel_at_period_end" in params:
        flag = params["cancel_at_period_end"]
        period_end = min(item["current_period_end"] for item in _items(sub))
        change("cancel_at_period_end", flag)
        change("cancel_at", period_end if flag else None)
        change("canceled_at", (sub["canceled_at"] or store.now()) if flag else None)
        details = dict(
            sub["cancellation_details"], reason="cancellation_requested" if flag else None
        )
        change("cancellation_details", details)
    if "pause_collection" in params:
        pause = params["pause_collection"] or None
        if pause is not None:
            pause = {"behavior": pause.get("behavior"), "resumes_at": pause.get("resumes_at")}
        change("pause_collection", pause)
    if "description" in params:
        change("description", params["description"] or None)
    if "default_payment_method" in params:
        change("default_payment_method", params["default_payment_method"] or None)
    if params.get("new_prices"):
        _change_prices(sub, params["new_prices"], previous)
    if "cancellation_details" in params and params["cancellation_details"] != "":
        change(
            "cancellation_details",
            {**sub["cancellation_details"], **params["cancellation_details"]},
        )
    if previous:
        events.emit("customer.subscription.updated", sub, previous)
    return sub


def upcoming(store: Store, events: Events, sub_id: str, days: int = 7) -> dict:
    """``invoice.upcoming``, ``days`` before the renewal (the clock moves there if earlier).

    As at Stripe: the invoice is a preview, so it has no ``id`` and no ``number``
    and is not stored; its lines bill the next period, its own period is the one
    ending, and ``next_payment_attempt`` is the renewal. A subscription set to
    cancel at period end has no renewal and gets none. Returns the invoice.
    """
    sub = store.require(sub_id, "subscription")
    _require_live(sub)
    if sub["cancel_at_period_end"]:
        raise invalid(
            f"Subscription {sub_id} is set to cancel at period end: it has no upcoming invoice.",
            "subscription",
        )
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 45:
        raise invalid("days must be a whole number from 1 to 45.", "days")
    renews_at = min(item["current_period_end"] for item in _items(sub))
    if store.now() < renews_at - days * 86400:
        store.offset += renews_at - days * 86400 - store.now()
    ending = (min(item["current_period_start"] for item in _items(sub)), renews_at)
    following = copy.deepcopy(sub)
    for item in _items(following):
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] += period_seconds(item["price"]["recurring"])
    number = store.invoice_number
    inv = billing.invoice(store, following, _customer(store, sub), "upcoming", ending)
    store.invoice_number = number  # a preview takes no number
    del inv["id"]
    for line in inv["lines"]["data"]:
        line["invoice"] = None
    inv["lines"]["url"] = "/v1/invoices/upcoming/lines"
    inv["payments"]["url"] = "/v1/invoice_payments"
    inv.update(
        number=None,
        status="draft",
        effective_at=None,
        next_payment_attempt=renews_at,
        webhooks_delivered_at=None,
    )
    inv["status_transitions"]["finalized_at"] = None
    events.emit("invoice.upcoming", inv)
    return inv
