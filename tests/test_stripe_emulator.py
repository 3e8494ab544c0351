"""Stripe emulator: Checkout Session API, the hosted Pay page and signed webhooks.

The real ``stripe`` library talks to the emulator over HTTP; a small receiver
(tests/helpers/emulator.py) collects delivered webhooks and verifies them with
``stripe.Webhook``.
"""

import json

import pytest
import stripe

from devtools.stripe_emulator import Emulator
from devtools.stripe_emulator.errors import StripeError
from tests.helpers import emulator as base
from tests.helpers.emulator import (
    CANCEL,
    SECRET,
    SUCCESS,
    http,
    pay_on_page,
    payment_params,
    subscription_params,
)

receiver, emu, sc = base.receiver, base.emu, base.sc

SUBSCRIPTION_EVENTS = [
    "customer.created",
    "checkout.session.completed",
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
]


def test_create_subscription_session_shape(sc, emu):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.url == f"{emu.url}/c/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == (
        "open",
        "unpaid",
        "subscription",
    )
    assert (session.amount_total, session.currency) == (1000, "usd")
    assert session.metadata.to_dict() == {"lang": "ar", "donation": "42"}
    assert session.expires_at - session.created == 24 * 3600
    assert session.subscription is None and session.payment_intent is None
    assert (session.locale, session.customer_email, session.livemode) == (
        "en",
        "reader@example.com",
        False,
    )
    assert session.client_reference_id == "42"


def test_payment_session_with_created_price(sc):
    product = sc.v1.products.create(params={"name": "Gift"})
    price = sc.v1.prices.create(
        params={"currency": "eur", "unit_amount": 2500, "product": product.id}
    )
    params = payment_params(line_items=[{"price": price.id, "quantity": 2}], locale="auto")
    session = sc.v1.checkout.sessions.create(params={**params, "expand": ["line_items"]})
    assert (session.mode, session.amount_total, session.currency) == ("payment", 5000, "eur")
    assert session.submit_type == "donate"
    item = session.line_items.data[0]
    assert (item.price.id, item.quantity, item.description) == (price.id, 2, "Gift")


