"""Signed, expiring links that open a supporter's Billing Portal.

Mails carry them and the manage pages read them, so they belong to neither.

A token carries the supporter id, the language to answer in and its purpose;
`itsdangerous` signs it with the app's SECRET_KEY, so it cannot be forged or
edited, and stamps the time, so it expires. Nothing is stored: a token is
valid until its age passes the limit for its purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from support.config import LANGUAGES
from support.models import Supporter, utcnow

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
    """What a valid token says."""

    supporter_id: int
    lang: str
    purpose: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(supporter_id: int, lang: str, purpose: str = "request") -> str:
    """A signed token for `supporter_id`'s portal, valid for MAX_AGE[purpose]."""
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown link purpose {purpose!r}")
    lang = lang if lang in LANGUAGES else "en"
    return _serializer().dumps({"s": supporter_id, "l": lang, "p": purpose})


def _parse(data: object) -> ManageLink | None:
    if not isinstance(data, dict):
        return None
    supporter_id, lang, purpose = data.get("s"), data.get("l"), data.get("p")
    if not isinstance(supporter_id, int) or lang not in LANGUAGES or purpose not in MAX_AGE:
        return None
    return ManageLink(supporter_id=supporter_id, lang=lang, purpose=purpose)


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
        raise LinkInvalid(None) from None
    link = _parse(data)
    if link is None:
        raise LinkInvalid(None)
    if (utcnow() - signed_at).total_seconds() > MAX_AGE[link.purpose]:
        raise LinkExpired(link.lang)
    return link


def public_url(endpoint: str, **values: object) -> str:
    """An absolute URL on SUPPORT_PUBLIC_URL, also outside a request (for mails)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["SUPPORT_PUBLIC_URL"] + path


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
