"""Amount parsing and fee arithmetic: the rules readers' money depends on."""

from decimal import Decimal

import pytest

from support.money import AmountError, fee_for, gross_up, parse_amount, to_major

MIN, MAX = Decimal(1), Decimal(10000)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1", "usd", 100),
        ("5", "usd", 500),
        ("7.50", "usd", 750),
        ("7.5", "usd", 750),
        (" 12 ", "usd", 1200),
        ("0010", "usd", 1000),
        ("10000", "usd", 1_000_000),
        ("١", "usd", 100),
        ("٧٫٥٠", "usd", 750),
        ("٧.٥", "usd", 750),
        ("۱۲", "usd", 1200),
        ("١٠٠", "jpy", 100),
        ("5.125", "kwd", 5125),
    ],
)
def test_accepts_plain_and_arabic_digits(text, currency, minor):
    assert parse_amount(text, currency, MIN, MAX) == minor


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "missing"),
        ("   ", "missing"),
        (None, "missing"),
        ("-5", "invalid"),
        ("+5", "invalid"),
        ("1e3", "invalid"),
        ("1E2", "invalid"),
        ("1,000", "invalid"),
        ("1 000", "invalid"),
        ("NaN", "invalid"),
        ("Infinity", "invalid"),
        ("inf", "invalid"),
        ("5.", "invalid"),
        (".5", "invalid"),
        ("5..0", "invalid"),
        ("5.0.0", "invalid"),
        ("0x10", "invalid"),
        ("$5", "invalid"),
        ("٥،٠٠٠", "invalid"),
        ("5.555", "too_many_decimals"),
        ("5.500", "too_many_decimals"),
        ("0.99", "too_small"),
        ("0", "too_small"),
        ("10000.01", "too_large"),
        ("9" * 400, "too_large"),
    ],
)
def test_refuses_everything_else(text, code):
    with pytest.raises(AmountError) as caught:
        parse_amount(text, "usd", MIN, MAX)
    assert caught.value.code == code


def test_zero_decimal_currency_refuses_cents():
    with pytest.raises(AmountError) as caught:
        parse_amount("500.5", "jpy", MIN, MAX)
    assert caught.value.code == "too_many_decimals"


def test_fee_on_one_dollar_is_about_a_third():
    fee = fee_for(100, Decimal("2.9"), 30)
    assert fee == 33
    assert 100 - fee == 67


def test_gross_up_leaves_the_whole_gift_after_fees():
    for net in (100, 500, 1000, 750, 12345):
        gross = gross_up(net, Decimal("2.9"), 30)
        assert gross - fee_for(gross, Decimal("2.9"), 30) >= net
        assert (gross - 1) - fee_for(gross - 1, Decimal("2.9"), 30) < net
    assert gross_up(100, Decimal("2.9"), 30) == 134


def test_to_major_keeps_the_currency_exponent():
    assert to_major(750, "usd") == Decimal("7.50")
    assert to_major(100, "jpy") == Decimal(100)
