"""What admins do to staff accounts: invite, change roles, deactivate, reactivate.

One rule holds through every change: at least one active admin remains, so
the staff area can always be administered. See `_keep_an_admin` for how it
holds when two admins demote each other at the same moment.
"""

from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from support import audit
from support.addresses import normalise_email
from support.extensions import db
from support.mail.queue import queue_mail
from support.models import StaffUser, utcnow
from support.staff.auth import accounts

log = logging.getLogger(__name__)

# The password hash of an account that has none yet: no password ever matches it.
NO_PASSWORD = "!"


class ChangeRefused(Exception):
    """The change would break a rule; the message says which, in the user's language."""


def accounts_list() -> list[StaffUser]:
    """Every staff account: active first, then invited, then deactivated; by email."""
    order = sa.case((StaffUser.status == "active", 0), (StaffUser.status == "invited", 1), else_=2)
    return list(db.session.scalars(sa.select(StaffUser).order_by(order, StaffUser.email)))


def _keep_an_admin(user: StaffUser) -> None:
    """Refuse a change that takes `user`, the last active admin, out of that role.

    The check starts with a write to every active admin's row (it changes
    nothing), which takes the locks before anything is counted: on PostgreSQL
    row locks, which a concurrent change waits for and then sees the committed
    result; on SQLite the database's write lock, so the count is read inside
    the one write transaction. (A plain `SELECT ... FOR UPDATE` is ignored by
    SQLite, whose reads then see the state before the other change commits.)
    """
    admin = sa.and_(StaffUser.role == "admin", StaffUser.status == "active")
    db.session.execute(
        sa.update(StaffUser)
        .where(admin)
        .values(role=StaffUser.role)
        .execution_options(synchronize_session=False)
    )
    admins = db.session.scalars(sa.select(StaffUser.id).where(admin)).all()
    if user.id in admins and len(admins) == 1:
        raise ChangeRefused(
            _("There must be at least one active admin; make someone else admin first.")
        )


def invite(email: str, role: str, lang: str) -> StaffUser:
    """Create (or renew) an invitation and queue its mail; commits.

    Inviting an address again sends a new link and voids the older one.
    """
    email = normalise_email(email)
    if role not in accounts.ROLES:
        raise ChangeRefused(_("Choose one of the roles offered."))
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
    if user is not None and user.status != "invited":
        raise ChangeRefused(_("%(email)s already has an account.", email=email))
    if user is None:
        user = StaffUser(email=email, password_hash=NO_PASSWORD, role=role, status="invited")
        db.session.add(user)
        db.session.flush()
    else:
        user.role = role
        accounts.end_sessions(user)  # the earlier invitation's link stops working
    stamp = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    queue_mail(f"staff-invite:{user.id}:{stamp}", "staff_invite", None, lang, staff_user_id=user.id)
    audit.record(audit.INVITE, user.email, detail=role)
    db.session.commit()
    log.info("Staff user %s invited as %s", user.id, role)
    return user


def change_role(user: StaffUser, role: str) -> None:
    """Give `user` another role; commits."""
    if role not in accounts.ROLES:
        raise ChangeRefused(_("Choose one of the roles offered."))
    if role != "admin":
        _keep_an_admin(user)
    audit.record(audit.ROLE, user.email, detail=f"{user.role}:{role}")
    user.role = role
    db.session.commit()
    log.info("Staff user %s is now %s", user.id, role)


def deactivate(user: StaffUser) -> None:
    """Stop `user` signing in and end their sessions at once; commits."""
    _keep_an_admin(user)
    user.status = "deactivated"
    accounts.end_sessions(user)
    audit.record(audit.DEACTIVATE, user.email)
    db.session.commit()
    log.info("Staff user %s deactivated", user.id)


def reactivate(user: StaffUser) -> None:
    """Let a deactivated user sign in again with their password; commits.

    Someone deactivated before accepting their invitation has no password: they
    are invited again instead (an admin re-sends the invitation).
    """
    if user.status != "deactivated":
        raise ChangeRefused(_("Only a deactivated account can be reactivated."))
    user.status = "invited" if user.password_hash == NO_PASSWORD else "active"
    audit.record(audit.REACTIVATE, user.email)
    db.session.commit()
    log.info("Staff user %s reactivated", user.id)
