"""Upgrade asks, reader side: the mail (its links and RFC 8058 headers), the raise
page (once, in the browser that opens it, raising exactly that gift from the next
payment through the emulator and its webhooks), bad links, and unsubscribing with
one click; service mail still arrives after it."""

from __future__ import annotations

from urllib.parse import urlsplit

import itsdangerous.timed
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from support.asks import links
from support.extensions import db
from support.mail.outbox import send_due
from support.mail.queue import queue_mail
from support.models import (
    OutboundEmail,
    StaffUser,
    Subscription,
    Supporter,
    SupporterChange,
    UpgradeAskRecipient,
)
from support.privacy.erasure import erase_supporter
from tests.conftest import form_tokens
from tests.factories import sign_in, signed_in
from tests.helpers.account_changes import Deliveries
from tests.helpers.asks import ask_mails, asks, link, seed, send_ask
from tests.helpers.clock import ShiftedClock
from tests.helpers.manage import paid_in


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def path_of(url: str) -> str:
    return urlsplit(url).path


def press(client, path: str):
    page = client.get(path)
    assert page.status_code == 200, text(page)[:500]
    return client.post(
        path, data={"csrf_token": form_tokens(page.get_data(as_text=True))["csrf_token"]}
    )


def mail_to(messages, address: str):
    """The (first) ask mail to `address`."""
    return next(
        m
        for m in messages
        if m["To"].addresses[0].addr_spec == address.lower()
        and m["X-Support-Mail"].startswith("upgrade_ask;")
    )


def staff_sends(app, **values) -> None:
    staff = app.test_client()
    if db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "editor@example.org")):
        sign_in(staff, "editor@example.org")
    else:
        signed_in(staff, "editor")
    _, sent, _ = send_ask(staff, **values)
    assert sent.status_code == 303


def test_accepting_raises_exactly_that_gift_once_from_the_next_payment(
    app, client, emulator, smtp_server
):
    paid_in(client, emulator)  # $5 a month, paid at Checkout in the emulator
    deliveries = Deliveries(client, emulator)
    deliveries.sent.update(e["id"] for e in emulator.events())
    supporter = db.session.scalar(sa.select(Supporter))
    sub = db.session.scalar(sa.select(Subscription))
    others = seed(2, amount=300, lang="en")  # in the group too
    staff_sends(app, rule="plus", amount="2")
    assert send_due(limit=10).sent == 3
    message = mail_to(smtp_server.received(), supporter.email)

    # RFC 8058: the one-click unsubscribe address in the headers, and in the body.
    unsubscribe = link(message, "/unsubscribe/")
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert unsubscribe in html and "Unsubscribe" in html
    assert message["Subject"] == "Would you give a little more?"
    assert "Our reporting depends on you." in message.get_body(("plain",)).get_content()

    # The raise page: the new amount, when it starts, one button; opening spends nothing.
    accept = path_of(link(message, "/asks/"))
    reader = app.test_client()
    page = reader.get(accept)
    assert page.status_code == 200, text(page)
    assert "Your gift is $5 every month. Press the button to give $7 every month" in text(page)
    assert "starts with your next payment, on" in text(page)
    assert reader.head(accept).status_code == 200
    invoices = len(emulator.state()["objects"].get("invoice", []))
    period_end = emulator.get(sub.stripe_id)["items"]["data"][0]["current_period_end"]

    done = press(reader, accept)
    assert done.status_code == 303 and done.headers["Location"].endswith(accept)
    thanks = reader.get(accept)
    assert thanks.status_code == 200
    assert "From your next payment you give $7 every month." in text(thanks)

    # Stripe: that subscription's price, from the next payment, and nothing charged now.
    stripe_sub = emulator.get(sub.stripe_id)
    item = stripe_sub["items"]["data"][0]
    assert (item["price"]["unit_amount"], item["price"]["recurring"]["interval"]) == (700, "month")
    assert item["current_period_end"] == period_end
    assert len(emulator.state()["objects"].get("invoice", [])) == invoices
    # The ledger follows the webhook, not the click.
    db.session.expire_all()
    assert db.session.get(Subscription, sub.id).amount == 500
    deliveries.deliver()
    assert db.session.get(Subscription, sub.id).amount == 700
    [change] = db.session.scalars(sa.select(SupporterChange)).all()
    assert (change.kind, change.subscription_id, change.new_amount) == ("amount", sub.id, 700)
    assert change.applied_at is not None
    confirmations = db.session.scalars(
        sa.select(OutboundEmail.kind).where(OutboundEmail.supporter_id == supporter.id)
    ).all()
    assert sorted(confirmations) == ["gift_changed", "thank_you", "upgrade_ask"]
    # Nobody else's gift moved.
    assert {
        s.amount for s in db.session.scalars(sa.select(Subscription)) if s.supporter_id in others
    } == {300}

    # Once: another browser, or the same button again, is told it was used.
    other = app.test_client().get(accept)
    assert other.status_code == 410 and "This link has already been used" in text(other)
    again = reader.post(accept, data={"csrf_token": "x"})
    assert again.status_code in (400, 410)
    assert len(db.session.scalars(sa.select(SupporterChange)).all()) == 1

    # Counted for staff.
    staff = app.test_client()
    signed_in(staff, "admin")
    [ask] = asks()
    figures = staff.get(f"/staff/asks/{ask.id}").get_data(as_text=True)
    assert 'data-count="accepted">1<' in figures and 'data-count="sent">3<' in figures