@pytest.mark.parametrize(
    "params, param",
    [
        (subscription_params(bogus="1"), "bogus"),
        (
            subscription_params(
                line_items=[{"price_data": {"currency": "usd", "colour": "red"}, "quantity": 1}]
            ),
            "line_items[0][price_data][colour]",
        ),
    ],
)
def test_unknown_parameter(sc, params, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.checkout.sessions.create(params=params)
    assert (caught.value.param, caught.value.code, caught.value.http_status) == (
        param,
        "parameter_unknown",
        400,
    )
    assert param in caught.value.user_message


def _price_data(**changes):
    data = subscription_params()["line_items"][0]["price_data"]
    data.update(changes)
    return [{"price_data": {k: v for k, v in data.items() if v is not None}, "quantity": 1}]


@pytest.mark.parametrize(
    "overrides, param, code",
    [
        (
            {"line_items": _price_data(unit_amount=49)},
            "line_items[0][price_data][unit_amount]",
            "amount_too_small",
        ),
        (
            {"line_items": _price_data(currency="try", unit_amount=500)},
            "line_items[0][price_data][unit_amount]",
            "amount_too_small",
        ),
        ({"locale": "ar"}, "locale", None),
        ({"mode": None}, "mode", "parameter_missing"),
        ({"line_items": _price_data(recurring=None)}, "line_items[0][price_data][recurring]", None),
        (
            {"line_items": _price_data(recurring={"interval": "fortnight"})},
            "line_items[0][price_data][recurring][interval]",
            None,
        ),
        ({"line_items": _price_data(currency="xyz")}, "line_items[0][price_data][currency]", None),
        (
            {"line_items": _price_data(unit_amount="ten")},
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_integer",
        ),
        ({"submit_type": "donate"}, "submit_type", None),
        ({"success_url": None}, "success_url", "parameter_missing"),
    ],
)
def test_invalid_session_params(sc, overrides, param, code):
    params = {k: v for k, v in subscription_params(**overrides).items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.checkout.sessions.create(params=params)
    assert caught.value.http_status == 400
    assert (caught.value.param, caught.value.code) == (param, code)


def test_recurring_price_rejected_in_payment_mode(sc):
    params = payment_params(line_items=subscription_params()["line_items"])
    with pytest.raises(stripe.InvalidRequestError, match="payment` mode"):
        sc.v1.checkout.sessions.create(params=params)


def test_failed_validation_creates_nothing(sc, emu):
    with pytest.raises(stripe.InvalidRequestError):
        sc.v1.checkout.sessions.create(params=subscription_params(locale="xx"))
    with pytest.raises(stripe.InvalidRequestError):
        sc.v1.checkout.sessions.create(
            params={**subscription_params(), "line_items": _price_data(unit_amount=1)}
        )
    assert emu.state()["objects"] == {}


def test_authentication(emu):
    status, _, body = http("GET", f"{emu.url}/v1/customers")
    assert status == 401
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    bad = stripe.StripeClient(
        "pk_test_oops", base_addresses={"api": emu.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.customers.list()
    live = stripe.StripeClient(
        "sk_live_abc", base_addresses={"api": emu.url}, max_network_retries=0
    )
    assert live.v1.customers.create(params={"email": "a@example.com"}).livemode is True


def test_configured_api_key_is_the_only_one_accepted():
    with Emulator(api_key="sk_test_right") as emulator:
        wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": emulator.url})
        with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
            wrong.v1.customers.list()
        right = stripe.StripeClient("sk_test_right", base_addresses={"api": emulator.url})
        assert right.v1.customers.list().data == []


def test_idempotency(sc, emu, receiver):
    options = {"idempotency_key": "donation-42"}
    first = sc.v1.checkout.sessions.create(params=subscription_params(), options=options)
    again = sc.v1.checkout.sessions.create(params=subscription_params(), options=options)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(emu.state()["objects"]["checkout.session"]) == 1
    with pytest.raises(stripe.IdempotencyError):
        sc.v1.checkout.sessions.create(params=subscription_params(locale="fr"), options=options)
    customer_opts = {"idempotency_key": "customer-1"}
    sc.v1.customers.create(params={"email": "a@example.com"}, options=customer_opts)
    sc.v1.customers.create(params={"email": "a@example.com"}, options=customer_opts)
    emu.wait_for_deliveries()
    assert receiver.types() == ["customer.created"]


def test_retrieve_unknown_session(sc):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.checkout.sessions.retrieve("cs_test_nope")
    err = caught.value
    assert (err.http_status, err.code) == (404, "resource_missing")
    assert err.user_message == "No such checkout.session: 'cs_test_nope'"


def test_hosted_page_pay_completes_subscription(sc, emu):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    status, _, page = http("GET", session.url)
    assert status == 200
    assert 'id="pay"' in page and 'id="cancel"' in page
    assert 'value="reader@example.com"' in page and "10.00 USD per month" in page

    status, headers, _ = pay_on_page(session.url)
    assert status == 303
    assert headers["Location"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)

    done = sc.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "customer", "invoice"]}
    )
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.customer_details.email == "reader@example.com"
    assert done.customer_details.name == "Rana Reader"
    assert done.customer.email == "reader@example.com"
    sub = done.subscription
    assert isinstance(sub, stripe.Subscription)
    assert (sub.status, sub.customer, sub.metadata.to_dict()) == (
        "active",
        done.customer.id,
        {"donation": "42"},
    )
    item = sub["items"].data[0]
    assert item.current_period_end - item.current_period_start == 30 * 86400
    assert sub.items.data[0].price.recurring.interval == "month"
    assert sub.latest_invoice == done.invoice.id

    invoice = done.invoice
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid",
        1000,
        "subscription_create",
    )
    assert invoice.parent.type == "subscription_details"
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.parent.subscription_details.metadata.to_dict() == {"donation": "42"}
    assert invoice.lines.data[0].parent.subscription_item_details.subscription_item == item.id
    assert invoice.status_transitions.paid_at is not None
    pi = sc.v1.payment_intents.retrieve(invoice.payments.data[0].payment.payment_intent)
    charge = sc.v1.charges.retrieve(pi.latest_charge)
    assert (charge.payment_intent, charge.customer, charge.amount) == (pi.id, sub.customer, 1000)
    assert (charge.amount_refunded, charge.refunded, charge.status) == (0, False, "succeeded")


