"""Paying a ``ui_mode=elements`` Checkout Session from the Stripe.js stand-in.

``confirm`` completes the session exactly as the hosted Pay button does (customer,
subscription and first invoice or PaymentIntent, events), with the card the reader
chose. A 3-D Secure card first answers ``requires_action``; the stand-in shows the
challenge, then confirms again with ``three_d_secure="complete"`` or ``"fail"``.
"""

from . import cards, payment_flow
from .errors import StripeError, invalid
from .store import Store
from .webhooks import Events


def check_secret(obj: dict, client_secret) -> None:
    """A 404 unless ``client_secret`` is the object's own (as Stripe.js calls are)."""
    if not client_secret or client_secret != obj.get("client_secret"):
        raise StripeError(
            404,
            f"No such {obj['object']}: '{obj['id']}'; the client secret does not match.",
            code="resource_missing",
            param="client_secret",
        )


def session_for(store: Store, events: Events, session_id: str, client_secret) -> dict:
    """The Elements session named by id and client secret (expired when due)."""
    session = store.require(session_id, "checkout.session")
    if session["ui_mode"] != "elements":
        raise invalid("This Checkout Session was not created with `ui_mode=elements`.")
    check_secret(session, client_secret)
    payment_flow.expire_if_due(store, events, session)
    return session


def confirm(store: Store, events: Events, session_id, client_secret, card=None, **details):
    """Pay the session with test ``card``, or answer its pending 3-D Secure step.

    ``details``: ``email``, ``name``, ``three_d_secure``. Returns ``{"status":
    "complete", "session"}`` or ``{"status": "requires_action"}``; a decline or a failed
    challenge raises a 402 (the session stays open, as on Stripe, and can be paid again).
    """
    session = session_for(store, events, session_id, client_secret)
    extra = store.extra[session_id]
    if details.get("three_d_secure") is not None:
        pending = extra.pop("pending_card", None)
        if pending is None:
            raise invalid("This Checkout Session is not waiting for authentication.")
        if details["three_d_secure"] != "complete":
            raise cards.auth_failed()
        number, email, name = pending
    else:
        number = cards.check_number(card)
        email, name = details.get("email"), details.get("name")
        if session["status"] == "open" and number == cards.THREE_D_SECURE:
            extra["pending_card"] = [number, email, name]
            return {"status": "requires_action", "session": session}
    decline, pm = number == cards.DECLINE, None
    if not decline and session["status"] == "open":
        pm = cards.payment_method(store, session["livemode"], number, details)
    paid = payment_flow.pay(store, events, session_id, email, name, decline, pm)
    return {"status": "complete", "session": paid}
