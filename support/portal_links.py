"""Signed, expiring links that open a supporter's Billing Portal.

Mails carry them and the manage pages read them, so they belong to neither.

A token carries the supporter id, the language to answer in, its purpose and
a random nonce (and, from the thanks page, the checkout it belongs to);
`itsdangerous` signs it with the app's SECRET_KEY, so it cannot be forged or
edited, and stamps the time, so it expires. Nothing is stored here: a token is
valid until its age passes the limit for its purpose, and the manage page
records its nonce when it is used, so it works once (support/manage/single_use.py).

The language comes first in the token, so its first characters spell it
(`eyJsIjoiYXIi` is `{"l":"ar"`): a link that a mail program cut short still
answers in its reader's language (`language_hint`), though it opens nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass, replace

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from support.choices import LANGUAGES
from support.models import Supporter, utcnow
from support.urls import public_url

SALT = "support.manage.portal-link"

# How long a link stays valid, by purpose. A link asked for on the manage page
# is used at once; one inside a thank-you or failed-payment mail may be opened
# a day or two later, so it lives longer (and still expires).
MAX_AGE = {"request": 3600, "mail": 72 * 3600, "thanks": 3600}


class LinkError(Exception):
    """The token cannot be used; `lang` is the best language to say so in."""

    def __init__(self, lang: str | None):
        super().__init__(lang)
        self.lang = lang if lang in LANGUAGES else None


class LinkExpired(LinkError):
    """A genuine token, too old."""


class LinkInvalid(LinkError):
    """Not a token we signed (tampered, truncated, or from another key)."""


@dataclass(frozen=True)
class ManageLink:
    """What a valid token says.

    `checkout` is the Checkout Session a thanks-page link was made for: it only
    works in the browser that started that checkout.
    """

    supporter_id: int
    lang: str
    purpose: str
    nonce: str
    checkout: str | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(
    supporter_id: int, lang: str, purpose: str = "request", checkout: str | None = None
) -> str:
    """A signed, single-use token for `supporter_id`'s portal, valid for MAX_AGE[purpose].

    A "thanks" token names the `checkout` whose browser alone may use it.
    """
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown link purpose {purpose!r}")
    if (purpose == "thanks") != (checkout is not None):
        raise ValueError("a checkout is named by thanks links, and only by them")
    lang = lang if lang in LANGUAGES else "en"
    # The language first: a cut link still says it (`language_hint`).
    data = {"l": lang, "s": supporter_id, "p": purpose, "n": secrets.token_urlsafe(16)}
    if checkout is not None:
        data["c"] = checkout
    return _serializer().dumps(data)


def _parse(data: object) -> ManageLink | None:
    if not isinstance(data, dict):
        return None
    supporter_id, lang, purpose = data.get("s"), data.get("l"), data.get("p")
    if not isinstance(supporter_id, int) or lang not in LANGUAGES or purpose not in MAX_AGE:
        return None
    nonce, checkout = data.get("n"), data.get("c")
    if (purpose == "thanks") != isinstance(checkout, str):
        return None
    if not isinstance(nonce, str) or len(nonce) > 32:
        nonce = ""  # a link made before links had a nonce (see read_token)
    return ManageLink(supporter_id, lang, purpose, nonce, checkout)


def read_token(token: str) -> ManageLink:
    """The link a token stands for; raises LinkExpired or LinkInvalid."""
    serializer = _serializer()
    try:
        data, signed_at = serializer.loads(
            token, max_age=max(MAX_AGE.values()), return_timestamp=True
        )
    except SignatureExpired as error:
        link = _parse(error.payload and serializer.load_payload(error.payload))
        raise LinkExpired(link.lang if link else None) from None
    except BadSignature:
        raise LinkInvalid(language_hint(token)) from None
    link = _parse(data)
    if link is None:
        raise LinkInvalid(language_hint(token))
    if (utcnow() - signed_at).total_seconds() > MAX_AGE[link.purpose]:
        raise LinkExpired(link.lang)
    if not link.nonce:
        # Mailed before links had a nonce: what the link says, to the second, is used once.
        # Not the token's text, which several texts decode to (base64's spare bits).
        said = f"{link.supporter_id}:{link.lang}:{link.purpose}:{signed_at.timestamp():.0f}"
        link = replace(link, nonce=hashlib.sha256(said.encode()).hexdigest())
    return link


_LANGUAGE_FIELD = re.compile(r'"l":"([a-z]{2})"')


def language_hint(token: str) -> str | None:
    """The language a token says it is in, read from what is left of it, unsigned.

    Only for answering a broken link in its reader's language: nothing else
    from a token that fails its signature is believed.
    """
    compressed = token.startswith(".")  # itsdangerous zips a payload when that is shorter
    payload = token.removeprefix(".").split(".", 1)[0][:400]
    whole = payload[: len(payload) // 4 * 4]  # base64 decodes in blocks of four characters
    try:
        data = base64.urlsafe_b64decode(whole)
        if compressed:
            data = zlib.decompressobj().decompress(data)  # as much as a cut stream gives
        text = data.decode("utf-8", "ignore")
    except (binascii.Error, ValueError, zlib.error):
        return None
    found = _LANGUAGE_FIELD.search(text)
    return found.group(1) if found and found.group(1) in LANGUAGES else None


def portal_url(supporter_id: int, lang: str, purpose: str) -> str:
    """The absolute `/manage/<token>` address for a supporter."""
    return public_url("manage.portal", token=make_token(supporter_id, lang, purpose))


def can_manage(supporter: Supporter | None) -> bool:
    """Only a supporter with a Stripe customer, not erased, has a portal to open."""
    return (
        supporter is not None
        and supporter.erased_at is None
        and bool(supporter.email)
        and bool(supporter.stripe_customer_id)
    )
