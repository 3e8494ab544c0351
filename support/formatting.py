"""Money, numbers and dates shown to people: one format per language, everywhere.

English follows the locale's own pattern ("$1,000"). Arabic writes the number
then the currency's Arabic name ("1,000 دولار أمريكي"), in Latin or Arabic-Indic
digits as `SUPPORT_ARABIC_DIGITS` says. The appeal, the goal, the banner, mails
and the staff area all format through here; appeal.js gets the same pattern
(`money_pattern`) and digit system (`numbering_system`) to fill in.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_name, get_currency_symbol, parse_pattern
from flask import Flask, current_app
from flask_babel import get_locale

from support.money import exponent, to_major

# Where the number goes in `money_pattern`.
NUMBER = "{number}"
# Babel gives the Arabic separators ("٬", "٫") but leaves the digits Latin.
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


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
    """A share as a whole percentage: 0.875 → "88%" (Arabic: "٨٨٪" with Arabic digits)."""
    percent = _number(Decimal(str(value * 100)).quantize(Decimal(1)))
    return f"{percent}٪" if get_locale().language == "ar" else f"{percent}%"


def money_pattern(currency: str) -> str:
    """How an amount of `currency` is written, with `{number}` for the number."""
    locale = get_locale()
    code = currency.upper()
    if locale.language == "ar":
        return f"{NUMBER} {get_currency_name(code, locale=locale)}"
    pattern = parse_pattern(locale.currency_formats["standard"])
    symbol = get_currency_symbol(code, locale)
    prefix, suffix = pattern.prefix[0], pattern.suffix[0]
    return prefix.replace("¤", symbol) + NUMBER + suffix.replace("¤", symbol)


def format_money(minor: int, currency: str) -> str:
    """500, "usd" → "$5" in English, "5 دولار أمريكي" in Arabic; cents only when there are some."""
    return format_money_major(to_major(minor, currency), currency)


def format_money_major(major: Decimal | int, currency: str) -> str:
    """Format an amount in major units, hiding ".00" on whole amounts."""
    major = Decimal(major)
    digits = 0 if major == major.to_integral_value() else exponent(currency)
    return money_pattern(currency).replace(NUMBER, _number(major, digits))


def init_app(app: Flask) -> None:
    """Template filters: {{ amount|money(currency) }} and {{ count|number }}."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_share, "share")
    app.add_template_global(money_pattern)
    app.add_template_global(numbering_system)
