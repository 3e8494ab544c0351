"""Money and dates shown to people, in the page's locale."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_symbol, parse_pattern
from flask import Flask
from flask_babel import get_locale

from support.money import exponent, to_major


def format_money(minor: int, currency: str) -> str:
    """500, "usd" → "$5" in English, "‏5 US$" in Arabic; cents only when there are some."""
    return format_money_major(to_major(minor, currency), currency)


def format_money_major(major: Decimal | int, currency: str) -> str:
    """Format an amount in major units, hiding ".00" on whole amounts."""
    major = Decimal(major)
    digits = 0 if major == major.to_integral_value() else exponent(currency)
    locale = get_locale()
    # The locale's own pattern (symbol position, spacing, direction marks),
    # with the fraction digits set to what the amount needs.
    pattern = parse_pattern(locale.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    text = pattern.apply(major, locale, currency=currency.upper(), currency_digits=False)
    if locale.character_order == "right-to-left":
        # Isolate Latin symbols such as "US$" so right-to-left text does not
        # flip them into "$US".
        symbol = get_currency_symbol(currency.upper(), locale)
        text = text.replace(symbol, f"\u2066{symbol}\u2069")
    return text


def init_app(app: Flask) -> None:
    """Register the `money` template filter: {{ attempt.amount|money(attempt.currency) }}."""
    app.add_template_filter(format_money, "money")
