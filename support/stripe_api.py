"""The only module that talks to Stripe.

One `StripeClient` per app, pinned to the API version the code was written
for, pointed at `STRIPE_API_BASE` when set (the emulator in development and
tests). Callers get plain values or Stripe objects back, and never see the
library's errors: every Stripe failure goes through one mapping (`mapped`)
into `StripeUnavailable` (a 502 page), saying whether trying again soon may
help (`transient`, Stripe's own retry advice), or into `StripeNotFound` when
Stripe answered that the object we named does not exist (not an outage:
trying again will not help). A webhook whose signature does not hold is
`BadSignature`.

Readers' requests (checkout creation, the thanks page's read, Billing Portal
sessions) first take a place in the readers' share of Stripe's budget
(support/stripe_budget.py); past it they are not sent and raise `StripeBusy`.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
    "invoice.upcoming",
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

    def __init__(self, message: str, stripe_message: str | None = None, code: str | None = None):
        super().__init__(message, transient=False, stripe_message=stripe_message, code=code)


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


class BadSignature(Exception):
    """A webhook body whose `Stripe-Signature` is missing, wrong or stale."""


def _reader_turn() -> None:
    """Take a place in the readers' share of Stripe's budget, or raise `StripeBusy`."""
    wait = stripe_budget.reader_turn()
    if wait:
        log.warning("Readers' Stripe share used up: a request was not sent")
        raise StripeBusy(max(math.ceil(wait), 1))


# Passing trouble when Stripe gives no advice: a rate limit, a conflict with a
# request still in flight (the library's own retry rule), Stripe's own errors.
TRANSIENT_STATUSES = frozenset({409, 429})


def not_found(error: stripe.StripeError) -> bool:
    """Whether Stripe's refusal says an object we named does not exist.

    Its code says so (`resource_missing`); its words too ("No such customer: …"),
    for an answer that carries no code.
    """
    if not isinstance(error, stripe.InvalidRequestError):
        return False
    return error.code == "resource_missing" or (error.user_message or "").startswith("No such ")


def _header(error: stripe.StripeError, name: str) -> str | None:
    """A header of Stripe's answer, by its lower-case name (None without an answer)."""
    for key, value in (error.headers or {}).items():
        if key.lower() == name:
            return value
    return None


def should_retry(error: stripe.StripeError) -> bool:
    """Whether trying again soon may help: Stripe's advice, else the kind of failure.

    Stripe says so itself in `Stripe-Should-Retry` when it can. Otherwise no
    answer at all (a timeout, a lost connection), a rate limit, a conflict or
    a server error is passing trouble, and any other answer is a refusal.
    """
    advice = _header(error, "stripe-should-retry")
    if advice in ("true", "false"):
        return advice == "true"
    status = error.http_status
    return status is None or status in TRANSIENT_STATUSES or status >= 500


def mapped(error: stripe.StripeError) -> StripeUnavailable:
    """`error` as the exception callers catch: `StripeNotFound` or `StripeUnavailable`.

    `stripe_message` keeps what Stripe itself said, when it answered (the
    library's own words about a lost connection are not Stripe's).
    """
    message = f"{type(error).__name__}: {error}"
    said = error.user_message if error.http_status is not None else None
    if not_found(error):
        return StripeNotFound(message, stripe_message=said, code=error.code)
    return StripeUnavailable(
        message, transient=should_retry(error), stripe_message=said, code=error.code
    )


@contextmanager
def _asking(what: str) -> Iterator[None]:
    """Run the Stripe call inside, raising its failure as `mapped` and logging it.

    Passing trouble is a warning; a refusal (our request was wrong, or the key)
    is an error; a missing object is the caller's to judge.
    """
    try:
        yield
    except stripe.StripeError as error:
        failure = mapped(error)
        if isinstance(failure, StripeNotFound):
            log.info("%s: Stripe has no such object (request %s)", what, error.request_id)
        elif failure.transient:
            log.warning("%s failed: %s (request %s)", what, error, error.request_id)
        else:
            log.error("%s refused: %s (request %s)", what, error, error.request_id)
        raise failure from error


