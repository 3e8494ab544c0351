"""/v1 handlers for subscriptions: retrieve, list, update (incl. price switches), cancel."""

from . import subscription_flow
from .api_catalog import RECURRING, price_from_data
from .errors import invalid
from .params import BOOL, EXPAND, INT, LIST, META, STR, require
from .router import ApiRequest, Router

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


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("GET", "/v1/subscriptions", list_subscriptions)
    router.add("GET", "/v1/subscriptions/{id}", retrieve_subscription)
    router.add("POST", "/v1/subscriptions/{id}", update_subscription)
    router.add("DELETE", "/v1/subscriptions/{id}", cancel_subscription)
