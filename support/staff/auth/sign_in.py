"""Signing in, in one or two steps.

With a second factor, the right password only leaves a note in the session
that the account is half signed in ("pending"): it grants nothing, names the
account's session version (a password reset in between voids it) and lapses
after a few minutes. The code step then signs in for real: a new
server-side session (support/staff/sessions.py), whose random id is all the
cookie carries.
"""

from __future__ import annotations

import logging
import time

from flask import request, session, url_for
from flask_login import current_user, login_user, logout_user

from support.extensions import db
from support.models import StaffUser, utcnow
from support.staff.auth import sessions

log = logging.getLogger(__name__)

PENDING = "staff_pending_2fa"
PENDING_SECONDS = 300


def complete(user: StaffUser) -> None:
    """Sign `user` in with a new server-side session and note when; commits.

    A session this browser still had is revoked first, so nothing it held (an
    authenticator key being set up) carries over to the new one.
    """
    session.pop(PENDING, None)
    session.pop("staff_totp_setup", None)  # where earlier versions kept a key being set up
    sessions.revoke_current()
    sessions.start(user)
    login_user(user)
    session.permanent = True
    user.last_login_at = utcnow()
    db.session.commit()
    log.info("Staff user %s signed in", user.id)


def sign_out() -> None:
    """End this browser's session on the server and in the cookie; commits."""
    if current_user.is_authenticated:
        sessions.revoke_current()
        db.session.commit()
    logout_user()


def begin_second_factor(user: StaffUser) -> None:
    """Remember that `user` gave the right password and now owes a code."""
    session[PENDING] = {"u": user.id, "v": user.session_version, "t": int(time.time())}


def pending_user() -> StaffUser | None:
    """The account half signed in on this session, if it still may finish."""
    note = session.get(PENDING)
    if not isinstance(note, dict) or time.time() - note.get("t", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(StaffUser, note.get("u")) if isinstance(note.get("u"), int) else None
    if user is None or not user.is_active or user.session_version != note.get("v"):
        return None
    return user


def pending_user_id() -> str:
    """The half-signed-in account's id from the session ("" if none), for throttling keys."""
    note = session.get(PENDING)
    return str(note.get("u", "")) if isinstance(note, dict) else ""


def next_url() -> str:
    """Where to go after signing in: a staff path from `next`, never another site."""
    target = request.args.get("next", "")
    if target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.dashboard")
