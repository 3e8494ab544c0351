"""What each supporter action asks of Stripe, and the record kept of it.

A supporter on the account page may change a gift's amount or frequency (from the
next payment, no proration), pause it for one to three months, resume it early,
cancel it at the end of the period with a reason, or undo that cancellation.

`request_change` records the change (`SupporterChange`) and then asks Stripe,
with an idempotency key made of the supporter session, the gift, the action, its
values and the version of the gift the form was shown with: the same form sent
twice finds its record and asks Stripe nothing more, and a retry by the library
is one change at Stripe. The subscription row is not written here: the webhook
that follows does it, and marks the change applied (support/ledger/changes.py).
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from support import stripe_api
from support.extensions import db
from support.ledger.versions import read_version
from support.models import Subscription, SupporterChange, SupporterSession, utcnow

KINDS = ("amount", "frequency", "pause", "resume", "cancel", "keep")
PAUSE_MONTHS = (1, 2, 3)
# Stripe's `cancellation_details.feedback` values offered, in the order shown.
REASONS = (
    "too_expensive",
    "unused",
    "low_quality",
    "switched_service",
    "customer_service",
    "other",
)
LIVE = ("active", "trialing")
# A change not shown by a webhook within this long is no longer announced as on its way.
PENDING_FOR_SECONDS = 24 * 3600


class ActionRefused(Exception):
    """The gift is not in a state where this action makes sense; `code` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Ask:
    """One action as the supporter asked for it (validated by its form)."""

    kind: str
    amount: int | None = None
    interval: str | None = None
    months: int | None = None
    reason: str | None = None
    comment: str | None = None
    offer: str | None = None  # the save offer shown before cancelling, if any
    saved: bool = False  # this is that offer, taken

    def values(self) -> tuple:
        return (self.kind, self.amount, self.interval, self.months, self.reason, self.comment)


def paused(sub: Subscription) -> bool:
    return bool(sub.collection_paused)


def available(sub: Subscription) -> tuple[str, ...]:
    """The actions a gift offers now: by its status, pause and pending cancellation."""
    if sub.status not in LIVE:
        return ()
    if sub.cancel_at_period_end:
        return ("keep",)
    if paused(sub):
        return ("amount", "resume", "cancel")
    return ("amount", "pause", "cancel")


