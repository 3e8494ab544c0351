"""Stripe emulator: Checkout Sessions for Elements, paid the way the Stripe.js stand-in pays.

The stand-in's card form calls ``POST /v3/checkout_sessions/{id}/confirm``; these tests
make the same calls over HTTP and look at the result through the real ``stripe`` library.
"""

import json

import pytest
import stripe

from tests.helpers import emulator as base
from tests.helpers.emulator import http, payment_params, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc
RETURN = "https://news.example.org/thanks?session_id={CHECKOUT_SESSION_ID}"
SUCCESS, DECLINE, AUTH = "4242424242424242", "4000000000000002", "4000002500003155"


def elements(params: dict, **overrides) -> dict:
    """The app's parameters for an Elements session: a return URL, no success/cancel URL."""
    del params["success_url"], params["cancel_url"]
    return {**params, "ui_mode": "elements", "return_url": RETURN, **overrides}


def confirm(emu, session, **form) -> tuple[int, dict]:
    """The stand-in's confirm call: (status, JSON body)."""
    form.setdefault("client_secret", session.client_secret)
    url = f"{emu.url}/v3/checkout_sessions/{session.id}/confirm"
    status, _headers, text = http("POST", url, form)
    return status, json.loads(text)


def test_elements_session_has_a_client_secret_and_no_hosted_url(sc, emu):
    session = sc.v1.checkout.sessions.create(params=elements(subscription_params()))
    assert session.ui_mode == "elements"
    assert session.url is None
    assert session.client_secret.startswith(session.id + "_secret_")
    assert session.return_url == RETURN
    assert session.success_url is None and session.cancel_url is None
    status, _, _ = http("GET", f"{emu.url}/c/pay/{session.id}")
    assert status == 404
    hosted = sc.v1.checkout.sessions.create(params=subscription_params())
    assert hosted.ui_mode == "hosted_page" and hosted.client_secret is None and hosted.url


@pytest.mark.parametrize(
    "params, param, code",
    [
        (elements(subscription_params(), success_url=RETURN), "success_url", None),
        (
            {k: v for k, v in elements(subscription_params()).items() if k != "return_url"},
            "return_url",
            "parameter_missing",
        ),
        (subscription_params(return_url=RETURN), "return_url", None),
        (subscription_params(ui_mode="embedded_page"), "ui_mode", None),
    ],
)
def test_elements_session_parameters_are_checked(sc, params, param, code):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.checkout.sessions.create(params=params)
    assert caught.value.param == param
    if code:
        assert caught.value.code == code


def test_success_card_completes_a_subscription_as_the_pay_button_does(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=elements(subscription_params()))
    status, body = confirm(emu, session, card=SUCCESS)
    assert status == 200 and body["status"] == "complete"
    assert body["session"]["status"] == {"type": "complete", "paymentStatus": "paid"}
    assert body["return_url"] == RETURN.replace("{CHECKOUT_SESSION_ID}", session.id)
    emu.wait_for_deliveries()
    assert receiver.types() == [
        "customer.created",
        "payment_method.attached",
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    paid = sc.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    assert paid.status == "complete" and paid.payment_status == "paid"
    pm = sc.v1.payment_methods.retrieve(paid.subscription.default_payment_method)
    assert pm.customer == paid.customer and pm.card.last4 == "4242"
    invoice = sc.v1.invoices.retrieve(paid.invoice)
    pi = sc.v1.payment_intents.retrieve(invoice.payments.data[0].payment.payment_intent)
    assert pi.payment_method == pm.id and pi.status == "succeeded"


def test_success_card_pays_a_one_time_gift(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=elements(payment_params()))
    status, _ = confirm(emu, session, card=SUCCESS)
    assert status == 200
    emu.wait_for_deliveries()
    assert receiver.types() == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
    ]
    paid = sc.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    pm = sc.v1.payment_methods.retrieve(paid.payment_intent.payment_method)
    assert pm.customer is None  # a one-time payment does not save the card


def test_declined_card_creates_nothing_and_leaves_the_session_open(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=elements(subscription_params()))
    status, body = confirm(emu, session, card=DECLINE)
    assert status == 402
    assert body["error"]["code"] == "card_declined" and body["error"]["type"] == "card_error"
    emu.wait_for_deliveries()
    assert receiver.types() == []
    assert sc.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert emu.state()["objects"].get("customer") is None
    assert confirm(emu, session, card=SUCCESS)[0] == 200


