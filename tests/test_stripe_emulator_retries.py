"""Stripe emulator: the rest of Stripe's retry schedule after a failed renewal, the end of
a subscription for non-payment, and Checkout Sessions for a customer Stripe knows."""

import pytest
import stripe

from devtools.stripe_emulator import EmulatorClient, EmulatorError
from devtools.stripe_emulator.errors import StripeError
from tests.helpers import emulator as base
from tests.helpers.emulator import just_now, payment_params, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc


def subscribed(sc, emu) -> dict:
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    return emu.pay(session.id, email="renew@example.com")


def test_retries_count_attempts_until_the_last_has_no_next(sc, emu, receiver):
    sub_id = subscribed(sc, emu)["subscription"]
    emu.fail_renewal(sub_id)
    invoice_id = emu.get(sub_id)["latest_invoice"]
    first = sc.v1.invoices.retrieve(invoice_id)
    assert first.attempt_count == 1 and first.next_payment_attempt > emu.now()
    receiver.requests.clear()

    emu.retry_failed(sub_id)
    second = sc.v1.invoices.retrieve(invoice_id)
    # The clock moved to the scheduled retry (and on with real time since: a second may
    # have turned); the next one is later still.
    assert just_now(emu, first.next_payment_attempt)
    assert second.attempt_count == 2 and second.next_payment_attempt > emu.now()
    assert second.status == "open" and second.attempted is True
    assert receiver.types() == ["invoice.updated", "invoice.payment_failed"]
    updated = receiver.events()[0]
    assert updated.data.previous_attributes["attempt_count"] == 1

    receiver.requests.clear()
    emu.retry_failed(sub_id, final=True)
    last = sc.v1.invoices.retrieve(invoice_id)
    assert last.attempt_count == 3 and last.next_payment_attempt is None
    assert sc.v1.subscriptions.retrieve(sub_id).status == "past_due"
    failed = receiver.events()[-1]
    assert (
        failed.type == "invoice.payment_failed" and failed.data.object.next_payment_attempt is None
    )

    # No retry is left to play.
    with pytest.raises(StripeError):
        emu.retry_failed(sub_id)


def test_the_last_retry_can_mark_the_subscription_unpaid(sc, emu, receiver):
    sub_id = subscribed(sc, emu)["subscription"]
    emu.fail_renewal(sub_id)
    receiver.requests.clear()
    assert emu.retry_failed(sub_id, final=True, mark_unpaid=True)["status"] == "unpaid"
    assert receiver.types() == [
        "invoice.updated",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert receiver.events()[-1].data.previous_attributes["status"] == "past_due"


def test_ending_for_non_payment_leaves_the_invoice_open(sc, emu, receiver):
    sub_id = subscribed(sc, emu)["subscription"]
    emu.fail_renewal(sub_id)
    invoice_id = emu.get(sub_id)["latest_invoice"]
    receiver.requests.clear()
    ended = emu.end_unpaid(sub_id)
    assert ended["status"] == "canceled"
    assert ended["cancellation_details"]["reason"] == "payment_failed"
    assert ended["ended_at"] == ended["canceled_at"] and just_now(emu, ended["ended_at"])
    # The retry still scheduled is dropped; the invoice stays open, as by default.
    assert receiver.types() == ["invoice.updated", "customer.subscription.deleted"]
    invoice = sc.v1.invoices.retrieve(invoice_id)
    assert invoice.status == "open" and invoice.next_payment_attempt is None
    # A canceled subscription is neither retried nor ended again, nor renewed.
    for call in (emu.retry_failed, emu.end_unpaid, emu.renew, emu.fail_renewal):
        with pytest.raises(StripeError):
            call(sub_id)
    # Paying the open invoice settles it; the gift stays ended.
    assert emu.recover(sub_id)["status"] == "canceled"


def test_ending_for_non_payment_can_void_the_invoice(sc, emu, receiver):
    sub_id = subscribed(sc, emu)["subscription"]
    emu.fail_renewal(sub_id)
    emu.retry_failed(sub_id, final=True)
    receiver.requests.clear()
    emu.end_unpaid(sub_id, void_invoice=True)
    assert receiver.types() == ["invoice.voided", "customer.subscription.deleted"]
    invoice = sc.v1.invoices.retrieve(emu.get(sub_id)["latest_invoice"])
    assert invoice.status == "void" and just_now(emu, invoice.status_transitions.voided_at)


def test_an_active_subscription_has_nothing_to_retry_or_end(sc, emu):
    sub_id = subscribed(sc, emu)["subscription"]
    for call in (emu.retry_failed, emu.end_unpaid):
        with pytest.raises(StripeError) as caught:
            call(sub_id)
        assert caught.value.status == 400 and "no failed invoice" in str(caught.value)


def test_retries_and_the_end_over_http(sc, emu, receiver):
    client = EmulatorClient(emu.url)
    sub_id = subscribed(sc, emu)["subscription"]
    with pytest.raises(EmulatorError) as caught:
        client.retry_failed(sub_id)
    assert caught.value.status == 400
    client.fail_renewal(sub_id)
    assert client.retry_failed(sub_id)["status"] == "past_due"
    assert client.retry_failed(sub_id, final=True, mark_unpaid=True)["status"] == "unpaid"
    ended = client.end_unpaid(sub_id, void_invoice=True)
    assert ended["status"] == "canceled"
    assert ended["cancellation_details"]["reason"] == "payment_failed"


def test_a_session_for_a_known_customer_pays_as_that_customer(sc, emu, receiver):
    first = subscribed(sc, emu)
    customer = first["customer"]
    params = payment_params(customer=customer)
    del params["customer_email"]
    with pytest.raises(stripe.InvalidRequestError):
        # Stripe takes one of customer and customer_creation.
        sc.v1.checkout.sessions.create(params={**params, "customer_creation": "always"})
    again = subscription_params(customer=customer)
    del again["customer_email"]
    session = sc.v1.checkout.sessions.create(params=again)
    assert session.customer == customer
    receiver.requests.clear()
    paid = emu.pay(session.id)
    assert paid["customer"] == customer
    assert "customer.created" not in receiver.types()
    assert emu.get(paid["subscription"])["customer"] == customer
