"""/v1 handlers for Checkout Sessions and billing portal sessions."""

from . import objects, payment_flow
from .api_catalog import PRICE_DATA, customer_or_404, price_from_data
from .catalog import LOCALES, MIN_CHARGE, format_amount
from .errors import invalid
from .params import BOOL, EXPAND, INT, LIST, META, STR, require
from .router import ApiRequest, Router
from .store import Store

LINE_ITEM = {"price": STR, "price_data": PRICE_DATA, "quantity": INT}
SESSION = {
    "mode": ("payment", "setup", "subscription"),
    "line_items": [LINE_ITEM],
    "success_url": STR,
    "cancel_url": STR,
    "return_url": STR,
    "locale": tuple(LOCALES),
    "customer": STR,
    "customer_email": STR,
    "customer_creation": ("always", "if_required"),
    "submit_type": ("auto", "book", "donate", "pay", "subscribe"),
    "metadata": META,
    "subscription_data": {"metadata": META, "description": STR},
    "payment_intent_data": {"metadata": META, "description": STR, "receipt_email": STR},
    "client_reference_id": STR,
    "billing_address_collection": ("auto", "required"),
    "payment_method_types": [STR],
    "allow_promotion_codes": BOOL,
    "automatic_tax": {"enabled": BOOL},
    "invoice_creation": {"enabled": BOOL},
    "ui_mode": ("elements", "embedded_page", "form", "hosted_page"),
    **EXPAND,
}
SESSION_LIST = {
    **LIST,
    "customer": STR,
    "status": ("complete", "expired", "open"),
    "subscription": STR,
    "payment_intent": STR,
}
PORTAL = {"customer": STR, "return_url": STR, "locale": tuple(LOCALES), "configuration": STR}
PORTAL = {**PORTAL, **EXPAND}


def _session_line_items(req: ApiRequest, p: dict) -> list[dict]:
    store, mode = req.store, p["mode"]
    items = []
    for i, li in enumerate(p["line_items"]):
        prefix = f"line_items[{i}]"
        require(li, "quantity", prefix=prefix)
        if li["quantity"] < 1:
            raise invalid("Quantity must be at least 1.", f"{prefix}[quantity]")
        if li.get("price"):
            price, where = store.require(li["price"], "price", f"{prefix}[price]"), "price"
        elif li.get("price_data"):
            price = price_from_data(req, li["price_data"], f"{prefix}[price_data]", False)
            where = "price_data][recurring"
        else:
            raise invalid(f"You must specify either `price` or `price_data` in {prefix}.", prefix)
        if mode == "subscription" and not price["recurring"]:
            raise invalid(
                "You must provide a recurring price in `subscription` mode.",
                f"{prefix}[{where}]",
            )
        if mode == "payment" and price["recurring"]:
            raise invalid(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                f"{prefix}[{where}]",
            )
        if items and price["currency"] != items[0]["currency"]:
            raise invalid("All line items must use the same currency.", f"{prefix}[price]")
        name = store.get(price["product"], "product")["name"]
        items.append(objects.line_item(store, price, li["quantity"], name))
    return items


def _check_ui_mode(p: dict) -> None:
    """``hosted_page`` takes success/cancel URLs; ``elements`` a ``return_url`` instead."""
    ui_mode = p.setdefault("ui_mode", "hosted_page")
    if ui_mode not in ("hosted_page", "elements"):
        raise invalid(
            "The emulator only supports `ui_mode` `hosted_page` and `elements`.", "ui_mode"
        )
    if ui_mode == "hosted_page":
        if "return_url" in p:
            raise invalid(
                "`return_url` can only be used with `ui_mode=embedded_page` or `elements`.",
                "return_url",
            )
        require(p, "success_url")
        return
    for key in ("success_url", "cancel_url"):
        if key in p:
            raise invalid(f"`{key}` is not allowed when `ui_mode` is `elements`.", key)
    require(p, "return_url")


