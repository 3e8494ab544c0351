"""Builders for catalog and session objects: customers, products, prices, sessions."""

from .catalog import API_VERSION
from .store import Store, random_token

_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}

# A Checkout Session's ``invoice_creation.invoice_data`` when nothing was asked of it.
_INVOICE_DATA = dict.fromkeys(
    ("account_tax_ids", "custom_fields", "description", "footer", "issuer", "rendering_options")
)


def empty_address() -> dict:
    """An address hash with every field null."""
    return dict(_ADDRESS)


def customer(store: Store, livemode: bool, email=None, name=None, **fields) -> dict:
    """A new customer object."""
    return {
        "id": store.new_id("cus_", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": store.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": fields.get("description"),
        "email": email,
        "invoice_prefix": random_token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": livemode,
        "metadata": fields.get("metadata") or {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": fields.get("phone"),
        "preferred_locales": fields.get("preferred_locales") or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product(store: Store, livemode: bool, name: str, **fields) -> dict:
    """A new product object."""
    now = store.now()
    return {
        "id": store.new_id("prod_", 14),
        "object": "product",
        "active": fields.get("active", True),
        "created": now,
        "default_price": None,
        "description": fields.get("description"),
        "images": [],
        "livemode": livemode,
        "marketing_features": [],
        "metadata": fields.get("metadata") or {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": now,
        "url": None,
    }


def price(store: Store, livemode: bool, currency, unit_amount, product_id, recurring=None, **f):
    """A new price object; ``recurring`` is ``{"interval", "interval_count"}`` or None."""
    if recurring:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": int(recurring.get("interval_count") or 1),
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    return {
        "id": store.new_id("price_"),
        "object": "price",
        "active": f.get("active", True),
        "billing_scheme": "per_unit",
        "created": store.now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": livemode,
        "lookup_key": f.get("lookup_key"),
        "metadata": f.get("metadata") or {},
        "nickname": f.get("nickname"),
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def line_item(store: Store, price_obj: dict, quantity: int, description: str) -> dict:
    """A Checkout Session line item (object ``item``)."""
    amount = price_obj["unit_amount"] * quantity
    return {
        "id": store.new_id("li_"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price_obj["currency"],
        "description": description,
        "metadata": {},
        "price": price_obj,
        "quantity": quantity,
    }


def checkout_session(store: Store, livemode: bool, p: dict, currency, amount) -> dict:
    """A new open Checkout Session from validated create params ``p``."""
    prefix = "cs_live_" if livemode else "cs_test_"
    session_id = store.new_id(prefix + "a1", 56)
    now = store.now()
    elements = p.get("ui_mode") == "elements"
    secret = f"{session_id}_secret_{random_token(24)}" if elements else None
    return {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {
            "enabled": bool((p.get("automatic_tax") or {}).get("enabled")),
            "liability": None,
            "provider": None,
            "status": None,
        },
        "billing_address_collection": p.get("billing_address_collection"),
        "cancel_url": p.get("cancel_url"),
        "client_reference_id": p.get("client_reference_id"),
        "client_secret": secret,
        "created": now,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": p.get("customer"),
        "customer_creation": p.get("customer_creation"),
        "customer_details": None,
        "customer_email": p.get("customer_email"),
        "expires_at": now + 24 * 3600,
        "invoice": None,
        "invoice_creation": {
            "enabled": bool((p.get("invoice_creation") or {}).get("enabled")),
            "invoice_data": _INVOICE_DATA | {"metadata": {}},
        }
        if p["mode"] == "payment"
        else None,
        "livemode": livemode,
        "locale": p.get("locale"),
        "metadata": p.get("metadata") or {},
        "mode": p["mode"],
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always" if p["mode"] == "subscription" else None,
        "payment_method_types": p.get("payment_method_types") or ["card"],
        "payment_status": "unpaid",
        "recovered_from": None,
        "redirect_on_completion": None,
        "return_url": p.get("return_url"),
        "setup_intent": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": p.get("submit_type"),
        "subscription": None,
        "success_url": p.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": p.get("ui_mode") or "hosted_page",
        "url": None if elements else f"{store.public_url}/c/pay/{session_id}",
    }


def portal_session(store: Store, livemode: bool, customer_id, return_url, locale) -> dict:
    """A new billing portal session."""
    session_id = store.new_id("bps_")
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": "bpc_emulator_default",
        "created": store.now(),
        "customer": customer_id,
        "flow": None,
        "livemode": livemode,
        "locale": locale,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{store.public_url}/p/session/{session_id}",
    }


def webhook_endpoint(store: Store, livemode: bool, p: dict) -> dict:
    """A new webhook endpoint (without its secret, which is kept privately)."""
    return {
        "id": store.new_id("we_"),
        "object": "webhook_endpoint",
        "api_version": p.get("api_version") or API_VERSION,
        "application": None,
        "created": store.now(),
        "description": p.get("description"),
        "enabled_events": p["enabled_events"],
        "livemode": livemode,
        "metadata": p.get("metadata") or {},
        "status": "enabled",
        "url": p["url"],
    }
