"""An upgrade ask in Chromium, in English and in Arabic: the mail as it renders, the
raise link pressed in the browser that opened it (the live worker then applies
Stripe's webhook), the same link in another browser, and the unsubscribe page's
button. Pages and the mail are saved when SCREENSHOTS is set."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import Subscription, Supporter, UpgradeAskRecipient
from tests.factories import signed_in
from tests.helpers.asks import link, send_ask
from tests.helpers.checkout import give_over_http
from tests.helpers.page_checks import at_widths, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_ask_raised_once_in_the_browser_and_unsubscribed(
    live_server, page, browser, emulator, smtp_server, app, lang
):
    base = live_server.url
    give_over_http(base, lang, "rana@example.org", name="Rana")
    live_server.settle()
    sub = db.session.scalar(sa.select(Subscription))
    staff = app.test_client()
    signed_in(staff, "editor")
    smtp_server.clear()
    _, sent, _ = send_ask(staff, rule="plus", amount="3")
    assert sent.status_code == 303
    [mail] = smtp_server.wait_for(1)
    assert mail["X-Support-Mail"].startswith("upgrade_ask;")
    assert mail["Content-Language"] == lang

    # The mail as a mail program shows it.
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(mail.get_body(("html",)).get_content())
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    screenshot(page, f"ask-mail-{lang}")

    accept = link(mail, "/asks/")
    page.goto(accept)
    assert at_widths(page, f"ask-confirm-{lang}") == []
    assert page.evaluate("document.documentElement.lang") == lang
    page.locator("form button[type=submit]").click()
    page.wait_for_selector("[data-ask=done]")
    assert at_widths(page, f"ask-done-{lang}") == []
    live_server.settle()
    db.session.expire_all()
    assert db.session.get(Subscription, sub.id).amount == 800
    assert emulator.get(sub.stripe_id)["items"]["data"][0]["price"]["unit_amount"] == 800
    assert db.session.scalar(sa.select(UpgradeAskRecipient.accepted_at)) is not None
    # This browser is shown the done page again; another is told the link was used.
    page.reload()
    assert page.locator("[data-ask=done]").count() == 1
    other = browser.new_context().new_page()
    other.goto(accept)
    assert other.locator("[data-reason=used]").count() == 1
    other.context.close()

    # The unsubscribe link's page: one button, then no more asks.
    page.goto(link(mail, "/unsubscribe/"))
    assert at_widths(page, f"ask-unsubscribe-{lang}") == []
    page.locator("form button[type=submit]").click()
    page.wait_for_selector("[data-unsubscribe=done]")
    screenshot(page, f"ask-unsubscribed-{lang}")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Supporter.asks_opted_out_at)) is not None
