"""The Checkout Session as the Checkout Elements SDK hands it to the page.

Field names follow stripe-js's ``StripeCheckoutSession`` type (types/stripe-js/checkout.d.ts):
camelCase, amounts as ``{amount, minorUnitsAmount}``. What the emulator does not imitate
(discounts, taxes, shipping, saved methods) is null, zero or empty.
"""

from .catalog import THREE_DECIMAL, ZERO_DECIMAL, format_amount


def _amount(amount: int, currency: str) -> dict:
    return {"amount": format_amount(amount, currency), "minorUnitsAmount": amount}


def _divisor(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 1
    return 1000 if currency in THREE_DECIMAL else 100


def _line_item(item: dict) -> dict:
    price, currency = item["price"], item["currency"]
    zero = _amount(0, currency)
    recurring = price["recurring"]
    return {
        "id": item["id"],
        "name": item["description"],
        "discount": zero,
        "subtotal": _amount(item["amount_subtotal"], currency),
        "total": _amount(item["amount_total"], currency),
        "taxExclusive": zero,
        "taxInclusive": zero,
        "unitAmount": _amount(price["unit_amount"], currency),
        "unitAmountDecimal": None,
        "description": None,
        "quantity": item["quantity"],
        "unitLabel": None,
        "discountAmounts": None,
        "taxAmounts": None,
        "recurring": recurring
        and {
            "interval": recurring["interval"],
            "intervalCount": recurring["interval_count"],
            "usageType": "licensed",
        },
        "adjustableQuantity": None,
        "images": [],
        "priceId": price["id"],
        "isRemovable": False,
    }


def _total(amount: int, currency: str) -> dict:
    zero = _amount(0, currency)
    return {
        "appliedBalance": zero,
        "balanceAppliedToNextInvoice": False,
        "discount": zero,
        "shippingRate": zero,
        "subtotal": _amount(amount, currency),
        "surcharge": zero,
        "taxExclusive": zero,
        "taxInclusive": zero,
        "total": _amount(amount, currency),
    }


def _status(session: dict) -> dict:
    if session["status"] == "complete":
        return {"type": "complete", "paymentStatus": session["payment_status"]}
    return {"type": session["status"]}


def view(store, session: dict) -> dict:
    """``session`` as stripe-js's ``StripeCheckoutSession``."""
    currency, amount = session["currency"], session["amount_total"]
    items = store.extra.get(session["id"], {}).get("line_items", [])
    recurring = next((i["price"]["recurring"] for i in items if i["price"]["recurring"]), None)
    if recurring:
        due = _total(amount, currency)
        recurring = {
            "interval": recurring["interval"],
            "intervalCount": recurring["interval_count"],
            "isProrated": False,
            "dueNext": {
                **{k: due[k] for k in ("subtotal", "total", "discount")},
                "taxInclusive": due["taxInclusive"],
                "taxExclusive": due["taxExclusive"],
                "billingCycleAnchor": None,
            },
            "trial": None,
        }
    customer = store.get(session["customer"], "customer") or {}
    return {
        "billingAddress": None,
        "businessName": None,
        "canConfirm": session["status"] == "open",
        "currency": currency,
        "currencyOptions": None,
        "discountAmounts": None,
        "email": session["customer_email"] or customer.get("email"),
        "id": session["id"],
        "lastPaymentError": None,
        "lineItems": [_line_item(item) for item in items],
        "livemode": session["livemode"],
        "minorUnitsAmountDivisor": _divisor(currency),
        "phoneNumber": None,
        "recurring": recurring,
        "savedPaymentMethods": None,
        "shipping": None,
        "shippingAddress": None,
        "shippingOptions": [],
        "status": _status(session),
        "surcharge": None,
        "tax": {"status": "ready"},
        "taxAmounts": None,
        "taxIdInfo": None,
        "total": _total(amount, currency),
        "optionalItems": None,
    }


def return_url(session: dict) -> str | None:
    """The session's ``return_url`` with ``{CHECKOUT_SESSION_ID}`` filled in."""
    url = session["return_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None
