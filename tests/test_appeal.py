"""The appeal page: language, direction, presets, preselection, goal, attribution."""

import re

import pytest

from support.config import load_config
from support.extensions import db
from tests.factories import subscription, supporter
from tests.helpers.checkout import submit


def test_root_redirects_by_accept_language_and_keeps_the_query(client):
    response = client.get("/?amount=5&source=x", headers={"Accept-Language": "ar-SY,ar;q=0.9"})
    assert response.status_code == 302
    assert response.location == "/ar/?amount=5&source=x"


@pytest.mark.one_database
def test_root_defaults_to_english(client):
    assert client.get("/").location == "/en/"
    assert client.get("/", headers={"Accept-Language": "fr, de"}).location == "/en/"


@pytest.mark.parametrize(
    ("lang", "direction", "headline"),
    [("en", "ltr", "$1 a month makes a difference"), ("ar", "rtl", "في الشهر تصنع فرقًا")],
)
def test_appeal_speaks_the_language_of_its_url(client, lang, direction, headline):
    html = client.get(f"/{lang}/").get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert headline in html
    assert 'name="csrf_token"' in html


def test_arabic_page_says_payment_continues_on_stripe(client):
    html = client.get("/ar/").get_data(as_text=True)
    assert "صفحة الدفع لدى سترايب غير متوفرة بالعربية" in html


@pytest.mark.one_database
def test_unknown_language_is_a_clear_404(client):
    response = client.get("/fr/", headers={"Accept-Language": "ar"})
    assert response.status_code == 404
    assert "الصفحة غير موجودة" in response.get_data(as_text=True)


def test_presets_and_monthly_default(client):
    html = client.get("/en/").get_data(as_text=True)
    for value, label in (("1", "$1"), ("5", "$5"), ("10", "$10")):
        assert re.search(rf'value="{value}"\s*checked|value="{value}"', html)
        assert f"<span>{label}</span>" in html
    assert re.search(r'name="amount" value="1"\s*checked', html)
    assert re.search(r'name="frequency" value="month"\s*checked', html)


def test_query_preselects_amount_frequency_and_attribution(client):
    html = client.get(
        "/en/?amount=5&frequency=year&source=https://news.example.org/a-1&campaign=banner&variant=b"
    ).get_data(as_text=True)
    assert re.search(r'name="amount" value="5"\s*checked', html)
    assert re.search(r'name="frequency" value="year"\s*checked', html)
    assert 'value="https://news.example.org/a-1"' in html
    assert 'name="campaign" type="hidden" value="banner"' in html


def test_custom_amount_from_query_fills_the_other_field(client):
    html = client.get("/en/?amount=7.50").get_data(as_text=True)
    assert re.search(r'name="amount" value="other"\s*checked', html)
    assert 'value="7.50"' in html
    assert "Of $7.50, the card processor keeps $0.52 and we receive $6.98." in html


def test_foreign_source_and_odd_tokens_are_dropped(client):
    html = client.get(
        "/en/?source=https://evil.example.com/x&campaign=<script>&variant=a b"
    ).get_data(as_text=True)
    assert "evil.example.com" not in html
    assert "<script>" not in html.split("<body>")[1].split("<script src")[0]
    assert 'name="variant" type="hidden" value=""' in html


def test_fee_note_on_one_dollar_suggests_yearly(client):
    html = client.get("/en/").get_data(as_text=True)
    assert "Of $1, the card processor keeps $0.33 and we receive $0.67." in html
    assert "about 33%" in html
    assert "Add $0.34 to cover the card fee" in html


def test_currency_choice_only_with_several_currencies(app, client):
    assert '<select id="currency"' not in client.get("/en/").get_data(as_text=True)
    app.config["SUPPORT_CURRENCIES"] = ["usd", "eur"]
    html = client.get("/en/?currency=eur").get_data(as_text=True)
    assert '<select id="currency" name="currency"' in html
    assert '<option selected value="eur">EUR</option>' in html


def test_goal_progress_counts_active_supporters(app, client):
    app.config["SUPPORT_GOAL"] = 50
    for status in ("active", "active", "canceled"):
        subscription(supporter(), status=status)
    db.session.commit()
    html = client.get("/en/").get_data(as_text=True)
    assert "2 of 50 supporters so far" in html
    assert 'max="50" value="2"' in html


def test_healthz_reports_the_database(client):
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok"
    assert body["failed_events"] == 0


def test_reader_pages_are_not_cached_or_framed(client):
    response = client.get("/en/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].endswith("; frame-ancestors 'none'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    page = client.get("/en/").get_data(as_text=True)
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)"', page).group(1)
    assert client.get(svg).status_code == 200


def test_the_arabic_header_names_the_newsroom_in_arabic(app, client):
    # By default: no "The Newsroom" on an Arabic page.
    arabic = client.get("/ar/").get_data(as_text=True)
    assert "The Newsroom" not in arabic and "غرفة الأخبار" in arabic
    app.config["SUPPORT_NEWSROOM_NAME_AR"] = "صحيفة الغد"
    arabic, english = (client.get(f"/{lang}/").get_data(as_text=True) for lang in ("ar", "en"))
    assert '<span class="site-name">صحيفة الغد</span>' in arabic
    assert '<span class="site-name">The Newsroom</span>' in english


