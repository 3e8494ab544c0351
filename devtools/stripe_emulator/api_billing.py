"""/v1 handlers for subscriptions, invoices, payments, refunds, events, webhook endpoints."""

import re

from . import objects, payment_flow, subscription_flow
from .api_catalog import RECURRING, price_from_data, retrieve
from .errors import invalid
from .params import BOOL, EXPAND, INT, LIST, META, STR, require
from .router import ApiRequest, Router
from .store import random_token

SUB_STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)
FEEDBACK = (
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)
ITEM_PRICE_DATA = {
    "currency": STR,
    "unit_amount": INT,
    "product": STR,
    "recurring": RECURRING,
    "tax_behavior": ("exclusive", "inclusive", "unspecified"),
}
SUB_UPDATE = {
    "cancel_at_period_end": BOOL,
    "metadata": META,
    "pause_collection": {
        "behavior": ("keep_as_draft", "mark_uncollectible", "void"),
        "resumes_at": INT,
    },
    "description": STR,
    "cancellation_details": {"comment": STR, "feedback": FEEDBACK},
    "proration_behavior": ("always_invoice", "create_prorations", "none"),
    "default_payment_method": STR,
    "items": [{"id": STR, "price": STR, "price_data": ITEM_PRICE_DATA, "quantity": INT}],
    **EXPAND,
}
SUB_CANCEL = {
    "cancellation_details": {"comment": STR, "feedback": FEEDBACK},
    "invoice_now": BOOL,
    "prorate": BOOL,
    **EXPAND,
}
REFUND = {
    "charge": STR,
    "payment_intent": STR,
    "amount": INT,
    "reason": ("duplicate", "fraudulent", "requested_by_customer"),
    "metadata": META,
    **EXPAND,
}
ENDPOINT = {
    "url": STR,
    "enabled_events": [STR],
    "api_version": STR,
    "description": STR,
    "metadata": META,
    "connect": BOOL,
    **EXPAND,
}
EVENT_TYPE = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)+)$")


def retrieve_subscription(req: ApiRequest, id: str) -> dict:
    """GET /v1/subscriptions/{id}"""
    p = req.check(EXPAND)
    return req.respond(req.store.require(id, "subscription"), p)


def list_subscriptions(req: ApiRequest) -> dict:
    """GET /v1/subscriptions: canceled ones only with ``status=canceled|ended|all``."""
    p = req.check({**LIST, "customer": STR, "status": SUB_STATUSES, "price": STR})
    items = req.store.all("subscription")
    status = p.get("status")
    if status in ("canceled", "ended"):
        items = [s for s in items if s["status"] == "canceled"]
    elif status and status != "all":
        items = [s for s in items if s["status"] == status]
    elif status is None:
        items = [s for s in items if s["status"] not in ("canceled", "incomplete_expired")]
    if "customer" in p:
        items = [s for s in items if s["customer"] == p["customer"]]
    if "price" in p:
        items = [s for s in items if any(i["price"]["id"] == p["price"] for i in _items(s))]
    return req.list(items, p)


def _items(sub: dict) -> list:
    return sub["items"]["data"]


def _new_prices(req: ApiRequest, sub: dict, items: list) -> dict:
    """``items[i][id]`` with ``price`` or ``price_data`` → ``{item_id: price}``.

    Only switching an existing item's price is imitated: no added or removed items.
    """
    found = {}
    for i, item in enumerate(items):
        prefix = f"items[{i}]"
        own = [si for si in _items(sub) if si["id"] == item.get("id")]
        if not own:
            require(item, "id", prefix=prefix)
            raise invalid(
                f"Subscription item {item['id']} is not part of subscription {sub['id']}; "
                "the emulator only switches the price of an existing item.",
                f"{prefix}[id]",
            )
        if item.get("price"):
            price = req.store.require(item["price"], "price", f"{prefix}[price]")
        elif item.get("price_data"):
            require(item["price_data"], "recurring", prefix=f"{prefix}[price_data]")
            price = price_from_data(req, item["price_data"], f"{prefix}[price_data]", False)
        else:
            raise invalid(f"You must specify either `price` or `price_data` in {prefix}.", prefix)
        if not price["recurring"]:
            raise invalid("The price specified is not recurring.", f"{prefix}[price]")
        if price["currency"] != sub["currency"]:
            raise invalid(
                "The price specified has a different currency from the subscription.",
                f"{prefix}[price]",
            )
        if item.get("quantity", 1) != own[0]["quantity"]:
            raise invalid("The emulator does not change quantities.", f"{prefix}[quantity]")
        found[own[0]["id"]] = price
    return found


def update_subscription(req: ApiRequest, id: str) -> dict:
    """POST /v1/subscriptions/{id}"""
    p = req.check(SUB_UPDATE)
    sub = req.store.require(id, "subscription")
    if p.get("default_payment_method"):
        pm = req.store.require(p["default_payment_method"], "payment_method")
        if pm["customer"] != sub["customer"]:
            raise invalid(
                f"The customer does not have a payment method with the ID {pm['id']}. The "
                "payment method must be attached to the customer.",
                "default_payment_method",
            )
    if p.get("items"):
        p["new_prices"] = _new_prices(req, sub, p["items"])
    sub = subscription_flow.update(req.store, req.events, id, p)
    return req.respond(sub, p)


def cancel_subscription(req: ApiRequest, id: str) -> dict:
    """DELETE /v1/subscriptions/{id}: cancels immediately."""
    p = req.check(SUB_CANCEL)
    details = p.get("cancellation_details") or None
    sub = subscription_flow.cancel(req.store, req.events, id, False, details)
    return req.respond(sub, p)


