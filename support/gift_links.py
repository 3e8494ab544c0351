"""Signed, single-use links that open the pay page with a gift ready for a known supporter.

Two mails carry one: "your support has stopped" (a gift ended for non-payment: the
same gift again, `restart`) and the receipt of a one-time gift ("give N a month
instead", `monthly`). Mails build them and the appeal's link page reads them, so they
belong to neither, like support/portal_links.py, whose errors and single-use record
(support/manage/single_use.py) they share.

A token carries the supporter, the language, the kind, a random nonce and the gift
(amount in minor units, currency, frequency, whether it covers the card fee), signed
with SECRET_KEY and stamped with the time, so it cannot be edited and it expires.
The customer is never in the token: it is the supporter's own, read when it is used.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from support.choices import LANGUAGES
from support.money import CURRENCY_EXPONENTS, exponent, fee_for, gross_up, to_major
from support.portal_links import LinkExpired, LinkInvalid
from support.urls import public_url

SALT = "support.appeal.gift-link"
KINDS = ("restart", "monthly")
FREQUENCIES = ("month", "year")
# A week: a stopped gift or a receipt may be read some days later.
MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class GiftLink:
    """What a valid token says: whose gift, which, and in which language to answer."""

    supporter_id: int
    lang: str
    kind: str
    nonce: str
    amount: int
    currency: str
    frequency: str
    cover_fees: bool = False


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(
    supporter_id: int,
    lang: str,
    kind: str,
    amount: int,
    currency: str,
    frequency: str,
    cover_fees: bool = False,
) -> str:
    """A signed, single-use token for this gift, valid for MAX_AGE."""
    if (
        kind not in KINDS
        or frequency not in FREQUENCIES
        or currency not in CURRENCY_EXPONENTS
        or not isinstance(amount, int)
        or isinstance(amount, bool)
        or amount <= 0
    ):
        raise ValueError(f"not a gift link: {kind!r} {amount!r} {currency!r} {frequency!r}")
    data = {
        "s": supporter_id,
        "l": lang if lang in LANGUAGES else "en",
        "k": kind,
        "n": secrets.token_urlsafe(16),
        "a": amount,
        "c": currency,
        "f": frequency,
        "x": 1 if cover_fees else 0,
    }
    return _serializer().dumps(data)


def _parse(data: object) -> GiftLink | None:
    if not isinstance(data, dict):
        return None
    values = [data.get(key) for key in ("s", "l", "k", "n", "a", "c", "f", "x")]
    supporter_id, lang, kind, nonce, amount, currency, frequency, cover = values
    if not (
        isinstance(supporter_id, int)
        and lang in LANGUAGES
        and kind in KINDS
        and isinstance(nonce, str)
        and 0 < len(nonce) <= 32
        and isinstance(amount, int)
        and not isinstance(amount, bool)
        and amount > 0
        and currency in CURRENCY_EXPONENTS
        and frequency in FREQUENCIES
        and cover in (0, 1)
    ):
        return None
    return GiftLink(supporter_id, lang, kind, nonce, amount, currency, frequency, bool(cover))


def read_token(token: str) -> GiftLink:
    """The link a token stands for; raises LinkExpired or LinkInvalid (with a language
    to answer in, when the token says one)."""
    serializer = _serializer()
    try:
        data = serializer.loads(token, max_age=MAX_AGE)
    except SignatureExpired as error:
        link = _parse(error.payload and serializer.load_payload(error.payload))
        raise LinkExpired(link.lang if link else None) from None
    except BadSignature:
        raise LinkInvalid(None) from None
    link = _parse(data)
    if link is None:
        raise LinkInvalid(None)
    return link


def link_url(supporter_id: int, lang: str, kind: str, **gift) -> str:
    """The absolute address of the link's button page."""
    return public_url("appeal.gift_link", token=make_token(supporter_id, lang, kind, **gift))


def monthly_offer(gift: int, currency: str) -> int | None:
    """The monthly amount offered after a one-time `gift` (minor units): the preset
    nearest `SUPPORT_MONTHLY_OFFER_SHARE` of it (the lower of two as near), in minor
    units; None when the offer is off or no preset fits the currency."""
    share = current_app.config.get("SUPPORT_MONTHLY_OFFER_SHARE")
    if not share or gift <= 0:
        return None
    places = exponent(currency)
    presets = sorted(
        Decimal(p)
        for p in current_app.config["SUPPORT_PRESETS"]
        if -Decimal(p).as_tuple().exponent <= places
    )
    if not presets:
        return None
    target = to_major(gift, currency) * share
    nearest = min(presets, key=lambda preset: (abs(preset - target), preset))
    return int(nearest.scaleb(places))


def gift_before_fees(charged: int, cover_fees: bool) -> int:
    """What the reader chose to give: the charge, less the fee they covered, if they did."""
    if not cover_fees:
        return charged
    terms = current_app.config["SUPPORT_FEE_PERCENT"], current_app.config["SUPPORT_FEE_FIXED"]
    net = charged - fee_for(charged, *terms)
    # Rounding can leave the first guess a cent short of the amount that was grossed up.
    while gross_up(net + 1, *terms) <= charged:
        net += 1
    return net


def mail_link(kind: str, data: dict, supporter_id: int, lang: str) -> str | None:
    """The link a mail of `kind` carries, from its context `data`: a stopped gift's
    restart (`support_stopped`), a one-time receipt's monthly offer (`thank_you` with
    `monthly`); None for other mails or a context without a gift."""
    try:
        if kind == "support_stopped":
            gift = {"amount": data["amount"], "frequency": data["frequency"]}
            return link_url(supporter_id, lang, "restart", currency=data["currency"], **gift)
        if kind == "thank_you" and data.get("monthly"):
            offer = {"amount": data["monthly"], "cover_fees": bool(data.get("cover_fees"))}
            return link_url(
                supporter_id, lang, "monthly", currency=data["currency"], frequency="month", **offer
            )
    except (KeyError, TypeError, ValueError):
        return None
    return None
