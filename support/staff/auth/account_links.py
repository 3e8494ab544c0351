"""Signed, single-use links that let someone set a staff password: invitations and resets.

A token names the account, its purpose, the account's session version and a
random nonce; `itsdangerous` signs and time-stamps it with SECRET_KEY. It is
refused when too old for its purpose, when the account's session version has
moved on (a newer invitation, a password set since), when the account is not
in the state the purpose needs, and once its nonce is recorded as used
(`support/manage/single_use.py`, the table manage links use).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from support.extensions import db
from support.manage import single_use
from support.models import StaffUser
from support.staff.auth import accounts
from support.urls import public_url

SALT = "support.staff.account-link"
# An invitation may wait over a weekend; a reset is asked for and used at once.
MAX_AGE = {"invite": 72 * 3600, "reset": 3600}
# The account status each purpose is for.
STATUS = {"invite": "invited", "reset": "active"}
ENDPOINT = {"invite": "staff.accept_invitation", "reset": "staff.reset_password"}


class LinkProblem(Exception):
    """The link cannot be used; `reason` is "expired", "used" or "invalid"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AccountLink:
    """A valid link: whose account it opens, and the nonce that uses it up."""

    user: StaffUser
    nonce: str


def _serializer() -> URLSafeTimedSerializer:
    """Signs with SECRET_KEY and a salt of its own, so no other token passes for these."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user: StaffUser, purpose: str) -> str:
    """A signed token for `purpose` ("invite" or "reset") on `user`'s account."""
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown link purpose {purpose!r}")
    data = {"u": user.id, "p": purpose, "v": user.session_version, "n": secrets.token_urlsafe(16)}
    return _serializer().dumps(data)


def link_url(user: StaffUser, purpose: str) -> str:
    """The absolute address of a fresh link (for mails)."""
    return public_url(ENDPOINT[purpose], token=make_token(user, purpose))


def read(token: str, purpose: str) -> AccountLink:
    """The account a token opens for `purpose`; raises LinkProblem."""
    try:
        data = _serializer().loads(token, max_age=MAX_AGE[purpose])
    except SignatureExpired:
        raise LinkProblem("expired") from None
    except BadSignature:
        raise LinkProblem("invalid") from None
    if not isinstance(data, dict) or data.get("p") != purpose:
        raise LinkProblem("invalid")
    user_id, version, nonce = data.get("u"), data.get("v"), data.get("n")
    if not (isinstance(user_id, int) and isinstance(version, int) and isinstance(nonce, str)):
        raise LinkProblem("invalid")
    user = db.session.get(StaffUser, user_id)
    if user is None or user.status != STATUS[purpose]:
        # An invitation already accepted, or an account deactivated since.
        raise LinkProblem("used" if user is not None and user.status == "active" else "invalid")
    if user.session_version != version:
        raise LinkProblem("used")
    return AccountLink(user, nonce)


def use(token: str, purpose: str, password: str) -> StaffUser:
    """Set the password the link was sent for, activate the account, commit; or LinkProblem."""
    link = read(token, purpose)
    if not single_use.claim("staff:" + link.nonce[:32]):
        raise LinkProblem("used")
    user = db.session.get(StaffUser, link.user.id)
    accounts.set_password(user, password)
    user.status = "active"
    db.session.commit()
    return user
