"""Money, numbers and percentages: one format per language, on every page, in the banner
and in mails; Arabic names amounts and counts in the form the number calls for."""

from __future__ import annotations

import json

import pytest
from flask_babel import force_locale

from support.formatting import (
    PLURAL_SAMPLES,
    format_money,
    format_money_compact,
    format_number,
    format_percent,
    money_pattern,
    money_patterns,
    plural_category,
)


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("lang", "digits", "minor", "expected"),
    [
        ("en", "latn", 100, "$1"),
        ("en", "arab", 100000, "$1,000"),  # the Arabic setting leaves English alone
        ("en", "latn", 550, "$5.50"),
        ("ar", "latn", 100, "1 دولار"),
        ("ar", "latn", 200, "2 دولاران"),
        ("ar", "latn", 500, "5 دولارات"),
        ("ar", "latn", 1000, "10 دولارات"),
        ("ar", "latn", 1100, "11 دولارًا"),
        ("ar", "latn", 5000, "50 دولارًا"),
        ("ar", "latn", 10000, "100 دولار"),
        ("ar", "latn", 10300, "103 دولارات"),
        ("ar", "latn", 550, "5.50 دولار"),  # a fraction is "other"
        ("ar", "latn", 100050, "1,000.50 دولار"),
        ("ar", "arab", 100, "١ دولار"),
        ("ar", "arab", 500, "٥ دولارات"),
        ("ar", "arab", 100050, "١٬٠٠٠٫٥٠ دولار"),
    ],
)
def test_money_is_written_the_way_each_language_reads_it(app, lang, digits, minor, expected):
    app.config["SUPPORT_ARABIC_DIGITS"] = digits
    with app.test_request_context(), force_locale(lang):
        assert format_money(minor, "usd") == expected


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("currency", "minor", "expected"),
    [
        ("gbp", 500, "5 جنيهات إسترلينية"),
        ("sar", 2500, "25 ريالًا سعوديًا"),
        ("jod", 3000, "3 دنانير أردنية"),
        ("aed", 100000, "1,000 درهم إماراتي"),
        ("eur", 500, "5 يورو"),
        ("egp", 500, "5 جنيهات مصرية"),  # CLDR's own plural names
        ("cad", 500, "5 دولار كندي"),  # CLDR has one form only
    ],
)
def test_other_currencies_follow_the_plural_rule_where_named(app, currency, minor, expected):
    with app.test_request_context(), force_locale("ar"):
        assert format_money(minor, currency) == expected


@pytest.mark.one_database
def test_each_plural_sample_falls_in_its_own_category(app):
    """The gettext forms are picked with these numbers: each must be of its CLDR
    category, and the Arabic catalog's six forms must differ where Arabic does."""
    with app.test_request_context(), force_locale("ar"):
        assert {plural_category(n): c for c, n in PLURAL_SAMPLES.items()} == {
            c: c for c in PLURAL_SAMPLES
        }
        forms = json.loads(money_patterns("usd"))
    assert forms == {
        "zero": "{number} دولار",
        "one": "{number} دولار",
        "two": "{number} دولاران",
        "few": "{number} دولارات",
        "many": "{number} دولارًا",
        "other": "{number} دولار",
    }


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("lang", "style", "currency", "expected"),
    [
        ("en", "symbol", "usd", "$5"),
        ("en", "narrow", "usd", "$5"),
        ("ar", "symbol", "usd", "\u200f5\xa0US$\u200e"),
        ("ar", "narrow", "usd", "\u200f5\xa0$"),
        ("ar", "narrow", "eur", "\u200f5\xa0€"),
        ("ar", "narrow", "sar", "\u200f5\xa0ر.س.\u200f"),  # "SAR" would be no narrower
    ],
)
def test_the_compact_form_writes_a_symbol(app, lang, style, currency, expected):
    app.config["SUPPORT_AMOUNT_STYLE"] = style
    with app.test_request_context(), force_locale(lang):
        assert format_money_compact(500, currency) == expected


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
@pytest.mark.parametrize(
    ("lang", "digits", "expected"),
    [("en", "latn", "42%"), ("ar", "latn", "42٪"), ("ar", "arab", "٤٢٪")],
)
def test_percentages_take_the_language_sign(app, lang, digits, expected):
    app.config["SUPPORT_ARABIC_DIGITS"] = digits
    with app.test_request_context(), force_locale(lang):
        assert format_percent(42) == expected


@pytest.mark.one_database
def test_the_pattern_for_the_browser_matches(app):
    with app.test_request_context():
        with force_locale("en"):
            assert money_pattern("usd") == "${number}"
            assert set(json.loads(money_patterns("usd")).values()) == {"${number}"}
        with force_locale("ar"):
            assert money_pattern("usd", "few") == "{number} دولارات"


def test_arabic_pages_write_amounts_and_goal_one_way(app, client):
    app.config.update(SUPPORT_ARABIC_DIGITS="arab", SUPPORT_GOAL=1000, SUPPORT_GOAL_MIN_SHOWN=0)
    page = client.get("/ar/").get_data(as_text=True)
    assert "أمريكي" not in page
    assert "\u200f١\xa0US$\u200e" in page  # the amount buttons
    assert "١ دولار" in page  # the sentences
    assert "٠ من أصل ١٬٠٠٠ داعم حتى الآن" in page  # 1,000 is "other": singular
    banner = client.get("/embed/banner.json?lang=ar").get_json()
    assert banner["goal"]["label"] == "٠ من أصل ١٬٠٠٠ داعم حتى الآن"
    assert banner["variants"][0]["amounts"][0]["label"].startswith("\u200f١\xa0US$\u200e")


@pytest.mark.parametrize(
    ("goal", "noun"), [(5, "داعمين"), (50, "داعمًا"), (100, "داعم"), (2, "داعمَين")]
)
def test_the_goal_counts_supporters_in_the_form_the_number_calls_for(app, client, goal, noun):
    app.config.update(SUPPORT_GOAL=goal, SUPPORT_GOAL_MIN_SHOWN=0)
    page = client.get("/ar/").get_data(as_text=True)
    assert f"0 من أصل {goal} {noun} حتى الآن" in page
    label = client.get("/embed/banner.json?lang=ar").get_json()["goal"]["label"]
    assert label == f"0 من أصل {goal} {noun} حتى الآن"


def test_the_english_goal_groups_thousands_like_the_banner(app, client):
    app.config.update(SUPPORT_GOAL=1000, SUPPORT_GOAL_MIN_SHOWN=0)
    page = client.get("/en/").get_data(as_text=True)
    assert "0 of 1,000 supporters so far" in page
    label = client.get("/embed/banner.json?lang=en").get_json()["goal"]["label"]
    assert label == "0 of 1,000 supporters so far"


def test_the_fee_share_is_an_arabic_percentage(app, client):
    # A $1 gift loses 33% to a 2.9% + 30¢ fee, so the small-gift note shows.
    page = client.get("/ar/?amount=1").get_data(as_text=True)
    assert "نحو 33٪" in page
    assert 'data-percent="{number}٪"' in page
    assert "نحو 33%" not in page