def create_session(req: ApiRequest) -> dict:
    """POST /v1/checkout/sessions"""
    store = req.store
    p = req.check(SESSION)
    require(p, "mode")
    if p["mode"] == "setup":
        raise invalid("The emulator does not support `setup` mode.", "mode")
    _check_ui_mode(p)
    if "invoice_creation" in p and p["mode"] != "payment":
        raise invalid("`invoice_creation` can only be used in `payment` mode.", "invoice_creation")
    require(p, "line_items")
    if p.get("customer") and p.get("customer_email"):
        raise invalid("You may only specify one of these parameters: customer, customer_email.")
    if p.get("customer") and "customer_creation" in p:
        raise invalid("You may only specify one of these parameters: customer, customer_creation.")
    if p.get("customer"):
        customer_or_404(store, p["customer"], "customer")
    for key, mode in [("submit_type", "payment"), ("customer_creation", "payment")]:
        if key in p and p["mode"] != mode:
            raise invalid(f"`{key}` can only be used in `{mode}` mode.", key)
    for key, mode in [("subscription_data", "subscription"), ("payment_intent_data", "payment")]:
        if key in p and p["mode"] != mode:
            raise invalid(f"You can not pass `{key}` in `{p['mode']}` mode.", key)
    items = _session_line_items(req, p)
    currency = items[0]["currency"]
    amount = sum(item["amount_total"] for item in items)
    minimum = MIN_CHARGE[currency]
    if amount < minimum:
        first = p["line_items"][0]
        param = "line_items[0][price_data][unit_amount]" if "price_data" in first else "line_items"
        raise invalid(
            "The Checkout Session's total amount due must add up to at least "
            f"{format_amount(minimum, currency)}",
            param,
            "amount_too_small",
        )
    session = objects.checkout_session(store, req.livemode, p, currency, amount)
    extra = {
        "line_items": items,
        "subscription_data": p.get("subscription_data") or {},
        "payment_intent_data": p.get("payment_intent_data") or {},
    }
    store.add(session, extra)
    return req.respond(session, p, line_items_resolver(store))


def line_items_resolver(store: Store) -> dict:
    """Resolver expanding a session's ``line_items`` into a list object."""

    def resolve(session: dict) -> dict:
        data = store.extra.get(session["id"], {}).get("line_items", [])
        url = f"/v1/checkout/sessions/{session['id']}/line_items"
        return {"object": "list", "data": data, "has_more": False, "url": url}

    return {"line_items": resolve}


def _session(req: ApiRequest, id: str) -> dict:
    session = req.store.require(id, "checkout.session")
    payment_flow.expire_if_due(req.store, req.events, session)
    return session


def retrieve_session(req: ApiRequest, id: str) -> dict:
    """GET /v1/checkout/sessions/{id}"""
    p = req.check(EXPAND)
    return req.respond(_session(req, id), p, line_items_resolver(req.store))


def list_sessions(req: ApiRequest) -> dict:
    """GET /v1/checkout/sessions"""
    p = req.check(SESSION_LIST)
    items = req.store.all("checkout.session")
    for key in ("customer", "status", "subscription", "payment_intent"):
        if key in p:
            items = [s for s in items if s[key] == p[key]]
    return req.list(items, p, line_items_resolver(req.store))


def session_line_items(req: ApiRequest, id: str) -> dict:
    """GET /v1/checkout/sessions/{id}/line_items"""
    p = req.check(LIST)
    _session(req, id)
    return req.list(req.store.extra[id]["line_items"], p)


def expire_session(req: ApiRequest, id: str) -> dict:
    """POST /v1/checkout/sessions/{id}/expire"""
    p = req.check(EXPAND)
    session = payment_flow.expire(req.store, req.events, _session(req, id))
    return req.respond(session, p, line_items_resolver(req.store))


def create_portal_session(req: ApiRequest) -> dict:
    """POST /v1/billing_portal/sessions"""
    p = req.check(PORTAL)
    require(p, "customer")
    customer_or_404(req.store, p["customer"], "customer")
    obj = objects.portal_session(
        req.store, req.livemode, p["customer"], p.get("return_url"), p.get("locale")
    )
    return req.respond(req.store.add(obj), p)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("POST", "/v1/checkout/sessions", create_session)
    router.add("GET", "/v1/checkout/sessions", list_sessions)
    router.add("GET", "/v1/checkout/sessions/{id}", retrieve_session)
    router.add("GET", "/v1/checkout/sessions/{id}/line_items", session_line_items)
    router.add("POST", "/v1/checkout/sessions/{id}/expire", expire_session)
    router.add("POST", "/v1/billing_portal/sessions", create_portal_session)
