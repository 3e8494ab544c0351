"""The appeal on a phone (390 px) and a laptop (1280 px), in headless Chromium."""

from decimal import Decimal

import pytest

from tests.helpers import network
from tests.helpers.page_checks import overflow

pytestmark = pytest.mark.browser

OTHER = 'input[name="amount"][value="other"]'


@pytest.fixture(params=[390, 1280], ids=["phone", "laptop"])
def sized(request, browser):
    """A page `request.param` pixels wide."""
    context = browser.new_context(viewport={"width": request.param, "height": 844})
    page = network.watch(context.new_page())
    page.set_default_timeout(10_000)
    yield page, request.param
    context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_appeal_fits_and_continue_is_near(app, live_server, sized, lang):
    page, width = sized
    app.config["SUPPORT_GOAL"] = 1000
    page.goto(f"{live_server.url}/{lang}/")
    assert overflow(page) == 0
    if width == 390:
        # On a phone, "Continue" is reached with a short scroll, not ~1,300 px down.
        page.evaluate("document.fonts.ready")
        button = page.locator(".appeal-form button[type=submit]").bounding_box()
        assert button["y"] + button["height"] < 900
    # Every row of choices is full: no amount or frequency stranded on its own row.
    for group in ("amounts", "frequency"):
        boxes = page.locator(f".{group} .choice span").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().top)"
        )
        assert len(set(round(top) for top in boxes)) == 1, (group, boxes)
    # The goal bar is a bar, not a hairline.
    assert page.locator("#goal-progress").bounding_box()["height"] >= 12


def test_other_amount_shows_only_once_chosen(live_server, sized):
    page, _ = sized
    page.goto(f"{live_server.url}/en/")
    field = page.locator("#amount_other")
    assert not field.is_visible()
    page.locator(OTHER).check(force=True)
    assert field.is_visible()
    page.fill("#amount_other", "12")
    assert "Of $12," in page.inner_text("[data-fee-note]")
    page.locator('input[name="amount"][value="5"]').check(force=True)
    assert not field.is_visible()


def test_without_javascript_the_other_amount_still_shows(live_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = network.watch(context.new_page())
    page.goto(f"{live_server.url}/en/")
    assert page.locator("#amount_other").is_visible()
    context.close()


def test_the_fee_note_agrees_with_the_cover_box(live_server, sized):
    page, _ = sized
    page.goto(f"{live_server.url}/en/?amount=5")
    assert "we receive $4.55" in page.inner_text(".fee-note")
    page.locator("#cover_fees").check()
    note = page.inner_text(".fee-note")
    assert "Your card will be charged $5.46" in note and "all of your $5" in note
    assert "we receive $4.55" not in note
    page.locator(OTHER).check(force=True)
    page.fill("#amount_other", "10")
    assert "Your card will be charged $10.61" in page.inner_text(".fee-note")
    page.locator("#cover_fees").uncheck()
    assert "Of $10, the card processor keeps $0.59" in page.inner_text(".fee-note")


def test_arabic_amounts_typed_in_the_browser_read_like_the_server(app, live_server, sized):
    page, _ = sized
    app.config["SUPPORT_ARABIC_DIGITS"] = "arab"
    page.goto(f"{live_server.url}/ar/")
    page.locator(OTHER).check(force=True)
    page.fill("#amount_other", "١٢")
    # The browser picks the plural form as the server does: 12 is "many", 2.5 "other".
    assert "١٢ دولارًا" in page.inner_text("[data-fee-note]")
    page.fill("#amount_other", "٥")
    assert "من مبلغ ٥ دولارات" in page.inner_text("[data-fee-note]")
    page.fill("#amount_other", "2.50")
    assert "٢٫٥٠ دولار " in page.inner_text("[data-fee-note]")
    page.fill("#amount_other", "١")
    assert "نحو ٣٣٪" in page.inner_text("[data-fee-small]")  # $1 loses 33% to the fee


def test_arabic_text_uses_our_own_webfont(live_server, browser):
    context = browser.new_context()
    page = network.watch(context.new_page())
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/ar/")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"IBM Plex Sans Arabic\"', 'دعم')")
    fonts = [url for url in asked if url.endswith(".woff2")]
    assert fonts and all(url.startswith(live_server.url + "/static/fonts/") for url in fonts)
    assert all(url.startswith(live_server.url) for url in asked)  # no third-party request
    context.close()


FULL_ARABIC_FONTS = ("ibm-plex-sans-arabic-arabic-400", "ibm-plex-sans-arabic-arabic-700")


@pytest.mark.parametrize("path", ["/en/", "/en/manage"])
def test_english_pages_never_download_the_arabic_font(live_server, browser, path):
    context = browser.new_context()
    page = network.watch(context.new_page())
    fetched: dict[str, int] = {}
    page.on(
        "response",
        lambda response: (
            fetched.setdefault(response.url, len(response.body()))
            if response.url.endswith(".woff2")
            else None
        ),
    )
    page.goto(live_server.url + path)
    network.quiet(page)
    assert page.locator(".language-switch").inner_text() == "العربية"
    assert not [url for url in fetched if any(name in url for name in FULL_ARABIC_FONTS)]
    # Only the language switch's six letters, in a face of their own.
    assert all(size < 5_000 for size in fetched.values()), fetched
    font = page.locator(".language-switch").evaluate("e => getComputedStyle(e).fontFamily")
    assert font.startswith('"IBM Plex Sans Arabic Switch"')
    context.close()


def test_arabic_pages_do_download_it(live_server, browser):
    context = browser.new_context()
    page = network.watch(context.new_page())
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/ar/")
    network.quiet(page)
    assert any(FULL_ARABIC_FONTS[0] in url for url in asked)
    assert not any("switch" in url for url in asked)  # "English" needs no Arabic face
    context.close()


@pytest.mark.parametrize("width", [320, 360, 390])
@pytest.mark.parametrize(
    ("presets", "style", "symbol"), [("1,5,10", "symbol", "US$"), ("25,50,100", "narrow", "$")]
)
def test_arabic_amount_buttons_stay_on_one_line_on_a_phone(
    app, live_server, browser, width, presets, style, symbol
):
    app.config["SUPPORT_PRESETS"] = [Decimal(p) for p in presets.split(",")]
    app.config["SUPPORT_AMOUNT_STYLE"] = style
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = network.watch(context.new_page())
    page.goto(f"{live_server.url}/ar/")
    page.evaluate("document.fonts.ready")
    assert overflow(page) == 0
    spans = page.locator(".amounts .choice span")
    assert spans.first.inner_text().endswith(symbol + "\u200e" * (symbol == "US$"))
    assert "دولار" not in spans.first.inner_text()
    boxes = spans.evaluate_all(
        "els => els.map(e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return [e.getBoundingClientRect().top,"
        " new Set([...r.getClientRects()].map(b => Math.round(b.bottom))).size]; })"
    )
    # One row of buttons, and each label on a single line of text.
    assert len({round(top) for top, _ in boxes}) == 1, boxes
    assert all(lines == 1 for _, lines in boxes), boxes
    context.close()
