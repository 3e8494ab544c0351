"""Finding supporters: search, filters, pagination, and one supporter's history.

A supporter's status follows the CSV rule of DESIGN.md: `active` if any
subscription is active, else the latest subscription's Stripe status, else
`one_time`. The list joins each supporter to one "primary" subscription (the
active one, else the latest), chosen by a correlated subquery, so a page is
one query whatever the table size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from support.choices import LANGUAGES
from support.extensions import db
from support.form_values import page_number, search_text, whole_number
from support.models import Payment, StripeEvent, Subscription, Supporter, utcnow
from support.money import CURRENCY_EXPONENTS, AmountError, parse_number

PER_PAGE = 25
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
STATUSES = ("active", "past_due", "unpaid", "paused", "canceled", "incomplete", "one_time")
INTERVALS = ("month", "year")
# "Giving for at least N months" counts months of 30 days, up to 50 years.
MAX_MONTHS = 600


def _under(value) -> str:
    """An amount typed for "giving less than" (major units), kept as typed if valid."""
    try:
        return str(parse_number(value)) if isinstance(value, str) and len(value) <= 20 else ""
    except AmountError:
        return ""


@dataclass
class Filters:
    """The list's query string: `q`, `status`, `currency`, `interval`, `lang`,
    `months` (giving for at least that many months), `under` (an active gift of less
    than that amount, in `currency`), `page`."""

    q: str = ""
    status: str = ""
    currency: str = ""
    interval: str = ""
    lang: str = ""
    months: int = 0
    under: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read the query string; unknown values are dropped rather than failing."""
        return cls(
            q=search_text(args.get("q", ""), 200),
            status=args.get("status", "") if args.get("status") in STATUSES else "",
            currency=args.get("currency", "") if args.get("currency") in CURRENCY_EXPONENTS else "",
            interval=args.get("interval", "") if args.get("interval") in INTERVALS else "",
            lang=args.get("lang", "") if args.get("lang") in LANGUAGES else "",
            months=whole_number(args.get("months"), MAX_MONTHS) or 0,
            under=_under(args.get("under")),
            page=page_number(args.get("page")),
        )

    def under_minor(self) -> int | None:
        """`under` in the currency's minor units (None without both, or too precise)."""
        if not self.under or not self.currency:
            return None
        value = parse_number(self.under).scaleb(CURRENCY_EXPONENTS[self.currency])
        return int(value) if value == value.to_integral_value() else None

    def started_by(self):
        """The latest start of a gift giving for at least `months` months (None: any)."""
        return utcnow() - timedelta(days=30 * self.months) if self.months else None

    def params(self, **changes) -> dict[str, str | int]:
        """The non-empty filters as URL parameters, with `changes` applied."""
        values = {**vars(self), **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


def primary_subscription_id():
    """Correlated subquery: the supporter's active subscription, else their latest."""
    return (
        sa.select(Subscription.id)
        .where(Subscription.supporter_id == Supporter.id)
        .order_by(
            sa.case((Subscription.status == "active", 0), else_=1),
            Subscription.started_at.desc(),
            Subscription.id.desc(),
        )
        .limit(1)
        .correlate(Supporter)
        .scalar_subquery()
    )


def _has_subscription(*conditions) -> sa.Exists:
    return sa.exists().where(Subscription.supporter_id == Supporter.id, *conditions)


def _status_condition(status: str, primary: type[Subscription]):
    if status == "active":
        return _has_subscription(Subscription.status == "active")
    if status == "one_time":
        return ~_has_subscription()
    return primary.status == status


def _matches(text: str):
    """A whole email or customer id is looked up by index; other text is a substring search.

    The substring search reads every supporter (about a second at a million);
    the whole-email lookup, the usual case, takes a millisecond.
    """
    if EMAIL.fullmatch(text) or text.startswith("cus_"):
        return Supporter.email.in_({text, text.lower()}) | (Supporter.stripe_customer_id == text)
    return Supporter.email.icontains(text, autoescape=True) | Supporter.name.icontains(
        text, autoescape=True
    )


def latest_one_time_id():
    """Correlated subquery: the supporter's latest one-time payment."""
    return (
        sa.select(Payment.id)
        .where(Payment.supporter_id == Supporter.id, Payment.kind == "one_time")
        .order_by(Payment.paid_at.desc().nulls_last(), Payment.id.desc())
        .limit(1)
        .correlate(Supporter)
        .scalar_subquery()
    )


def with_gift(primary: type[Subscription]) -> sa.Select:
    """(supporter, primary subscription, latest one-time gift when there is no
    subscription): what the list and the CSV show of each supporter."""
    gift = aliased(Payment)
    query = (
        sa.select(Supporter, primary, gift)
        .select_from(Supporter)
        .outerjoin(primary, primary.id == primary_subscription_id())
        .outerjoin(gift, sa.and_(primary.id.is_(None), gift.id == latest_one_time_id()))
    )
    return query


def filtered(query: sa.Select, filters: Filters, primary: type[Subscription]) -> sa.Select:
    """`query` narrowed to the supporters `filters` match (the list's and the CSV's rule)."""
    if filters.q:
        query = query.where(_matches(filters.q))
    if filters.status:
        query = query.where(_status_condition(filters.status, primary))
    if filters.currency:
        query = query.where(
            _has_subscription(Subscription.currency == filters.currency)
            | sa.exists().where(
                Payment.supporter_id == Supporter.id, Payment.currency == filters.currency
            )
        )
    if filters.interval:
        query = query.where(_has_subscription(Subscription.interval == filters.interval))
    if filters.lang:
        query = query.where(Supporter.lang == filters.lang)
    if filters.months:
        query = query.where(
            _has_subscription(
                Subscription.status == "active", Subscription.started_at <= filters.started_by()
            )
        )
    under = filters.under_minor()
    if under is not None:
        query = query.where(
            _has_subscription(
                Subscription.status == "active",
                Subscription.currency == filters.currency,
                Subscription.amount < under,
            )
        )
    return query


Row = tuple[Supporter, Subscription | None, Payment | None]


def search(filters: Filters) -> tuple[list[Row], bool]:
    """One page of (supporter, primary subscription, one-time gift), newest first,
    and whether more follow."""
    primary = aliased(Subscription)
    rows = db.session.execute(
        filtered(with_gift(primary), filters, primary)
        .order_by(Supporter.id.desc())
        .offset((filters.page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows[:PER_PAGE]], len(rows) > PER_PAGE


def shared_addresses(emails: list[str | None]) -> dict[str, int]:
    """How many supporter rows hold each of these addresses, for those held by several.

    One row is one Stripe customer, and an address typed at Checkout is not
    verified, so rows sharing one are shown together but never merged. One
    indexed query for a page of addresses.
    """
    wanted = sorted({email for email in emails if email})
    if not wanted:
        return {}
    query = (
        sa.select(Supporter.email, sa.func.count())
        .where(Supporter.email.in_(wanted))
        .group_by(Supporter.email)
        .having(sa.func.count() > 1)
    )
    return dict(db.session.execute(query).all())


def same_address(supporter: Supporter) -> list[tuple[Supporter, str]]:
    """The other supporter rows with this supporter's address, oldest first, with
    their status (the address is not verified: they may or may not be one person)."""
    if not supporter.email:
        return []
    others = db.session.scalars(
        sa.select(Supporter)
        .where(Supporter.email == supporter.email, Supporter.id != supporter.id)
        .order_by(Supporter.id)
        .limit(50)
    )
    result = []
    for other in others:
        subs = list(
            db.session.scalars(sa.select(Subscription).where(Subscription.supporter_id == other.id))
        )
        result.append((other, status_of(subs)))
    return result


def status_of(subscriptions: list[Subscription]) -> str:
    """The CSV status from a supporter's subscriptions (for the detail page)."""
    if any(sub.status == "active" for sub in subscriptions):
        return "active"
    latest = max(subscriptions, key=lambda sub: (sub.started_at, sub.id), default=None)
    return latest.status if latest else "one_time"


@dataclass
class History:
    """Everything the detail page lists for one supporter."""

    subscriptions: list[Subscription]
    payments: list[Payment]
    events: list[StripeEvent]


def history(supporter: Supporter, limit: int = 200) -> History:
    """The supporter's subscriptions, latest payments and the Stripe events naming them."""
    subscriptions = list(
        db.session.scalars(
            sa.select(Subscription)
            .where(Subscription.supporter_id == supporter.id)
            .order_by(Subscription.started_at.desc())
        )
    )
    payments = list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.supporter_id == supporter.id)
            .order_by(Payment.paid_at.desc().nulls_last(), Payment.id.desc())
            .limit(limit)
        )
    )
    keys = [supporter.stripe_customer_id, *(s.stripe_id for s in subscriptions)]
    keys = [key for key in keys if key]
    events: list[StripeEvent] = []
    if keys:
        events = list(
            db.session.scalars(
                sa.select(StripeEvent)
                .where(sa.or_(*(StripeEvent.payload.contains(k, autoescape=True) for k in keys)))
                .order_by(StripeEvent.received_at.desc())
                .limit(50)
            )
        )
    return History(subscriptions, payments, events)
