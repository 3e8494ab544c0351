"""/v1 handlers for invoices, payments, refunds, events and webhook endpoints."""

import re

from . import objects, payment_flow
from .api_catalog import retrieve
from .errors import invalid
from .params import BOOL, EXPAND, INT, LIST, META, STR, require
from .router import ApiRequest, Router
from .store import random_token

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
