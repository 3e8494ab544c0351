"""Queueing a mail: the one way any part of the app owes someone a mail.

A mail is an `OutboundEmail` row with a unique key, so a retried event or a
double submit cannot owe it twice. The worker sends it (`support.mail.outbox`)
once the transaction that queued it commits; nothing waits on SMTP inside a
request. The ids queued by the current transaction are kept in the session,
so the worker can send exactly the mails an event queued right after applying
it.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from support import dialect
from support.extensions import db
from support.models import OutboundEmail, utcnow

# Key in `db.session.info`: ids of the mails queued by the current transaction.
QUEUED = "mail_queued"


def queue_mail(
    key: str,
    kind: str,
    supporter_id: int | None,
    lang: str,
    context: dict | None = None,
    *,
    status: str = "pending",
    note: str | None = None,
    staff_user_id: int | None = None,
) -> int | None:
    """Owe a mail under `key` (not committed); its id, or None when `key` is owed already.

    `status="skipped"` records a request that will send nothing (with `note` saying why).
    Staff mails name `staff_user_id` instead of a supporter.
    """
    table = OutboundEmail.__table__
    insert = dialect.insert(table)
    new_id = db.session.execute(
        insert.values(
            key=key,
            kind=kind,
            supporter_id=supporter_id,
            staff_user_id=staff_user_id,
            lang=lang,
            context=json.dumps(context or {}, sort_keys=True),
            status=status,
            attempts=0,
            last_error=note,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    ).scalar()
    if new_id is not None and status == "pending":
        db.session.info.setdefault(QUEUED, []).append(new_id)
    return new_id


def forget_queued() -> None:
    """Start a new list of queued mails (a transaction about to start or retry)."""
    db.session.info[QUEUED] = []


def queued() -> list[int]:
    """The ids of the mails queued since `forget_queued`."""
    return list(db.session.info.get(QUEUED, ()))


def queue_mails_from(rows: sa.Select) -> int:
    """Owe many mails in one statement; how many were new.

    `rows` selects the columns key, kind, supporter_id, lang and context (a JSON
    text), in that order, one row per mail. Keys owed already are skipped, as by
    `queue_mail`: one INSERT ... SELECT, however many mails, with no round trip per
    row. The worker sends them in id order like any other.
    """
    table = OutboundEmail.__table__
    now = utcnow()
    source = rows.subquery()
    columns = ["key", "kind", "supporter_id", "lang", "context", "status", "attempts", "created_at"]
    select = sa.select(
        source.c[0],
        source.c[1],
        source.c[2],
        source.c[3],
        source.c[4],
        sa.literal("pending"),
        sa.literal(0),
        sa.literal(now, OutboundEmail.created_at.type),
    ).where(sa.true())  # SQLite reads `ON CONFLICT` after a SELECT only behind a WHERE
    insert = (
        dialect.insert(table)
        .from_select(columns, select)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    # The ids inserted say how many (a driver may not count an INSERT ... SELECT).
    return len(db.session.execute(insert.returning(table.c.id)).all())
