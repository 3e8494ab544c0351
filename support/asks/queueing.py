"""Sending an ask: the request records it; its mails are queued in bulk, in batches.

Recording the ask (`record`) stores the group's filters and the texts and notes
the last supporter id; the group is then queued batch by batch, each batch a
range of `BATCH` supporter ids: one INSERT ... SELECT writes the batch's recipient
rows (the gift to raise and the new amount) and one more its mails through the
outbox (`queue_mails_from`, keyed `upgrade_ask:<recipient id>`). A request does
the first batch; the worker (`continue_due`) does the rest, so asking a million
supporters never holds a request. Recipient rows and mail keys are unique per ask
and supporter, so a batch done twice queues nothing twice, and a double submit
of the form (one `token`) records one ask.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from support import audit, dialect
from support.asks.selection import group
from support.extensions import db
from support.mail.queue import queue_mails_from
from support.models import OutboundEmail, Supporter, UpgradeAsk, UpgradeAskRecipient, utcnow
from support.staff.supporters.queries import Filters

log = logging.getLogger(__name__)

BATCH = 5000
MAIL_KIND = "upgrade_ask"
MAIL_PREFIX = "upgrade_ask:"


@dataclass(frozen=True)
class Draft:
    """An ask as staff wrote it (validated by its form)."""

    filters: Filters
    currency: str
    rule: str
    amount: int
    subject_en: str
    body_en: str
    subject_ar: str
    body_ar: str


def filters_of(ask: UpgradeAsk) -> Filters:
    return Filters.from_args(json.loads(ask.filters or "{}"))


def record(draft: Draft, token: str, staff_email: str | None) -> tuple[UpgradeAsk, bool]:
    """Record the ask and queue its first batch (committed, with its audit row);
    (the ask, whether it is new). The same form token twice: the first ask, not new."""
    found = db.session.scalar(sa.select(UpgradeAsk).where(UpgradeAsk.token == token))
    if found is not None:
        return found, False
    params = {k: str(v) for k, v in draft.filters.params(page=1).items()}
    ask = UpgradeAsk(
        token=token,
        filters=json.dumps(params, sort_keys=True),
        currency=draft.currency,
        rule=draft.rule,
        amount=draft.amount,
        subject_en=draft.subject_en,
        body_en=draft.body_en,
        subject_ar=draft.subject_ar,
        body_ar=draft.body_ar,
        status="queuing",
        through_id=0,
        until_id=db.session.scalar(sa.select(sa.func.max(Supporter.id))) or 0,
        recipients=0,
        created_by=staff_email,
        created_at=utcnow(),
    )
    db.session.add(ask)
    try:
        db.session.flush()
    except IntegrityError:  # the same form, sent twice at once: the other one records it
        db.session.rollback()
        return db.session.scalar(sa.select(UpgradeAsk).where(UpgradeAsk.token == token)), False
    audit.record(audit.UPGRADE_ASK, f"ask:{ask.id}", detail=str(ask.id))
    queue_batch(ask)
    db.session.commit()
    return ask, True


def _batch_end(ask: UpgradeAsk) -> int:
    """The last supporter id of the next batch."""
    query = (
        sa.select(Supporter.id)
        .where(Supporter.id > ask.through_id, Supporter.id <= ask.until_id)
        .order_by(Supporter.id)
        .offset(BATCH - 1)
        .limit(1)
    )
    return db.session.scalar(query) or ask.until_id


def queue_batch(ask: UpgradeAsk) -> int:
    """Queue the next batch of the ask's group (not committed); recipients added."""
    if ask.status != "queuing":
        return 0
    start, end = ask.through_id, _batch_end(ask)
    found = (
        group(filters_of(ask), ask.currency, ask.rule, ask.amount)
        .where(Supporter.id > start, Supporter.id <= end)
        .subquery()
    )
    now = utcnow()
    table = UpgradeAskRecipient.__table__
    rows = sa.select(
        sa.literal(ask.id),
        found.c.supporter_id,
        found.c.subscription_id,
        found.c.old_amount,
        found.c.new_amount,
        sa.literal(ask.currency),
        found.c.interval,
        sa.literal(now, UpgradeAskRecipient.created_at.type),
    ).where(sa.true())  # SQLite reads `ON CONFLICT` after a SELECT only behind a WHERE
    columns = [
        "ask_id",
        "supporter_id",
        "subscription_id",
        "old_amount",
        "new_amount",
        "currency",
        "interval",
        "created_at",
    ]
    # The ids inserted say how many (a driver may not count an INSERT ... SELECT).
    added = len(
        db.session.execute(
            dialect.insert(table)
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=["ask_id", "supporter_id"])
            .returning(table.c.id)
        ).all()
    )
    recipient = UpgradeAskRecipient
    number = sa.cast(recipient.id, sa.String)
    queue_mails_from(
        sa.select(
            sa.literal(MAIL_PREFIX) + number,
            sa.literal(MAIL_KIND),
            recipient.supporter_id,
            Supporter.lang,
            sa.literal('{"recipient": ') + number + sa.literal("}"),
        )
        .join(Supporter, Supporter.id == recipient.supporter_id)
        .where(
            recipient.ask_id == ask.id,
            recipient.supporter_id > start,
            recipient.supporter_id <= end,
        )
    )
    ask.through_id = end
    # In SQL, so a batch another worker did at the same time is not counted over.
    ask.recipients = UpgradeAsk.recipients + added
    if end >= ask.until_id:
        ask.status = "queued"
        ask.queued_at = now
    return added


def continue_due() -> bool:
    """Queue the next batch of one ask still queuing (committed); whether there was one.

    For the worker; never raises a database error into it."""
    query = sa.select(UpgradeAsk).where(UpgradeAsk.status == "queuing").order_by(UpgradeAsk.id)
    if dialect.is_postgres():
        query = query.with_for_update(skip_locked=True)
    try:
        ask = db.session.scalar(query.limit(1))
        if ask is None:
            db.session.rollback()
            return False
        queue_batch(ask)
        db.session.commit()
    except sa.exc.SQLAlchemyError as error:
        log.warning("Ask mails not queued: %s", error)
        db.session.rollback()
        return False
    return True


@dataclass
class Counts:
    """An ask's figures: supporters queued, mails sent and skipped, acceptances."""

    recipients: int = 0
    sent: int = 0
    skipped: int = 0
    accepted: int = 0


def counts(ask_ids: list[int]) -> dict[int, Counts]:
    """The figures of each of these asks (two grouped queries)."""
    found = {ask_id: Counts() for ask_id in ask_ids}
    if not ask_ids:
        return found
    recipient = UpgradeAskRecipient
    rows = db.session.execute(
        sa.select(recipient.ask_id, sa.func.count(), sa.func.count(recipient.accepted_at))
        .where(recipient.ask_id.in_(ask_ids))
        .group_by(recipient.ask_id)
    )
    for ask_id, total, accepted in rows:
        found[ask_id].recipients, found[ask_id].accepted = total, accepted
    mail = OutboundEmail
    rows = db.session.execute(
        sa.select(recipient.ask_id, mail.status, sa.func.count())
        .join(mail, mail.key == sa.literal(MAIL_PREFIX) + sa.cast(recipient.id, sa.String))
        .where(recipient.ask_id.in_(ask_ids), mail.status.in_(("sent", "skipped")))
        .group_by(recipient.ask_id, mail.status)
    )
    for ask_id, status, total in rows:
        setattr(found[ask_id], status, total)
    return found
