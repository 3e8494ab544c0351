"""Staff sessions kept on the server, so that signing out really ends them.

The cookie carries only a random id (Flask-Login's user id, see
`StaffUser.get_id`); the `staff_session` row keeps its SHA-256 with the
account, when it began, when it was last seen and whether it was revoked.
A copied cookie therefore stops working when its owner signs out, when the
account is deactivated or its password changes, `STAFF_SESSION_HOURS` after
signing in whatever happens in between, and after `STAFF_SESSION_IDLE_MINUTES`
without a request. "Last seen" is written at most once a minute, so browsing
the staff area costs one indexed read per request, not a write.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g

from support.extensions import db
from support.models import StaffSession, StaffUser, utcnow

SEEN_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ends(row: StaffSession, now: datetime) -> bool:
    """Whether `row` is over: revoked, too old, or idle too long."""
    config = current_app.config
    lifetime = timedelta(hours=config["STAFF_SESSION_HOURS"])
    idle = timedelta(minutes=config["STAFF_SESSION_IDLE_MINUTES"])
    return (
        row.revoked_at is not None
        or now >= row.created_at + lifetime
        or now >= row.last_seen_at + idle
    )


def start(user: StaffUser) -> str:
    """A new session for `user` (not committed); the id for the cookie.

    The account's sessions that are over are deleted on the way, so the table
    holds about one row per signed-in browser.
    """
    now = utcnow()
    config = current_app.config
    oldest = now - timedelta(hours=config["STAFF_SESSION_HOURS"])
    db.session.execute(
        sa.delete(StaffSession).where(
            StaffSession.staff_user_id == user.id,
            sa.or_(StaffSession.revoked_at.is_not(None), StaffSession.created_at < oldest),
        )
    )
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=_digest(token), staff_user_id=user.id, created_at=now, last_seen_at=now
    )
    db.session.add(row)
    user._session_token = token
    g.staff_session = row
    return token


def load(token: str) -> StaffUser | None:
    """The account whose live session has id `token`, else None; notes that it was seen.

    Commits when it writes "last seen" (at most once a minute per session).
    """
    if not token:
        return None
    found = sa.select(StaffSession).where(StaffSession.token_hash == _digest(token))
    row = db.session.scalar(found)
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if _ends(row, now):
        row.revoked_at = now  # over for good, whatever clocks do later
        row.totp_setup = None
        db.session.commit()
        return None
    user = db.session.get(StaffUser, row.staff_user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user._session_token = token
    g.staff_session = row
    return user


def current() -> StaffSession | None:
    """This request's session row, once the signed-in user was loaded."""
    return g.get("staff_session")


def revoke_current() -> None:
    """End this browser's session on the server (not committed); see also
    `accounts.end_sessions`, which ends every session of an account."""
    row = current()
    if row is not None:
        row.revoked_at = utcnow()
        row.totp_setup = None
        g.pop("staff_session", None)


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the user id in the cookie is the session's random id."""
    return load(user_id)
