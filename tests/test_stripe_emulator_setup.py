"""Stripe emulator: SetupIntents, saved cards, invoices.pay, subscription changes, domains."""

import json

import pytest
import stripe

from devtools.stripe_emulator import Emulator, EmulatorClient
from tests.helpers import emulator as base
from tests.helpers.emulator import http, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc
SUCCESS, DECLINE, AUTH = "4242424242424242", "4000000000000002", "4000002500003155"
DECLINE_LATER = "4000000000000341"


def start(sc, emu, receiver) -> dict:
    """A paid monthly subscription (as a dict), webhooks cleared."""
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    done = emu.pay(session.id)
    emu.wait_for_deliveries()
    receiver.requests.clear()
    return emu.get(done["subscription"])


def confirm_setup(emu, seti, **form) -> tuple[int, dict]:
    form.setdefault("client_secret", seti.client_secret)
    status, _, text = http("POST", f"{emu.url}/v3/setup_intents/{seti.id}/confirm", form)
    return status, json.loads(text)


def saved_card(sc, emu, customer, card=SUCCESS) -> str:
    seti = sc.v1.setup_intents.create(params={"customer": customer, "usage": "off_session"})
    assert confirm_setup(emu, seti, card=card)[0] == 200
    return sc.v1.setup_intents.retrieve(seti.id).payment_method


def test_setup_intent_saves_a_card_on_the_customer(sc, emu, receiver):
    customer = sc.v1.customers.create(params={"email": "rana@example.com"})
    seti = sc.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session"})
    assert seti.status == "requires_payment_method" and seti.usage == "off_session"
    assert seti.client_secret.startswith(seti.id + "_secret_")
    status, body = confirm_setup(emu, seti, card=SUCCESS)
    assert status == 200 and body["status"] == "succeeded"
    done = sc.v1.setup_intents.retrieve(seti.id, params={"expand": ["payment_method"]})
    assert done.status == "succeeded" and done.payment_method.customer == customer.id
    listed = sc.v1.payment_methods.list(params={"customer": customer.id})
    assert [pm.id for pm in listed.data] == [done.payment_method.id]
    emu.wait_for_deliveries()
    assert receiver.types() == [
        "customer.created",
        "setup_intent.created",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]


