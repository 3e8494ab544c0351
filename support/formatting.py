"""Money, numbers and dates shown to people: one format per language, everywhere.

English follows the locale's own pattern ("$1,000"). Arabic writes the number
then the currency's name in the form the number calls for, by CLDR's six plural
categories ("1 دولار", "5 دولارات", "50 دولارًا", "100 دولار"), in Latin or
Arabic-Indic digits as `SUPPORT_ARABIC_DIGITS` says; where space is short (amount
buttons) it writes the number and a symbol instead ("5 US$", or "5 $" with
`SUPPORT_AMOUNT_STYLE=narrow`). Percentages take the Arabic percent sign ("٪").

The appeal, the goal, the banner, mails and the staff area all format through
here; appeal.js gets the same patterns (`money_patterns`, one per plural
category) and digit system (`numbering_system`) to fill in.
"""

from __future__ import annotations

import json
from decimal import Decimal

from babel.numbers import get_currency_name, get_currency_symbol, parse_pattern
from flask import Flask, current_app
from flask_babel import get_locale, ngettext

from support.money import exponent, to_major

# Where the number goes in a money pattern.
NUMBER = "{number}"
# Babel gives the Arabic separators ("٬", "٫") but leaves the digits Latin.
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# CLDR's plural categories, each with a whole number gettext's Plural-Forms puts in
# the same form, so one `ngettext` entry serves amounts with decimals too.
PLURAL_SAMPLES = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100}
ARABIC_PERCENT = "٪"
LRM = "\u200e"
# A symbol without letters reads the same in any language ("$", "€", "£").
_LATIN_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def numbering_system() -> str:
    """`latn` or `arab`: the digits of the current language."""
    if get_locale().language == "ar":
        return current_app.config["SUPPORT_ARABIC_DIGITS"]
    return "latn"


def _number(value: Decimal | int, fraction_digits: int = 0) -> str:
    """`value` with the language's grouping, decimal sign and digits."""
    pattern = parse_pattern("#,##0")
    pattern.frac_prec = (fraction_digits, fraction_digits)
    system = numbering_system()
    text = pattern.apply(Decimal(value), get_locale(), numbering_system=system)
    return text.translate(_ARABIC_DIGITS) if system == "arab" else text


def format_number(value: int) -> str:
    """A count of people or things: 1000 → "1,000" (or "١٬٠٠٠")."""
    return _number(value)


def format_share(value: float) -> str:
    """A share as a whole percentage: 0.875 → "88%" ("٨٨٪" or "88٪" in Arabic)."""
    return format_percent(int(Decimal(str(value * 100)).quantize(Decimal(1))))


def format_percent(value: int) -> str:
    """A whole percentage: 42 → "42%" in English, "42٪" (or "٤٢٪") in Arabic."""
    sign = ARABIC_PERCENT if get_locale().language == "ar" else "%"
    return _number(value) + sign


def percent_pattern() -> str:
    """How a percentage is written, with `{number}` for the number (for appeal.js)."""
    return NUMBER + (ARABIC_PERCENT if get_locale().language == "ar" else "%")


def plural_category(value: Decimal | int) -> str:
    """The CLDR plural category of `value` in the current language ("few" for 5 in Arabic)."""
    return get_locale().plural_form(Decimal(value))


def _arabic_words(code: str, category: str) -> str:
    """`{number}` and the currency's Arabic name in the form `category` calls for."""
    n = PLURAL_SAMPLES[category]
    # The msgids are placeholders for the Arabic catalog: English writes symbols.
    words = {
        "USD": lambda: ngettext("%(amount)s US dollar", "%(amount)s US dollars", n, amount=NUMBER),
        "EUR": lambda: ngettext("%(amount)s euro", "%(amount)s euros", n, amount=NUMBER),
        "GBP": lambda: ngettext("%(amount)s pound", "%(amount)s pounds", n, amount=NUMBER),
        "SAR": lambda: ngettext("%(amount)s riyal", "%(amount)s riyals", n, amount=NUMBER),
        "AED": lambda: ngettext("%(amount)s dirham", "%(amount)s dirhams", n, amount=NUMBER),
        "JOD": lambda: ngettext("%(amount)s dinar", "%(amount)s dinars", n, amount=NUMBER),
    }.get(code)
    if words is not None:
        return words()
    # Others by CLDR's own names, which give the plural forms where it has them.
    return f"{NUMBER} {get_currency_name(code, count=n, locale=get_locale())}"


def _symbol_pattern(code: str) -> str:
    """The locale's currency pattern with a symbol: "${number}", "‏{number} US$"."""
    locale = get_locale()
    symbol = get_currency_symbol(code, locale)
    if locale.language == "ar" and current_app.config["SUPPORT_AMOUNT_STYLE"] == "narrow":
        english = get_currency_symbol(code, "en")
        if not _LATIN_LETTERS & set(english):
            symbol = english
    if locale.language == "ar" and _LATIN_LETTERS & set(symbol):
        # A left-to-right mark keeps "US$" whole in right-to-left text (not "$US").
        symbol += LRM
    pattern = parse_pattern(locale.currency_formats["standard"])
    prefix, suffix = pattern.prefix[0], pattern.suffix[0]
    return prefix.replace("¤", symbol) + NUMBER + suffix.replace("¤", symbol)


def money_pattern(currency: str, category: str = "other", compact: bool = False) -> str:
    """How an amount of `currency` is written, with `{number}` for the number:
    in words for Arabic (in the form of plural `category`), else with the symbol."""
    code = currency.upper()
    if get_locale().language == "ar" and not compact:
        return _arabic_words(code, category)
    return _symbol_pattern(code)


def money_patterns(currency: str) -> str:
    """`money_pattern` for each plural category, as JSON for appeal.js."""
    patterns = {category: money_pattern(currency, category) for category in PLURAL_SAMPLES}
    return json.dumps(patterns, ensure_ascii=False)


def format_money(minor: int, currency: str) -> str:
    """500, "usd" → "$5" in English, "5 دولارات" in Arabic; cents only when there are some."""
    return format_money_major(to_major(minor, currency), currency)


def format_money_compact(minor: int, currency: str) -> str:
    """`format_money` where space is short: "5 US$" in Arabic (same as `format_money`
    in English)."""
    return format_money_major(to_major(minor, currency), currency, compact=True)


def format_money_major(major: Decimal | int, currency: str, compact: bool = False) -> str:
    """Format an amount in major units, hiding ".00" on whole amounts."""
    major = Decimal(major)
    digits = 0 if major == major.to_integral_value() else exponent(currency)
    shown = major.quantize(Decimal(1).scaleb(-digits))
    pattern = money_pattern(currency, plural_category(shown), compact)
    return pattern.replace(NUMBER, _number(major, digits))


def init_app(app: Flask) -> None:
    """Template filters: {{ amount|money(currency) }}, {{ amount|money_compact(currency) }},
    {{ count|number }} and {{ share|percent }}."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_money_compact, "money_compact")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_percent, "percent")
    app.add_template_global(money_patterns)
    app.add_template_global(percent_pattern)
    app.add_template_filter(format_share, "share")
    app.add_template_global(numbering_system)