def _check(sub: Subscription, ask: Ask) -> None:
    action = "amount" if ask.kind == "frequency" else ask.kind
    if action not in available(sub):
        raise ActionRefused("not_now")
    if action == "amount" and (ask.amount, ask.interval) == (sub.amount, sub.interval):
        raise ActionRefused("unchanged")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` calendar months later (the month's last day if shorter)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def resumes_at(months: int, now: datetime | None = None) -> datetime:
    """When a pause asked for today ends: midnight UTC, `months` months from today.

    A whole day, so the same form sent again the same day asks for the same date."""
    today = (now or utcnow()).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return add_months(today, months)


def change_key(session: SupporterSession, sub: Subscription, ask: Ask, version: int) -> str:
    """The change's key: this session, this gift, these values, this form's version."""
    parts = [session.token_hash, sub.stripe_id, str(version), *map(str, ask.values())]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:64]


def idempotency_key(change: SupporterChange) -> str:
    return f"account-{change.key[:40]}-{change.attempt}"


def _new_change(sub: Subscription, ask: Ask, key: str, attempt: int, lang: str) -> SupporterChange:
    change = SupporterChange(
        key=key,
        attempt=attempt,
        supporter_id=sub.supporter_id,
        subscription_id=sub.id,
        kind=ask.kind,
        currency=sub.currency,
        old_amount=sub.amount,
        old_interval=sub.interval,
        new_amount=ask.amount,
        new_interval=ask.interval,
        paused_until=resumes_at(ask.months) if ask.kind == "pause" else None,
        reason=ask.reason,
        comment=ask.comment,
        offer=ask.offer,
        saved=ask.saved,
        lang=lang,
        created_at=utcnow(),
    )
    return change


def _send(
    stripe_id: str, key: str, kind: str, until: datetime | None, ask: Ask, item: dict | None
) -> None:
    """Ask Stripe for a change of `kind` under idempotency `key` (plain values only:
    the call needs no database, so no transaction is open across it)."""
    if kind in ("amount", "frequency"):
        stripe_api.change_subscription_price(stripe_id, item, ask.amount, ask.interval, key)
    elif kind == "pause":
        stripe_api.pause_subscription(stripe_id, int(until.timestamp()), key)
    elif kind == "resume":
        stripe_api.resume_subscription(stripe_id, key)
    elif kind == "cancel":
        stripe_api.cancel_subscription_with_reason(stripe_id, ask.reason, ask.comment, key)
    elif kind == "keep":
        stripe_api.keep_subscription(stripe_id, key)


def _item(stripe_id: str, currency: str) -> dict:
    """The subscription's one item as Stripe has it (its id and product name the change)."""
    found = stripe_api.read_subscription_for_reader(stripe_id)
    if found is None:
        raise stripe_api.StripeNotFound(f"No such subscription: {stripe_id}")
    items = (found.get("items") or {}).get("data") or []
    if len(items) != 1 or found["currency"] != currency:
        raise ActionRefused("not_now")
    return items[0]


def request_change(
    session: SupporterSession, sub: Subscription, ask: Ask, version: int, lang: str
) -> SupporterChange:
    """Record the change and ask Stripe for it, once per form; the change's record.

    Raises `ActionRefused` (nothing asked), or what `stripe_api` raises (the record
    is kept as failed, so the same form may be sent again as a new attempt).
    """
    if ask.kind == "amount" and ask.interval != sub.interval:
        ask = Ask(**{**ask.__dict__, "kind": "frequency"})
    return request_keyed_change(change_key(session, sub, ask, version), sub, ask, lang)


def request_keyed_change(key: str, sub: Subscription, ask: Ask, lang: str) -> SupporterChange:
    """`request_change` under a key the caller made (a mailed link's, say): the same
    key asks Stripe once, and again only after an attempt Stripe refused."""
    earlier = db.session.scalars(
        sa.select(SupporterChange).where(SupporterChange.key == key).order_by(SupporterChange.id)
    ).all()
    for change in earlier:
        if change.failed_at is None:
            return change  # the same form again (even once applied): asked already
    _check(sub, ask)
    sub_id, stripe_id, currency = sub.id, sub.stripe_id, sub.currency
    db.session.rollback()  # only reads so far: no transaction stays open across Stripe calls
    item = _item(stripe_id, currency) if ask.kind in ("amount", "frequency") else None
    asked = read_version()
    sub = db.session.get(Subscription, sub_id)
    change = _new_change(sub, ask, key, len(earlier), lang)
    change.asked_version = asked
    db.session.add(change)
    send = (stripe_id, idempotency_key(change), change.kind, change.paused_until, ask, item)
    try:
        db.session.commit()
    except IntegrityError:  # the same form, sent twice at once: the other one asks
        db.session.rollback()
        return db.session.scalars(
            sa.select(SupporterChange).where(SupporterChange.key == key)
        ).first()
    try:
        _send(*send)
    except stripe_api.StripeUnavailable:
        change.failed_at = utcnow()
        db.session.commit()
        raise
    change_id = change.id
    answered = read_version()
    change = db.session.get(SupporterChange, change_id)
    change.answered_version = answered
    db.session.commit()
    return change


def pending(subscription_ids: list[int]) -> dict[int, SupporterChange]:
    """The latest change on its way for each of these gifts (asked, not yet shown)."""
    if not subscription_ids:
        return {}
    since = utcnow().timestamp() - PENDING_FOR_SECONDS
    rows = db.session.scalars(
        sa.select(SupporterChange)
        .where(
            SupporterChange.subscription_id.in_(subscription_ids),
            SupporterChange.applied_at.is_(None),
            SupporterChange.failed_at.is_(None),
            SupporterChange.created_at >= datetime.fromtimestamp(since, UTC),
        )
        .order_by(SupporterChange.id)
    )
    return {row.subscription_id: row for row in rows}
