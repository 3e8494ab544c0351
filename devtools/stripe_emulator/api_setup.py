"""/v1 handlers for SetupIntents, PaymentMethods, payment method domains and invoice pay."""

from . import invoice_flow, setup_flow
from .api_catalog import customer_or_404, retrieve
from .errors import invalid
from .params import BOOL, EXPAND, LIST, META, STR, require
from .router import ApiRequest, Router

SETUP_INTENT = {
    "customer": STR,
    "usage": ("off_session", "on_session"),
    "payment_method_types": [STR],
    "automatic_payment_methods": {"enabled": BOOL, "allow_redirects": ("always", "never")},
    "description": STR,
    "metadata": META,
    **EXPAND,
}
DOMAIN = {"domain_name": STR, "enabled": BOOL, **EXPAND}
WALLETS = ("amazon_pay", "apple_pay", "google_pay", "klarna", "link", "paypal")


def create_setup_intent(req: ApiRequest) -> dict:
    """POST /v1/setup_intents (card only; confirmed by the Stripe.js stand-in)."""
    p = req.check(SETUP_INTENT)
    if p.get("customer"):
        customer_or_404(req.store, p["customer"], "customer")
    types = p.get("payment_method_types") or ["card"]
    if types != ["card"]:
        raise invalid("The emulator only supports `card` payment methods.", "payment_method_types")
    if "automatic_payment_methods" in p and "payment_method_types" in p:
        raise invalid(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types."
        )
    seti = req.store.add(setup_flow.setup_intent(req.store, req.livemode, p))
    req.events.emit("setup_intent.created", seti)
    return req.respond(seti, p)


def list_payment_methods(req: ApiRequest) -> dict:
    """GET /v1/payment_methods (``customer``, ``type``)."""
    p = req.check({**LIST, "customer": STR, "type": STR})
    items = req.store.all("payment_method")
    if "customer" in p:
        customer_or_404(req.store, p["customer"], "customer")
        items = [pm for pm in items if pm["customer"] == p["customer"]]
    if "type" in p:
        items = [pm for pm in items if pm["type"] == p["type"]]
    return req.list(items, p)


def pay_invoice(req: ApiRequest, id: str) -> dict:
    """POST /v1/invoices/{id}/pay"""
    p = req.check({"payment_method": STR, "off_session": BOOL, **EXPAND})
    inv = invoice_flow.pay(req.store, req.events, id, p.get("payment_method"))
    return req.respond(inv, p)


def _domain(req: ApiRequest, p: dict) -> dict:
    now, enabled = req.store.now(), p.get("enabled", True)
    wallet = {"status": "active" if enabled else "inactive"}
    return {
        "id": req.store.new_id("pmd_"),
        "object": "payment_method_domain",
        **{name: dict(wallet) for name in WALLETS},
        "created": now,
        "domain_name": p["domain_name"],
        "enabled": enabled,
        "livemode": req.livemode,
    }


def create_domain(req: ApiRequest) -> dict:
    """POST /v1/payment_method_domains (one per domain name, as Stripe)."""
    p = req.check(DOMAIN)
    require(p, "domain_name")
    name = p["domain_name"].strip().lower()
    if "." not in name or "/" in name or ":" in name or " " in name:
        raise invalid(f"{p['domain_name']} is not a valid domain name.", "domain_name")
    p["domain_name"] = name
    for existing in req.store.all("payment_method_domain"):
        if existing["domain_name"] == name:
            raise invalid(
                f"A payment method domain already exists for {name}.",
                "domain_name",
                "resource_already_exists",
            )
    return req.respond(req.store.add(_domain(req, p)), p)


def update_domain(req: ApiRequest, id: str) -> dict:
    """POST /v1/payment_method_domains/{id} (``enabled``)."""
    p = req.check({"enabled": BOOL, **EXPAND})
    obj = req.store.require(id, "payment_method_domain")
    if "enabled" in p:
        obj["enabled"] = p["enabled"]
        for name in WALLETS:
            obj[name]["status"] = "active" if p["enabled"] else "inactive"
    return req.respond(obj, p)


def list_domains(req: ApiRequest) -> dict:
    """GET /v1/payment_method_domains (``domain_name``, ``enabled``)."""
    p = req.check({**LIST, "domain_name": STR, "enabled": BOOL})
    items = req.store.all("payment_method_domain")
    for key in ("domain_name", "enabled"):
        if key in p:
            items = [d for d in items if d[key] == p[key]]
    return req.list(items, p)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("POST", "/v1/setup_intents", create_setup_intent)
    router.add("GET", "/v1/setup_intents/{id}", retrieve("setup_intent"))
    router.add("GET", "/v1/payment_methods", list_payment_methods)
    router.add("GET", "/v1/payment_methods/{id}", retrieve("payment_method"))
    router.add("POST", "/v1/invoices/{id}/pay", pay_invoice)
    router.add("POST", "/v1/payment_method_domains", create_domain)
    router.add("GET", "/v1/payment_method_domains", list_domains)
    router.add("GET", "/v1/payment_method_domains/{id}", retrieve("payment_method_domain"))
    router.add("POST", "/v1/payment_method_domains/{id}", update_domain)
