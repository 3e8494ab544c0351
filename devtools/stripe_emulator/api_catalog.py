"""/v1 handlers for customers, products and prices."""

from . import objects, payment_flow, subscription_flow
from .catalog import CURRENCIES, INTERVALS
from .errors import invalid, not_found
from .params import BOOL, EXPAND, INT, LIST, META, STR, require
from .router import ApiRequest, Router
from .store import Store

CUSTOMER = {
    "email": STR,
    "name": STR,
    "description": STR,
    "metadata": META,
    "phone": STR,
    "preferred_locales": [STR],
    **EXPAND,
}
CUSTOMER_UPDATE = {**CUSTOMER, "invoice_settings": {"default_payment_method": STR}}
PRODUCT_DATA = {"name": STR, "description": STR, "metadata": META, "images": [STR]}
PRODUCT = {**PRODUCT_DATA, "active": BOOL, **EXPAND}
RECURRING = {"interval": INTERVALS, "interval_count": INT}
PRICE_DATA = {
    "currency": STR,
    "unit_amount": INT,
    "product": STR,
    "product_data": PRODUCT_DATA,
    "recurring": RECURRING,
    "tax_behavior": ("exclusive", "inclusive", "unspecified"),
}
PRICE = {
    **PRICE_DATA,
    "metadata": META,
    "nickname": STR,
    "lookup_key": STR,
    "active": BOOL,
    **EXPAND,
}


def customer_or_404(store: Store, customer_id, param="id") -> dict:
    """The customer, or a 404 when it does not exist or was deleted."""
    customer = store.require(customer_id, "customer", param)
    if customer.get("deleted"):
        raise not_found("customer", customer_id, param)
    return customer


def create_customer(req: ApiRequest) -> dict:
    """POST /v1/customers"""
    p = req.check(CUSTOMER)
    fields = {k: v for k, v in p.items() if k not in ("email", "name", "expand")}
    obj = objects.customer(req.store, req.livemode, p.get("email"), p.get("name"), **fields)
    req.events.emit("customer.created", req.store.add(obj))
    return req.respond(obj, p)


def retrieve_customer(req: ApiRequest, id: str) -> dict:
    """GET /v1/customers/{id} (a deleted customer answers its ``deleted`` stub)."""
    p = req.check(EXPAND)
    obj = req.store.require(id, "customer")
    return dict(obj) if obj.get("deleted") else req.respond(obj, p)


def _invoice_settings(req: ApiRequest, customer: dict, wanted) -> dict:
    """The customer's ``invoice_settings`` with a new default PaymentMethod (attached one)."""
    pm_id = (wanted or {}).get("default_payment_method") or None
    param = "invoice_settings[default_payment_method]"
    if pm_id is not None:
        pm = req.store.get(pm_id, "payment_method")
        if pm is None or pm["customer"] != customer["id"]:
            raise invalid(
                f"The customer does not have a payment method with the ID {pm_id}. The "
                "payment method must be attached to the customer.",
                param,
            )
    return {**customer["invoice_settings"], "default_payment_method": pm_id}


def update_customer(req: ApiRequest, id: str) -> dict:
    """POST /v1/customers/{id}"""
    p = req.check(CUSTOMER_UPDATE)
    fields = {k: v for k, v in p.items() if k != "expand"}
    if "invoice_settings" in fields:
        customer = customer_or_404(req.store, id)
        fields["invoice_settings"] = _invoice_settings(req, customer, p["invoice_settings"])
    obj = payment_flow.update_customer(req.store, req.events, id, fields)
    return req.respond(obj, p)


def delete_customer(req: ApiRequest, id: str) -> dict:
    """DELETE /v1/customers/{id}: cancels its subscriptions, leaves a deleted stub."""
    req.check({})
    obj = customer_or_404(req.store, id)
    for sub in req.store.all("subscription"):
        if sub["customer"] == id and sub["status"] != "canceled":
            subscription_flow.cancel(req.store, req.events, sub["id"])
    req.events.emit("customer.deleted", obj)
    stub = {"id": id, "object": "customer", "deleted": True}
    req.store.objects[id] = stub
    return dict(stub)


def list_customers(req: ApiRequest) -> dict:
    """GET /v1/customers (filter: ``email``, case-sensitive like Stripe)."""
    p = req.check({**LIST, "email": STR})
    items = [c for c in req.store.all("customer") if not c.get("deleted")]
    if "email" in p:
        items = [c for c in items if c["email"] == p["email"]]
    return req.list(items, p)


def create_product(req: ApiRequest) -> dict:
    """POST /v1/products"""
    p = req.check(PRODUCT)
    require(p, "name")
    fields = {k: v for k, v in p.items() if k not in ("name", "expand")}
    obj = req.store.add(objects.product(req.store, req.livemode, p["name"], **fields))
    req.events.emit("product.created", obj)
    return req.respond(obj, p)


def retrieve(kind: str):
    """Build a plain GET-by-id handler for objects of ``kind``."""

    def handler(req: ApiRequest, id: str) -> dict:
        p = req.check(EXPAND)
        return req.respond(req.store.require(id, kind), p)

    handler.__doc__ = f"GET a {kind} by id."
    return handler


def price_from_data(req: ApiRequest, data: dict, prefix: str, active=True) -> dict:
    """Validate ``price_data``-style params and create the price (and product)."""
    store = req.store
    require(data, "currency", prefix=prefix)
    currency = data["currency"].lower()
    if currency not in CURRENCIES:
        raise invalid(f"Invalid currency: {data['currency']}.", f"{prefix}[currency]")
    require(data, "unit_amount", prefix=prefix)
    if data["unit_amount"] < 0:
        raise invalid("Invalid unit_amount: must be non-negative", f"{prefix}[unit_amount]")
    if data.get("recurring") not in (None, ""):
        require(data["recurring"], "interval", prefix=f"{prefix}[recurring]")
    if data.get("product"):
        product_id = store.require(data["product"], "product", f"{prefix}[product]")["id"]
    elif data.get("product_data"):
        require(data["product_data"], "name", prefix=f"{prefix}[product_data]")
        pd = dict(data["product_data"])
        product_id = store.add(objects.product(store, req.livemode, pd.pop("name"), **pd))["id"]
    else:
        raise invalid(
            "You must specify either `product` or `product_data` when creating a price.",
            f"{prefix}[product]",
            "parameter_missing",
        )
    extra = {k: data[k] for k in ("metadata", "nickname", "lookup_key") if k in data}
    price = objects.price(
        store,
        req.livemode,
        currency,
        data["unit_amount"],
        product_id,
        data.get("recurring") or None,
        active=data.get("active", active),
        **extra,
    )
    return store.add(price)


def create_price(req: ApiRequest) -> dict:
    """POST /v1/prices"""
    p = req.check(PRICE)
    obj = price_from_data(req, p, "")
    req.events.emit("price.created", obj)
    return req.respond(obj, p)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("POST", "/v1/customers", create_customer)
    router.add("GET", "/v1/customers", list_customers)
    router.add("GET", "/v1/customers/{id}", retrieve_customer)
    router.add("POST", "/v1/customers/{id}", update_customer)
    router.add("DELETE", "/v1/customers/{id}", delete_customer)
    router.add("POST", "/v1/products", create_product)
    router.add("GET", "/v1/products/{id}", retrieve("product"))
    router.add("POST", "/v1/prices", create_price)
    router.add("GET", "/v1/prices/{id}", retrieve("price"))
