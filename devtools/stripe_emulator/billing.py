"""Builders for subscriptions and invoices (API version 2026-10-28.endive shapes).

Notable 2026 shapes: billing periods live on subscription items, an invoice points
to its subscription through ``parent.subscription_details``, and an invoice's
payments are listed under ``payments`` (each with ``payment.payment_intent``).
"""

from . import cards
from .store import Store


def plan(price_obj: dict) -> dict:
    """The legacy ``plan`` view of a recurring price, still present on items."""
    recurring = price_obj["recurring"]
    return {
        "id": price_obj["id"],
        "object": "plan",
        "active": price_obj["active"],
        "amount": price_obj["unit_amount"],
        "amount_decimal": price_obj["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": price_obj["livemode"],
        "metadata": price_obj["metadata"],
        "nickname": price_obj["nickname"],
        "product": price_obj["product"],
        "usage_type": "licensed",
    }


def subscription_item(store: Store, sub_id, price_obj, quantity, start, end) -> dict:
    """A subscription item carrying the current billing period."""
    return {
        "id": store.new_id("si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": start,
        "current_period_end": end,
        "current_period_start": start,
        "discounts": [],
        "metadata": {},
        "plan": plan(price_obj),
        "price": price_obj,
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def _saved_card(store: Store, livemode: bool, customer_id: str) -> str:
    """The card a new subscription is charged to: a stored success card of the customer's
    (an Elements payment replaces it with the card actually used)."""
    pm = cards.payment_method(store, livemode, cards.SUCCESS)
    pm["customer"] = customer_id
    return pm["id"]


def subscription(store: Store, livemode, customer_id, currency, metadata, description) -> dict:
    """A new active subscription without items (callers add them)."""
    now = store.now()
    sub_id = store.new_id("sub_")
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now,
        # Flexible billing is what new subscriptions get by default since API 2025-10.
        "billing_mode": {
            "flexible": {"proration_discounts": "included"},
            "type": "flexible",
            "updated_at": None,
        },
        "billing_schedules": [],
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": currency,
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": _saved_card(store, livemode, customer_id),
        "description": description,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": livemode,
        "metadata": metadata or {},
        "pause_collection": None,
        "start_date": now,
        "status": "active",
        "test_clock": None,
        "trial_end": None,
        "trial_start": None,
    }


def invoice_line(store: Store, invoice_id, sub, item) -> dict:
    """An invoice line for one subscription item and its current period."""
    price_obj = item["price"]
    amount = price_obj["unit_amount"] * item["quantity"]
    return {
        "id": store.new_id("il_"),
        "object": "line_item",
        "amount": amount,
        "currency": price_obj["currency"],
        "description": f"{item['quantity']} × subscription",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": sub["livemode"],
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
        },
        "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price_obj["id"], "product": price_obj["product"]},
            "unit_amount_decimal": str(price_obj["unit_amount"]),
        },
        "quantity": item["quantity"],
        "subtotal": amount,
        "taxes": [],
    }


def invoice(store: Store, sub: dict, customer: dict, billing_reason: str, period) -> dict:
    """An open, finalized invoice for the subscription's current item periods.

    ``period`` is the invoice's own ``(period_start, period_end)``: like Stripe, a
    renewal invoice reports the period that just ended while its lines cover the next.
    """
    now = store.now()
    invoice_id = store.new_id("in_")
    lines = [invoice_line(store, invoice_id, sub, item) for item in sub["items"]["data"]]
    total = sum(line["amount"] for line in lines)
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Emulated Stripe account",
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": total,
        "amount_shipping": 0,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": sub["currency"],
        "customer": customer["id"],
        "customer_address": None,
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": now,
        "ending_balance": 0,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": sub["livemode"],
        "metadata": {},
        "next_payment_attempt": None,
        "number": f"{customer['invoice_prefix']}-{store.next_invoice_number():04d}",
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(sub["metadata"]),
                "subscription": sub["id"],
            },
        },
        "payments": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/invoice_payments?invoice={invoice_id}",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "starting_balance": 0,
        "status": "open",
        "status_transitions": {
            "finalized_at": now,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_taxes": [],
        "webhooks_delivered_at": now,
    }


def invoice_payment(store: Store, inv: dict, pi: dict) -> dict:
    """An ``invoice_payment`` linking an invoice to the PaymentIntent that paid it."""
    now = store.now()
    return {
        "id": store.new_id("inpay_"),
        "object": "invoice_payment",
        "amount_paid": pi["amount"],
        "amount_requested": pi["amount"],
        "created": now,
        "currency": pi["currency"],
        "invoice": inv["id"],
        "is_default": True,
        "livemode": inv["livemode"],
        "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": now},
    }
