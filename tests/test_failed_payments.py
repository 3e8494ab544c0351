"""Failed payments the whole way, end to end over real HTTP, the worker and a real SMTP
server, with the emulator playing Stripe's retries: the first failure → more retries →
the last attempt's mail → the gift ended for non-payment → the "support stopped" mail →
its restart link (GET shows a button, the POST opens the pay page for the same gift and
customer, once) → paid → a new subscription for the same supporter. Each mail once,
whatever the order and however often Stripe delivers, in English and Arabic."""

from __future__ import annotations

import time

import itsdangerous.timed
import pytest
import requests
import sqlalchemy as sa

from support import stripe_budget
from support.extensions import db
from support.gift_links import make_token
from support.models import Subscription, Supporter
from tests.helpers.checkout import give_over_http
from tests.helpers.clock import ShiftedClock
from tests.helpers.pay import PAY_PATH, session_id_of, use_pay_page
from tests.helpers.ready_gifts import (
    button_form,
    give_link_in,
    html_of,
    kinds,
    of_kind,
    owed,
    press,
    text_of,
)

LANGS = ("en", "ar")
EMAIL = "lapsed@example.org"
SAYS = {
    "en": {
        "last": "That was our last try",
        "stopped": "Your support for The Newsroom has stopped.",
        "mail_gift": "Your gift: $10 every month.",
        "button": "Restart my gift",
        "gift": "$10 every month.",
        "used": "This link has already been used",
        "invalid": "This link does not work",
        "expired": "This link has expired",
    },
    "ar": {
        "last": "كانت هذه محاولتنا الأخيرة",
        "stopped": "توقّف دعمك لـغرفة الأخبار.",
        "mail_gift": "مساهمتك: 10 دولارات كل شهر.",
        "button": "استأنف دعمي",
        "gift": "10 دولارات كل شهر.",
        "used": "سبق استخدام هذا الرابط",
        "invalid": "هذا الرابط لا يعمل",
        "expired": "انتهت صلاحية هذا الرابط",
    },
}


@pytest.fixture
def site(app, live_server, smtp_server):
    """The live app taking payment on our own pay page, mailing to a real SMTP server."""
    use_pay_page(app)
    return live_server


def subscription_of(emulator, session_id: str) -> str:
    return emulator.get(session_id)["subscription"]


def the_supporter() -> Supporter:
    db.session.rollback()
    return db.session.scalar(sa.select(Supporter).where(Supporter.email == EMAIL))


def fail_to_the_end(site, emulator, sub_id: str) -> None:
    """Stripe's whole schedule: the renewal fails, a retry fails, the last one fails, and
    the subscription is cancelled for non-payment; each step applied before the next."""
    for step in (
        lambda: emulator.fail_renewal(sub_id),
        lambda: emulator.retry_failed(sub_id),
        lambda: emulator.retry_failed(sub_id, final=True),
        lambda: emulator.end_unpaid(sub_id),
    ):
        step()
        site.settle()


