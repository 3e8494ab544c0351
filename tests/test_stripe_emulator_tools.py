"""Stripe emulator: lists, expand, injected failures, held events, endpoints, client, CLI."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from devtools.stripe_emulator import Emulator, EmulatorClient, EmulatorError
from tests.helpers import emulator as base
from tests.helpers.emulator import SECRET, Receiver, http, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc
ROOT = Path(__file__).resolve().parent.parent


def test_pagination_and_filters(sc, emu):
    ids = [sc.v1.customers.create(params={"email": f"r{i}@example.com"}).id for i in range(25)]
    newest_first = list(reversed(ids))
    page = sc.v1.customers.list(params={"limit": 10})
    assert [c.id for c in page.data] == newest_first[:10] and page.has_more is True
    assert page.url == "/v1/customers"
    assert [c.id for c in page.auto_paging_iter()] == newest_first
    after = sc.v1.customers.list(params={"limit": 5, "starting_after": newest_first[20]})
    assert [c.id for c in after.data] == newest_first[21:] and after.has_more is False
    before = sc.v1.customers.list(params={"limit": 3, "ending_before": newest_first[10]})
    assert [c.id for c in before.data] == newest_first[7:10] and before.has_more is True
    assert [c.id for c in sc.v1.customers.list(params={"email": "r3@example.com"}).data] == [ids[3]]
    later = emu.now() + 100
    emu.advance(200)
    newest = sc.v1.customers.create(params={"email": "late@example.com"})
    recent = sc.v1.customers.list(params={"created": {"gte": later}})
    assert [c.id for c in recent.data] == [newest.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.customers.list(params={"limit": 500})
    assert caught.value.param == "limit"


def test_expand_on_retrieve_and_list(sc, emu):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    emu.pay(session.id)
    listed = sc.v1.checkout.sessions.list(
        params={"expand": ["data.subscription", "data.line_items"], "status": "complete"}
    )
    (found,) = listed.data
    assert found.subscription.object == "subscription"
    assert found.line_items.data[0].price.unit_amount == 1000
    sub = sc.v1.subscriptions.retrieve(
        found.subscription.id, params={"expand": ["latest_invoice", "customer"]}
    )
    assert sub.latest_invoice.object == "invoice" and sub.customer.email == "reader@example.com"
    items = sc.v1.checkout.sessions.line_items.list(session.id)
    assert items.data[0].description == "Monthly support" and items.url.endswith("/line_items")
    with pytest.raises(stripe.InvalidRequestError):
        sc.v1.subscriptions.retrieve(sub.id, params={"expand": ["nonsense"]})


def test_fail_next_answers_errors(sc, emu):
    emu.fail_next()
    with pytest.raises(stripe.APIError) as caught:
        sc.v1.customers.list()
    assert caught.value.http_status == 500
    emu.fail_next(status=429, type="invalid_request_error", code="rate_limit", count=2)
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            sc.v1.checkout.sessions.create(params=subscription_params())
    assert sc.v1.customers.list().data == []
    assert "checkout.session" not in emu.state()["objects"]


def test_hold_events_then_deliver_shuffled_and_duplicated(sc, emu, receiver):
    emu.hold_events = True
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    emu.pay(session.id)
    held = emu.held_events()
    assert len(held) == 7 and receiver.requests == []
    shuffled = held + held[:2]
    random.Random(4).shuffle(shuffled)
    statuses = [emu.deliver(event) for event in shuffled]
    assert statuses == [200] * 9
    assert sorted(receiver.types()) == sorted(e["type"] for e in shuffled)
    receiver.requests.clear()
    emu.release_held()
    assert len(receiver.requests) == 7 and emu.held_events() == []


def test_failed_delivery_is_recorded_and_redelivered(sc, emu, receiver):
    receiver.status = 500
    customer = sc.v1.customers.create(params={"email": "a@example.com"})
    emu.wait_for_deliveries()
    (event,) = emu.events()
    assert emu.deliveries[-1] == (event["id"], receiver.url, 500)
    receiver.status = 200
    status, _, body = http("POST", f"{emu.url}/_emulator/events/{event['id']}/redeliver", {})
    assert status == 200 and json.loads(body)["statuses"] == [200]
    assert emu.redeliver(event["id"]) == [200]
    assert receiver.events()[-1].data.object.id == customer.id
    emu.webhook_url = "http://127.0.0.1:9/unreachable"
    emu.update_customer(customer.id, name="X")
    assert emu.deliveries[-1].result.startswith("error")


def test_sign_matches_stripe_verification(emu):
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "ping"}).encode()
    header = emu.sign(payload)
    assert stripe.Webhook.construct_event(payload, header, SECRET).id == "evt_1"
    assert emu.sign(payload, "whsec_other", timestamp=1).startswith("t=1,v1=")


def test_webhook_endpoints_with_own_secret_and_filter(sc, emu):
    extra = Receiver()
    try:
        endpoint = sc.v1.webhook_endpoints.create(
            params={
                "url": extra.url,
                "enabled_events": ["invoice.paid", "checkout.session.completed"],
                "description": "ledger",
                "api_version": "2026-10-28.endive",
            }
        )
        assert endpoint.secret.startswith("whsec_") and endpoint.status == "enabled"
        listed = sc.v1.webhook_endpoints.list().data
        assert [e.id for e in listed] == [endpoint.id] and "secret" not in listed[0]
        session = sc.v1.checkout.sessions.create(params=subscription_params())
        emu.pay(session.id)
        assert extra.types(endpoint.secret) == ["checkout.session.completed", "invoice.paid"]
        with pytest.raises(stripe.SignatureVerificationError):
            extra.events(SECRET)
        assert sc.v1.webhook_endpoints.delete(endpoint.id).deleted is True
        extra.requests.clear()
        emu.pay(sc.v1.checkout.sessions.create(params=subscription_params()).id)
        assert extra.requests == []
        with pytest.raises(stripe.InvalidRequestError):
            sc.v1.webhook_endpoints.create(params={"url": extra.url})
    finally:
        extra.server.shutdown()
        extra.server.server_close()


def test_events_api(sc, emu):
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    emu.pay(session.id)
    invoices = sc.v1.events.list(params={"type": "invoice.*"})
    assert [e.type for e in invoices.data] == [
        "invoice.payment_succeeded",
        "invoice.paid",
        "invoice.finalized",
        "invoice.created",
    ]
    event = sc.v1.events.retrieve(invoices.data[0].id)
    assert isinstance(event, stripe.Event) and event.data.object.object == "invoice"
    paid = sc.v1.events.list(params={"type": "invoice.paid"}).data
    assert len(paid) == 1 and paid[0].request.id is None


def test_emulator_client_over_http(sc, emu, receiver):
    client = EmulatorClient(emu.url)
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    with pytest.raises(EmulatorError) as caught:
        client.pay(session.id, email="fail@example.com")
    assert caught.value.status == 402 and caught.value.error["code"] == "card_declined"
    done = client.pay(session.id, email="http@example.com", name="Over HTTP")
    assert done["status"] == "complete"
    sub_id = done["subscription"]
    assert client.renew(sub_id)["status"] == "active"
    assert client.fail_renewal(sub_id)["status"] == "past_due"
    assert client.recover(sub_id)["status"] == "active"
    payment = emu.get(done["invoice"])["payments"]["data"][0]["payment"]
    charge_id = emu.get(payment["payment_intent"])["latest_charge"]
    assert client.refund(charge_id, amount=100)["amount"] == 100
    assert client.dispute(charge_id)["status"] == "needs_response"
    assert client.update_customer(done["customer"], name="Renamed")["name"] == "Renamed"
    assert client.cancel(sub_id, at_period_end=True)["cancel_at_period_end"] is True
    assert client.events()[0]["type"] == "customer.subscription.updated"
    assert len(client.deliveries()) == len(receiver.requests)
    state = client.state()
    assert len(state["objects"]["invoice"]) == 3
    client.fail_next(status=503, count=1)
    with pytest.raises(stripe.APIError):
        sc.v1.customers.list()
    client.configure(hold_events=True)
    client.cancel(sub_id)
    assert [e["type"] for e in client.held_events()] == ["customer.subscription.deleted"]
    client.reset()
    assert client.state()["objects"] == {} and emu.hold_events is False


@pytest.mark.slow
def test_cli_serves_until_terminated(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", "0", "--webhook-secret", "x"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("Stripe emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        status, _, body = http("GET", f"{url}/_emulator/state")
        assert status == 200 and json.loads(body)["objects"] == {}
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


def test_public_url_is_used_for_hosted_links():
    with Emulator(public_url="http://stripe.test:8080/") as emulator:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
        session = client.v1.checkout.sessions.create(params=subscription_params())
        assert session.url.startswith("http://stripe.test:8080/c/pay/cs_test_")
