"""Stripe emulator: renewals, failed payments, refunds, disputes and the billing portal."""

import pytest
import stripe

from tests.helpers import emulator as base
from tests.helpers.emulator import http, payment_params, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc
RENEWAL_EVENTS = [
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    "customer.subscription.updated",
]


def start_subscription(sc, emu, receiver) -> dict:
    """A paid monthly subscription; returns it (as a dict) with the webhook log cleared."""
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    done = emu.pay(session.id)
    receiver.requests.clear()
    return emu.get(done["subscription"])


def start_payment(sc, emu, receiver) -> str:
    """A paid one-time gift of 10.00 USD; returns its charge id."""
    session = sc.v1.checkout.sessions.create(params=payment_params())
    done = emu.pay(session.id)
    receiver.requests.clear()
    return emu.get(done["payment_intent"])["latest_charge"]


def test_renew_bills_next_period(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    old = sub["items"]["data"][0]
    emu.renew(sub["id"])
    events = receiver.events()
    assert [e.type for e in events] == RENEWAL_EVENTS
    assert (
        events[-1].data.previous_attributes["items"].data[0].current_period_end
        == (old["current_period_end"])
    )
    renewed = sc.v1.subscriptions.retrieve(sub["id"], params={"expand": ["latest_invoice"]})
    item = renewed.items.data[0]
    assert item.current_period_start == old["current_period_end"]
    assert item.current_period_end == old["current_period_end"] + 30 * 86400
    invoice = renewed.latest_invoice
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_cycle",
        "paid",
        1000,
    )
    assert invoice.parent.subscription_details.subscription == sub["id"]
    assert (invoice.period_start, invoice.period_end) == (
        old["current_period_start"],
        old["current_period_end"],
    )
    assert invoice.lines.data[0].period.start == old["current_period_end"]
    assert events[2].data.object.id == invoice.id
    listed = sc.v1.invoices.list(params={"subscription": sub["id"]})
    assert [i.billing_reason for i in listed.data] == ["subscription_cycle", "subscription_create"]
    assert len(sc.v1.charges.list(params={"customer": sub["customer"]}).data) == 2
    assert emu.now() >= old["current_period_end"]


def test_failed_renewal_then_recovery(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    emu.fail_renewal(sub["id"])
    assert receiver.types() == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    updated = receiver.events()[-1]
    assert updated.data.object.status == "past_due"
    assert updated.data.previous_attributes.status == "active"
    failing = sc.v1.subscriptions.retrieve(sub["id"], params={"expand": ["latest_invoice"]})
    invoice = failing.latest_invoice
    assert (failing.status, invoice.status, invoice.attempt_count) == ("past_due", "open", 1)
    assert invoice.next_payment_attempt > emu.now() and invoice.amount_paid == 0
    assert sc.v1.invoices.list(params={"status": "open"}).data[0].id == invoice.id

    receiver.requests.clear()
    emu.recover(sub["id"])
    assert receiver.types() == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    paid = sc.v1.invoices.retrieve(invoice.id)
    assert (paid.status, paid.amount_paid, paid.attempt_count) == ("paid", 1000, 2)
    assert paid.payments.data[0].payment.payment_intent.startswith("pi_")
    assert sc.v1.subscriptions.retrieve(sub["id"]).status == "active"


def test_partial_full_and_over_refunds(sc, emu, receiver):
    charge_id = start_payment(sc, emu, receiver)
    pi_id = emu.get(charge_id)["payment_intent"]
    refund = sc.v1.refunds.create(
        params={"payment_intent": pi_id, "amount": 300, "reason": "requested_by_customer"}
    )
    assert (refund.amount, refund.charge, refund.status) == (300, charge_id, "succeeded")
    emu.wait_for_deliveries()
    refunded, created = receiver.events()
    assert (refunded.type, created.type) == ("charge.refunded", "refund.created")
    assert refunded.data.object.amount_refunded == 300 and refunded.data.object.refunded is False
    assert refunded.data.previous_attributes.amount_refunded == 0

    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.refunds.create(params={"charge": charge_id, "amount": 800})
    assert (caught.value.param, caught.value.code) == ("amount", "amount_too_large")

    rest = emu.refund(charge_id)
    assert rest["amount"] == 700
    charge = sc.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded, len(charge.refunds.data)) == (1000, True, 2)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.refunds.create(params={"charge": charge_id})
    assert caught.value.code == "charge_already_refunded"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.refunds.create(params={"amount": 100})
    assert caught.value.code == "parameter_missing"
    assert len(sc.v1.refunds.list(params={"charge": charge_id}).data) == 2


def test_dispute(sc, emu, receiver):
    charge_id = start_payment(sc, emu, receiver)
    dispute = emu.dispute(charge_id)
    (event,) = receiver.events()
    assert event.type == "charge.dispute.created"
    assert event.data.object.id == dispute["id"] and dispute["id"].startswith("du_")
    assert (event.data.object.charge, event.data.object.amount) == (charge_id, 1000)
    assert (event.data.object.status, event.data.object.currency) == ("needs_response", "usd")
    assert sc.v1.charges.retrieve(charge_id).disputed is True
    with pytest.raises(stripe.InvalidRequestError, match="charged back"):
        sc.v1.refunds.create(params={"charge": charge_id})


