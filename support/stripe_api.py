"""The only module that talks to Stripe.

One `StripeClient` per app, pinned to the API version the code was written
for, pointed at `STRIPE_API_BASE` when set (the emulator in development and
tests). Callers get plain values or Stripe objects back; every Stripe failure
that a reader could meet becomes `StripeUnavailable` (a 502 page), except an
answer that the object we named does not exist there, which is
`StripeNotFound` (not an outage: trying again will not help).

Readers' requests (checkout creation, the thanks page's read, Billing Portal
sessions) first take a place in the readers' share of Stripe's budget
(support/stripe_budget.py); past it they are not sent and raise `StripeBusy`.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import stripe
from flask import current_app

from support import json_input, stripe_budget

log = logging.getLogger(__name__)

API_VERSION = "2026-10-28.endive"
# Stripe's events nest a few levels (event, data, object, items, price); far more is not one.
WEBHOOK_MAX_DEPTH = 32

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
    """Stripe could not do what we asked (down, erroring, or refusing).

    `transient`: trying again in a little while may well work (rate limited,
    Stripe's own trouble, no answer), as opposed to a request Stripe refused.
    `stripe_message` and `code`: what Stripe itself said, when it answered
    (shown to staff: "Refund amount ($9.00) is greater than unrefunded amount …").
    """

    def __init__(
        self,
        message: str,
        transient: bool = True,
        stripe_message: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.transient = transient
        self.stripe_message = stripe_message
        self.code = code


class StripeNotFound(StripeUnavailable):
    """Stripe answered that the object we named does not exist ("No such customer").

    A deleted customer, or one a development emulator no longer has. It is a
    `StripeUnavailable` that is not transient, so callers that only know the
    outage still refuse safely; readers' pages tell it apart.
    """

    def __init__(self, message: str):
        super().__init__(message, transient=False)


class StripeBusy(StripeUnavailable):
    """The readers' share of Stripe's requests is used up for now: nothing was sent.

    A `StripeUnavailable`, so callers that only know the outage still refuse
    safely (and give back what they claimed); readers' pages answer it with
    "try again in a moment" rather than a 502. `retry_after`: whole seconds
    until the share has room again.
    """

    def __init__(self, retry_after: int):
        super().__init__("The readers' share of Stripe's requests is used up", transient=True)
        self.retry_after = retry_after


def _reader_turn() -> None:
    """Take a place in the readers' share of Stripe's budget, or raise `StripeBusy`."""
    wait = stripe_budget.reader_turn()
    if wait:
        log.warning("Readers' Stripe share used up: a request was not sent")
        raise StripeBusy(max(math.ceil(wait), 1))


def _missing(error: stripe.StripeError) -> bool:
    """Whether Stripe's refusal says an object we named does not exist."""
    return isinstance(error, stripe.InvalidRequestError) and error.code == "resource_missing"


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
        # A reader (or the worker's lease) is waiting: fail within seconds rather than hang.
        http_client=stripe.RequestsClient(timeout=(5, config["STRIPE_TIMEOUT"])),
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
    """Create a Checkout Session for one gift; the same key gives the same session.

    A reader's request: `StripeBusy` past the readers' share.
    """
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
        # Every gift gets a Stripe customer of its own (subscriptions always do), so the
        # ledger keys it by customer, never by the address typed at Checkout.
        params["customer_creation"] = "always"
        params["payment_intent_data"] = {"metadata": request.metadata}
    else:
        params["mode"] = "subscription"
        params["subscription_data"] = {"metadata": request.metadata}
    _reader_turn()
    try:
        return client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        log.error("Checkout Session create failed: %s (request %s)", error, error.request_id)
        raise StripeUnavailable(str(error)) from error


def verify_webhook(payload: bytes, header: str | None) -> dict:
    """Check a webhook's `Stripe-Signature` (300 s tolerance) and parse its JSON.

    The event stays a plain dict, which is what the inbox stores and the ledger
    reads. Raises `stripe.SignatureVerificationError`
    for a missing, wrong or stale signature and `ValueError` (`JSONInputError`) for a
    body that is not a JSON object.
    """
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise stripe.SignatureVerificationError("No webhook secret is configured", header)
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=300)
    except UnicodeDecodeError as error:
        raise stripe.SignatureVerificationError("The body is not UTF-8", header) from error
    # Strict (no repeated keys, bounded nesting): a signed body is still outside input.
    return json_input.loads_object(payload, max_depth=WEBHOOK_MAX_DEPTH, forbidden="\x00")