def test_stripe_failing_gives_the_link_back(app, client, emulator):
    paid_in(client, emulator)
    staff_sends(app, rule="set", amount="8")
    [recipient] = db.session.scalars(sa.select(UpgradeAskRecipient)).all()
    accept = path_of(links.accept_url(recipient.id, "en"))
    reader = app.test_client()
    page = reader.get(accept)
    token = form_tokens(page.get_data(as_text=True))["csrf_token"]
    emulator.fail_next(status=500, type="api_error", count=5)
    failed = reader.post(accept, data={"csrf_token": token})
    assert failed.status_code == 502 and "not available right now" in text(failed)
    emulator.failures.clear()
    db.session.expire_all()
    assert db.session.get(UpgradeAskRecipient, recipient.id).accepted_at is None
    assert reader.post(accept, data={"csrf_token": token}).status_code == 303
    sub = db.session.scalar(sa.select(Subscription))
    assert emulator.get(sub.stripe_id)["items"]["data"][0]["price"]["unit_amount"] == 800


def _seeded_recipient(app, lang: str = "en") -> UpgradeAskRecipient:
    seed(1, amount=300, lang=lang)
    staff_sends(app)
    return db.session.scalars(sa.select(UpgradeAskRecipient)).one()


def test_bad_links_get_a_clear_page_never_a_500(app, client, monkeypatch):
    recipient = _seeded_recipient(app)
    accept = path_of(links.accept_url(recipient.id, "en"))
    # Tampered, truncated, or for a row that does not exist.
    for bad in (accept + "x", accept[:-6], "/asks/" + "a" * 3000, "/asks/%00"):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert "This link does not work" in text(response)
    gone = path_of(links.accept_url(recipient.id + 99, "en"))
    assert client.get(gone).status_code == 400
    # Expired: signed 31 days ago.
    clock = ShiftedClock()
    clock.advance(-31 * 86400)
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=links.ACCEPT_SALT)
    token = old.dumps({"r": recipient.id, "l": "ar"})
    monkeypatch.undo()
    expired = client.get(f"/asks/{token}")
    assert expired.status_code == 410 and 'lang="ar"' in expired.get_data(as_text=True)
    # The gift was raised meanwhile, or has ended.
    sub = db.session.get(Subscription, recipient.subscription_id)
    sub.amount = 900
    db.session.commit()
    raised = client.get(accept)
    assert raised.status_code == 409
    assert "Your gift is already at this amount or more" in text(raised)
    sub.amount, sub.status = 300, "canceled"
    db.session.commit()
    ended = client.get(accept)
    assert ended.status_code == 409
    assert "This gift cannot be changed with this link" in text(ended)
    # Nothing was spent by any of it.
    db.session.expire_all()
    assert db.session.get(UpgradeAskRecipient, recipient.id).accepted_at is None


