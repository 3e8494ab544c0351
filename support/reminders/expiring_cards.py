"""Warning supporters whose card will not last until their next payment.

The ledger keeps the expiry of the card each subscription is charged to
(`support.ledger.cards`), read with the subscription, so finding these cards
is one query: no Stripe read per supporter. A card works until the end of its
expiry month; a gift whose next payment falls after that, within `AHEAD`, is
owed one mail per card (subscription, last 4, expiry), with a link to the
supporter page where the card is changed. A new card that also expires is
another card, and another mail.

The worker runs `queue_due` hourly, and again at once after a full batch
(`support.webhooks.worker`). The
query walks an index on (expiry year, expiry month, next payment): cards that
expire by next month are a small part of a large list, and those already
warned are left out by the outbox's unique key, so each run reads only what
it mails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from support.extensions import db
from support.mail.queue import queue_mail
from support.models import OutboundEmail, Subscription, Supporter, utcnow
from support.reminders.renewals import next_payment

KIND = "card_expiring"
# How long before the next payment the warning goes out.
AHEAD = timedelta(days=30)
# Most mails owed in one run; the next run goes on where this one stopped.
BATCH = 1000

SUB = Subscription.__table__


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def _expires_before(year: int, month: int) -> sa.ColumnElement[bool]:
    """The card's last month is before `year`-`month` (so it fails during that month)."""
    return sa.or_(
        SUB.c.card_exp_year < year,
        sa.and_(SUB.c.card_exp_year == year, SUB.c.card_exp_month < month),
    )


def _fails_at_next_payment(now: datetime) -> sa.ColumnElement[bool]:
    """The next payment is within AHEAD and the card's expiry month ends before it.

    The window spans two or three calendar months; for a payment in each, the
    card must have expired before that month began.
    """
    end = now + AHEAD
    paid = SUB.c.current_period_end
    months = []
    month = _month_start(now.year, now.month)
    while month <= end:
        following = _month_start(month.year, month.month + 1)
        months.append(
            sa.and_(paid >= month, paid < following, _expires_before(month.year, month.month))
        )
        month = following
    return sa.and_(paid > now, paid <= end, sa.or_(*months))


def mail_key(stripe_id: str, last4: str, exp_month: int, exp_year: int) -> str:
    """The outbox key of one card's warning for one gift."""
    return f"{KIND}:{stripe_id}:{last4}:{exp_month}/{exp_year}"


def _key_sql() -> sa.ColumnElement[str]:
    """`mail_key` of each row, in SQL (for leaving out the cards already warned)."""
    return (
        sa.literal("card_expiring:", sa.String)
        + SUB.c.stripe_id
        + ":"
        + SUB.c.card_last4
        + ":"
        + sa.cast(SUB.c.card_exp_month, sa.String)
        + "/"
        + sa.cast(SUB.c.card_exp_year, sa.String)
    )


def due_query(now: datetime, limit: int = BATCH) -> sa.Select:
    """Active gifts, not paused nor cancelling, whose card fails at the next payment,
    not warned yet about that card; with their supporter's language."""
    warned = sa.exists().where(OutboundEmail.__table__.c.key == _key_sql())
    return (
        sa.select(SUB, Supporter.lang.label("supporter_lang"))
        .join(Supporter, Supporter.id == SUB.c.supporter_id)
        .where(
            _fails_at_next_payment(now),
            SUB.c.status == "active",
            SUB.c.cancel_at_period_end.is_(False),
            SUB.c.collection_paused.is_(False),
            SUB.c.card_last4.is_not(None),
            Supporter.erased_at.is_(None),
            Supporter.email.is_not(None),
            ~warned,
        )
        .order_by(SUB.c.current_period_end)
        .limit(limit)
    )


def queue_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Owe every warning due now (at most `limit`) and commit; how many were owed."""
    now = now or utcnow()
    owed = 0
    for row in db.session.execute(due_query(now, limit)).all():
        context = next_payment(row)
        key = mail_key(row.stripe_id, row.card_last4, row.card_exp_month, row.card_exp_year)
        lang = row.lang or row.supporter_lang
        if queue_mail(key, KIND, row.supporter_id, lang, context) is not None:
            owed += 1
    db.session.commit()
    return owed