def test_three_d_secure_asks_for_a_step_then_pays_or_fails(sc, emu, receiver):
    session = sc.v1.checkout.sessions.create(params=elements(subscription_params()))
    status, body = confirm(emu, session, card=AUTH)
    assert (status, body["status"]) == (200, "requires_action")
    status, body = confirm(emu, session, three_d_secure="fail")
    assert status == 402
    assert body["error"]["code"] == "payment_intent_authentication_failure"
    assert sc.v1.checkout.sessions.retrieve(session.id).status == "open"
    # Nothing waits for authentication any more.
    assert confirm(emu, session, three_d_secure="complete")[0] == 400
    assert confirm(emu, session, card=AUTH)[1]["status"] == "requires_action"
    status, body = confirm(emu, session, three_d_secure="complete")
    assert (status, body["status"]) == (200, "complete")
    paid = sc.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    pm = sc.v1.payment_methods.retrieve(paid.subscription.default_payment_method)
    assert pm.card.last4 == "3155"


def test_confirm_refuses_wrong_secrets_unknown_cards_and_paid_sessions(sc, emu):
    session = sc.v1.checkout.sessions.create(params=elements(payment_params()))
    status, body = confirm(emu, session, card=SUCCESS, client_secret=session.id + "_secret_x")
    assert status == 404 and body["error"]["param"] == "client_secret"
    status, body = confirm(emu, session, card="4111 1111 1111 1112")
    assert status == 402 and body["error"]["code"] == "incorrect_number"
    assert confirm(emu, session, card="4242 4242 4242 4242")[0] == 200
    status, body = confirm(emu, session, card=SUCCESS)
    assert status == 400 and body["error"]["code"] == "checkout_session_inactive"
    hosted = sc.v1.checkout.sessions.create(params=payment_params())
    status, _, _ = http(
        "POST", f"{emu.url}/v3/checkout_sessions/{hosted.id}/confirm", {"card": SUCCESS}
    )
    assert status == 400


def test_session_view_for_the_stand_in(sc, emu):
    session = sc.v1.checkout.sessions.create(params=elements(subscription_params()))
    url = f"{emu.url}/v3/checkout_sessions/{session.id}?client_secret={session.client_secret}"
    status, headers, text = http("GET", url)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    view = json.loads(text)
    assert view["status"] == {"type": "open"} and view["canConfirm"] is True
    assert view["total"]["total"] == {"amount": "10.00 USD", "minorUnitsAmount": 1000}
    assert view["lineItems"][0]["name"] == "Monthly support"
    assert view["lineItems"][0]["recurring"]["interval"] == "month"
    assert view["recurring"]["interval"] == "month" and view["recurring"]["intervalCount"] == 1
    assert view["minorUnitsAmountDivisor"] == 100
    assert http("GET", url.replace("_secret_", "_secret_x"))[0] == 404


def test_emulator_helper_confirms_like_the_stand_in(sc, emu):
    session = sc.v1.checkout.sessions.create(params=elements(payment_params()))
    with pytest.raises(Exception, match="declined"):
        emu.confirm_checkout(session.id, card=DECLINE)
    assert emu.confirm_checkout(session.id)["status"] == "complete"


def test_emulator_client_confirms_over_http(sc, emu):
    """Another process (``make run``'s emulator) is driven through /_emulator/ routes."""
    from devtools.stripe_emulator import EmulatorClient, EmulatorError

    client = EmulatorClient(emu.url)
    session = sc.v1.checkout.sessions.create(params=elements(subscription_params()))
    with pytest.raises(EmulatorError) as caught:
        client.confirm_checkout(session.id, card=DECLINE)
    assert caught.value.status == 402
    assert client.confirm_checkout(session.id, card=AUTH)["status"] == "requires_action"
    done = client.confirm_checkout(session.id, card=None, three_d_secure="complete")
    assert done["status"] == "complete" and done["session"]["subscription"]
    seti = sc.v1.setup_intents.create(params={"customer": done["session"]["customer"]})
    assert client.confirm_setup(seti.id)["status"] == "succeeded"
