"""A staff member asks for a password reset: owe them a mail if the address has an account.

Known or not, the request does the same work — one lookup, one outbox row, one
commit — and the worker sends the mail, so neither the page nor its timing
tells whether an address has a staff account (as the manage page does for
supporters). For an unknown address the row is recorded as "skipped".
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from support.addresses import normalise_email
from support.extensions import db
from support.mail.queue import queue_mail
from support.models import StaffUser, utcnow


def request_reset(email: str, lang: str) -> int | None:
    """Record the request and commit; the id of the mail the worker will send."""
    address = normalise_email(email)
    user = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.email == address, StaffUser.status == "active")
    )
    stamp = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    row_id = queue_mail(
        f"staff-reset:{user.id if user else '-'}:{stamp}",
        "staff_reset",
        None,
        lang,
        status="pending" if user else "skipped",
        note=None if user else "no active staff account for that address",
        staff_user_id=user.id if user else None,
    )
    db.session.commit()
    return row_id
