"""Test cards and PaymentMethods: what each of Stripe's documented test numbers does.

Stripe's test cards (https://docs.stripe.com/testing) the emulator knows; any other
number is refused as ``incorrect_number``. The number itself is kept privately (in the
store's extras) so a later charge of a saved card behaves as that card would.
"""

from .errors import StripeError
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


def payment_method(store: Store, livemode: bool, number: str, billing=None) -> dict:
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
            "exp_month": 12,
            "exp_year": 2034,
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