def test_covering_the_fee_shows_the_total_charged(client):
    html = client.get("/en/?amount=5&cover_fees=1").get_data(as_text=True)
    total = re.search(r"<span data-fee-total [^>]*>([^<]+)</span>", html).group(1)
    assert total == (
        "Your card will be charged $5.46: the card processor keeps $0.46 "
        "and we receive all of your $5."
    )
    assert re.search(r"<span data-fee-note hidden", html)
    plain = client.get("/en/?amount=5").get_data(as_text=True)
    assert re.search(r"<span data-fee-total hidden", plain)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_new_newsroom_shows_no_goal_and_the_appeal_stands_without_it(app, client, lang):
    # "0 of 1,000 supporters so far" on day one: hidden until a respectable count.
    app.config["SUPPORT_GOAL_MIN_SHOWN"] = load_config({})["SUPPORT_GOAL_MIN_SHOWN"]
    for _ in range(3):
        subscription(supporter(), status="active")
    db.session.commit()
    html = client.get(f"/{lang}/").get_data(as_text=True)
    assert "goal-progress" not in html and "1,000" not in html and "1٬000" not in html
    assert client.get(f"/embed/banner.json?lang={lang}").get_json()["goal"] is None
    # The appeal still has its headline, its words and its form.
    assert html.count('class="copy') >= 2 and 'class="appeal-form"' in html


def test_goal_is_hidden_below_its_threshold(app, client):
    app.config.update(SUPPORT_GOAL=1000, SUPPORT_GOAL_MIN_SHOWN=2)
    subscription(supporter(), status="active")
    db.session.commit()
    assert "goal-progress" not in client.get("/en/").get_data(as_text=True)
    assert client.get("/embed/banner.json?lang=en").get_json()["goal"] is None
    subscription(supporter(), status="active")
    db.session.commit()
    app.extensions.pop("public_supporter_count")  # the count is kept 30 s
    app.extensions.pop("banner_content", None)
    assert "2 of 1,000 supporters so far" in client.get("/en/").get_data(as_text=True)


def test_privacy_and_contact_links_only_when_set(app, client):
    assert "mailto:" not in client.get("/en/").get_data(as_text=True)
    app.config.update(
        SUPPORT_PRIVACY_URL="https://news.example.org/privacy",
        SUPPORT_CONTACT_EMAIL="help@news.example.org",
    )
    page = client.get("/ar/").get_data(as_text=True)
    assert 'href="https://news.example.org/privacy"' in page and "كيف نتعامل مع بياناتك" in page
    assert 'href="mailto:help@news.example.org"' in page


@pytest.mark.parametrize(
    ("lang", "promise"),
    [
        ("en", "You can change or cancel your gift at any time on your account page"),
        ("ar", "يمكنك تغيير تبرعك أو إلغاؤه في أي وقت من صفحة حسابك"),
    ],
)
def test_the_appeal_promises_only_the_cancellation_there_is(client, lang, promise):
    # Cancelling takes the mailed link, the account page, Cancel, a reason and a
    # confirmation: not "two clicks".
    html = " ".join(client.get(f"/{lang}/").get_data(as_text=True).split())
    assert "two clicks" not in html and "بنقرتين" not in html
    assert promise in html


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("typed", ["", "0.10", "abc", "7.505", "20000"])
def test_an_invalid_other_amount_explains_no_fee(client, lang, typed):
    """The note used to explain the first preset ($1) beside an "Other" the server refused."""
    response = submit(client, lang, amount="other", amount_other=typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    note = re.search(r'<p class="fee-note"[^>]*>', html).group(0)
    assert "hidden" in note
    for span in ("data-fee-note", "data-fee-total", "data-fee-small"):
        assert re.search(rf"<span {span}[^>]*></span>", html), span  # no figures at all
    cover = re.search(r"<span data-fee-cover [^>]*>([^<]*)</span>", html).group(1)
    assert cover == (
        "Cover the card fee, so the newsroom receives all of your gift"
        if lang == "en"
        else "غطِّ رسوم البطاقة، فيصلنا تبرعك كاملًا"
    )


def test_a_valid_other_amount_and_a_fresh_page_explain_their_fee(client):
    typed = submit(client, amount="other", amount_other="7", email="not an address")
    assert typed.status_code == 400
    note = re.search(r"<span data-fee-note [^>]*>([^<]+)</span>", typed.get_data(as_text=True))
    assert note.group(1).startswith("Of $7, the card processor keeps")
    fresh = client.get("/en/").get_data(as_text=True)
    assert re.search(r'<p class="fee-note" aria-live="polite" data-fee-explained >', fresh)
    assert "Of $1, the card processor keeps" in fresh  # the preset chosen by default
