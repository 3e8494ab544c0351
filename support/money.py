"""Money rules: amounts are integers in minor units with their currency.

Readers type amounts as text ("5", "7.50", "٧٫٥٠"); `parse_amount` turns that
into minor units strictly, and `fee_for`/`gross_up` answer what Stripe keeps and
what to charge so the newsroom receives a given amount.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

# Digits after the decimal point per ISO 4217 currency, as Stripe counts them.
CURRENCY_EXPONENTS: dict[str, int] = {
    "usd": 2, "eur": 2, "gbp": 2, "cad": 2, "aud": 2, "chf": 2, "sek": 2, "nok": 2,
    "dkk": 2, "try": 2, "aed": 2, "sar": 2, "qar": 2, "egp": 2, "mad": 2, "lbp": 2,
    "jpy": 0, "krw": 0,
    "jod": 3, "kwd": 3, "bhd": 3, "omr": 3, "tnd": 3,
}  # fmt: skip

# Arabic-Indic (U+0660..) and Eastern Arabic-Indic / Persian (U+06F0..) digits.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# "٫" is the Arabic decimal separator; a plain "." is the other one we accept.
_AMOUNT = re.compile(r"([0-9]+)(?:[.\u066b]([0-9]+))?")


# The smallest gift the appeal accepts, in major units (Stripe's own minimum is 0.50 USD).
MINIMUM_GIFT = Decimal(1)


class AmountError(ValueError):
    """The text is not an acceptable amount; `code` says why, for a message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def exponent(currency: str) -> int:
    """Number of minor-unit digits of `currency` (2 for usd)."""
    return CURRENCY_EXPONENTS[currency.lower()]


def parse_number(text: str) -> Decimal:
    """A plain non-negative number as typed ("5", "7.50", "٧٫٥"), as the Decimal written.

    The one syntax for amounts, typed or configured: no signs, exponents ("1e1"),
    thousands separators or NaN/Infinity. Raises AmountError `missing` or `invalid`.
    """
    text = (text or "").strip().translate(_DIGITS)
    if not text:
        raise AmountError("missing")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise AmountError("invalid")
    whole, fraction = match.group(1), match.group(2) or ""
    return Decimal(f"{whole}.{fraction}") if fraction else Decimal(whole)


def parse_amount(text: str, currency: str, minimum: Decimal, maximum: Decimal) -> int:
    """Parse a typed amount in major units into minor units, strictly.

    Accepts ASCII and Arabic-Indic digits with at most one decimal point ("."
    or "٫"); refuses signs, exponents, thousands separators, NaN/Infinity and
    more decimals than the currency has. Raises AmountError with a code:
    `missing`, `invalid`, `too_many_decimals`, `too_small`, `too_large`.
    """
    value = parse_number(text)
    places = exponent(currency)
    if -value.as_tuple().exponent > places:
        raise AmountError("too_many_decimals")
    if value < minimum:
        raise AmountError("too_small")
    if value > maximum:
        raise AmountError("too_large")
    return int(value.scaleb(places))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units back to a Decimal in major units (500 usd → 5.00)."""
    return Decimal(minor).scaleb(-exponent(currency))


def fee_for(amount: int, percent: Decimal, fixed: int) -> int:
    """What the card processor keeps of a charge of `amount` minor units."""
    fee = Decimal(amount) * percent / 100 + fixed
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def gross_up(net: int, percent: Decimal, fixed: int) -> int:
    """The charge that leaves at least `net` after the processor's fee."""
    gross = ((Decimal(net) + fixed) / (1 - percent / 100)).quantize(
        Decimal(1), rounding=ROUND_CEILING
    )
    amount = int(gross)
    # The fee is rounded, so the formula can be a cent off either way.
    while amount - fee_for(amount, percent, fixed) < net:
        amount += 1
    while (amount - 1) - fee_for(amount - 1, percent, fixed) >= net:
        amount -= 1
    return amount
