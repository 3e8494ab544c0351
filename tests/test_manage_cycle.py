"""The whole self-service cycle offline, over real HTTP and a real SMTP server:
subscribe → one thank-you mail → manage link → Billing Portal → cancel → webhook →
the ledger says canceled; a failed renewal mails once; an erased supporter gets nothing."""

from __future__ import annotations

import re
import threading

import pytest
import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, Subscription, Supporter
from tests.conftest import form_tokens
from tests.helpers.checkout import give_over_http

EMAIL = "reader@example.org"


def subscribe(base_url: str, lang: str = "en", http: requests.Session | None = None) -> str:
    """Give $5 a month through the appeal and the emulator's Checkout; the session id."""
    return give_over_http(base_url, lang, EMAIL, http=http)


def kinds(messages) -> list[str]:
    return [m["X-Support-Mail"].split(";")[0] for m in messages]


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:\d+/manage/\S+", message.get_content()).group(0)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_subscribe_thank_once_manage_and_cancel(live_server, emulator, smtp_server):
    session_id = subscribe(live_server.url)
    [thanks] = smtp_server.wait_for(1)
    assert thanks["To"] == EMAIL and "Your gift: $5 every month." in text_of(thanks)

    # Stripe redelivers, some of it at the same time: still one thank-you.
    completed = emulator.events("checkout.session.completed")[0]["id"]
    for event in emulator.events():
        emulator.redeliver(event["id"])
    threads = [threading.Thread(target=emulator.redeliver, args=(completed,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert kinds(smtp_server.wait_for(2, timeout=1)) == ["thank_you"]
    assert db.session.scalar(sa.select(OutboundEmail.key)) == f"thanks:{session_id}"

    http = requests.Session()
    page = http.get(f"{live_server.url}/en/manage", timeout=10)
    data = {"email": EMAIL, **form_tokens(page.text)}
    assert http.post(f"{live_server.url}/en/manage", data=data, timeout=10).status_code == 200
    messages = smtp_server.wait_for(2)
    assert kinds(messages) == ["thank_you", "manage_link"]

    link = link_in(messages[1].get_body(("plain",)))
    button = http.get(link, allow_redirects=False, timeout=10)  # spends nothing
    assert button.status_code == 200
    form = form_tokens(button.text)
    spent = http.post(link, data=form, allow_redirects=False, timeout=10)
    assert spent.status_code == 303 and spent.headers["Location"] == "/en/account"
    assert http.post(link, data=form, allow_redirects=False, timeout=10).status_code == 410
    account = http.get(live_server.url + "/en/account", timeout=10)
    assert account.status_code == 200 and "$5 every month: active" in " ".join(account.text.split())
    supporter = db.session.scalar(sa.select(Supporter))
    opened = http.post(
        live_server.url + "/en/account/portal",
        data={"supporter": supporter.id, **form_tokens(account.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert opened.status_code == 303
    portal = http.get(opened.headers["Location"], timeout=10)
    [session] = emulator.state()["objects"]["billing_portal.session"]
    assert session["customer"] == supporter.stripe_customer_id
    subscription_id = re.search(r'name="subscription" value="(sub_\w+)"', portal.text).group(1)

    cancelled = http.post(
        opened.headers["Location"],
        data={"subscription": subscription_id, "action": "cancel"},
        allow_redirects=False,
        timeout=30,
    )
    assert cancelled.status_code == 303
    emulator.wait_for_deliveries()
    live_server.settle()
    row = db.session.scalar(
        sa.select(Subscription).where(Subscription.stripe_id == subscription_id)
    )
    assert row.status == "canceled" and row.canceled_at is not None


def test_the_thanks_page_opens_the_account_page_for_the_browser_that_paid(live_server, emulator):
    def get(http: requests.Session, path: str) -> requests.Response:
        return http.get(live_server.url + path, allow_redirects=False, timeout=10)

    def portal_link(http: requests.Session) -> str | None:
        match = re.search(r'href="(/manage/[^"]+)"', get(http, thanks).text)
        return match.group(1) if match else None

    browser = requests.Session()
    thanks = f"/en/thanks?session_id={subscribe(live_server.url, http=browser)}"
    live_server.settle()
    link = portal_link(browser)
    button = get(browser, link)
    assert button.status_code == 200
    form = form_tokens(button.text)
    opened = browser.post(live_server.url + link, data=form, allow_redirects=False, timeout=10)
    assert opened.status_code == 303 and opened.headers["Location"] == "/en/account"
    assert get(browser, "/en/account").status_code == 200
    assert get(browser, link).status_code == 410

    elsewhere = requests.Session()
    assert portal_link(elsewhere) is None
    assert 'href="/en/manage"' in get(elsewhere, thanks).text
    assert get(elsewhere, portal_link(browser)).status_code == 403
    assert get(elsewhere, "/en/account").status_code == 401


def test_failed_renewal_mails_once_in_arabic(live_server, emulator, smtp_server):
    subscribe(live_server.url, lang="ar")
    assert kinds(smtp_server.wait_for(1)) == ["thank_you"]
    subscription_id = emulator.state()["objects"]["subscription"][0]["id"]
    emulator.fail_renewal(subscription_id)
    for event in emulator.events("invoice.payment_failed"):
        emulator.redeliver(event["id"])
    messages = smtp_server.wait_for(3, timeout=2)
    assert kinds(messages) == ["thank_you", "payment_failed"]
    failed = messages[1]
    assert '<html lang="ar" dir="rtl">' in failed.get_body(("html",)).get_content()
    assert "/manage/" in text_of(failed)


def test_an_erased_supporter_gets_no_more_mail(live_server, emulator, smtp_server, runner):
    pytest.importorskip("support.privacy.erasure", reason="the erasure module has not landed yet")
    subscribe(live_server.url)
    live_server.settle()
    assert kinds(smtp_server.wait_for(1)) == ["thank_you"]
    result = runner.invoke(args=["supporters", "erase", EMAIL.upper()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    supporter = db.session.scalar(sa.select(Supporter))
    assert supporter.erased_at is not None and supporter.email is None

    emulator.fail_renewal(emulator.state()["objects"]["subscription"][0]["id"])
    live_server.settle()
    runner.invoke(args=["mail", "send"])
    assert kinds(smtp_server.wait_for(2, timeout=1)) == ["thank_you"]
    assert runner.invoke(args=["supporters", "erase", EMAIL]).exit_code == 1  # no longer known


def test_erasure_can_delete_the_stripe_customer(live_server, emulator, smtp_server, runner):
    pytest.importorskip("support.privacy.erasure", reason="the erasure module has not landed yet")
    subscribe(live_server.url)
    live_server.settle()
    customer = db.session.scalar(sa.select(Supporter.stripe_customer_id))
    result = runner.invoke(args=["supporters", "erase", EMAIL, "--delete-stripe-customer"])
    assert result.exit_code == 0, result.output
    assert emulator.get(customer) is None or emulator.get(customer).get("deleted")
    emulator.wait_for_deliveries()  # the cancellations it caused reach the app before teardown