def _unavailable(error: stripe.StripeError) -> StripeUnavailable:
    """`error` as StripeUnavailable, saying whether trying again soon may help.

    Stripe says so itself in `Stripe-Should-Retry` when it can; otherwise a
    rate limit, a conflict, a server error or no answer at all is passing.
    """
    should_retry = (error.headers or {}).get("stripe-should-retry")
    status = error.http_status
    if should_retry in ("true", "false"):
        transient = should_retry == "true"
    else:
        transient = status is None or status in (409, 429) or status >= 500
    return StripeUnavailable(
        f"{type(error).__name__}: {error}",
        transient=transient,
        stripe_message=error.user_message if status is not None else None,
        code=error.code,
    )


def _retrieve(
    resource, object_id: str, expand: list[str] | None = None, reader: bool = False
) -> dict | None:
    """One object as a plain dict; None when Stripe has no such object.

    For the worker: the read first spends from the workers' shared budget, and
    the library does not retry; a failure is kept on the event with the time
    of its next attempt instead (see support/webhooks/applying.py). A
    `reader`'s read takes a place in the readers' share instead, or is not sent.
    """
    if reader:
        _reader_turn()
    else:
        stripe_budget.spend()
    params = {"expand": expand} if expand else None
    try:
        found = resource.retrieve(object_id, params=params, options={"max_network_retries": 0})
    except stripe.InvalidRequestError as error:
        if error.http_status == 404 and error.code == "resource_missing":
            return None
        raise _unavailable(error) from error
    except stripe.StripeError as error:
        log.warning("Stripe read of %s failed: %s", object_id, error)
        raise _unavailable(error) from error
    return found.to_dict()


def retrieve_checkout_session(session_id: str) -> dict | None:
    """The Checkout Session as Stripe has it now, or None when Stripe does not know it.

    The thanks page's read, so a reader's: `StripeBusy` past the readers' share.
    """
    return _retrieve(client().v1.checkout.sessions, session_id, reader=True)


def retrieve_subscription(subscription_id: str) -> dict | None:
    """The subscription as Stripe has it now (items carry the billing period)."""
    return _retrieve(client().v1.subscriptions, subscription_id)


def retrieve_invoice(invoice_id: str) -> dict | None:
    """The invoice as Stripe has it now, with its payments (to find the charge)."""
    return _retrieve(client().v1.invoices, invoice_id, expand=["payments"])


def retrieve_charge(charge_id: str) -> dict | None:
    """The charge as Stripe has it now: refunded amount, disputed flag."""
    return _retrieve(client().v1.charges, charge_id)


def retrieve_payment_intent(payment_intent_id: str) -> dict | None:
    """The payment intent with its latest charge expanded."""
    return _retrieve(client().v1.payment_intents, payment_intent_id, expand=["latest_charge"])


def retrieve_customer(customer_id: str) -> dict | None:
    """The customer as Stripe has it now (None, or `deleted: true`, when gone)."""
    return _retrieve(client().v1.customers, customer_id)


def _paged(call, params: dict[str, Any]) -> Iterator[dict]:
    try:
        for obj in call(params=params).auto_paging_iter():
            yield obj.to_dict()
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error


def list_subscriptions(created_since: int | None = None) -> Iterator[dict]:
    """Every subscription, canceled ones included, newest first, page by page."""
    params: dict[str, Any] = {"status": "all", "limit": 100}
    if created_since is not None:
        params["created"] = {"gte": created_since}
    return _paged(client().v1.subscriptions.list, params)


def list_invoices(created_since: int | None = None) -> Iterator[dict]:
    """Every invoice, newest first, page by page (with their payments)."""
    params: dict[str, Any] = {"limit": 100, "expand": ["data.payments"]}
    if created_since is not None:
        params["created"] = {"gte": created_since}
    return _paged(client().v1.invoices.list, params)


def create_webhook_endpoint(url: str) -> dict:
    """Create the endpoint for `url` with our API version and events; has its `secret`."""
    try:
        endpoint = client().v1.webhook_endpoints.create(
            params={
                "url": url,
                "enabled_events": list(WEBHOOK_EVENTS),
                "api_version": API_VERSION,
                "description": "Reader support ledger",
            }
        )
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error
    return endpoint.to_dict()


