"""Staff accounts: creation, password checks, and ending every session of an account.

Sessions are rows of `staff_session` (support/staff/sessions.py loads them):
deactivating an account or setting a new password revokes all of them, so
they end on their next request. Raising `session_version` at the same time
voids the invitation and reset links made before, and a half-finished
two-step sign-in.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from support.addresses import normalise_email
from support.extensions import db
from support.models import StaffSession, StaffUser, utcnow

# Admins manage accounts and data; editors also edit campaigns; viewers only read.
ROLES = ("admin", "editor", "viewer")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """The account cannot be created as asked."""


def create_staff(email: str, password: str, role: str = "viewer") -> StaffUser:
    """Add a staff user (not committed); refuse duplicates and weak passwords."""
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise AccountError(f"{email} already has an account")
    user = StaffUser(email=email, password_hash=_hash(password), role=role)
    db.session.add(user)
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active user if the password is right, else None (same work either way)."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None or not user.is_active:
        # Hash anyway so a missing account takes as long as a wrong password.
        check_password_hash(_dummy_hash(_method()), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _method() -> str:
    """How new passwords are hashed: `STAFF_PASSWORD_METHOD` (config.py)."""
    return current_app.config["STAFF_PASSWORD_METHOD"]


def _hash(password: str) -> str:
    return generate_password_hash(password, method=_method())


@cache
def _dummy_hash(method: str) -> str:
    """A hash no password matches, made the way real ones are, so checking it costs the same."""
    return generate_password_hash("not-a-real-password", method=method)


def set_password(user: StaffUser, password: str) -> None:
    """Give `user` a new password (not committed) and end every session it had."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = _hash(password)
    end_sessions(user)


def end_sessions(user: StaffUser) -> None:
    """Sign `user` out everywhere and void their links (not committed)."""
    user.session_version += 1
    db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.staff_user_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), totp_setup=None)
        .execution_options(synchronize_session=False)
    )
