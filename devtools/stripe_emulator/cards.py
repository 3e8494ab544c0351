"""Test cards and PaymentMethods: what each of Stripe's documented test numbers does.

Stripe's test cards (https://docs.stripe.com/testing) the emulator knows; any other
number is refused as ``incorrect_number``. The number itself is kept privately (in the
store's extras) so a later charge of a saved card behaves as that card would.
"""

import time

from .errors import StripeError, invalid
from .objects import empty_address
from .store import Store

SUCCESS = "4242424242424242"
DECLINE = "4000000000000002"
THREE_D_SECURE = "4000002500003155"
# Attaches to a customer, then every charge of it is declined.
DECLINE_AFTER_ATTACH = "4000000000000341"
CARDS = {
    SUCCESS: "succeeds",
    DECLINE: "declined",
    THREE_D_SECURE: "requires authentication",
    DECLINE_AFTER_ATTACH: "attaches, then declines charges",
}
AUTH_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)


def check_number(number: str) -> str:
    """The card number without spaces, or a 402 ``incorrect_number`` for unknown ones."""
    digits = "".join(str(number or "").split())
    if digits not in CARDS:
        raise StripeError(
            402, "Your card number is incorrect.", type="card_error", code="incorrect_number"
        )
    return digits


def auth_failed(kind: str = "payment_intent") -> StripeError:
    """The 402 a failed 3-D Secure challenge answers."""
    return StripeError(
        402, AUTH_FAILED, type="invalid_request_error", code=f"{kind}_authentication_failure"
    )


# The expiry a test card gets unless the reader typed another (``check_expiry``).
EXPIRY = (12, 2034)


def check_expiry(store: Store, month, year) -> tuple[int, int]:
    """The typed expiry as (month, year); a 400 for a malformed one and a 402
    ``expired_card`` for a month already over, as Stripe answers."""
    if month is None and year is None:
        return EXPIRY
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise invalid("Invalid integer: exp_month must be 1 to 12.", "exp_month")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2099:
        raise invalid("Invalid integer: exp_year must be a four-digit year.", "exp_year")
    now = time.gmtime(store.now())
    if (year, month) < (now.tm_year, now.tm_mon):
        raise StripeError(402, "Your card has expired.", type="card_error", code="expired_card")
    return month, year


def payment_method(
    store: Store, livemode: bool, number: str, billing=None, expiry: tuple[int, int] = EXPIRY
) -> dict:
    """A new card PaymentMethod (not attached); its number is kept in the store's extras."""
    billing = billing or {}
    pm = {
        "id": store.new_id("pm_"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": empty_address(),
            "email": billing.get("email"),
            "name": billing.get("name"),
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": "visa",
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": "visa",
            "exp_month": expiry[0],
            "exp_year": expiry[1],
            "fingerprint": "emu" + number[-8:],
            "funding": "credit",
            "last4": number[-4:],
            "networks": {"available": ["visa"], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": store.now(),
        "customer": None,
        "livemode": livemode,
        "metadata": {},
        "type": "card",
    }
    return store.add(pm, {"number": number})


def number_of(store: Store, pm_id) -> str:
    """The card number behind a stored PaymentMethod (a plain success card if unknown)."""
    return store.extra.get(pm_id, {}).get("number", SUCCESS)


def attach(store: Store, events, pm: dict, customer_id: str) -> dict:
    """Attach ``pm`` to a customer (``payment_method.attached``)."""
    if pm["customer"] != customer_id:
        pm["customer"] = customer_id
        events.emit("payment_method.attached", pm)
    return pm