def portal_for(sc, sub) -> stripe.billing_portal.Session:
    return sc.v1.billing_portal.sessions.create(
        params={"customer": sub["customer"], "return_url": "https://news.example.org/account"}
    )


def test_portal_cancel_now(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    portal = portal_for(sc, sub)
    assert portal.url == f"{emu.url}/p/session/{portal.id}" and portal.id.startswith("bps_")
    status, _, page = http("GET", portal.url)
    assert status == 200 and f'data-subscription="{sub["id"]}"' in page
    assert 'href="https://news.example.org/account"' in page

    status, headers, _ = http("POST", portal.url, {"subscription": sub["id"], "action": "cancel"})
    assert (status, headers["Location"]) == (303, f"/p/session/{portal.id}")
    (event,) = receiver.events()
    assert event.type == "customer.subscription.deleted"
    canceled = sc.v1.subscriptions.retrieve(sub["id"])
    assert canceled.status == "canceled" and canceled.ended_at and canceled.canceled_at
    assert canceled.cancellation_details.reason == "cancellation_requested"
    page = http("GET", portal.url)[2]
    assert "Canceled on" in page and 'value="cancel"' not in page
    assert sc.v1.subscriptions.list(params={"customer": sub["customer"]}).data == []
    everything = sc.v1.subscriptions.list(params={"customer": sub["customer"], "status": "all"})
    assert [s.id for s in everything.data] == [sub["id"]]


def test_portal_cancel_at_period_end_then_period_ends(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    portal = portal_for(sc, sub)
    form = {"subscription": sub["id"], "action": "cancel_at_period_end"}
    assert http("POST", portal.url, form)[0] == 303
    (event,) = receiver.events()
    assert event.type == "customer.subscription.updated"
    assert event.data.previous_attributes.cancel_at_period_end is False
    period_end = sub["items"]["data"][0]["current_period_end"]
    assert (event.data.object.cancel_at_period_end, event.data.object.cancel_at) == (
        True,
        period_end,
    )
    assert event.data.object.status == "active"
    assert "Cancels on" in http("GET", portal.url)[2]

    http("POST", portal.url, {"subscription": sub["id"], "action": "resume"})
    assert sc.v1.subscriptions.retrieve(sub["id"]).cancel_at_period_end is False
    emu.cancel(sub["id"], at_period_end=True)
    receiver.requests.clear()
    ended = emu.renew(sub["id"])
    assert receiver.types() == ["customer.subscription.deleted"]
    assert (ended["status"], ended["ended_at"]) == ("canceled", period_end)


def test_portal_rejects_foreign_subscription_and_bad_params(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    other = sc.v1.customers.create(params={"email": "other@example.com"})
    portal = sc.v1.billing_portal.sessions.create(params={"customer": other.id})
    assert http("POST", portal.url, {"subscription": sub["id"], "action": "cancel"})[0] == 404
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.billing_portal.sessions.create(params={"customer": "cus_missing"})
    assert (caught.value.code, caught.value.param) == ("resource_missing", "customer")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.billing_portal.sessions.create(params={"customer": other.id, "locale": "ar"})
    assert caught.value.param == "locale"


def test_subscription_update_and_delete_via_api(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    updated = sc.v1.subscriptions.update(
        sub["id"], params={"metadata": {"note": "vip"}, "cancel_at_period_end": True}
    )
    assert updated.metadata.to_dict() == {"donation": "42", "note": "vip"}
    assert updated.cancel_at_period_end is True
    paused = sc.v1.subscriptions.update(
        sub["id"], params={"pause_collection": {"behavior": "void"}}
    )
    assert paused.pause_collection.behavior == "void"
    assert (
        sc.v1.subscriptions.update(sub["id"], params={"pause_collection": ""}).pause_collection
        is None
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.subscriptions.update(sub["id"], params={"plan": "gold"})
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "plan")
    canceled = sc.v1.subscriptions.cancel(sub["id"])
    assert canceled.status == "canceled"
    emu.wait_for_deliveries()
    events = receiver.events()
    assert [e.type for e in events] == ["customer.subscription.updated"] * 3 + [
        "customer.subscription.deleted"
    ]
    assert set(events[0].data.previous_attributes.to_dict()) >= {"metadata", "cancel_at_period_end"}
    assert events[0].request.id.startswith("req_")
    with pytest.raises(stripe.InvalidRequestError):
        sc.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": False})
    with pytest.raises(stripe.InvalidRequestError, match="No such subscription: 'sub_nope'"):
        sc.v1.subscriptions.retrieve("sub_nope")


def test_customer_updates(sc, emu, receiver):
    customer = sc.v1.customers.create(params={"email": "old@example.com", "name": "Old"})
    emu.update_customer(customer.id, email="new@example.com")
    sc.v1.customers.update(customer.id, params={"name": "New", "metadata": {"tier": "gold"}})
    emu.wait_for_deliveries()
    created, by_helper, by_api = receiver.events()
    assert (created.type, by_helper.type, by_api.type) == (
        "customer.created",
        "customer.updated",
        "customer.updated",
    )
    assert by_helper.data.previous_attributes.email == "old@example.com"
    assert by_api.data.object.name == "New" and by_api.data.object.metadata.tier == "gold"
    deleted = sc.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert sc.v1.customers.retrieve(customer.id).deleted is True
    assert sc.v1.customers.list().data == []
