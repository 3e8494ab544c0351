"""A supporter's own changes on the account page, end to end through the emulator and
the webhooks: each action asks Stripe once, writes no ledger row itself, and the
ledger equals Stripe's subscription after the webhook; the page says a change is on
its way until then; each change is mailed once, in the supporter's language."""

from __future__ import annotations

import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, Subscription
from tests.helpers.account_changes import (
    act,
    action_form,
    changes,
    gift_in_session,
    ledger_matches_stripe,
)


def mails(kind_prefix: str = "gift_") -> list[tuple[str, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(OutboundEmail.kind, OutboundEmail.key, OutboundEmail.lang).order_by(
            OutboundEmail.id
        )
    )
    return [tuple(r) for r in rows if r.kind.startswith(kind_prefix)]


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_lower_the_amount_end_to_end(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    done = act(
        client, sub.id, "amount", amount="3", amount_other="", frequency="month", currency="usd"
    )
    assert done.status_code == 303 and done.headers["Location"] == "/en/account"
    # Stripe has the new price; the ledger does not, until the webhook.
    stripe_sub = emulator.get(sub.stripe_id)
    assert stripe_sub["items"]["data"][0]["price"]["unit_amount"] == 300
    db.session.expire_all()
    assert db.session.get(Subscription, sub.id).amount == 500
    page = text(client.get("/en/account"))
    assert "Your new gift is on its way" in page and "A change is on its way" in page
    [change] = changes()
    assert (change.kind, change.old_amount, change.new_amount, change.applied_at) == (
        "amount",
        500,
        300,
        None,
    )

    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    [change] = changes()
    assert change.applied_at is not None
    assert mails() == [("gift_changed", f"supporter_change:{change.id}", "en")]
    page = text(client.get("/en/account"))
    assert "$3 every month: active" in page and "A change is on its way" not in page


def test_pause_resume_cancel_through_the_offer_and_undo(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator, lang="ar")
    assert act(client, sub.id, "pause", lang="ar", months="2").status_code == 303
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    row = db.session.get(Subscription, sub.id)
    assert row.collection_paused and row.paused_until is not None
    assert emulator.get(sub.stripe_id)["pause_collection"]["behavior"] == "void"

    assert act(client, sub.id, "resume", lang="ar").status_code == 303
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    assert not db.session.get(Subscription, sub.id).collection_paused

    # Cancelling shows the one offer (pause, the default) first.
    offer = client.get(f"/ar/account/gifts/{sub.id}/cancel")
    assert offer.status_code == 200 and 'data-offer="pause"' in offer.get_data(as_text=True)
    done = act(
        client,
        sub.id,
        "cancel",
        lang="ar",
        reason="too_expensive",
        comment="Later, perhaps",
        offer="pause",
    )
    assert done.status_code == 303
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    row = db.session.get(Subscription, sub.id)
    assert row.cancel_at_period_end and row.cancel_reason == "too_expensive"

    assert act(client, sub.id, "keep", lang="ar").status_code == 303
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    assert not db.session.get(Subscription, sub.id).cancel_at_period_end

    kinds = [(c.kind, c.offer, c.saved, c.applied_at is not None) for c in changes()]
    assert kinds == [
        ("pause", None, False, True),
        ("resume", None, False, True),
        ("cancel", "pause", False, True),
        ("keep", None, False, True),
    ]
    assert [(kind, lang) for kind, _, lang in mails()] == [
        ("gift_paused", "ar"),
        ("gift_resumed", "ar"),
        ("gift_cancelled", "ar"),
        ("gift_kept", "ar"),
    ]


def test_the_save_offer_taken_is_a_save(client, emulator, app):
    app.config["SUPPORT_SAVE_OFFER"] = "lower"
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    offer = text(client.get(f"/en/account/gifts/{sub.id}/cancel"))
    assert "Would a smaller amount suit you better?" in offer
    assert "$10" not in offer  # only amounts below the gift's are offered
    done = act(
        client, sub.id, "amount", amount="1", frequency="month", currency="usd", offer="lower"
    )
    assert done.status_code == 303
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    [change] = changes()
    assert (change.kind, change.new_amount, change.offer, change.saved) == (
        "amount",
        100,
        "lower",
        True,
    )


def test_without_an_offer_cancel_goes_straight_to_the_reasons(client, emulator, app):
    app.config["SUPPORT_SAVE_OFFER"] = "none"
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    page = text(client.get(f"/en/account/gifts/{sub.id}/cancel"))
    assert "Why are you cancelling?" in page and "Before you cancel" not in page
    assert act(client, sub.id, "cancel", reason="unused").status_code == 303
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    [change] = changes()
    assert (change.reason, change.comment, change.offer) == ("unused", None, None)


def test_switch_to_yearly(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    assert (
        act(client, sub.id, "amount", amount="50", frequency="year", currency="usd").status_code
        == 303
    )
    item = emulator.get(sub.stripe_id)["items"]["data"][0]
    assert (item["price"]["unit_amount"], item["price"]["recurring"]["interval"]) == (5000, "year")
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    [change] = changes()
    assert (change.kind, change.old_interval, change.new_interval) == ("frequency", "month", "year")


def test_a_form_sent_twice_is_one_change(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    form = {**action_form(client, sub.id, "pause"), "months": "1"}
    for _ in range(3):
        assert client.post(f"/en/account/gifts/{sub.id}/pause", data=form).status_code == 303
    assert len(changes()) == 1
    updates = [e for e in deliveries.new() if e["type"] == "customer.subscription.updated"]
    assert len(updates) == 1  # one change at Stripe
    deliveries.deliver()
    # The same form again after the webhook: still the one change, one mail.
    assert client.post(f"/en/account/gifts/{sub.id}/pause", data=form).status_code == 303
    assert len(changes()) == 1 and deliveries.new() == []
    assert len(mails()) == 1


def test_webhooks_late_repeated_or_out_of_order(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    assert (
        act(client, sub.id, "amount", amount="3", frequency="month", currency="usd").status_code
        == 303
    )
    first = deliveries.new()
    assert act(client, sub.id, "pause", months="3").status_code == 303
    second = [e for e in deliveries.new() if e not in first]
    # The later event first, then the earlier one, then both again.
    deliveries.deliver(second)
    ledger_matches_stripe(emulator, sub.stripe_id)
    assert all(c.applied_at is not None for c in changes())
    deliveries.deliver(first)
    deliveries.deliver(first + second)
    ledger_matches_stripe(emulator, sub.stripe_id)
    assert sorted(kind for kind, _, _ in mails()) == ["gift_changed", "gift_paused"]


def test_stripe_failing_changes_nothing_and_the_form_can_be_sent_again(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    form = {**action_form(client, sub.id, "pause"), "months": "1"}
    emulator.fail_next(status=500, type="api_error", count=5)
    failed = client.post(f"/en/account/gifts/{sub.id}/pause", data=form)
    assert failed.status_code == 502
    assert "not available right now" in text(failed)
    emulator.failures.clear()
    assert emulator.get(sub.stripe_id)["pause_collection"] is None
    [change] = changes()
    assert change.failed_at is not None
    assert "A change is on its way" not in text(client.get("/en/account"))
    # Sent again: a new attempt with its own idempotency key, and it works.
    assert client.post(f"/en/account/gifts/{sub.id}/pause", data=form).status_code == 303
    assert emulator.get(sub.stripe_id)["pause_collection"] is not None
    assert [c.attempt for c in changes()] == [0, 1]
    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)


def test_the_readers_share_used_up_is_a_calm_503(client, emulator, monkeypatch):
    from support import stripe_budget

    _supporter, sub, _deliveries = gift_in_session(client, emulator)
    monkeypatch.setattr(stripe_budget, "reader_turn", lambda: 2.0)
    busy = act(client, sub.id, "pause", months="1")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    assert emulator.get(sub.stripe_id)["pause_collection"] is None


def test_bad_input_is_a_400_with_a_clear_message(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    cases = [
        (
            {"amount": "other", "amount_other": "0.10", "frequency": "month", "currency": "usd"},
            "The smallest gift",
        ),
        (
            {"amount": "other", "amount_other": "abc", "frequency": "month", "currency": "usd"},
            "as a number",
        ),
        (
            {
                "amount": "other",
                "amount_other": "99999999",
                "frequency": "month",
                "currency": "usd",
            },
            "The largest gift",
        ),
        ({"amount": "3", "frequency": "month", "currency": "eur"}, "keeps its currency"),
        ({"amount": "3", "frequency": "once", "currency": "usd"}, "monthly or yearly"),
        ({"amount": "5", "frequency": "month", "currency": "usd"}, None),  # unchanged
    ]
    for values, message in cases:
        refused = act(client, sub.id, "amount", **values)
        assert refused.status_code == 400, values
        if message:
            assert message in text(refused)
        else:
            assert "That is already your gift" in text(refused)
    assert act(client, sub.id, "pause", months="4").status_code == 400
    assert act(client, sub.id, "cancel", reason="because").status_code == 400
    too_long = act(client, sub.id, "cancel", reason="other", comment="x" * 501)
    assert too_long.status_code == 400 and "under 500 characters" in text(too_long)
    # Not paused: nothing to resume, whether asked by the page or by a forged POST.
    assert client.get(f"/en/account/gifts/{sub.id}/resume").status_code == 400
    forged = {**action_form(client, sub.id, "pause")}
    assert client.post(f"/en/account/gifts/{sub.id}/resume", data=forged).status_code == 400
    assert changes() == [] and deliveries.new() == []
    # Arabic: the message in Arabic.
    arabic = act(
        client,
        sub.id,
        "amount",
        lang="ar",
        amount="other",
        amount_other="abc",
        frequency="month",
        currency="usd",
    )
    assert arabic.status_code == 400 and "Please enter" not in text(arabic)


def test_another_supporters_gift_is_403_and_no_session_is_the_closed_page(client, emulator, app):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    from tests import factories
    from tests.helpers.manage import customer_supporter

    stranger = customer_supporter("someone@example.com")
    theirs = factories.subscription(stranger, 900)
    db.session.commit()
    csrf = action_form(client, sub.id, "pause")
    assert client.get(f"/en/account/gifts/{theirs.id}/pause").status_code == 403
    forged = client.post(f"/en/account/gifts/{theirs.id}/pause", data={**csrf, "months": "1"})
    assert forged.status_code == 403
    assert (
        client.post("/en/account/gifts/99999/pause", data={**csrf, "months": "1"}).status_code
        == 403
    )
    # Signed out (or expired): the closed page, 401, and nothing asked.
    client.post("/en/account/sign-out", data={"csrf_token": csrf["csrf_token"]})
    closed = client.post(f"/en/account/gifts/{sub.id}/pause", data={**csrf, "months": "1"})
    assert closed.status_code == 401 and "Your account page is closed" in text(closed)
    assert client.get(f"/en/account/gifts/{sub.id}/pause").status_code == 401
    assert changes() == []
    assert [e for e in deliveries.new() if e["type"].startswith("customer.subscription")] == []


def test_an_expired_session_is_the_closed_page(client, emulator):
    from datetime import timedelta

    from support.models import SupporterSession, utcnow

    _supporter, sub, _deliveries = gift_in_session(client, emulator)
    form = {**action_form(client, sub.id, "pause"), "months": "1"}
    db.session.execute(
        sa.update(SupporterSession).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert client.post(f"/en/account/gifts/{sub.id}/pause", data=form).status_code == 401
    assert changes() == []


def test_a_get_changes_nothing_and_a_post_needs_the_csrf_token(client, emulator):
    _supporter, sub, deliveries = gift_in_session(client, emulator)
    for action in ("amount", "pause", "cancel"):
        assert client.get(f"/en/account/gifts/{sub.id}/{action}").status_code == 200
    assert client.post(f"/en/account/gifts/{sub.id}/pause", data={"months": "1"}).status_code == 400
    assert changes() == [] and deliveries.new() == []


def test_stripe_not_knowing_the_gift_is_the_cannot_find_page(client, emulator):
    _supporter, sub, _deliveries = gift_in_session(client, emulator)
    emulator.fail_next(
        status=404,
        type="invalid_request_error",
        code="resource_missing",
        message="No such subscription",
    )
    missing = act(client, sub.id, "pause", months="1")
    assert missing.status_code == 404 and "We cannot find your gift" in text(missing)
    assert emulator.get(sub.stripe_id)["pause_collection"] is None
    assert [c.failed_at is not None for c in changes()] == [True]


def test_a_change_whose_webhook_was_lost_is_applied_by_reconcile(client, emulator, runner):
    _supporter, sub, _deliveries = gift_in_session(client, emulator)
    assert act(client, sub.id, "pause", months="1").status_code == 303
    result = runner.invoke(args=["stripe", "reconcile"])
    assert result.exit_code == 0, result.output
    ledger_matches_stripe(emulator, sub.stripe_id)
    [change] = changes()
    assert change.applied_at is not None
    assert mails() == [("gift_paused", f"supporter_change:{change.id}", "en")]
