"""A reader clicks through appeal → Stripe (emulator) → thanks in headless Chromium."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_english_reader_gives_one_dollar_a_month(live_server, page):
    page.goto(f"{live_server.url}/en/?source=https://news.example.org/en/article-9")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_role("heading", level=1).inner_text() == "$1 a month makes a difference"
    assert page.locator('input[name="amount"][value="1"]').is_checked()
    page.get_by_role("button", name="Continue to secure payment").click()

    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    page.fill("#email", "reader@example.org")
    page.click("#pay")

    page.wait_for_url(re.compile(r"/en/thanks\?session_id=cs_test_"))
    assert "Your payment is confirmed" in page.inner_text("main")
    back = page.get_by_role("link", name="Back to the article")
    assert back.get_attribute("href") == "https://news.example.org/en/article-9#supported"


def test_arabic_reader_types_an_amount_in_arabic_digits(live_server, page):
    page.goto(f"{live_server.url}/ar/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    # With JavaScript on, the field shows once "other" is chosen; typing updates the fee note.
    page.locator('input[name="amount"][value="other"]').check(force=True)
    page.fill("#amount_other", "٥")
    assert page.locator('input[name="amount"][value="other"]').is_checked()
    assert "5" in page.inner_text("[data-fee-note]")
    page.locator('input[name="frequency"][value="year"]').check(force=True)
    page.get_by_role("button", name="المتابعة إلى الدفع الآمن").click()

    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    assert "5" in page.inner_text("body")
    page.fill("#email", "qari@example.org")
    page.click("#pay")

    page.wait_for_url(re.compile(r"/ar/thanks\?session_id="))
    assert page.locator("html").get_attribute("dir") == "rtl"
    text = page.inner_text("main")
    assert "تم تأكيد الدفع" in text
    assert "كل سنة" in text


def test_invalid_amount_shows_the_error_without_leaving_the_page(live_server, page):
    page.goto(f"{live_server.url}/en/")
    page.locator('input[name="amount"][value="other"]').check(force=True)
    page.fill("#amount_other", "0.10")
    page.get_by_role("button", name="Continue to secure payment").click()
    page.wait_for_load_state()
    assert page.url.endswith("/en/checkout")
    assert "The smallest gift we can accept is $1." in page.get_by_role("alert").inner_text()
    assert page.locator("#amount_other").input_value() == "0.10"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_fee_note_follows_only_a_valid_other_amount(live_server, page, lang):
    """The note used to go on describing $1 while "Other" held nothing the server takes."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/{lang}/")
    note, cover = page.locator(".fee-note"), page.locator("[data-fee-cover]")
    assert note.is_visible() and "1" in note.inner_text()
    page.locator('input[name="amount"][value="other"]').check(force=True)
    assert note.is_hidden()  # "Other" chosen, nothing typed yet
    plain = cover.get_attribute("data-plain")
    assert cover.inner_text() == plain and "$" not in plain and "دولار" not in plain
    for typed in ("0.10", "abc", "7.505", "20000", "1e3", "٠٫٥"):
        page.fill("#amount_other", typed)
        assert note.is_hidden(), typed
        assert cover.inner_text() == plain, typed
    page.fill("#amount_other", "٧" if lang == "ar" else "7")
    assert note.is_visible()
    assert "7" in page.inner_text("[data-fee-note]")
    assert cover.inner_text() != plain and "0" in cover.inner_text()
    page.fill("#amount_other", "")
    assert note.is_hidden()
    # A preset again: explained again.
    page.locator('input[name="amount"][value="5"]').check(force=True)
    assert note.is_visible() and "5" in page.inner_text("[data-fee-note]")
    # A small gift typed: the share lost to fees, with the language's percent sign.
    page.locator('input[name="amount"][value="other"]').check(force=True)
    page.fill("#amount_other", "١" if lang == "ar" else "1")
    small = page.locator("[data-fee-small]")
    assert small.is_visible()
    assert ("33٪" if lang == "ar" else "33%") in small.inner_text()
    assert errors == []