def create_billing_portal_session(
    customer_id: str, return_url: str, locale: str
) -> stripe.billing_portal.Session:
    """A Billing Portal session where the customer manages or cancels their gift.

    A reader's request: `StripeBusy` past the readers' share.
    """
    _reader_turn()
    try:
        return client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url, "locale": locale},
            # Each click is a new session; the key makes a network retry reuse this one.
            options={"idempotency_key": f"portal-{uuid.uuid4().hex}"},
        )
    except stripe.StripeError as error:
        if _missing(error):
            log.warning("Billing Portal: Stripe has no customer %s", customer_id)
            raise StripeNotFound(str(error)) from error
        log.error("Billing Portal session create failed: %s (request %s)", error, error.request_id)
        raise StripeUnavailable(str(error)) from error


def delete_customer(customer_id: str) -> None:
    """Delete the customer at Stripe (erasure); one already gone counts as deleted.

    Stripe also cancels the customer's subscriptions, and sends the usual events.
    """
    try:
        client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError as error:
        if error.code == "resource_missing":
            return
        raise StripeUnavailable(str(error)) from error
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error


def list_charges(created_since: int | None = None) -> Iterator[dict]:
    """Every charge, newest first, page by page (refunds and disputes for reconcile)."""
    params: dict[str, Any] = {"limit": 100}
    if created_since is not None:
        params["created"] = {"gte": created_since}
    return _paged(client().v1.charges.list, params)


# Staff actions on a supporter (support/staff/actions.py). Each takes the
# idempotency key of the confirmation form that asked, so a double submit or the
# library's retry after a lost answer acts once. None of them writes the ledger:
# the webhook Stripe sends afterwards does.


def create_refund(payment: str, amount: int, idempotency_key: str, reason: str | None) -> dict:
    """Refund `amount` (minor units) of a charge (`ch_…`) or payment intent (`pi_…`).

    Stripe refuses more than is left unrefunded, a disputed charge, and so on:
    `StripeUnavailable` with Stripe's own words in `stripe_message`.
    """
    params: dict[str, Any] = {"amount": amount, "metadata": {"requested_by": "staff"}}
    params["charge" if payment.startswith("ch_") else "payment_intent"] = payment
    if reason:
        params["reason"] = reason
    try:
        refund = client().v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        log.warning("Refund of %s failed: %s (request %s)", payment, error, error.request_id)
        raise _unavailable(error) from error
    return refund.to_dict()


def cancel_subscription(subscription_id: str, at_period_end: bool, idempotency_key: str) -> dict:
    """End a subscription now, or at the end of the period already paid for.

    Now: Stripe cancels it and sends `customer.subscription.deleted`. At period
    end: it stays active until then (`customer.subscription.updated` now, and
    `…deleted` when the period ends).
    """
    try:
        if at_period_end:
            sub = client().v1.subscriptions.update(
                subscription_id,
                params={"cancel_at_period_end": True},
                options={"idempotency_key": idempotency_key},
            )
        else:
            # A DELETE: Stripe ignores idempotency keys there, and cancelling twice
            # is refused rather than done twice.
            sub = client().v1.subscriptions.cancel(subscription_id)
    except stripe.StripeError as error:
        log.warning(
            "Cancel of %s failed: %s (request %s)", subscription_id, error, error.request_id
        )
        raise _unavailable(error) from error
    return sub.to_dict()


DASHBOARD = "https://dashboard.stripe.com/"
# Where Stripe's dashboard shows each kind of object, by id prefix.
DASHBOARD_PATHS = {
    "cus_": "customers",
    "sub_": "subscriptions",
    "pi_": "payments",
    "ch_": "payments",
    "in_": "invoices",
    "evt_": "events",
}


def dashboard_url(object_id: str | None) -> str | None:
    """The object's page in Stripe's dashboard (under `test/` with a test key); None
    for an id it has no page for."""
    if not object_id:
        return None
    mode = "" if current_app.config["STRIPE_LIVEMODE"] else "test/"
    for prefix, path in DASHBOARD_PATHS.items():
        if object_id.startswith(prefix):
            return f"{DASHBOARD}{mode}{path}/{object_id}"
    return None
