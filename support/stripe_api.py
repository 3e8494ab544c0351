"""The only module that talks to Stripe.

One `StripeClient` per app, pinned to the API version the code was written
for, pointed at `STRIPE_API_BASE` when set (the emulator in development and
tests). Callers get plain values or Stripe objects back; every Stripe failure
that a reader could meet becomes `StripeUnavailable` (a 502 page).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from flask import current_app

log = logging.getLogger(__name__)

API_VERSION = "2026-10-28.endive"

# The events the webhook endpoint subscribes to (and the ledger handles).
WEBHOOK_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "customer.updated",
)


class StripeUnavailable(Exception):
    """Stripe could not do what we asked (down, erroring, or refusing)."""


@dataclass(frozen=True)
class CheckoutRequest:
    """What a reader chose, ready to become a Checkout Session."""

    amount: int
    currency: str
    frequency: str  # "month", "year" or "once"
    success_url: str
    cancel_url: str
    locale: str
    metadata: dict[str, str]
    customer_email: str | None = None
    product_name: str = "Support independent journalism"


def client() -> stripe.StripeClient:
    """The app's configured StripeClient, built once per app."""
    existing = current_app.extensions.get("stripe_client")
    if existing is not None:
        return existing
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    new = stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        stripe_version=API_VERSION,
        base_addresses={"api": base} if base else None,
        # A reader is waiting: fail within seconds rather than hang a worker.
        http_client=stripe.RequestsClient(timeout=(5, 20)),
        max_network_retries=1,
    )
    current_app.extensions["stripe_client"] = new
    return new


def _price_data(request: CheckoutRequest) -> dict[str, Any]:
    product_id = current_app.config.get("STRIPE_PRODUCT_ID")
    data: dict[str, Any] = {"currency": request.currency, "unit_amount": request.amount}
    if product_id:
        data["product"] = product_id
    else:
        data["product_data"] = {"name": request.product_name}
    if request.frequency != "once":
        data["recurring"] = {"interval": request.frequency}
    return data


def create_checkout_session(
    request: CheckoutRequest, idempotency_key: str
) -> stripe.checkout.Session:
    """Create a Checkout Session for one gift; the same key gives the same session."""
    params: dict[str, Any] = {
        "line_items": [{"price_data": _price_data(request), "quantity": 1}],
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "locale": request.locale,
        "metadata": request.metadata,
    }
    if request.customer_email:
        params["customer_email"] = request.customer_email
    if request.frequency == "once":
        params["mode"] = "payment"
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": request.metadata}
    else:
        params["mode"] = "subscription"
        params["subscription_data"] = {"metadata": request.metadata}
    try:
        return client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        log.error("Checkout Session create failed: %s (request %s)", error, error.request_id)
        raise StripeUnavailable(str(error)) from error


def retrieve_checkout_session(session_id: str) -> stripe.checkout.Session | None:
    """The session, or None when Stripe does not know it."""
    try:
        return client().v1.checkout.sessions.retrieve(session_id)
    except stripe.InvalidRequestError as error:
        if error.code == "resource_missing":
            return None
        raise StripeUnavailable(str(error)) from error
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error


def construct_event(payload: bytes, signature: str) -> stripe.Event:
    """Verify a webhook's signature (300 s tolerance) and parse it.

    Raises `stripe.SignatureVerificationError` or `ValueError` for bad input.
    """
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise stripe.SignatureVerificationError("No webhook secret is configured", signature)
    return stripe.Webhook.construct_event(payload, signature, secret, tolerance=300)
