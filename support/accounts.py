"""Staff accounts: creation, password checks and the session's user loader.

The id Flask-Login keeps in the session is "<id>:<session_version>" (see
`StaffUser.get_id`): the loader refuses a session whose version is older than
the account's, or whose account is not active, so deactivating an account or
setting a new password ends its sessions on their next request.
"""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from support.addresses import normalise_email
from support.extensions import db, login_manager
from support.models import StaffUser

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
    user = StaffUser(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active user if the password is right, else None (same work either way)."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None or not user.is_active:
        # Hash anyway so a missing account takes as long as a wrong password.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def set_password(user: StaffUser, password: str) -> None:
    """Give `user` a new password (not committed) and end every session it had."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def end_sessions(user: StaffUser) -> None:
    """Sign `user` out everywhere (not committed): older session ids stop matching."""
    user.session_version += 1


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the signed-in staff user, or None if the session is stale."""
    number, _, version = user_id.partition(":")
    if not (number.isdigit() and version.isdigit()):
        return None  # a session from before versions: sign in again
    user = db.session.get(StaffUser, int(number))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user
