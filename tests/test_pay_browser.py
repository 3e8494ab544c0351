"""Paying on our own pay page in headless Chromium, in English and Arabic: the appeal →
the pay page (the emulator's Payment Element) → the thanks page, and the ledger through
the webhooks and the worker; declines, 3-D Secure, Stripe.js failing, an expired session,
no JavaScript; no CSP violation; axe-core; screenshots at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import Payment, Subscription, Supporter
from tests.helpers.page_checks import axe_problems, overflow, screenshot
from tests.helpers.pay import (
    DECLINED,
    PAY_PATH,
    SUCCEEDS,
    THANKS_URL,
    THREE_D_SECURE,
    card_frame,
    choose_on_appeal,
    collect_csp_violations,
    pay_message,
    pay_on_pay_page,
    pay_with_card,
    three_d_secure,
    use_pay_page,
    wait_for_pay_page,
)

pytestmark = pytest.mark.browser

LANGS = ("en", "ar")
SAYS = {
    "en": {
        "title": "Complete your gift",
        "declined": "Your card was declined. Nothing was charged.",
        "authentication": "Your bank did not confirm this payment.",
        "network": "We could not reach the payment service.",
        "expired": "This payment page has expired.",
        "confirmed": "Your payment is confirmed",
        "number": "Card number",
    },
    "ar": {
        "title": "أكمل دعمك",
        "declined": "رُفضت بطاقتك. لم يُقتطع أي مبلغ.",
        "authentication": "لم يؤكّد مصرفك هذه الدفعة.",
        "network": "تعذّر علينا الاتصال بخدمة الدفع.",
        "expired": "انتهت صلاحية صفحة الدفع هذه.",
        "confirmed": "تم تأكيد الدفع",
        "number": "رقم البطاقة",
    },
}


@pytest.fixture
def site(app, live_server):
    """The live app taking payment on our own pay page."""
    use_pay_page(app)
    return live_server


def ledger_for(email: str):
    """The supporter with `email` and their subscriptions and payments."""
    db.session.rollback()
    found = db.session.scalar(sa.select(Supporter).where(Supporter.email == email))
    assert found is not None, f"no supporter {email}"
    subs = db.session.scalars(
        sa.select(Subscription).where(Subscription.supporter_id == found.id)
    ).all()
    payments = db.session.scalars(sa.select(Payment).where(Payment.supporter_id == found.id)).all()
    return found, subs, payments


@pytest.mark.parametrize("lang", LANGS)
def test_a_reader_pays_monthly_on_our_page_and_joins_the_ledger(site, page, lang):
    violations = collect_csp_violations(page)
    choose_on_appeal(page, site.url, lang, amount="5", frequency="month")
    session_id = wait_for_pay_page(page)
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.get_by_role("heading", level=1).inner_text() == SAYS[lang]["title"]
    frame = card_frame(page)
    assert frame.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert SAYS[lang]["number"] in frame.locator("label[for=number]").inner_text()

    email = f"reader-{lang}@example.org"
    pay_with_card(page, SUCCEEDS, email)
    page.wait_for_url(THANKS_URL)
    assert page.url.endswith(f"/{lang}/thanks?session_id={session_id}")
    site.settle()
    supporter, [sub], payments = ledger_for(email)
    assert supporter.lang == lang
    assert (sub.amount, sub.currency, sub.interval, sub.status) == (500, "usd", "month", "active")
    assert [p.amount for p in payments] == [500]
    page.reload()
    assert SAYS[lang]["confirmed"] in page.inner_text("main")
    assert violations == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_declined_card_gets_our_message_and_the_choice_stays(site, page, lang):
    violations = collect_csp_violations(page)
    choose_on_appeal(
        page, site.url, lang, amount="7", frequency="year", cover_fees=True, email="d@example.org"
    )
    wait_for_pay_page(page)
    summary = page.inner_text("[data-pay-summary]")
    pay_with_card(page, DECLINED)
    assert (
        pay_message(page)
        == SAYS[lang]["declined"]
        + " "
        + {
            "en": "Please try another card, or ask your bank why.",
            "ar": "يُرجى تجربة بطاقة أخرى، أو سؤال مصرفك عن السبب.",
        }[lang].strip()
    )
    assert page.inner_text("[data-pay-summary]") == summary
    assert page.locator("#pay-email").input_value() == "d@example.org"

    pay_with_card(page, SUCCEEDS)
    page.wait_for_url(THANKS_URL)
    site.settle()
    _, [sub], _ = ledger_for("d@example.org")
    assert (sub.amount, sub.interval) == (752, "year")  # $7 and the card fee, yearly
    assert violations == []


@pytest.mark.parametrize("lang", LANGS)
def test_three_d_secure_failed_then_completed(site, page, lang):
    violations = collect_csp_violations(page)
    choose_on_appeal(page, site.url, lang, amount="10", frequency="once")
    wait_for_pay_page(page)
    pay_with_card(page, THREE_D_SECURE, "tds@example.org")
    three_d_secure(page, complete=False)
    assert pay_message(page).startswith(SAYS[lang]["authentication"])
    assert page.locator("[data-pay-button]").is_enabled()

    pay_with_card(page, THREE_D_SECURE)
    three_d_secure(page, complete=True)
    page.wait_for_url(THANKS_URL)
    site.settle()
    _, subs, [paid] = ledger_for("tds@example.org")
    assert subs == [] and paid.amount == 1000
    assert violations == []


def test_the_helper_pays_a_three_d_secure_card_through(site, page):
    choose_on_appeal(page, site.url, "ar", amount="1")
    session_id = pay_on_pay_page(page, THREE_D_SECURE, "helper@example.org")
    assert session_id in page.url


@pytest.mark.parametrize("lang", LANGS)
def test_stripe_js_not_loading_offers_stripes_own_page(site, page, lang):
    page.route("**/v3/stripe.js", lambda route: route.abort())
    choose_on_appeal(page, site.url, lang, amount="5", email="net@example.org")
    page.wait_for_url(PAY_PATH)
    assert pay_message(page).startswith(SAYS[lang]["network"])
    assert page.locator("[data-pay-button]").is_disabled()
    page.locator("[data-pay-fallback] button").click()
    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    page.click("#pay")
    page.wait_for_url(THANKS_URL)
    assert f"/{lang}/thanks" in page.url


def test_the_session_not_answering_is_a_network_message(site, page):
    page.route(re.compile(r"/v3/checkout_sessions/cs_test_\w+\?"), lambda route: route.abort())
    choose_on_appeal(page, site.url, "ar", amount="5")
    page.wait_for_url(PAY_PATH)
    assert pay_message(page).startswith(SAYS["ar"]["network"])


@pytest.mark.parametrize("lang", LANGS)
def test_an_expired_session_leads_back_to_the_appeal_with_the_choice(site, page, emulator, lang):
    choose_on_appeal(page, site.url, lang, amount="12", frequency="year")
    session_id = wait_for_pay_page(page)
    emulator.expire(session_id)
    page.reload()
    assert pay_message(page).startswith(SAYS[lang]["expired"])
    assert page.locator("[data-pay]").is_hidden()
    page.locator("[data-message=expired] a").click()
    page.wait_for_url(re.compile(rf"/{lang}/\?"))
    assert page.locator("#amount_other").input_value() == "12.00"
    assert page.locator('input[name="frequency"][value="year"]').is_checked()


def test_a_paid_session_goes_on_to_the_thanks_page(site, page):
    choose_on_appeal(page, site.url, "en", amount="5")
    session_id = pay_on_pay_page(page, SUCCEEDS)
    page.goto(f"{site.url}/en/pay/{session_id}")
    page.wait_for_url(THANKS_URL)


def test_without_javascript_the_reader_pays_on_stripes_page(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.url}/ar/")
    page.locator(".appeal-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    page.fill("#email", "nojs@example.org")
    page.click("#pay")
    page.wait_for_url(THANKS_URL)
    context.close()


@pytest.mark.parametrize("width", (1280, 390))
def test_the_pay_page_fits_passes_axe_and_is_pictured(site, browser, width):
    problems = []
    for lang in LANGS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        violations = collect_csp_violations(page)
        choose_on_appeal(page, site.url, lang, amount="5", cover_fees=True)
        wait_for_pay_page(page)
        page.locator("[data-pay-loading]").wait_for(state="hidden")
        wider = overflow(page)
        if wider:
            problems.append(f"{lang}: {wider} px wider than {width} px")
        screenshot(page, f"pay-{lang}")
        pay_with_card(page, DECLINED, "shot@example.org")
        pay_message(page)
        screenshot(page, f"pay-declined-{lang}")
        problems += [f"{lang}: {problem}" for problem in axe_problems(page)]
        problems += [f"{lang}: {v}" for v in violations]
        context.close()
    assert problems == []
