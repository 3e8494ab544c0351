"""One-time → monthly: after a one-time gift the thanks page (in the paying browser) and
the receipt (a single-use link) offer "give N a month", N the preset nearest a share of
the gift (SUPPORT_MONTHLY_OFFER_SHARE), opening the pay page ready for the same Stripe
customer; paid, the supporter has a monthly gift and is still one supporter."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa

from support.config import ConfigError, load_config
from support.extensions import db
from support.gift_links import monthly_offer
from support.models import CheckoutAttempt, Payment, Subscription, Supporter
from support.money import gross_up
from tests.conftest import form_tokens
from tests.helpers.checkout import give_over_http
from tests.helpers.pay import PAY_PATH, session_id_of, use_pay_page
from tests.helpers.ready_gifts import (
    button_form,
    give_link_in,
    kinds,
    press,
    text_of,
)

EMAIL = "once@example.org"
OFFER = {
    "en": ("Give $5 a month instead", "Give $5 a month"),
    "ar": ("ادعمنا بمبلغ 5 دولارات شهريًا بدلًا من ذلك", "ادعمنا بمبلغ 5 دولارات شهريًا"),
}
FORM = re.compile(
    r'<form method="post" action="(/(?:en|ar)/thanks/monthly)"[^>]*data-give-monthly>'
)


@pytest.fixture
def site(app, live_server, smtp_server):
    use_pay_page(app)
    return live_server


def give_once(site, lang: str, http: requests.Session, **fields) -> str:
    """$20 once from `http`, paid and applied; the Checkout Session id."""
    session_id = give_over_http(
        site.url, lang, EMAIL, amount="other", amount_other="20", frequency="once", http=http,
        **fields,
    )  # fmt: skip
    site.settle()
    return session_id


def thanks_page(site, http: requests.Session, lang: str, session_id: str) -> str:
    page = http.get(f"{site.url}/{lang}/thanks?session_id={session_id}", timeout=10)
    assert page.status_code == 200
    return page.text


def ask_monthly(site, http, lang, session_id, tokens=None) -> requests.Response:
    """Press the thanks page's "give N a month" button (its form's fields, or `tokens`)."""
    tokens = (
        tokens if tokens is not None else form_tokens(thanks_page(site, http, lang, session_id))
    )
    return http.post(
        f"{site.url}/{lang}/thanks/monthly",
        data={"session_id": session_id, **tokens},
        allow_redirects=False,
        timeout=30,
    )


def the_supporter() -> Supporter:
    db.session.rollback()
    [supporter] = db.session.scalars(sa.select(Supporter)).all()
    return supporter


def assert_ready_monthly(emulator, location: str, lang: str, amount: int) -> str:
    """The pay page `location` is for a monthly session of `amount` as the supporter's
    own customer; its id."""
    assert PAY_PATH.search(location).group(1) == lang
    session_id = session_id_of(location)
    session = emulator.get(session_id)
    assert session["customer"] == the_supporter().stripe_customer_id
    assert (session["mode"], session["amount_total"]) == ("subscription", amount)
    price = emulator.store.extra[session_id]["line_items"][0]["price"]
    assert price["recurring"]["interval"] == "month"
    assert session["metadata"]["via"] == "monthly"
    return session_id


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_thanks_page_opens_a_ready_monthly_gift_for_the_same_customer(
    site, emulator, smtp_server, lang
):
    browser = requests.Session()
    session_id = give_once(site, lang, browser)
    html = thanks_page(site, browser, lang, session_id)
    assert FORM.search(html).group(1) == f"/{lang}/thanks/monthly"
    assert OFFER[lang][0] in html
    assert "data-monthly-offer" in html  # another amount, on the appeal

    opened = ask_monthly(site, browser, lang, session_id)
    assert opened.status_code == 303
    monthly_id = assert_ready_monthly(emulator, opened.headers["Location"], lang, 500)
    # Pressing again (back, press) makes no second session.
    assert (
        ask_monthly(site, browser, lang, session_id).headers["Location"]
        == opened.headers["Location"]
    )
    page = browser.get(site.url + opened.headers["Location"], timeout=10)
    assert page.status_code == 200 and f'value="{EMAIL}"' in page.text

    assert emulator.confirm_checkout(monthly_id)["status"] == "complete"
    site.settle()
    supporter = the_supporter()
    [sub] = db.session.scalars(sa.select(Subscription)).all()
    assert (sub.supporter_id, sub.amount, sub.interval, sub.status) == (
        supporter.id,
        500,
        "month",
        "active",
    )
    payments = db.session.scalars(sa.select(Payment.amount).order_by(Payment.id)).all()
    assert payments == [2000, 500]
    # The monthly gift's own thanks page offers nothing more.
    assert not FORM.search(thanks_page(site, browser, lang, monthly_id))
    assert kinds(smtp_server.wait_for(2)) == ["thank_you", "thank_you"]


def test_only_the_paying_browser_gets_the_button(site, emulator):
    browser = requests.Session()
    session_id = give_once(site, "en", browser)
    elsewhere = requests.Session()
    html = thanks_page(site, elsewhere, "en", session_id)
    assert not FORM.search(html) and "data-monthly-offer" in html
    tokens = form_tokens(elsewhere.get(f"{site.url}/en/", timeout=10).text)
    refused = ask_monthly(site, elsewhere, "en", session_id, tokens)
    assert refused.status_code == 403
    assert "only works in the browser you gave from" in refused.text
    assert len(emulator.state()["objects"]["checkout.session"]) == 1  # Stripe not asked


def test_bad_presses_are_refused_without_asking_stripe(site, emulator):
    browser = requests.Session()
    session_id = give_once(site, "ar", browser)
    tokens = form_tokens(thanks_page(site, browser, "ar", session_id))
    for bad in ("", "cs_test_unknown", "x" * 5000, "cs_test_" + "a" * 300):
        assert ask_monthly(site, browser, "ar", bad, tokens).status_code == 404
    # Without its form token: back to the thanks page, nothing started.
    stale = ask_monthly(site, browser, "ar", session_id, {})
    assert stale.status_code == 303 and stale.headers["Location"].endswith(session_id)
    assert len(emulator.state()["objects"]["checkout.session"]) == 1


def test_covered_fees_are_covered_monthly_too(site, emulator):
    browser = requests.Session()
    session_id = give_once(site, "en", browser, cover_fees="y")
    opened = ask_monthly(site, browser, "en", session_id)
    charged = gross_up(500, Decimal("2.9"), 30)
    monthly_id = assert_ready_monthly(emulator, opened.headers["Location"], "en", charged)
    attempt = db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.session_id == monthly_id)
    )
    assert attempt.cover_fees is True and attempt.amount == charged


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_receipt_link_opens_it_once_in_any_browser(site, emulator, smtp_server, lang):
    give_once(site, lang, requests.Session())
    [receipt] = smtp_server.wait_for(1)
    assert OFFER[lang][1] in receipt.get_body(("html",)).get_content()
    link = give_link_in(receipt)
    assert "/give/" in text_of(receipt)

    reader = requests.Session()  # the mail read elsewhere: the link proves the mailbox
    page = reader.get(link, timeout=10)
    assert page.status_code == 200 and OFFER[lang][1] in page.text
    form = button_form(reader, link)
    opened = press(reader, link, form)
    assert opened.status_code == 303
    monthly_id = assert_ready_monthly(emulator, opened.headers["Location"], lang, 500)
    assert press(reader, link, form).status_code == 410
    assert reader.get(link, timeout=10).status_code == 410
    assert emulator.confirm_checkout(monthly_id)["status"] == "complete"
    site.settle()
    assert [s.interval for s in db.session.scalars(sa.select(Subscription))] == ["month"]
    assert the_supporter().email == EMAIL


def test_no_offer_after_a_monthly_gift_or_when_switched_off(app, site, emulator, smtp_server):
    browser = requests.Session()
    monthly = give_over_http(site.url, "en", EMAIL, http=browser)
    site.settle()
    assert not FORM.search(thanks_page(site, browser, "en", monthly))
    app.config["SUPPORT_MONTHLY_OFFER_SHARE"] = None
    once = give_once(site, "en", browser)
    html = thanks_page(site, browser, "en", once)
    assert not FORM.search(html) and "data-monthly-offer" in html
    tokens = form_tokens(browser.get(f"{site.url}/en/", timeout=10).text)
    assert ask_monthly(site, browser, "en", once, tokens).status_code == 403
    mails = smtp_server.wait_for(2)
    assert kinds(mails) == ["thank_you", "thank_you"]
    assert all("/give/" not in text_of(mail) for mail in mails)


@pytest.mark.parametrize(
    ("gift", "share", "offer"),
    [
        (2000, "0.25", 500),  # a quarter of $20: $5
        (1000, "0.25", 100),  # $2.50 is nearer $1 than $5
        (3000, "0.25", 500),  # $7.50: as near $5 as $10, the lower
        (100_000, "0.25", 1000),  # above every preset: the largest
        (300, "0.25", 100),  # below every preset: the smallest
        (1000, "0.5", 500),
    ],
)
def test_the_offer_is_the_preset_nearest_the_share(app, gift, share, offer):
    app.config["SUPPORT_MONTHLY_OFFER_SHARE"] = Decimal(share)
    assert monthly_offer(gift, "usd") == offer


def test_no_offer_without_a_preset_the_currency_can_take(app):
    app.config["SUPPORT_PRESETS"] = [Decimal("7.50")]
    assert monthly_offer(100, "jpy") is None
    assert monthly_offer(3000, "usd") == 750
    app.config["SUPPORT_MONTHLY_OFFER_SHARE"] = None
    assert monthly_offer(3000, "usd") is None


@pytest.mark.parametrize(("value", "share"), [("0.3", Decimal("0.3")), ("off", None), ("0", None)])
def test_the_share_setting(value, share):
    assert (
        load_config({"SUPPORT_MONTHLY_OFFER_SHARE": value})["SUPPORT_MONTHLY_OFFER_SHARE"] == share
    )
    assert load_config({})["SUPPORT_MONTHLY_OFFER_SHARE"] == Decimal("0.25")


@pytest.mark.parametrize("value", ["2", "-1", "a quarter", "1e-1", "NaN"])
def test_a_bad_share_stops_the_start(value):
    with pytest.raises(ConfigError, match="SUPPORT_MONTHLY_OFFER_SHARE must be a share"):
        load_config({"SUPPORT_MONTHLY_OFFER_SHARE": value})