def list_invoices(req: ApiRequest) -> dict:
    """GET /v1/invoices (filters: customer, subscription, status)."""
    statuses = ("draft", "open", "paid", "uncollectible", "void")
    p = req.check({**LIST, "customer": STR, "subscription": STR, "status": statuses})
    items = req.store.all("invoice")
    if "customer" in p:
        items = [i for i in items if i["customer"] == p["customer"]]
    if "subscription" in p:
        items = [
            i
            for i in items
            if (i["parent"] or {}).get("subscription_details", {}).get("subscription")
            == p["subscription"]
        ]
    if "status" in p:
        items = [i for i in items if i["status"] == p["status"]]
    return req.list(items, p)


def _list_matching(req: ApiRequest, kind: str, filters: tuple[str, ...]) -> dict:
    """A list of `kind` objects, filtered on equality of any of `filters` given."""
    p = req.check({**LIST, **dict.fromkeys(filters, STR)})
    items = req.store.all(kind)
    for key in filters:
        if key in p:
            items = [obj for obj in items if obj[key] == p[key]]
    return req.list(items, p)


def list_charges(req: ApiRequest) -> dict:
    """GET /v1/charges (filters: customer, payment_intent)."""
    return _list_matching(req, "charge", ("customer", "payment_intent"))


def create_refund(req: ApiRequest) -> dict:
    """POST /v1/refunds (``charge`` or ``payment_intent``; optional partial ``amount``)."""
    p = req.check(REFUND)
    if not p.get("charge") and not p.get("payment_intent"):
        raise invalid(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    ch = payment_flow.find_charge(req.store, p.get("charge"), p.get("payment_intent"))
    refund = payment_flow.refund(
        req.store, req.events, ch, p.get("amount"), p.get("reason"), p.get("metadata")
    )
    return req.respond(refund, p)


def list_refunds(req: ApiRequest) -> dict:
    """GET /v1/refunds (filters: charge, payment_intent)."""
    return _list_matching(req, "refund", ("charge", "payment_intent"))


def list_events(req: ApiRequest) -> dict:
    """GET /v1/events (``type`` may end in ``.*``; ``types[]`` for several)."""
    p = req.check({**LIST, "type": STR, "types": [STR], "delivery_success": BOOL})
    items = req.store.all("event")
    if "type" in p:
        wanted = p["type"]
        if wanted.endswith(".*"):
            items = [e for e in items if e["type"].startswith(wanted[:-1])]
        else:
            items = [e for e in items if e["type"] == wanted]
    if "types" in p:
        items = [e for e in items if e["type"] in p["types"]]
    return req.list(items, p)


def create_endpoint(req: ApiRequest) -> dict:
    """POST /v1/webhook_endpoints: the response alone carries the signing ``secret``."""
    p = req.check(ENDPOINT)
    require(p, "url", "enabled_events")
    for i, name in enumerate(p["enabled_events"]):
        if not EVENT_TYPE.match(name):
            raise invalid(f"Invalid event type: {name}", f"enabled_events[{i}]")
    secret = "whsec_" + random_token(32)
    obj = req.store.add(objects.webhook_endpoint(req.store, req.livemode, p), {"secret": secret})
    return {**req.respond(obj, p), "secret": secret}


def update_endpoint(req: ApiRequest, id: str) -> dict:
    """POST /v1/webhook_endpoints/{id} (url, enabled_events, description, disabled, ...)."""
    schema = {k: v for k, v in ENDPOINT.items() if k not in ("api_version", "connect")}
    p = req.check({**schema, "disabled": BOOL})
    obj = req.store.require(id, "webhook_endpoint")
    for key in ("url", "enabled_events", "description", "metadata"):
        if key in p:
            obj[key] = p[key]
    if "disabled" in p:
        obj["status"] = "disabled" if p["disabled"] else "enabled"
    return req.respond(obj, p)


def list_endpoints(req: ApiRequest) -> dict:
    """GET /v1/webhook_endpoints"""
    p = req.check(LIST)
    return req.list(req.store.all("webhook_endpoint"), p)


def delete_endpoint(req: ApiRequest, id: str) -> dict:
    """DELETE /v1/webhook_endpoints/{id}"""
    req.check({})
    req.store.require(id, "webhook_endpoint")
    del req.store.objects[id]
    return {"id": id, "object": "webhook_endpoint", "deleted": True}


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("GET", "/v1/subscriptions", list_subscriptions)
    router.add("GET", "/v1/subscriptions/{id}", retrieve_subscription)
    router.add("POST", "/v1/subscriptions/{id}", update_subscription)
    router.add("DELETE", "/v1/subscriptions/{id}", cancel_subscription)
    router.add("GET", "/v1/invoices", list_invoices)
    router.add("GET", "/v1/invoices/{id}", retrieve("invoice"))
    router.add("GET", "/v1/payment_intents/{id}", retrieve("payment_intent"))
    router.add("GET", "/v1/charges", list_charges)
    router.add("GET", "/v1/charges/{id}", retrieve("charge"))
    router.add("POST", "/v1/refunds", create_refund)
    router.add("GET", "/v1/refunds", list_refunds)
    router.add("GET", "/v1/refunds/{id}", retrieve("refund"))
    router.add("GET", "/v1/disputes/{id}", retrieve("dispute"))
    router.add("GET", "/v1/events", list_events)
    router.add("GET", "/v1/events/{id}", retrieve("event"))
    router.add("POST", "/v1/webhook_endpoints", create_endpoint)
    router.add("GET", "/v1/webhook_endpoints", list_endpoints)
    router.add("GET", "/v1/webhook_endpoints/{id}", retrieve("webhook_endpoint"))
    router.add("POST", "/v1/webhook_endpoints/{id}", update_endpoint)
    router.add("DELETE", "/v1/webhook_endpoints/{id}", delete_endpoint)