def test_a_post_without_its_form_token_shows_the_page_again(app, client):
    recipient = _seeded_recipient(app, "ar")
    accept = path_of(links.accept_url(recipient.id, "ar"))
    response = client.post(accept, data={})
    assert response.status_code == 400
    assert 'lang="ar"' in response.get_data(as_text=True)
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(UpgradeAskRecipient, recipient.id).accepted_at is None


def test_one_click_unsubscribe_without_cookies_or_token_and_service_mail_still_goes(
    app, smtp_server
):
    [supporter_id] = seed(1, amount=300, lang="ar")
    [twin] = seed(1, start=50, amount=300, email="seed0@example.org")
    staff_sends(app)
    send_due(limit=10)
    message = mail_to(smtp_server.received(), "seed0@example.org")
    assert message["Subject"] == "هل تزيد دعمك قليلاً؟"
    assert message["Content-Language"] == "ar"
    unsubscribe = path_of(message["List-Unsubscribe"].strip("<>"))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A GET only shows the button.
    browser = app.test_client()
    page = browser.get(unsubscribe)
    assert page.status_code == 200 and 'lang="ar"' in page.get_data(as_text=True)
    assert db.session.get(Supporter, supporter_id).asks_opted_out_at is None
    # The mail program's POST: no cookie, no CSRF token, no confirmation.
    program = app.test_client(use_cookies=False)
    done = program.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    db.session.expire_all()
    when = db.session.get(Supporter, supporter_id).asks_opted_out_at
    assert when is not None
    # Again: the same answer, nothing changes.
    assert program.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Supporter, supporter_id).asks_opted_out_at == when
    # Tampered: a page saying so, 400.
    assert program.post(unsubscribe + "x").status_code == 400

    # No further ask, to this row or the other customer with the address.
    smtp_server.clear()
    staff_sends(app)
    assert {m.supporter_id for m in ask_mails()} == {supporter_id, twin}  # the first ask only
    assert len(asks()) == 2 and asks()[1].recipients == 0
    # Service mail still arrives.
    queue_mail("thanks:test", "thank_you", supporter_id, "ar", {"amount": 300, "currency": "usd"})
    db.session.commit()
    assert send_due(limit=10).sent == 1
    [receipt] = smtp_server.received()
    assert receipt["List-Unsubscribe"] is None
    # Staff see it on the supporter's page.
    staff = app.test_client()
    signed_in(staff, "viewer")
    shown = text(staff.get(f"/staff/supporters/{supporter_id}"))
    assert "Unsubscribed on" in shown and "gets no ask" in shown


def test_the_opt_out_survives_the_customer_read_again_from_stripe(app, client, emulator):
    paid_in(client, emulator)
    supporter = db.session.scalar(sa.select(Supporter))
    program = app.test_client(use_cookies=False)
    assert program.post(path_of(links.unsubscribe_url(supporter.id, "en"))).status_code == 200
    deliveries = Deliveries(client, emulator)
    deliveries.sent.update(e["id"] for e in emulator.events())
    from support import stripe_api

    stripe_api.client().v1.customers.update(
        supporter.stripe_customer_id, params={"name": "New Name"}
    )
    # Every event again, as a rebuild would: the ledger rewrites the supporter.
    deliveries.deliver(list(reversed(emulator.events())))
    db.session.expire_all()
    row = db.session.get(Supporter, supporter.id)
    assert row.name == "New Name" and row.asks_opted_out_at is not None


def test_erasure_stops_a_queued_ask(app):
    [supporter_id] = seed(1, amount=300)
    staff_sends(app)
    erase_supporter(db.session.get(Supporter, supporter_id))
    db.session.commit()
    [mail] = ask_mails()
    assert (mail.status, mail.context) == ("canceled", "{}")
    assert send_due(limit=10).sent == 0
