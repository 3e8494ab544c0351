"""A reader asks for a manage link: owe them a mail if they are a supporter.

Known or not, the request does the same work — one lookup, one outbox row,
one commit — and the worker sends the mail afterwards, so neither the page
nor its timing says whether an address belongs to a supporter. For an
unknown address the row is recorded as "skipped" and holds no address, only
that someone asked.
"""

from __future__ import annotations

import logging
import secrets

from support.extensions import db
from support.ledger.supporters import find_supporters
from support.mail.queue import queue_mail
from support.models import Supporter, utcnow
from support.portal_links import can_manage

log = logging.getLogger(__name__)


def find_supporter(email: str) -> Supporter | None:
    """The newest supporter with this address who can be mailed a link, or None."""
    manageable = [s for s in find_supporters(email) if can_manage(s)]
    return manageable[-1] if manageable else None


def request_link(email: str, lang: str) -> int | None:
    """Record the request and commit; the id of the mail the worker will send."""
    supporter = find_supporter(email)
    known = can_manage(supporter)
    stamp = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    row_id = queue_mail(
        f"manage:{supporter.id if known else '-'}:{stamp}",
        "manage_link",
        supporter.id if known else None,
        lang,
        status="pending" if known else "skipped",
        note=None if known else "no supporter to manage for that address",
    )
    db.session.commit()
    return row_id
