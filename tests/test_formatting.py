"""Money and numbers: one format per language, on every page, in the banner and in mails."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from support.formatting import format_money, format_number, money_pattern


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("lang", "digits", "minor", "expected"),
    [
        ("en", "latn", 100, "$1"),
        ("en", "arab", 100000, "$1,000"),  # the Arabic setting leaves English alone
        ("en", "latn", 550, "$5.50"),
        ("ar", "latn", 100, "1 دولار أمريكي"),
        ("ar", "latn", 100050, "1,000.50 دولار أمريكي"),
        ("ar", "arab", 100, "١ دولار أمريكي"),
        ("ar", "arab", 100050, "١٬٠٠٠٫٥٠ دولار أمريكي"),
    ],
)
def test_money_is_written_the_way_each_language_reads_it(app, lang, digits, minor, expected):
    app.config["SUPPORT_ARABIC_DIGITS"] = digits
    with app.test_request_context(), force_locale(lang):
        assert format_money(minor, "usd") == expected


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("lang", "digits", "expected"),
    [("en", "latn", "1,000"), ("ar", "latn", "1,000"), ("ar", "arab", "١٬٠٠٠")],
)
def test_counts_share_the_format(app, lang, digits, expected):
    app.config["SUPPORT_ARABIC_DIGITS"] = digits
    with app.test_request_context(), force_locale(lang):
        assert format_number(1000) == expected


@pytest.mark.one_database
def test_the_pattern_for_the_browser_matches(app):
    with app.test_request_context():
        with force_locale("en"):
            assert money_pattern("usd") == "${number}"
        with force_locale("ar"):
            assert money_pattern("usd") == "{number} دولار أمريكي"


def test_arabic_pages_write_amounts_and_goal_one_way(app, client):
    app.config.update(SUPPORT_ARABIC_DIGITS="arab", SUPPORT_GOAL=1000)
    page = client.get("/ar/").get_data(as_text=True)
    assert "US$" not in page
    assert "١ دولار أمريكي" in page
    assert "٠ من أصل ١٬٠٠٠ داعم" in page
    banner = client.get("/embed/banner.json?lang=ar").get_json()
    assert "١٬٠٠٠" in banner["goal"]["label"]
    assert "١ دولار أمريكي" in banner["variants"][0]["amounts"][0]["label"]


def test_the_english_goal_groups_thousands_like_the_banner(app, client):
    app.config["SUPPORT_GOAL"] = 1000
    page = client.get("/en/").get_data(as_text=True)
    assert "0 of 1,000 supporters so far" in page
    assert "of 1,000" in client.get("/embed/banner.json?lang=en").get_json()["goal"]["label"]
