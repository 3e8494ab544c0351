"""Chat alerts to a Slack-compatible webhook: owed while the worker applies events, posted
by the worker to a receiver on 127.0.0.1, retried on 5xx, once each, never from a request."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from support.alerts import sender
from support.config import ConfigError, load_config
from support.extensions import db
from support.models import StaffAlert, Subscription, utcnow
from tests.helpers.chat_receiver import ChatReceiver
from tests.stripe_history import apply_due, give, oldest_first, post_event


@pytest.fixture
def receiver(app):
    chat = ChatReceiver().start()
    app.config["STAFF_ALERT_WEBHOOK_URL"] = chat.url
    yield chat
    chat.stop()


def alerts(kind: str | None = None) -> list[StaffAlert]:
    query = sa.select(StaffAlert).order_by(StaffAlert.id)
    if kind:
        query = query.where(StaffAlert.kind == kind)
    return list(db.session.scalars(query))


def deliver_all(client, emulator, times: int = 1) -> None:
    """Store every event the emulator made (each `times` times), then apply them."""
    for event in oldest_first(emulator):
        for _ in range(times):
            assert post_event(client, event).status_code == 200
    apply_due()


def test_a_new_gift_reaches_the_receiver_without_name_or_address(client, emulator, receiver):
    give(client, emulator, amount="7", lang="ar", email="Secret.Reader@Example.org", name="Leila")
    deliver_all(client, emulator)
    [alert] = alerts()
    assert alert.kind == "new" and alert.status == "sent" and alert.attempts == 1
    [text] = receiver.texts
    assert "New monthly gift: $7" in text
    assert "reads in Arabic" in text
    assert "/staff/supporters/" in text
    for private in ("secret", "Secret.Reader", "Leila", "example.org/?", "@"):
        assert private not in text


def test_nothing_is_posted_or_owed_while_a_request_stores_events(client, emulator, receiver):
    give(client, emulator)
    for event in oldest_first(emulator):
        assert post_event(client, event).status_code == 200
    assert alerts() == [] and receiver.texts == []
    apply_due()  # the worker's pass
    assert [a.status for a in alerts()] == ["sent"]
    assert len(receiver.texts) == 1


def test_events_delivered_twice_alert_once(client, emulator, receiver):
    _, sub_id, _ = give(client, emulator)
    emulator.cancel(sub_id)
    deliver_all(client, emulator, times=2)
    for event in oldest_first(emulator):  # a redelivery after they were applied
        post_event(client, event)
    apply_due()
    assert sorted(a.kind for a in alerts()) == ["cancelled", "new"]
    assert len(receiver.texts) == 2


def test_a_cancellation_says_its_reason(client, emulator, receiver):
    _, sub_id, _ = give(client, emulator)
    emulator.run(
        lambda store, events: store.require(sub_id, "subscription")["cancellation_details"].update(
            feedback="too_expensive"
        )
    )
    emulator.cancel(sub_id)
    deliver_all(client, emulator)
    [cancelled] = alerts("cancelled")
    assert "Cancelled: $5 monthly" in cancelled.text
    assert "reason: cannot afford it" in cancelled.text


def test_a_final_failure_alerts_once_however_it_is_seen(client, emulator, receiver):
    _, sub_id, _ = give(client, emulator)
    emulator.fail_renewal(sub_id)  # Stripe will retry: no alert
    deliver_all(client, emulator)
    assert [a.kind for a in alerts()] == ["new"]
    emulator.retry_failed(sub_id, final=True)  # no retry left,
    emulator.end_unpaid(sub_id)  # then ended for non-payment
    seen = {a.id for a in alerts()}
    deliver_all(client, emulator)
    [given_up] = [a for a in alerts() if a.id not in seen]
    assert given_up.kind == "given_up"
    invoice_id = emulator.get(sub_id)["latest_invoice"]
    assert given_up.key == f"given_up:{invoice_id}"
    assert "Last payment attempt failed: $5 monthly" in given_up.text
    assert alerts("cancelled") == []  # an ending for non-payment is the same news
    assert db.session.scalar(sa.select(Subscription.status)) == "canceled"


def test_ended_for_non_payment_first_still_alerts_once(client, emulator, receiver):
    _, sub_id, _ = give(client, emulator)
    emulator.fail_renewal(sub_id)
    emulator.retry_failed(sub_id, final=True)
    emulator.end_unpaid(sub_id)
    events = oldest_first(emulator)
    events.sort(key=lambda e: e["type"] != "customer.subscription.deleted")  # deletion first
    for event in events:
        post_event(client, event)
    apply_due()
    [given_up] = alerts("given_up")
    assert "Ended for non-payment: $5 monthly" in given_up.text


def test_a_500_is_retried_after_the_backoff_then_sent(client, emulator, receiver):
    receiver.answers = [500]
    give(client, emulator)
    deliver_all(client, emulator)
    [alert] = alerts()
    assert (alert.status, alert.attempts, alert.last_error) == ("failed", 1, "HTTP 500")
    assert alert.next_attempt_at > utcnow()
    assert sender.send_due().sent == 0  # its wait is not over
    later = alert.next_attempt_at + timedelta(seconds=1)
    assert sender.send_due(now=later).sent == 1
    db.session.expire_all()
    assert (alert.status, alert.attempts, alert.last_error) == ("sent", 2, None)
    assert len(receiver.texts) == 2 and receiver.texts[0] == receiver.texts[1]
    assert sender.send_due(now=later + timedelta(days=1)).sent == 0  # never again


def test_given_up_after_the_last_attempt(client, emulator, receiver):
    receiver.answers = [503] * sender.MAX_ATTEMPTS
    give(client, emulator)
    deliver_all(client, emulator)
    [alert] = alerts()
    now = utcnow()
    for _ in range(sender.MAX_ATTEMPTS):
        now += timedelta(days=1)
        sender.send_due(now=now)
    db.session.expire_all()
    assert (alert.status, alert.attempts, alert.next_attempt_at) == (
        "failed",
        sender.MAX_ATTEMPTS,
        None,
    )
    assert len(receiver.texts) == sender.MAX_ATTEMPTS
    sender.send_due(now=now + timedelta(days=30))
    assert len(receiver.texts) == sender.MAX_ATTEMPTS


def test_a_4xx_is_not_retried_and_the_url_is_never_kept(client, emulator, receiver):
    receiver.answers = [404]
    give(client, emulator)
    deliver_all(client, emulator)
    [alert] = alerts()
    assert (alert.status, alert.next_attempt_at, alert.last_error) == ("failed", None, "HTTP 404")
    sender.send_due(now=utcnow() + timedelta(days=2))
    assert len(receiver.texts) == 1


def test_no_receiver_listening_is_retried(app, client, emulator):
    from tests.conftest import free_port

    app.config["STAFF_ALERT_WEBHOOK_URL"] = f"http://127.0.0.1:{free_port()}/hook"
    give(client, emulator)
    deliver_all(client, emulator)
    [alert] = alerts()
    assert alert.status == "failed" and alert.next_attempt_at is not None
    assert "127.0.0.1" not in alert.last_error and "hook" not in alert.last_error


def test_no_url_owes_nothing(client, emulator):
    give(client, emulator)
    deliver_all(client, emulator)
    assert alerts() == []


@pytest.mark.one_database
@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.org/x", "ftp://127.0.0.1/x", "https://", "http://127.0.0.2.nip.io/x"],
)
def test_the_webhook_url_must_be_https_unless_local(url):
    with pytest.raises(ConfigError, match="STAFF_ALERT_WEBHOOK_URL"):
        load_config({"STAFF_ALERT_WEBHOOK_URL": url})


@pytest.mark.one_database
def test_local_and_https_urls_are_accepted():
    for url in ("https://hooks.slack.com/services/T/B/x", "http://localhost:8080/hook"):
        assert load_config({"STAFF_ALERT_WEBHOOK_URL": url})["STAFF_ALERT_WEBHOOK_URL"] == url


def test_a_staff_replay_owes_the_alert_but_only_the_worker_posts_it(client, emulator, receiver):
    from tests.factories import csrf, signed_in

    _, sub_id, _ = give(client, emulator)
    deliver_all(client, emulator)
    texts_before = list(receiver.texts)
    emulator.cancel(sub_id)
    [deleted] = emulator.events("customer.subscription.deleted")
    post_event(client, deleted)  # stored; the admin applies it from the inbox
    signed_in(client, "admin")
    response = client.post(
        f"/staff/events/{deleted['id']}/replay",
        data={"csrf_token": csrf(client, "/staff/events")},
    )
    assert response.status_code == 303
    [cancelled] = alerts("cancelled")
    assert cancelled.status == "pending"  # owed inside the request, never posted there
    assert receiver.texts == texts_before
    apply_due()
    db.session.expire_all()
    assert cancelled.status == "sent" and len(receiver.texts) == len(texts_before) + 1


def test_alerts_in_arabic(app, client, emulator, receiver):
    app.config["STAFF_ALERT_LANG"] = "ar"
    give(client, emulator, amount="7", frequency="year")
    deliver_all(client, emulator)
    [text] = receiver.texts
    assert text.startswith("دعم جديد") and "7 دولارات" in text
    assert "New" not in text