@pytest.mark.parametrize("lang", LANGS)
def test_failures_to_the_end_then_a_restart_for_the_same_customer(
    site, emulator, smtp_server, lang
):
    session_id = give_over_http(site.url, lang, EMAIL, amount="10")
    sub_id = subscription_of(emulator, session_id)
    assert kinds(smtp_server.wait_for(1)) == ["thank_you"]

    emulator.fail_renewal(sub_id)
    site.settle()
    emulator.retry_failed(sub_id)  # the same invoice: its failure was told already
    site.settle()
    assert kinds(smtp_server.wait_for(2)) == ["thank_you", "payment_failed"]

    emulator.retry_failed(sub_id, final=True)
    site.settle()
    last = smtp_server.wait_for(3)[2]
    assert kinds([last]) == ["payment_last_attempt"]
    assert last["Content-Language"] == lang and SAYS[lang]["last"] in text_of(last)
    assert f'<html lang="{lang}"' in html_of(last) and "/manage/" in text_of(last)

    # Stripe delivers every failure again: nothing more is owed.
    for event in emulator.events("invoice.payment_failed"):
        emulator.redeliver(event["id"])
    site.settle()

    emulator.end_unpaid(sub_id)
    site.settle()
    for event in emulator.events("customer.subscription.deleted"):
        emulator.redeliver(event["id"])
    site.settle()
    messages = smtp_server.wait_for(4)
    assert kinds(messages) == [
        "thank_you",
        "payment_failed",
        "payment_last_attempt",
        "support_stopped",
    ]
    stopped = messages[3]
    assert SAYS[lang]["stopped"] in text_of(stopped)
    assert SAYS[lang]["mail_gift"] in text_of(stopped)
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in html_of(stopped)
    link = give_link_in(stopped)
    supporter = the_supporter()
    old = db.session.scalar(sa.select(Subscription).where(Subscription.stripe_id == sub_id))
    assert old.status == "canceled"

    # Mail scanners and link previews only GET (or HEAD): nothing is spent.
    assert requests.head(link, timeout=10).status_code == 200
    scanned = requests.get(link, timeout=10)
    assert scanned.status_code == 200 and SAYS[lang]["button"] in scanned.text
    assert SAYS[lang]["gift"] in scanned.text
    assert emulator.state()["objects"].get("checkout.session", []).__len__() == 1

    reader = requests.Session()
    form = button_form(reader, link)
    opened = press(reader, link, form)
    assert opened.status_code == 303
    assert PAY_PATH.search(opened.headers["Location"]).group(1) == lang
    new_id = session_id_of(opened.headers["Location"])
    session = emulator.get(new_id)
    price = emulator.store.extra[new_id]["line_items"][0]["price"]
    assert session["customer"] == supporter.stripe_customer_id
    assert (session["mode"], session["amount_total"], session["currency"]) == (
        "subscription",
        old.amount,
        "usd",
    )
    assert price["recurring"]["interval"] == "month"
    assert session["metadata"]["via"] == "restart" and session["metadata"]["lang"] == lang

    # The pay page opens in this browser, the address filled in; in no other.
    page = reader.get(site.url + opened.headers["Location"], timeout=10)
    assert page.status_code == 200 and f'value="{EMAIL}"' in page.text
    elsewhere = requests.Session()
    assert elsewhere.get(site.url + opened.headers["Location"], timeout=10).status_code == 403

    # A link works once, in any browser; a changed one never.
    again = press(reader, link, form)
    assert again.status_code == 410 and SAYS[lang]["used"] in again.text
    assert press(elsewhere, link, form).status_code == 410  # without a form of its own too
    assert elsewhere.get(link, timeout=10).status_code == 410
    tampered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    refused = elsewhere.get(tampered, timeout=10)  # says nothing of its language: English
    assert refused.status_code == 400 and SAYS["en"]["invalid"] in refused.text

    confirmed = emulator.confirm_checkout(new_id)
    assert confirmed["status"] == "complete"
    site.settle()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Supporter)) == 1
    subs = db.session.scalars(sa.select(Subscription).order_by(Subscription.id)).all()
    assert [(s.status, s.amount, s.interval) for s in subs] == [
        ("canceled", 1000, "month"),
        ("active", 1000, "month"),
    ]
    assert subs[1].supporter_id == supporter.id
    assert emulator.get(subs[1].stripe_id)["customer"] == supporter.stripe_customer_id
    messages = smtp_server.wait_for(5)
    assert kinds(messages)[4:] == ["thank_you"] and len(owed("support_stopped")) == 1


def test_each_mail_once_when_events_come_late_twice_and_backwards(site, emulator, smtp_server):
    sub_id = subscription_of(emulator, give_over_http(site.url, "en", EMAIL, amount="10"))
    site.settle()
    emulator.hold_events = True
    try:
        emulator.fail_renewal(sub_id)
        emulator.retry_failed(sub_id)
        emulator.retry_failed(sub_id, final=True)
        held = emulator.held_events()
        for event in [*reversed(held), *held]:
            emulator.deliver(event)
        site.settle()
        # Applied late, every failure reads the invoice as it is now: no retry is left,
        # and the gift still owes it, so the last attempt's mail alone, once.
        assert len(owed("payment_last_attempt")) == 1 and owed("payment_failed") == []

        emulator.end_unpaid(sub_id)
        ended = emulator.held_events()[len(held) :]
        for event in [*reversed(ended), *ended, *reversed(held)]:
            emulator.deliver(event)
        site.settle()
    finally:
        emulator.hold_events = False
        emulator.release_held()
    site.settle()
    assert len(owed("support_stopped")) == 1 and len(owed("payment_last_attempt")) == 1
    assert kinds(smtp_server.wait_for(3, timeout=2)) == [
        "thank_you",
        "payment_last_attempt",
        "support_stopped",
    ]


def test_a_failure_heard_of_after_the_end_owes_only_the_stopped_mail(site, emulator, smtp_server):
    sub_id = subscription_of(emulator, give_over_http(site.url, "ar", EMAIL, amount="5"))
    site.settle()
    emulator.hold_events = True
    try:
        emulator.fail_renewal(sub_id)
        emulator.end_unpaid(sub_id, void_invoice=True)
    finally:
        emulator.hold_events = False
        emulator.release_held()
    site.settle()
    assert owed("payment_failed") == [] and owed("payment_last_attempt") == []
    [stopped] = owed("support_stopped")
    assert stopped.lang == "ar"
    messages = smtp_server.wait_for(2)
    assert kinds(messages) == ["thank_you", "support_stopped"]
    assert "/give/" in text_of(messages[1])


def test_the_last_attempt_mail_when_stripe_marks_the_gift_unpaid(site, emulator, smtp_server):
    sub_id = subscription_of(emulator, give_over_http(site.url, "en", EMAIL, amount="5"))
    emulator.fail_renewal(sub_id)
    site.settle()
    emulator.retry_failed(sub_id, final=True, mark_unpaid=True)
    site.settle()
    assert kinds(smtp_server.wait_for(3)) == ["thank_you", "payment_failed", "payment_last_attempt"]
    db.session.rollback()
    assert db.session.scalar(sa.select(Subscription.status)) == "unpaid"


