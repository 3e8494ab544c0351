"""The restart of a gift that ended for non-payment, in headless Chromium, in English and
Arabic: the "support stopped" mail's link → its button page → the pay page, ready for the
same gift and customer → paid → a new subscription; the link then says it was used. The
thanks page's "give N a month" button likewise. Pages fit at 390 and 1280 px, pass
axe-core and break no CSP; with SCREENSHOTS=DIR the pages and the mails are pictured."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import Subscription, Supporter
from tests.helpers.checkout import give_over_http
from tests.helpers.page_checks import at_widths, axe_problems, screenshot
from tests.helpers.pay import (
    THANKS_URL,
    collect_csp_violations,
    pay_on_pay_page,
    use_pay_page,
)
from tests.helpers.ready_gifts import give_link_in, html_of, of_kind

pytestmark = pytest.mark.browser

EMAIL = "lapsed@example.org"
SAYS = {
    "en": {"heading": "Restart your support", "used": "This link has already been used"},
    "ar": {"heading": "استأنف دعمك", "used": "سبق استخدام هذا الرابط"},
}


@pytest.fixture
def site(app, live_server, smtp_server):
    use_pay_page(app)
    return live_server


def picture_mails(page, messages, lang: str) -> None:
    """Each mail's HTML as the reader's mail program would draw it (when asked to)."""
    for number, message in enumerate(messages, 1):
        kind = message["X-Support-Mail"].split(";")[0].strip()
        page.set_content(html_of(message))
        screenshot(page, f"mail-{lang}-{number}-{kind}")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_stopped_gift_restarts_from_the_mail_in_the_browser(
    site, emulator, smtp_server, page, lang
):
    sub_id = emulator.get(give_over_http(site.url, lang, EMAIL, amount="10"))["subscription"]
    for step in (
        lambda: emulator.fail_renewal(sub_id),
        lambda: emulator.retry_failed(sub_id, final=True),
        lambda: emulator.end_unpaid(sub_id),
    ):
        step()
        site.settle()
    messages = smtp_server.wait_for(4)
    picture_mails(page, messages, lang)
    link = give_link_in(of_kind(messages, "support_stopped")[0])
    db.session.rollback()
    customer = db.session.scalar(sa.select(Supporter.stripe_customer_id))

    violations = collect_csp_violations(page)
    page.goto(link)
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.get_by_role("heading", level=1).inner_text() == SAYS[lang]["heading"]
    problems = at_widths(page, f"restart-{lang}") + axe_problems(page)
    assert problems == []
    page.locator("[data-gift-link-button]").click()
    session_id = pay_on_pay_page(page)  # the address is filled in: only the card to choose
    assert page.url.endswith(f"/{lang}/thanks?session_id={session_id}")
    site.settle()
    assert emulator.get(session_id)["customer"] == customer
    db.session.rollback()
    subs = db.session.scalars(sa.select(Subscription).order_by(Subscription.id)).all()
    assert [(s.status, s.amount, s.interval) for s in subs] == [
        ("canceled", 1000, "month"),
        ("active", 1000, "month"),
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Supporter)) == 1

    answer = page.goto(link)
    assert answer.status == 410 and SAYS[lang]["used"] in page.inner_text("main")
    screenshot(page, f"restart-used-{lang}")
    assert violations == []


def test_the_thanks_page_button_opens_a_ready_monthly_gift(site, emulator, smtp_server, page):
    violations = collect_csp_violations(page)
    page.goto(f"{site.url}/ar/")
    page.locator('input[name="amount"][value="10"]').check(force=True)
    page.locator('input[name="frequency"][value="once"]').check(force=True)
    page.locator(".appeal-form button[type=submit]").click()
    pay_on_pay_page(page, email="once@example.org")
    site.settle()
    page.reload()
    page.wait_for_url(THANKS_URL)
    button = page.locator("[data-give-monthly] button")
    assert "1 دولار" in button.inner_text()  # a quarter of 10 is nearest the 1 preset
    assert at_widths(page, "thanks-monthly-ar") == []
    button.click()
    session_id = pay_on_pay_page(page)
    site.settle()
    session = emulator.get(session_id)
    assert session["mode"] == "subscription" and session["amount_total"] == 100
    db.session.rollback()
    [supporter] = db.session.scalars(sa.select(Supporter)).all()
    assert session["customer"] == supporter.stripe_customer_id
    assert violations == []
    picture_mails(page, smtp_server.wait_for(2), "ar-once")