@dataclass(frozen=True)
class CheckoutRequest:
    """What a reader chose, ready to become a Checkout Session."""

    amount: int
    currency: str
    frequency: str  # "month", "year" or "once"
    locale: str
    metadata: dict[str, str]
    # Hosted Checkout sends the reader back to one of these...
    success_url: str | None = None
    cancel_url: str | None = None
    # ...a session for our own pay page (`ui_mode: "elements"`) to this one.
    return_url: str | None = None
    customer_email: str | None = None
    # A supporter Stripe knows already (a gift restarted, one-time turned monthly): the
    # session pays as that customer, so the ledger keeps one supporter.
    customer: str | None = None
    product_name: str = "Support independent journalism"

    @property
    def elements(self) -> bool:
        """Whether the session is paid on our own page with the Payment Element."""
        return self.return_url is not None


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
        max_network_retries=config["STRIPE_NETWORK_RETRIES"],
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

    Hosted (Stripe's page, `success_url`/`cancel_url`) or, with a `return_url`,
    `ui_mode: "elements"` for our own pay page: Stripe then answers a
    `client_secret` for Stripe.js and sends the reader to `return_url` once paid.
    A reader's request: `StripeBusy` past the readers' share.
    """
    params: dict[str, Any] = {
        "line_items": [{"price_data": _price_data(request), "quantity": 1}],
        "locale": request.locale,
        "metadata": request.metadata,
    }
    if request.elements:
        params["ui_mode"] = "elements"
        params["return_url"] = request.return_url
    else:
        params["success_url"] = request.success_url
        params["cancel_url"] = request.cancel_url
    if request.customer:
        # Stripe takes one of customer, customer_email and customer_creation.
        params["customer"] = request.customer
    elif request.customer_email:
        params["customer_email"] = request.customer_email
    if request.frequency == "once":
        params["mode"] = "payment"
        params["submit_type"] = "donate"
        if not request.customer:
            # Every gift gets a Stripe customer of its own (subscriptions always do), so the
            # ledger keys it by customer, never by the address typed at Checkout.
            params["customer_creation"] = "always"
        params["payment_intent_data"] = {"metadata": request.metadata}
    else:
        params["mode"] = "subscription"
        params["subscription_data"] = {"metadata": request.metadata}
    _reader_turn()
    with _asking("Checkout Session create"):
        return client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )


class DomainExists(Exception):
    """Stripe already has a payment method domain for that name (`domain`: it, as a dict)."""

    def __init__(self, domain: dict):
        super().__init__(domain.get("domain_name"))
        self.domain = domain


def register_payment_method_domain(domain_name: str) -> dict:
    """Register `domain_name` for wallets in Elements (Apple Pay, Google Pay, Link).

    Stripe keeps one per name: one already there raises `DomainExists` carrying it,
    enabled again first if it had been disabled.
    """
    with _asking("Payment method domain list"):
        found = (
            client()
            .v1.payment_method_domains.list(params={"domain_name": domain_name, "limit": 1})
            .data
        )
    if found:
        existing = found[0]
        if not existing.enabled:
            with _asking(f"Enabling payment method domain {existing.id}"):
                existing = client().v1.payment_method_domains.update(
                    existing.id,
                    params={"enabled": True},
                    options={"idempotency_key": f"pmd-enable-{uuid.uuid4().hex}"},
                )
        raise DomainExists(existing.to_dict())
    with _asking(f"Payment method domain create for {domain_name}"):
        created = client().v1.payment_method_domains.create(
            params={"domain_name": domain_name},
            options={"idempotency_key": f"pmd-{domain_name}-{uuid.uuid4().hex}"},
        )
    return created.to_dict()


def verify_webhook(payload: bytes, header: str | None) -> dict:
    """Check a webhook's `Stripe-Signature` (300 s tolerance) and parse its JSON.

    The event stays a plain dict, which is what the inbox stores and the ledger
    reads. Raises `BadSignature` for a missing, wrong or stale signature and
    `ValueError` (`JSONInputError`) for a body that is not a JSON object.
    """
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise BadSignature("No webhook secret is configured")
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=300)
    except stripe.SignatureVerificationError as error:
        raise BadSignature(error.user_message or str(error)) from error
    except UnicodeDecodeError as error:
        raise BadSignature("The body is not UTF-8") from error
    # Strict (no repeated keys, bounded nesting): a signed body is still outside input.
    return json_input.loads_object(payload, max_depth=WEBHOOK_MAX_DEPTH, forbidden="\x00")


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
        with _asking(f"Stripe read of {object_id}"):
            found = resource.retrieve(object_id, params=params, options={"max_network_retries": 0})
    except StripeNotFound:
        return None
    return found.to_dict()


def retrieve_checkout_session(session_id: str) -> dict | None:
    """The Checkout Session as Stripe has it now, or None when Stripe does not know it.

    The thanks page's read, so a reader's: `StripeBusy` past the readers' share.
    """
    return _retrieve(client().v1.checkout.sessions, session_id, reader=True)


def retrieve_subscription(subscription_id: str) -> dict | None:
    """The subscription as Stripe has it now (items carry the billing period), with the
    card it is charged to expanded: the ledger keeps that card, without another read."""
    return _retrieve(client().v1.subscriptions, subscription_id, expand=["default_payment_method"])


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
    with _asking("Stripe list"):
        for obj in call(params=params).auto_paging_iter():
            yield obj.to_dict()


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
    with _asking("Webhook endpoint create"):
        endpoint = client().v1.webhook_endpoints.create(
            params={
                "url": url,
                "enabled_events": list(WEBHOOK_EVENTS),
                "api_version": API_VERSION,
                "description": "Reader support ledger",
            }
        )
    return endpoint.to_dict()


def create_billing_portal_session(
    customer_id: str, return_url: str, locale: str
) -> stripe.billing_portal.Session:
    """A Billing Portal session where the customer manages or cancels their gift.

    A reader's request: `StripeBusy` past the readers' share.
    """
    _reader_turn()
    with _asking(f"Billing Portal session create for {customer_id}"):
        return client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url, "locale": locale},
            # Each click is a new session; the key makes a network retry reuse this one.
            options={"idempotency_key": f"portal-{uuid.uuid4().hex}"},
        )


def delete_customer(customer_id: str) -> None:
    """Delete the customer at Stripe (erasure); one already gone counts as deleted.

    Stripe also cancels the customer's subscriptions, and sends the usual events.
    """
    try:
        with _asking(f"Delete of {customer_id}"):
            client().v1.customers.delete(customer_id)
    except StripeNotFound:
        return


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
    a `StripeUnavailable` that is not transient, with Stripe's own words in
    `stripe_message`.
    """
    params: dict[str, Any] = {"amount": amount, "metadata": {"requested_by": "staff"}}
    params["charge" if payment.startswith("ch_") else "payment_intent"] = payment
    if reason:
        params["reason"] = reason
    with _asking(f"Refund of {payment}"):
        refund = client().v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    return refund.to_dict()


def cancel_subscription(subscription_id: str, at_period_end: bool, idempotency_key: str) -> dict:
    """End a subscription now, or at the end of the period already paid for.

    Now: Stripe cancels it and sends `customer.subscription.deleted`. At period
    end: it stays active until then (`customer.subscription.updated` now, and
    `…deleted` when the period ends).
    """
    with _asking(f"Cancel of {subscription_id}"):
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
    return sub.to_dict()


# Supporters' own changes on the account page (support/account/actions.py): readers'
# requests, so each takes a place in the readers' share first (`StripeBusy` past it).
# Each carries the idempotency key of the change it makes, so a form sent twice, or
# the library's retry after a lost answer, changes the subscription once. None of
# them writes the ledger: the `customer.subscription.updated` that follows does.


def read_subscription_for_reader(subscription_id: str) -> dict | None:
    """The subscription as Stripe has it now (its item and product, to change the price)."""
    return _retrieve(client().v1.subscriptions, subscription_id, reader=True)


def _update_subscription(subscription_id: str, params: dict, idempotency_key: str) -> dict:
    _reader_turn()
    with _asking(f"Supporter's update of {subscription_id}"):
        sub = client().v1.subscriptions.update(
            subscription_id, params=params, options={"idempotency_key": idempotency_key}
        )
    return sub.to_dict()


def change_subscription_price(
    subscription_id: str,
    item: dict,
    amount: int,
    interval: str,
    idempotency_key: str,
) -> dict:
    """Bill `amount` (minor units, the subscription's currency) every `interval` from the
    next payment: the item's price replaced (`price_data`, its product kept), no proration."""
    price = item["price"]
    product = price["product"]
    params = {
        "items": [
            {
                "id": item["id"],
                "price_data": {
                    "currency": price["currency"],
                    "unit_amount": amount,
                    "recurring": {"interval": interval},
                    "product": product["id"] if isinstance(product, dict) else product,
                },
            }
        ],
        "proration_behavior": "none",
    }
    return _update_subscription(subscription_id, params, idempotency_key)


def pause_subscription(subscription_id: str, resumes_at: int, idempotency_key: str) -> dict:
    """Take no payment until `resumes_at` (unix time): invoices meanwhile are voided."""
    params = {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}
    return _update_subscription(subscription_id, params, idempotency_key)


def resume_subscription(subscription_id: str, idempotency_key: str) -> dict:
    """End a pause now (`pause_collection` cleared): the next renewal is paid again."""
    return _update_subscription(subscription_id, {"pause_collection": ""}, idempotency_key)


def cancel_subscription_with_reason(
    subscription_id: str, feedback: str, comment: str | None, idempotency_key: str
) -> dict:
    """End the gift at the end of the period paid for, with the supporter's reason
    (`cancellation_details`: one of Stripe's `feedback` values and their own words)."""
    details: dict[str, str] = {"feedback": feedback}
    if comment:
        details["comment"] = comment
    params = {"cancel_at_period_end": True, "cancellation_details": details}
    return _update_subscription(subscription_id, params, idempotency_key)


def keep_subscription(subscription_id: str, idempotency_key: str) -> dict:
    """Undo a pending cancellation: the gift goes on after the period's end."""
    return _update_subscription(subscription_id, {"cancel_at_period_end": False}, idempotency_key)


# The card on a subscription (support/ledger/cards.py, support/account/card.py).


def retrieve_payment_method(payment_method_id: str) -> dict | None:
    """The payment method (its `card`: brand, last 4, expiry), or None when Stripe has none.

    The worker's read, made with the subscription it pays for.
    """
    return _retrieve(client().v1.payment_methods, payment_method_id)


def create_setup_intent(customer_id: str, subscription_id: str, idempotency_key: str) -> dict:
    """A SetupIntent saving a new card for the customer's off-session renewals.

    Its metadata names the subscription the card is for. A reader's request:
    `StripeBusy` past the readers' share.
    """
    _reader_turn()
    with _asking(f"SetupIntent create for {customer_id}"):
        intent = client().v1.setup_intents.create(
            params={
                "customer": customer_id,
                "usage": "off_session",
                "payment_method_types": ["card"],
                "metadata": {"subscription": subscription_id},
            },
            options={"idempotency_key": idempotency_key},
        )
    return intent.to_dict()


def retrieve_setup_intent(setup_intent_id: str) -> dict | None:
    """The SetupIntent as Stripe has it now (its card expanded), or None.

    A reader's read: `StripeBusy` past the readers' share.
    """
    return _retrieve(
        client().v1.setup_intents, setup_intent_id, expand=["payment_method"], reader=True
    )


def set_subscription_payment_method(
    subscription_id: str, payment_method_id: str, idempotency_key: str
) -> dict:
    """Make `payment_method_id` the card the subscription's renewals are charged to.

    Stripe sends `customer.subscription.updated`, which writes the ledger. A
    reader's request: `StripeBusy` past the readers' share.
    """
    params = {"default_payment_method": payment_method_id}
    return _update_subscription(subscription_id, params, idempotency_key)


def open_invoices(subscription_id: str) -> list[dict]:
    """The subscription's open (finalised, unpaid) invoices, newest first; a reader's read."""
    _reader_turn()
    params = {"subscription": subscription_id, "status": "open", "limit": 10}
    with _asking(f"Open invoices of {subscription_id}"):
        found = client().v1.invoices.list(params=params, options={"max_network_retries": 0})
    return [invoice.to_dict() for invoice in found.data]


def pay_invoice(invoice_id: str, idempotency_key: str) -> dict:
    """Try an open invoice again now, with the subscription's current card.

    A decline is a `StripeUnavailable` that is not transient, `code`
    `card_declined`. A reader's request: `StripeBusy` past the readers' share.
    """
    _reader_turn()
    with _asking(f"Payment of {invoice_id}"):
        invoice = client().v1.invoices.pay(
            invoice_id, params={"off_session": True}, options={"idempotency_key": idempotency_key}
        )
    return invoice.to_dict()
