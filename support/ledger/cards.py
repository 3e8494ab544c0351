"""The card a subscription is charged to, as the ledger keeps it: brand, last 4, expiry.

Stripe charges a subscription's renewals to its `default_payment_method`, else
to the customer's `invoice_settings.default_payment_method`. The worker reads
that payment method with the subscription (`support.webhooks.handlers`), and
the row keeps only what the supporter page shows; nothing else of a card is
ever stored.
"""

from __future__ import annotations

NO_CARD = {"card_brand": None, "card_last4": None, "card_exp_month": None, "card_exp_year": None}


def _id(value: object) -> str | None:
    """A payment method id, whether Stripe gave the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def charged_payment_method(sub: dict, customer: dict | None) -> str | None:
    """The id of the payment method renewals of `sub` are charged to, if any.

    `customer` is only needed when the subscription names none of its own.
    """
    own = _id(sub.get("default_payment_method"))
    if own or customer is None or customer.get("deleted"):
        return own
    return _id((customer.get("invoice_settings") or {}).get("default_payment_method"))


def card_fields(payment_method: dict | None) -> dict:
    """Our card columns for a payment method (all None without a card)."""
    card = (payment_method or {}).get("card") or {}
    if not card.get("last4"):
        return dict(NO_CARD)
    month, year = card.get("exp_month"), card.get("exp_year")
    return {
        "card_brand": (card.get("display_brand") or card.get("brand") or "")[:32] or None,
        "card_last4": str(card["last4"])[-4:],
        "card_exp_month": month if isinstance(month, int) and 1 <= month <= 12 else None,
        "card_exp_year": year if isinstance(year, int) and 2000 <= year <= 9999 else None,
    }
