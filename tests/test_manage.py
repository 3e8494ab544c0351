"""The manage page and signed links: same answer for any address, a mailed link that
opens the account page of the address it was mailed to (and from there the right
customer's Billing Portal), friendly pages for bad links."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from support.extensions import db
from support.manage.done import SALT as DONE_SALT
from support.manage.done import return_token
from support.models import OutboundEmail, Subscription, Supporter, utcnow
from support.portal_links import SALT, language_hint, make_token
from tests.conftest import form_tokens
from tests.helpers.manage import (
    customer_supporter,
    open_portal,
    paid_in,
    portal_link,
    press,
    sign_in,
)
from tests.stripe_history import apply_due, oldest_first, post_event

LINK = re.compile(r"http://support\.test(/manage/[A-Za-z0-9_.\-]+)")


def ask(client, email, lang="en"):
    page = client.get(f"/{lang}/manage")
    token = form_tokens(page.get_data(as_text=True))["csrf_token"]
    return client.post(f"/{lang}/manage", data={"email": email, "csrf_token": token}, buffered=True)


@pytest.mark.one_database
def test_manage_page_in_both_languages(client):
    english = client.get("/en/manage")
    assert english.status_code == 200
    assert 'name="email"' in english.get_data(as_text=True)
    arabic = client.get("/ar/manage").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "إدارة دعمك" in arabic


def test_known_and_unknown_addresses_get_the_same_answer(client, smtp_server):
    supporter = customer_supporter()
    unknown = ask(client, "nobody@example.com")
    known = ask(client, "Layla@Example.com ")
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data() == known.get_data()
    # The request only owes the mail: the worker sends it, so no SMTP timing shows.
    rows = db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [(r.supporter_id, r.status) for r in rows] == [
        (None, "skipped"),
        (supporter.id, "pending"),
    ]
    assert smtp_server.received() == []
    apply_due()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "layla@example.com"
    assert mail["Subject"] == "Your link to manage your support"
    assert len(smtp_server.received()) == 1  # nothing for the unknown one
    rows = db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [(r.supporter_id, r.status) for r in rows] == [(None, "skipped"), (supporter.id, "sent")]


def test_the_mailed_link_opens_the_portal_of_the_right_customer(client, smtp_server, emulator):
    customer_supporter("other@example.com")
    supporter = customer_supporter(lang="ar")
    ask(client, "layla@example.com", lang="ar")
    apply_due()
    [mail] = smtp_server.wait_for(1)
    assert 'dir="rtl"' in mail.get_body(("html",)).get_content()
    path = LINK.search(mail.get_body(("plain",)).get_content()).group(1)
    opened = press(client, path)
    assert opened.status_code == 303 and opened.headers["Location"] == "/ar/account"
    account = client.get("/ar/account").get_data(as_text=True)
    assert f'name="supporter" value="{supporter.id}"' in account
    response = open_portal(client, supporter.id, "ar")
    assert response.status_code == 303
    [portal] = emulator.state()["objects"]["billing_portal.session"]
    assert response.headers["Location"] == portal["url"]
    assert portal["customer"] == supporter.stripe_customer_id
    # Back from the portal, the reader lands on a page saying the changes are saved.
    assert portal["return_url"].startswith("http://support.test/ar/manage/done?r=")
    assert portal["locale"] == "auto"


@pytest.mark.one_database
def test_malformed_address_is_a_400_with_the_form(client, smtp_server):
    response = ask(client, "not an address")
    assert response.status_code == 400
    assert "Please enter a valid email address." in response.get_data(as_text=True)


def test_requests_are_limited_per_address_in_the_readers_language(client, smtp_server):
    customer_supporter()
    statuses = [ask(client, "layla@example.com", lang="ar").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = ask(client, "layla@example.com", lang="ar").get_data(as_text=True)
    assert 'lang="ar"' in limited
    apply_due()
    assert len(smtp_server.received()) == 3


def test_requests_are_limited_per_ip(app, client, smtp_server):
    app.config["MANAGE_LIMIT_PER_IP"] = "2 per hour"
    assert ask(client, "a@example.com").status_code == 200
    assert ask(client, "b@example.com").status_code == 200
    assert ask(client, "c@example.com").status_code == 429


@pytest.mark.one_database
def test_a_tampered_link_is_a_friendly_400_offering_a_new_one(client):
    token = make_token(1, "ar")
    response = client.get(f"/manage/{token[:-2]}xx", headers={"Accept-Language": "ar"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "هذا الرابط لا يعمل" in page and 'name="email"' in page
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.one_database
@pytest.mark.parametrize("keep", [14, 40, -12])
def test_a_cut_link_answers_in_the_language_it_was_mailed_in(client, keep):
    # A mail program cut the link: the signature is gone, the language is not.
    token = make_token(12345, "ar", "mail")
    response = client.get(f"/manage/{token[:keep]}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "هذا الرابط لا يعمل" in page and 'action="/ar/manage"' in page
    assert "data-other-language" not in page  # its language is known: no second one


@pytest.mark.one_database
def test_a_cut_link_made_before_the_language_came_first_still_knows_it(app, client):
    # Older links carried the supporter first; a cut one still says its language, even
    # when the payload was long and repetitive enough to be compressed.
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT)
    plain = serializer.dumps({"s": 123456, "l": "ar", "p": "mail", "n": "Zq8-rT1xYw0aB3cD5eF7gH"})
    zipped = serializer.dumps({"s": 123456, "l": "ar", "p": "mail", "n": "n" * 22})
    assert zipped.startswith(".") and not plain.startswith(".")
    for older in (plain, zipped):
        assert language_hint(older[:36]) == "ar"
        page = client.get(f"/manage/{older[:36]}", headers={"Accept-Language": "en"})
        assert '<html lang="ar"' in page.get_data(as_text=True)


@pytest.mark.one_database
@pytest.mark.parametrize(("browser", "other"), [("en", "ar"), ("ar", "en")])
def test_a_link_too_broken_to_say_its_language_offers_both(client, browser, other):
    response = client.get("/manage/eyJ", headers={"Accept-Language": browser})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<html lang="{browser}"' in page and f'action="/{browser}/manage"' in page
    block = page[page.index("data-other-language") :]
    assert (
        f'lang="{other}"' in page[page.rindex("<section", 0, page.index("data-other-language")) :]
    )
    assert f'href="/{other}/manage"' in block
    assert ("هذا الرابط لا يعمل" if other == "ar" else "This link does not work") in block


def test_language_hint_reads_only_what_is_left():
    assert language_hint("") is None and language_hint("!!!") is None
    assert language_hint(".!!!!") is None
    assert language_hint("eyJsIjoiZnIifQ") is None  # {"l":"fr"}: not a language we answer in


def test_an_expired_link_is_a_410_in_its_language(client, monkeypatch):
    supporter = customer_supporter(lang="ar")
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: time.monotonic() * 0 + 1_000_000_000)
        old = make_token(supporter.id, "ar")
    response = client.get(f"/manage/{old}")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "انتهت صلاحية هذا الرابط" in page and 'action="/ar/manage"' in page


def test_a_link_for_an_erased_supporter_opens_nothing(client, emulator):
    supporter = customer_supporter()
    token = make_token(supporter.id, "en")
    supporter.erased_at = utcnow()
    db.session.commit()
    assert client.get(f"/manage/{token}").status_code == 400
    assert "billing_portal.session" not in emulator.state()["objects"]


def test_stripe_down_is_a_502_page(client, emulator):
    supporter = customer_supporter()
    sign_in(client, supporter.id)
    emulator.fail_next(status=500)  # test apps do not retry (STRIPE_NETWORK_RETRIES)
    response = open_portal(client, supporter.id)
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert "not available right now" in page and 'href="/en/account"' in page  # try again
    assert open_portal(client, supporter.id).status_code == 303


@pytest.mark.parametrize(
    ("lang", "contact", "says"),
    [
        ("en", "", "please contact the newsroom"),
        ("ar", "help@news.example.org", "لا يمكننا العثور على تبرعك"),
    ],
)
def test_a_customer_stripe_does_not_have_is_not_an_outage(app, client, lang, contact, says):
    # The emulator restarted empty, or Stripe deleted the customer: "No such customer".
    app.config["SUPPORT_CONTACT_EMAIL"] = contact
    row = Supporter(email="gone@example.com", lang=lang, stripe_customer_id="cus_gone")
    db.session.add(row)
    db.session.commit()
    sign_in(client, row.id, lang)
    response = open_portal(client, row.id, lang)
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert says in page and "not answering" not in page and "لا يستجيب" not in page
    assert f'lang="{lang}"' in page
    assert 'href="/' + lang + '/"' in page  # give again
    if contact:
        assert f'href="mailto:{contact}"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_portal_sends_the_reader_back_to_what_changed(client, emulator):
    attempt = paid_in(client, emulator)
    thanks = f"/en/thanks?session_id={attempt.session_id}"
    assert press(client, portal_link(client.get(thanks).get_data(as_text=True))).status_code == 303
    assert open_portal(client, attempt.supporter_id).status_code == 303
    [portal] = emulator.state()["objects"]["billing_portal.session"]
    back = portal["return_url"].removeprefix("http://support.test")
    # Back without changing anything: no claim that changes were saved.
    page = " ".join(client.get(back).get_data(as_text=True).split())
    assert "Nothing has changed" in page and "Your changes are saved" not in page
    assert 'data-outcome="unchanged"' in page and "$5 every month: active" in page
    # Cancelled in the portal: once the webhook is applied, the page says so.
    [sub] = emulator.state()["objects"]["subscription"]
    emulator.cancel(sub["id"], at_period_end=True)
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()
    page = " ".join(client.get(back).get_data(as_text=True).split())
    assert "Your changes are saved" in page and 'data-outcome="changed"' in page
    assert "$5 every month: cancelled, ends on" in page
    # Without a valid token the page claims neither, and shows no gift.
    bare = client.get("/en/manage/done?r=forged").get_data(as_text=True)
    assert "Your changes are saved" not in bare and "Nothing has changed" not in bare
    assert "Back from your account page" in bare and "data-gifts" not in bare


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("unchanged", "لم يتغيّر شيء"),
        ("changed", "تم حفظ تغييراتك"),
        ("unknown", "عدت من صفحة حسابك"),
    ],
)
def test_the_return_page_says_what_happened_in_arabic(client, outcome, words):
    supporter = customer_supporter(lang="ar")
    subscription = Subscription(
        stripe_id="sub_done_ar", supporter_id=supporter.id, status="active", amount=500,
        currency="usd", interval="month", started_at=utcnow(),
    )  # fmt: skip
    db.session.add(subscription)
    db.session.commit()
    token = return_token(supporter.id) if outcome != "unknown" else "forged"
    if outcome == "changed":
        subscription.amount = 1000  # changed in the portal; the webhook has arrived
        db.session.commit()
    page = client.get(f"/ar/manage/done?r={token}").get_data(as_text=True)
    assert f'data-outcome="{outcome}"' in page and words in page


def test_a_return_link_made_before_the_digest_claims_nothing(app, client):
    supporter = customer_supporter()
    older = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=DONE_SALT).dumps(supporter.id)
    page = client.get(f"/en/manage/done?r={older}").get_data(as_text=True)
    assert 'data-outcome="unknown"' in page and "Your changes are saved" not in page


def test_thanks_page_opens_the_account_page_of_the_paying_customer_once(client, emulator):
    attempt = paid_in(client, emulator)
    thanks = f"/en/thanks?session_id={attempt.session_id}"
    path = portal_link(client.get(thanks).get_data(as_text=True))
    page = client.get(path)  # a page with one button; nothing spent, Stripe not asked
    assert page.status_code == 200 and "Open my account page" in page.get_data(as_text=True)
    opened = press(client, path)
    assert opened.status_code == 303 and opened.headers["Location"] == "/en/account"
    account = client.get("/en/account")
    assert account.status_code == 200
    assert f'name="supporter" value="{attempt.supporter_id}"' in account.get_data(as_text=True)
    assert "billing_portal.session" not in emulator.state()["objects"]

    again = client.get(path)
    assert again.status_code == 410
    assert "This link has already been used" in again.get_data(as_text=True)
    # Reloading the thanks page in the same browser gives a fresh link.
    assert press(client, portal_link(client.get(thanks).get_data(as_text=True))).status_code == 303

    attempt.completed_at = utcnow() - timedelta(days=2)
    db.session.commit()
    page = client.get(thanks).get_data(as_text=True)
    assert 'href="/en/manage"' in page and portal_link(page) is None


def test_the_thanks_session_covers_the_paying_customer_not_the_typed_address(client, emulator):
    """Another customer under the same address stays out of a thanks-page session: the
    address typed at Checkout proves nothing."""
    attempt = paid_in(client, emulator)
    payer = db.session.get(Supporter, attempt.supporter_id)
    other = Supporter(email=payer.email, stripe_customer_id="cus_same_address", lang="en")
    db.session.add(other)
    db.session.commit()
    thanks = f"/en/thanks?session_id={attempt.session_id}"
    press(client, portal_link(client.get(thanks).get_data(as_text=True)))
    html = client.get("/en/account").get_data(as_text=True)
    assert f'name="supporter" value="{payer.id}"' in html
    assert f'name="supporter" value="{other.id}"' not in html
    assert open_portal(client, other.id).status_code == 403


def test_the_paying_browser_reaches_only_the_customer_that_paid(client, emulator):
    """The ledger's supporter for the checkout must be the session's own customer."""
    attempt = paid_in(client, emulator)
    supporter = db.session.get(Supporter, attempt.supporter_id)
    assert attempt.stripe_customer_id == supporter.stripe_customer_id
    thanks = f"/en/thanks?session_id={attempt.session_id}"
    path = portal_link(client.get(thanks).get_data(as_text=True))
    # Were the attempt ever filed under another customer's supporter, nothing opens.
    attempt.stripe_customer_id = "cus_someone_else"
    db.session.commit()
    assert portal_link(client.get(thanks).get_data(as_text=True)) is None
    assert client.get(path).status_code == 403
    assert "billing_portal.session" not in emulator.state()["objects"]


def test_thanks_url_in_another_browser_gets_no_portal(app, client, emulator):
    attempt = paid_in(client, emulator)
    thanks = f"/en/thanks?session_id={attempt.session_id}"
    path = portal_link(client.get(thanks).get_data(as_text=True))
    with app.app_context():
        other = app.test_client()
        page = other.get(thanks).get_data(as_text=True)
        assert "Thank you for supporting" in page
        assert 'href="/en/manage"' in page and portal_link(page) is None
        # Nor does the paying browser's link open the portal anywhere else.
        stolen = other.get(path)
        assert stolen.status_code == 403
        text = stolen.get_data(as_text=True)
        assert "only works in the browser you gave from" in text and 'name="email"' in text
        csrf = form_tokens(text)["csrf_token"]
        assert other.post(path, data={"csrf_token": csrf}).status_code == 403
        data = {"supporter": attempt.supporter_id, "csrf_token": csrf}
        assert other.post("/en/account/portal", data=data).status_code == 403
    assert "billing_portal.session" not in emulator.state()["objects"]
    assert press(client, path).status_code == 303  # still unused in the browser that paid
