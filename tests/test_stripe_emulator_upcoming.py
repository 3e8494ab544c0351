"""Stripe emulator: `invoice.upcoming` before a renewal (a preview invoice with no id),
and a saved card's expiry as the reader typed it."""

import pytest

from devtools.stripe_emulator import EmulatorClient, EmulatorError
from tests.helpers import emulator as base
from tests.helpers.emulator import just_now, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc


def start_subscription(sc, emu, receiver) -> dict:
    session = sc.v1.checkout.sessions.create(params=subscription_params())
    done = emu.pay(session.id)
    receiver.requests.clear()
    return emu.get(done["subscription"])


def test_upcoming_previews_the_next_invoice_days_before_the_renewal(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    item = sub["items"]["data"][0]
    renews_at = item["current_period_end"]
    invoices = len(sc.v1.invoices.list(params={"subscription": sub["id"]}).data)

    EmulatorClient(emu.url).upcoming(sub["id"], days=3)
    [event] = receiver.events()
    assert event.type == "invoice.upcoming"
    assert just_now(emu, renews_at - 3 * 86400)  # the clock moved to the day Stripe sends it
    preview = event.data.object
    assert "id" not in preview.to_dict() and preview.number is None
    assert preview.status == "draft" and preview.billing_reason == "upcoming"
    assert preview.parent.subscription_details.subscription == sub["id"]
    assert (preview.period_start, preview.period_end) == (item["current_period_start"], renews_at)
    assert preview.next_payment_attempt == renews_at
    [line] = preview.lines.data
    assert line.invoice is None and line.period.start == renews_at
    assert preview.amount_due == item["price"]["unit_amount"]
    # A preview is not an invoice Stripe keeps.
    assert len(sc.v1.invoices.list(params={"subscription": sub["id"]}).data) == invoices
    # The subscription did not move.
    assert sc.v1.subscriptions.retrieve(sub["id"]).items.data[0].current_period_end == renews_at


def test_no_upcoming_invoice_for_a_subscription_that_ends(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    client = EmulatorClient(emu.url)
    with pytest.raises(EmulatorError) as caught:
        client.upcoming(sub["id"], days=0)
    assert caught.value.status == 400 and caught.value.error["param"] == "days"
    sc.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": True})
    with pytest.raises(EmulatorError) as caught:
        client.upcoming(sub["id"])
    assert caught.value.status == 400 and "cancel at period end" in caught.value.error["message"]
    sc.v1.subscriptions.cancel(sub["id"])
    with pytest.raises(EmulatorError):
        client.upcoming(sub["id"])
    assert "invoice.upcoming" not in receiver.types()


def test_a_saved_card_keeps_the_expiry_typed(sc, emu, receiver):
    sub = start_subscription(sc, emu, receiver)
    client = EmulatorClient(emu.url)
    seti = sc.v1.setup_intents.create(params={"customer": sub["customer"]})
    done = client.confirm_setup(seti.id, exp_month=3, exp_year=2031)
    method = sc.v1.payment_methods.retrieve(done["payment_method"])
    assert (method.card.exp_month, method.card.exp_year) == (3, 2031)

    plain = sc.v1.setup_intents.create(params={"customer": sub["customer"]})
    method = sc.v1.payment_methods.retrieve(client.confirm_setup(plain.id)["payment_method"])
    assert (method.card.exp_month, method.card.exp_year) == (12, 2034)

    expired = sc.v1.setup_intents.create(params={"customer": sub["customer"]})
    refused = client.confirm_setup(expired.id, exp_month=1, exp_year=2020)
    assert refused["status"] == "requires_payment_method"
    assert refused["last_setup_error"]["code"] == "expired_card"

    wrong = sc.v1.setup_intents.create(params={"customer": sub["customer"]})
    for month, year in ((13, 2031), (3, None), ("x", 2031)):
        with pytest.raises(EmulatorError) as caught:
            client.confirm_setup(wrong.id, exp_month=month, exp_year=year)
        assert caught.value.status == 400
