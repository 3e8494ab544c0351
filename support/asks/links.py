"""The two links in an ask mail: raise my gift, and unsubscribe.

Both are signed with the app's SECRET_KEY (`itsdangerous`), so they cannot be
forged or edited, and carry the language to answer in. The raise link names the
ask's recipient row and expires after `ACCEPT_DAYS`; it works once because
pressing its button sets the row's `accepted_at` (support/asks/accept.py). The
unsubscribe link names the supporter and does not expire: RFC 8058 asks that it
keep working, and using it twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from support.choices import LANGUAGES
from support.portal_links import LinkExpired, LinkInvalid
from support.urls import public_url

ACCEPT_SALT = "support.asks.accept"
UNSUBSCRIBE_SALT = "support.asks.unsubscribe"
# An ask may be read a while after it was sent.
ACCEPT_DAYS = 30


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def accept_url(recipient_id: int, lang: str) -> str:
    """The absolute `/asks/<token>` address of one recipient's raise page."""
    token = _serializer(ACCEPT_SALT).dumps({"r": recipient_id, "l": _lang(lang)})
    return public_url("asks.accept", token=token)


def unsubscribe_url(supporter_id: int, lang: str) -> str:
    """The absolute `/unsubscribe/<token>` address for a supporter."""
    token = _serializer(UNSUBSCRIBE_SALT).dumps({"s": supporter_id, "l": _lang(lang)})
    return public_url("asks.unsubscribe", token=token)


def _parse(data: object, key: str) -> tuple[int, str] | None:
    if not isinstance(data, dict):
        return None
    number, lang = data.get(key), data.get("l")
    if not isinstance(number, int) or isinstance(number, bool) or lang not in LANGUAGES:
        return None
    return number, lang


def _read(token: str, salt: str, key: str, max_age: int | None) -> tuple[int, str]:
    serializer = _serializer(salt)
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as error:
        found = _parse(error.payload and serializer.load_payload(error.payload), key)
        raise LinkExpired(found[1] if found else None) from None
    except BadSignature:
        raise LinkInvalid(None) from None
    found = _parse(data, key)
    if found is None:
        raise LinkInvalid(None)
    return found


def read_accept(token: str) -> tuple[int, str]:
    """(recipient id, language) of a raise link; raises LinkExpired or LinkInvalid."""
    return _read(token, ACCEPT_SALT, "r", int(timedelta(days=ACCEPT_DAYS).total_seconds()))


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(supporter id, language) of an unsubscribe link; raises LinkInvalid."""
    return _read(token, UNSUBSCRIBE_SALT, "s", None)