def test_a_gift_cancelled_by_the_supporter_gets_no_stopped_mail(site, emulator, smtp_server):
    sub_id = subscription_of(emulator, give_over_http(site.url, "en", EMAIL, amount="5"))
    emulator.cancel(sub_id)
    site.settle()
    assert owed("support_stopped") == []
    assert kinds(smtp_server.wait_for(1)) == ["thank_you"]


def stopped_link(site, emulator, smtp_server, lang: str = "en") -> str:
    """A gift given, failed and ended for non-payment; the stopped mail's restart link."""
    fail_to_the_end(
        site, emulator, subscription_of(emulator, give_over_http(site.url, lang, EMAIL))
    )
    [stopped] = of_kind(smtp_server.wait_for(4), "support_stopped")
    return give_link_in(stopped)


def test_under_hosted_checkout_the_restart_opens_stripes_page(
    app, live_server, emulator, smtp_server
):
    app.config["SUPPORT_CHECKOUT_UI"] = "hosted"
    link = stopped_link(live_server, emulator, smtp_server)
    reader = requests.Session()
    opened = press(reader, link)
    assert opened.status_code == 303
    [_, session] = emulator.state()["objects"]["checkout.session"]
    assert opened.headers["Location"] == session["url"]
    assert session["customer"] == the_supporter().stripe_customer_id
    assert session["ui_mode"] == "hosted_page" and session["customer_email"] is None
    paid = reader.post(session["url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303
    live_server.settle()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Supporter)) == 1
    statuses = db.session.scalars(sa.select(Subscription.status).order_by(Subscription.id))
    assert list(statuses) == ["canceled", "active"]


def test_stripe_failing_gives_the_link_back(site, emulator, smtp_server):
    link = stopped_link(site, emulator, smtp_server)
    reader = requests.Session()
    form = button_form(reader, link)
    emulator.fail_next(status=500)  # test apps do not retry (STRIPE_NETWORK_RETRIES)
    failed = press(reader, link, form)
    assert failed.status_code == 502
    opened = press(reader, link, form)
    assert opened.status_code == 303 and PAY_PATH.search(opened.headers["Location"])


@pytest.mark.parametrize("lang", LANGS)
def test_expired_tampered_and_unknown_links_say_so_in_the_links_language(
    site, emulator, monkeypatch, lang
):
    clock = ShiftedClock()
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    clock.advance(-8 * 24 * 3600)
    old = make_token(1, lang, "restart", 500, "usd", "month")
    clock.advance(8 * 24 * 3600)
    expired = requests.get(f"{site.url}/give/{old}", timeout=10)
    assert expired.status_code == 410 and SAYS[lang]["expired"] in expired.text
    assert f'lang="{lang}"' in expired.text
    posted = requests.post(f"{site.url}/give/{old}", timeout=10)
    assert posted.status_code in (400, 410)

    nobody = make_token(999_999, lang, "restart", 500, "usd", "month")
    unknown = requests.get(f"{site.url}/give/{nobody}", timeout=10)
    assert unknown.status_code == 400 and SAYS[lang]["invalid"] in unknown.text
    for token in (nobody[:-6], "x" * 5000, "%00", "%C0%AF", nobody.replace(".", "!")):
        answer = requests.get(f"{site.url}/give/{token}", timeout=10)
        assert answer.status_code in (400, 404), token
    answer = requests.get(
        f"{site.url}/give/{nobody[:-6]}", headers={"Accept-Language": lang}, timeout=10
    )
    assert SAYS[lang]["invalid"] in answer.text


def test_a_post_without_its_form_token_shows_the_button_again(site, emulator, smtp_server):
    link = stopped_link(site, emulator, smtp_server, lang="ar")
    reader = requests.Session()
    answer = reader.post(link, data={}, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and SAYS["ar"]["button"] in answer.text
    assert len(emulator.state()["objects"]["checkout.session"]) == 1  # Stripe was not asked
    assert press(reader, link).status_code == 303  # the link was not spent


def test_past_the_readers_share_the_link_waits_for_the_next_press(site, emulator, smtp_server):
    link = stopped_link(site, emulator, smtp_server, lang="ar")
    reader = requests.Session()
    form = button_form(reader, link)
    emulator.reset_api_stats()
    readers = stripe_budget.readers()
    while readers.try_spend() == 0.0:
        pass
    busy = press(reader, link, form)
    assert busy.status_code == 503 and "Retry-After" in busy.headers
    assert '<html lang="ar"' in busy.text
    assert emulator.api_stats()["requests"] == 0  # nothing was sent to Stripe
    time.sleep(1.1)  # the share's one-second window moves on
    assert press(reader, link, form).status_code == 303


def test_a_huge_body_or_too_many_presses_are_refused_calmly(app, site, emulator, smtp_server):
    link = stopped_link(site, emulator, smtp_server)
    reader = requests.Session()
    huge = reader.post(link, data={"x": "a" * (2 * 1024 * 1024)}, timeout=30)
    assert huge.status_code == 413
    app.config["MANAGE_LIMIT_PORTAL"] = "3 per hour"
    answers = [reader.get(link, timeout=10).status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    assert len(emulator.state()["objects"]["checkout.session"]) == 1
