"""Builders for payment objects: PaymentIntents, charges, refunds and disputes."""

from .objects import empty_address
from .store import Store

# A dispute's evidence fields, all empty until the merchant responds (which it cannot here).
EVIDENCE_FIELDS = (
    "access_activity_log",
    "appeal",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)


def payment_intent(store: Store, livemode, amount, currency, customer, metadata, description):
    """A succeeded PaymentIntent (``latest_charge`` is filled in by the caller)."""
    pi_id = store.new_id("pi_")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount,
        "application": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{store.new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": store.now(),
        "currency": currency,
        "customer": customer["id"],
        "description": description,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": livemode,
        "metadata": dict(metadata or {}),
        "next_action": None,
        "payment_method": store.new_id("pm_"),
        "payment_method_types": ["card"],
        "receipt_email": customer.get("email"),
        "status": "succeeded",
    }


def charge(store: Store, pi: dict, customer: dict) -> dict:
    """A succeeded card charge for a PaymentIntent."""
    charge_id = store.new_id("ch_")
    card = {"brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2034}
    card.update({"funding": "credit", "last4": "4242", "network": "visa"})
    return {
        "id": charge_id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"],
        "amount_refunded": 0,
        "balance_transaction": store.new_id("txn_"),
        "billing_details": {
            "address": empty_address(),
            "email": customer.get("email"),
            "name": customer.get("name"),
            "phone": None,
        },
        "captured": True,
        "created": store.now(),
        "currency": pi["currency"],
        "customer": customer["id"],
        "description": pi["description"],
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": pi["livemode"],
        "metadata": dict(pi["metadata"]),
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": pi["id"],
        "payment_method": pi["payment_method"],
        "payment_method_details": {"type": "card", "card": card},
        "receipt_email": customer.get("email"),
        "receipt_url": f"{store.public_url}/receipts/payment/{charge_id}",
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "status": "succeeded",
    }


def refund(store: Store, ch: dict, amount: int, reason, metadata) -> dict:
    """A succeeded refund of ``amount`` on a charge."""
    return {
        "id": store.new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": store.new_id("txn_"),
        "charge": ch["id"],
        "created": store.now(),
        "currency": ch["currency"],
        "destination_details": {"type": "card", "card": {"type": "refund"}},
        "metadata": metadata or {},
        "payment_intent": ch["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "status": "succeeded",
    }


def dispute(store: Store, ch: dict, reason: str) -> dict:
    """A new dispute on a charge awaiting the merchant's response."""
    now = store.now()
    return {
        "id": store.new_id("du_"),
        "object": "dispute",
        "amount": ch["amount"] - ch["amount_refunded"],
        "balance_transactions": [],
        "charge": ch["id"],
        "created": now,
        "currency": ch["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": now + 7 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
            "submission_method": "not_submitted",
        },
        "is_charge_refundable": False,
        "livemode": ch["livemode"],
        "metadata": {},
        "payment_intent": ch["payment_intent"],
        "reason": reason,
        "status": "needs_response",
    }