def test_setup_intent_decline_and_three_d_secure(sc, emu, receiver):
    customer = sc.v1.customers.create(params={"email": "rana@example.com"})
    seti = sc.v1.setup_intents.create(params={"customer": customer.id, "usage": "on_session"})
    status, body = confirm_setup(emu, seti, card=DECLINE)
    assert status == 200 and body["status"] == "requires_payment_method"
    failed = sc.v1.setup_intents.retrieve(seti.id)
    assert failed.last_setup_error.code == "card_declined" and failed.payment_method is None
    assert confirm_setup(emu, seti, card=AUTH)[1]["status"] == "requires_action"
    assert sc.v1.setup_intents.retrieve(seti.id).next_action.type == "use_stripe_sdk"
    status, body = confirm_setup(emu, seti, three_d_secure="fail")
    assert body["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert confirm_setup(emu, seti, card=AUTH)[1]["status"] == "requires_action"
    assert confirm_setup(emu, seti, three_d_secure="complete")[1]["status"] == "succeeded"
    assert sc.v1.payment_methods.list(params={"customer": customer.id}).data[0].card.last4 == "3155"
    status, body = confirm_setup(emu, seti, card=SUCCESS)
    assert status == 400 and body["error"]["code"] == "setup_intent_unexpected_state"
    assert confirm_setup(emu, seti, card=SUCCESS, client_secret="seti_x_secret_y")[0] == 404
    emu.wait_for_deliveries()
    assert receiver.types().count("setup_intent.setup_failed") == 2


def test_setup_intent_parameters_are_checked(sc):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.setup_intents.create(params={"usage": "sometimes"})
    assert caught.value.param == "usage"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.setup_intents.create(params={"customer": "cus_missing"})
    assert caught.value.code == "resource_missing"


def test_default_payment_method_on_customer_and_subscription(sc, emu, receiver):
    sub = start(sc, emu, receiver)
    pm = saved_card(sc, emu, sub["customer"])
    customer = sc.v1.customers.update(
        sub["customer"], params={"invoice_settings": {"default_payment_method": pm}}
    )
    assert customer.invoice_settings.default_payment_method == pm
    updated = sc.v1.subscriptions.update(sub["id"], params={"default_payment_method": pm})
    assert updated.default_payment_method == pm
    emu.wait_for_deliveries()
    events = {e.type: e for e in receiver.events()}
    previous = events["customer.subscription.updated"].data.previous_attributes
    assert previous["default_payment_method"] == sub["default_payment_method"]
    assert "customer.updated" in events
    stranger = saved_card(sc, emu, sc.v1.customers.create().id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.subscriptions.update(sub["id"], params={"default_payment_method": stranger})
    assert caught.value.param == "default_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.customers.update(
            sub["customer"], params={"invoice_settings": {"default_payment_method": stranger}}
        )
    assert caught.value.param == "invoice_settings[default_payment_method]"


def test_invoices_pay_retries_an_open_invoice(sc, emu, receiver):
    sub = start(sc, emu, receiver)
    emu.fail_renewal(sub["id"])
    invoice_id = emu.get(sub["id"])["latest_invoice"]
    receiver.requests.clear()
    declining = saved_card(sc, emu, sub["customer"], DECLINE_LATER)
    with pytest.raises(stripe.CardError) as caught:
        sc.v1.invoices.pay(invoice_id, params={"payment_method": declining})
    assert caught.value.code == "card_declined"
    still = sc.v1.invoices.retrieve(invoice_id)
    assert still.status == "open" and still.attempt_count == 2
    assert sc.v1.subscriptions.retrieve(sub["id"]).status == "past_due"
    good = saved_card(sc, emu, sub["customer"])
    sc.v1.subscriptions.update(sub["id"], params={"default_payment_method": good})
    paid = sc.v1.invoices.pay(invoice_id)
    assert paid.status == "paid" and paid.amount_remaining == 0
    pi = sc.v1.payment_intents.retrieve(paid.payments.data[0].payment.payment_intent)
    assert pi.payment_method == good
    assert sc.v1.subscriptions.retrieve(sub["id"]).status == "active"
    emu.wait_for_deliveries()
    types = receiver.types()
    assert "invoice.payment_failed" in types
    assert types[-3:] == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.invoices.pay(invoice_id)
    assert caught.value.code == "invoice_already_paid"


def _updated(receiver) -> dict:
    events = [e for e in receiver.events() if e.type == "customer.subscription.updated"]
    assert len(events) == 1, [e.type for e in receiver.events()]
    receiver.requests.clear()
    return events[0].data


def test_pause_collection_and_resume(sc, emu, receiver):
    sub = start(sc, emu, receiver)
    resumes = emu.now() + 60 * 86400
    paused = sc.v1.subscriptions.update(
        sub["id"], params={"pause_collection": {"behavior": "void", "resumes_at": resumes}}
    )
    assert paused.pause_collection.behavior == "void"
    assert paused.pause_collection.resumes_at == resumes
    emu.wait_for_deliveries()
    data = _updated(receiver)
    assert data.previous_attributes["pause_collection"] is None
    resumed = sc.v1.subscriptions.update(sub["id"], params={"pause_collection": ""})
    assert resumed.pause_collection is None
    emu.wait_for_deliveries()
    assert _updated(receiver).previous_attributes["pause_collection"]["behavior"] == "void"


def test_cancel_at_period_end_with_feedback(sc, emu, receiver):
    sub = start(sc, emu, receiver)
    details = {"comment": "Saving up", "feedback": "too_expensive"}
    updated = sc.v1.subscriptions.update(
        sub["id"], params={"cancel_at_period_end": True, "cancellation_details": details}
    )
    assert updated.cancel_at_period_end is True
    assert updated.cancellation_details.feedback == "too_expensive"
    assert updated.cancellation_details.comment == "Saving up"
    assert updated.cancellation_details.reason == "cancellation_requested"
    emu.wait_for_deliveries()
    previous = _updated(receiver).previous_attributes
    assert previous["cancel_at_period_end"] is False
    assert previous["cancellation_details"].to_dict() == {
        "comment": None,
        "feedback": None,
        "reason": None,
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.subscriptions.update(sub["id"], params={"cancellation_details": {"feedback": "meh"}})
    assert caught.value.param == "cancellation_details[feedback]"


def test_price_change_keeps_the_period_and_bills_the_new_amount(sc, emu, receiver):
    sub = start(sc, emu, receiver)
    item = sub["items"]["data"][0]
    updated = sc.v1.subscriptions.update(
        sub["id"],
        params={
            "items": [
                {
                    "id": item["id"],
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 2500,
                        "product": item["price"]["product"],
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "proration_behavior": "none",
        },
    )
    new_item = updated["items"].data[0]
    assert new_item.id == item["id"] and new_item.price.unit_amount == 2500
    assert new_item.current_period_end == item["current_period_end"]
    emu.wait_for_deliveries()
    previous = _updated(receiver).previous_attributes
    assert previous["items"]["data"][0]["price"]["unit_amount"] == 1000
    assert sc.v1.invoices.list(params={"subscription": sub["id"]}).data[0].amount_paid == 1000
    emu.renew(sub["id"])
    assert sc.v1.invoices.list(params={"subscription": sub["id"]}).data[0].amount_paid == 2500
    receiver.requests.clear()
    other = sc.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 700,
            "product": item["price"]["product"],
            "recurring": {"interval": "month"},
        }
    )
    switched = sc.v1.subscriptions.update(
        sub["id"], params={"items": [{"id": item["id"], "price": other.id}]}
    )
    assert switched["items"].data[0].price.id == other.id


@pytest.mark.parametrize(
    "item, param",
    [
        ({"id": "si_other", "price": "price_x"}, "items[0][id]"),
        ({"price": "price_x"}, "items[0][id]"),
        ({"id": "OWN"}, "items[0]"),
        ({"id": "OWN", "price": "price_missing"}, "items[0][price]"),
        ({"id": "OWN", "price_data": {"currency": "usd", "unit_amount": 5}}, None),
    ],
)
def test_price_change_errors(sc, emu, receiver, item, param):
    sub = start(sc, emu, receiver)
    if item.get("id") == "OWN":
        item = {**item, "id": sub["items"]["data"][0]["id"]}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.subscriptions.update(sub["id"], params={"items": [item]})
    if param:
        assert caught.value.param == param
    assert emu.get(sub["id"])["items"]["data"][0]["price"]["unit_amount"] == 1000


def test_payment_method_domains(sc):
    domain = sc.v1.payment_method_domains.create(params={"domain_name": "News.Example.org"})
    assert domain.domain_name == "news.example.org" and domain.enabled is True
    assert domain.apple_pay.status == "active"
    assert sc.v1.payment_method_domains.retrieve(domain.id).id == domain.id
    listed = sc.v1.payment_method_domains.list(params={"domain_name": "news.example.org"})
    assert [d.id for d in listed.data] == [domain.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.payment_method_domains.create(params={"domain_name": "news.example.org"})
    assert caught.value.code == "resource_already_exists"
    for bad in ("https://news.example.org", "localhost", ""):
        with pytest.raises(stripe.InvalidRequestError):
            sc.v1.payment_method_domains.create(params={"domain_name": bad})
    off = sc.v1.payment_method_domains.update(domain.id, params={"enabled": False})
    assert off.enabled is False and off.google_pay.status == "inactive"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.payment_method_domains.retrieve("pmd_missing")
    assert caught.value.code == "resource_missing"


def test_a_saved_card_keeps_its_behaviour_across_a_restart(tmp_path):
    """`make run` keeps state in a file: a saved declining card still declines after it."""
    state = tmp_path / "stripe-emulator.json"

    def client(e):
        return stripe.StripeClient(
            "sk_test_x", base_addresses={"api": e.url}, max_network_retries=0
        )

    with Emulator(state_file=state) as first:
        c = client(first)
        session = c.v1.checkout.sessions.create(params=subscription_params())
        sub_id = first.pay(session.id)["subscription"]
        pm = saved_card(c, first, first.get(sub_id)["customer"], DECLINE_LATER)
        EmulatorClient(first.url).fail_renewal(sub_id)  # over HTTP: saved to the file
        invoice_id = first.get(sub_id)["latest_invoice"]
    with Emulator(state_file=state) as second:
        c = client(second)
        assert c.v1.payment_methods.retrieve(pm).card.last4 == "0341"
        with pytest.raises(stripe.CardError):
            c.v1.invoices.pay(invoice_id, params={"payment_method": pm})
        assert (
            c.v1.invoices.pay(
                invoice_id,
                params={"payment_method": saved_card(c, second, second.get(sub_id)["customer"])},
            ).status
            == "paid"
        )
