"""SetupIntents: save a card for later, confirmed by the Stripe.js stand-in.

``confirm`` follows Stripe's states: ``requires_payment_method`` → ``succeeded`` (the
PaymentMethod attached to the customer), or ``requires_action`` for a 3-D Secure card
until the challenge is completed (``succeeded``) or failed (``requires_payment_method``
with ``last_setup_error``). A declined card leaves ``requires_payment_method`` too.
"""

import copy

from . import cards
from .errors import StripeError, invalid
from .store import Store
from .webhooks import Events


def setup_intent(store: Store, livemode: bool, p: dict) -> dict:
    """A new SetupIntent from validated create params ``p``."""
    seti_id = store.new_id("seti_")
    return {
        "id": seti_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{seti_id}_secret_{store.new_id('', 25)}",
        "created": store.now(),
        "customer": p.get("customer"),
        "description": p.get("description"),
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": livemode,
        "mandate": None,
        "metadata": p.get("metadata") or {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": p.get("payment_method_types") or ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": p.get("usage") or "off_session",
    }


def _setup_error(seti: dict, exc: StripeError, pm: dict | None) -> dict:
    error = {
        "code": exc.code,
        "doc_url": f"https://stripe.com/docs/error-codes/{(exc.code or '').replace('_', '-')}",
        "message": exc.message,
        "type": exc.type,
    }
    if exc.type == "card_error":
        error["decline_code"] = "generic_decline"
    if pm is not None:
        error["payment_method"] = copy.deepcopy(pm)
    return error


def _fail(store: Store, events: Events, seti: dict, exc: StripeError, pm=None) -> None:
    seti.update(
        status="requires_payment_method",
        next_action=None,
        payment_method=None,
        last_setup_error=_setup_error(seti, exc, pm),
    )
    events.emit("setup_intent.setup_failed", seti)


def _succeed(store: Store, events: Events, seti: dict, pm: dict) -> dict:
    if seti["customer"]:
        cards.attach(store, events, pm, seti["customer"])
    seti.update(status="succeeded", next_action=None, payment_method=pm["id"])
    seti["last_setup_error"] = None
    events.emit("setup_intent.succeeded", seti)
    return seti


def confirm(
    store: Store, events: Events, seti_id: str, card=None, three_d_secure=None, expiry=None
):
    """Confirm a SetupIntent with a test ``card`` number, or answer its 3-D Secure step.

    ``expiry`` is the ``(month, year)`` the reader typed (default: ``cards.EXPIRY``).

    ``three_d_secure`` is ``"complete"`` or ``"fail"`` for a SetupIntent waiting in
    ``requires_action``. Returns ``(setup_intent, error or None)``: a decline is part of
    the SetupIntent's state (``last_setup_error``), not a failed request, so it is kept.
    """
    seti = store.require(seti_id, "setup_intent", "setup_intent")
    if three_d_secure is not None:
        if seti["status"] != "requires_action":
            raise invalid("This SetupIntent is not waiting for authentication.", "setup_intent")
        pm = store.require(seti["payment_method"], "payment_method")
        if three_d_secure != "complete":
            error = cards.auth_failed("setup_intent")
            _fail(store, events, seti, error, pm)
            return seti, error
        return _succeed(store, events, seti, pm), None
    if seti["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise invalid(
            f"You cannot confirm this SetupIntent because it has a status of {seti['status']}.",
            code="setup_intent_unexpected_state",
        )
    number = cards.check_number(card)
    try:
        month, year = cards.check_expiry(store, *(expiry or (None, None)))
    except StripeError as error:
        if error.code != "expired_card":
            raise  # a malformed expiry is a bad request
        # A card past its expiry is declined, like any decline kept on the SetupIntent.
        _fail(store, events, seti, error)
        return seti, error
    pm = cards.payment_method(store, seti["livemode"], number, expiry=(month, year))
    if number == cards.DECLINE:
        error = StripeError(402, "Your card was declined.", type="card_error", code="card_declined")
        _fail(store, events, seti, error, pm)
        return seti, error
    if number == cards.THREE_D_SECURE:
        seti.update(
            status="requires_action",
            payment_method=pm["id"],
            next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure"}},
        )
        events.emit("setup_intent.requires_action", seti)
        return seti, None
    return _succeed(store, events, seti, pm), None
