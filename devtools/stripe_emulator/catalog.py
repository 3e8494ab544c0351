"""Static reference data: currencies, minimum charges, Checkout locales, intervals."""

API_VERSION = "2026-10-28.endive"

# Smallest chargeable amount per currency in minor units. Stripe's rule is "at least
# USD 0.50 equivalent"; for currencies without a published minimum these are rounded
# approximations of that at recent exchange rates.
MIN_CHARGE = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "cad": 50,
    "aud": 50,
    "chf": 50,
    "sek": 300,
    "nok": 300,
    "dkk": 250,
    "pln": 200,
    "try": 2000,
    "aed": 200,
    "sar": 200,
    "qar": 200,
    "kwd": 200,
    "bhd": 200,
    "omr": 200,
    "jod": 360,
    "egp": 2500,
    "mad": 500,
    "inr": 4500,
    "pkr": 14000,
    "idr": 800000,
    "myr": 200,
    "sgd": 50,
    "hkd": 400,
    "jpy": 50,
    "krw": 700,
    "mxn": 1000,
    "brl": 300,
}
CURRENCIES = frozenset(MIN_CHARGE)
ZERO_DECIMAL = frozenset({"jpy", "krw"})
THREE_DECIMAL = frozenset({"kwd", "bhd", "omr", "jod", "tnd"})

# Locales Stripe Checkout and the customer portal accept (no Arabic).
LOCALES = [
    "auto",
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "en-GB",
    "es",
    "es-419",
    "et",
    "fi",
    "fil",
    "fr",
    "fr-CA",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "ko",
    "lt",
    "lv",
    "ms",
    "mt",
    "nb",
    "nl",
    "pl",
    "pt",
    "pt-BR",
    "ro",
    "ru",
    "sk",
    "sl",
    "sv",
    "th",
    "tr",
    "vi",
    "zh",
    "zh-HK",
    "zh-TW",
]

INTERVALS = ("day", "week", "month", "year")
INTERVAL_SECONDS = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}


def period_seconds(recurring: dict) -> int:
    """Length of one billing period; months are 30 days and years 365 to keep it simple."""
    return INTERVAL_SECONDS[recurring["interval"]] * int(recurring.get("interval_count") or 1)


def format_amount(amount: int, currency: str) -> str:
    """Human-readable amount, e.g. ``10.00 USD``."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    digits = 3 if currency in THREE_DECIMAL else 2
    return f"{amount / 10**digits:.{digits}f} {currency.upper()}"


def one_of(values) -> str:
    """Stripe's enumeration wording: ``a, b, or c``."""
    values = list(values)
    if len(values) < 2:
        return "".join(values)
    return ", ".join(values[:-1]) + ", or " + values[-1]
