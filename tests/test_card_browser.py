"""Updating the card in Chromium, in English and Arabic: the account page's button, the
card page with the emulator's Payment Element in the page's language, a decline and a
failed 3-D Secure step (clear messages, nothing changed), then a card that works; no
Content-Security-Policy violation and no serious axe-core finding on the way.
Screenshots at 1280 and 390 px go to SCREENSHOTS when set."""

from __future__ import annotations

import pytest

from support.portal_links import make_token
from tests.helpers.card_frame import fill_and_confirm
from tests.helpers.cards import (
    DECLINE,
    DECLINE_AFTER_ATTACH,
    SUCCESS,
    THREE_D_SECURE,
    card_of,
    elements_gift,
    ledger_subscription,
    supporter_of,
)
from tests.helpers.page_checks import axe_problems, overflow, screenshot

SAYS = {
    "en": {
        "declined": "Your card was declined. Nothing has changed: try another card.",
        "authentication": "Your bank could not confirm this card.",
        "done": "Your card is updated",
        "label": "Card number",
    },
    "ar": {
        "declined": "تم رفض بطاقتك. لم يتغيّر شيء: جرّب بطاقة أخرى.",
        "authentication": "لم يتمكن مصرفك من تأكيد هذه البطاقة.",
        "done": "تم تحديث بطاقتك",
        "label": "رقم البطاقة",
    },
}


@pytest.fixture
def watched(page):
    """Content-Security-Policy complaints and page errors (must stay empty)."""
    found = []
    page.on(
        "console",
        lambda m: (
            ("Content Security Policy" in m.text or "Refused to" in m.text) and found.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


def shoot(page, name: str) -> None:
    """A full-page screenshot at the window's width (when asked), and no sideways
    scrolling."""
    width = page.viewport_size["width"]
    wider = overflow(page)
    assert not wider, f"{name} is {wider} px wider than {width} px"
    screenshot(page, name)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_update_the_card_in_the_browser(page, live_server, emulator, watched, lang, width):
    says = SAYS[lang]
    sub_id = elements_gift(emulator, card=DECLINE_AFTER_ATTACH, lang=lang)
    live_server.settle()
    supporter = supporter_of(sub_id)
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/manage/{make_token(supporter.id, lang, 'mail')}")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/{lang}/account")
    gift = page.locator(f"[data-card-for='{ledger_subscription(sub_id).id}']")
    assert "•••• 0341" in gift.inner_text()
    assert page.locator("[data-receipt]").count() == 1
    assert axe_problems(page) == []
    shoot(page, f"account-cards-{lang}")

    gift.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/{lang}/account/card/seti_*")
    page.locator("#card-form[data-ready=yes]").wait_for()
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    frame = page.frame_locator("#payment-element iframe")
    assert says["label"] in frame.locator("label[for=number]").inner_text()
    assert axe_problems(page) == []
    shoot(page, f"card-{lang}")

    fill_and_confirm(page, DECLINE)
    page.locator("#card-error", has_text=says["declined"]).wait_for()
    shoot(page, f"card-declined-{lang}")
    fill_and_confirm(page, THREE_D_SECURE, three_d_secure="fail")
    page.locator("#card-error", has_text=says["authentication"]).wait_for()
    assert emulator.get(sub_id)["default_payment_method"] == card_default_before(emulator, sub_id)

    fill_and_confirm(page, SUCCESS)
    page.wait_for_url(f"{base}/{lang}/account/card/seti_*/done?*")
    page.locator("[data-card-result]").wait_for()
    assert says["done"] in page.locator("h1").inner_text()
    assert "•••• 4242" in page.locator("[role=status]").inner_text()
    assert axe_problems(page) == []
    shoot(page, f"card-done-{lang}")

    live_server.settle()
    assert card_of(ledger_subscription(sub_id))[1] == "4242"
    page.goto(f"{base}/{lang}/account")
    assert (
        "•••• 4242"
        in page.locator(f"[data-card-for='{ledger_subscription(sub_id).id}']").inner_text()
    )
    assert watched == []


def card_default_before(emulator, sub_id: str) -> str:
    """The card the gift was paid with (the first PaymentMethod of its customer)."""
    customer = emulator.get(sub_id)["customer"]
    methods = [
        m
        for m in emulator.state()["objects"]["payment_method"]
        if m["customer"] == customer and m["card"]["last4"] == "0341"
    ]
    return methods[0]["id"]


def test_the_card_page_without_stripe_js_says_so(page, live_server, emulator, watched, app):
    """Stripe.js not loading (a network error): the page's own message, in its language."""
    sub_id = elements_gift(emulator, lang="ar")
    live_server.settle()
    supporter = supporter_of(sub_id)
    base = live_server.url
    page.goto(f"{base}/manage/{make_token(supporter.id, 'ar', 'mail')}")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/ar/account")
    page.route("**/v3/stripe.js", lambda route: route.abort())
    page.locator("[data-card-for] button[type=submit]").click()
    page.locator("#card-error", has_text="تعذّر تحميل نموذج البطاقة").wait_for()
    assert page.locator("#card-submit").is_disabled()


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", "We could not reach our payment provider."),
        ("ar", "تعذّر علينا الاتصال بمزوّد الدفع."),
    ],
)
def test_a_network_error_while_confirming_says_so(page, live_server, emulator, lang, says):
    sub_id = elements_gift(emulator, lang=lang)
    live_server.settle()
    base = live_server.url
    page.goto(f"{base}/manage/{make_token(supporter_of(sub_id).id, lang, 'mail')}")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/{lang}/account")
    page.locator("[data-card-for] button[type=submit]").click()
    page.locator("#card-form[data-ready=yes]").wait_for()
    page.route("**/v3/setup_intents/*/confirm", lambda route: route.abort())
    fill_and_confirm(page, SUCCESS)
    page.locator("#card-error", has_text=says).wait_for()
    seti = page.url.rsplit("/", 1)[1]
    assert emulator.get(seti)["status"] == "requires_payment_method"  # nothing was saved
    page.unroute("**/v3/setup_intents/*/confirm")
    fill_and_confirm(page, SUCCESS)
    page.wait_for_url(f"{base}/{lang}/account/card/seti_*/done?*")