def test_subscription_webhooks_signed_and_in_order(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    pay_on_page(session.url)
    events = receiver.events()
    assert [e.type for e in events] == SUBSCRIPTION_EVENTS
    by_type = {e.type: e for e in events}
    completed = by_type["checkout.session.completed"].data.object
    assert (completed.id, completed.status, completed.metadata.lang) == (
        session.id,
        "complete",
        "ar",
    )
    assert by_type["invoice.created"].data.object.status == "draft"
    assert by_type["invoice.finalized"].data.object.status == "open"
    assert by_type["invoice.paid"].data.object.status == "paid"
    assert all(e.api_version == "2026-10-28.endive" and e.livemode is False for e in events)
    headers, body = receiver.requests[0]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith("Stripe/1.0")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body + b" ", headers["Stripe-Signature"], SECRET)
    assert [d.result for d in emu.deliveries] == [200] * len(SUBSCRIPTION_EVENTS)


@pytest.mark.parametrize("creation", [None, "if_required", "always"])
def test_payment_mode_pay(sc, emu, receiver, creation):
    """As at Stripe, a one-time payment makes a customer only with customer_creation=always."""
    params = payment_params(customer_creation=creation) if creation else payment_params()
    session = sc.v1.checkout.sessions.create(params=params)
    done = emu.pay(session.id, email="giver@example.com", name="Giver")
    created = ["customer.created"] if creation == "always" else []
    assert receiver.types() == [
        *created,
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
    ]
    pi = sc.v1.payment_intents.retrieve(
        done["payment_intent"], params={"expand": ["latest_charge"]}
    )
    assert (pi.status, pi.amount, pi.metadata.donation) == ("succeeded", 1000, "7")
    assert pi.latest_charge.billing_details.email == "giver@example.com"
    assert done["subscription"] is None and done["customer_details"]["name"] == "Giver"
    if creation == "always":
        assert done["customer"].startswith("cus_") and pi.customer == done["customer"]
        assert emu.get(done["customer"])["email"] == "giver@example.com"
    else:
        assert done["customer"] is None and pi.customer is None
        assert pi.latest_charge.customer is None


def test_declined_card_creates_nothing_and_cancel_redirects(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    status, _, page = pay_on_page(session.url, email="fail@example.com")
    assert status == 402 and "Your card was declined." in page
    status, _, page = pay_on_page(session.url, card="4000000000000002")
    assert status == 402
    assert "customer" not in emu.state()["objects"]
    assert receiver.requests == []
    assert sc.v1.checkout.sessions.retrieve(session.id).status == "open"
    with pytest.raises(StripeError) as caught:
        emu.pay(session.id, email="fail@example.com")
    assert (caught.value.status, caught.value.code) == (402, "card_declined")
    status, headers, _ = http("POST", session.url, {"action": "cancel"})
    assert (status, headers["Location"]) == (303, CANCEL)


def test_pages_for_completed_and_unknown_sessions(sc, emu):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    emu.pay(session.id)
    status, _, page = http("GET", session.url)
    assert status == 200 and "already complete" in page and 'id="pay"' not in page
    assert http("GET", f"{emu.url}/c/pay/cs_test_missing")[0] == 404
    status, _, _ = pay_on_page(session.url)
    assert status == 200
    assert len(emu.state()["objects"]["subscription"]) == 1


def test_existing_customer_is_reused(sc, emu, receiver):
    customer = sc.v1.customers.create(params={"email": "known@example.com", "name": "Known"})
    params = subscription_params(customer=customer.id)
    del params["customer_email"]
    session = sc.v1.checkout.sessions.create(params=params)
    assert 'value="known@example.com"' in http("GET", session.url)[2]
    done = emu.pay(session.id, email="known@example.com")
    assert done["customer"] == customer.id
    assert "customer.created" not in receiver.types()[1:]
    assert len(emu.state()["objects"]["customer"]) == 1


def test_session_expiry(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    expired = sc.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    emu.wait_for_deliveries()
    assert receiver.types() == ["checkout.session.expired"]
    assert "expired" in http("GET", session.url)[2]
    with pytest.raises(stripe.InvalidRequestError):
        sc.v1.checkout.sessions.expire(session.id)
    later = sc.v1.checkout.sessions.create(params=subscription_params())
    emu.advance(24 * 3600 + 1)
    assert sc.v1.checkout.sessions.retrieve(later.id).status == "expired"
