"""The supporter ledger: Stripe objects written into our tables.

Each function takes a Stripe object as a plain dict (as `stripe_api` fetched
it) and writes the supporter, subscription, payment or checkout attempt it
implies, and returns rows as Core rows (named tuples), not ORM objects.
Applying the same object twice changes nothing, so events can be
redelivered and replayed. Nothing here talks to Stripe, commits or sends mail:
the webhook inbox applies one event per transaction, and the mails a supporter
is owed are queued as `OutboundEmail` rows whose unique key makes a second
copy impossible.

Concurrency: callers take `lock_customer(...)` first, so on PostgreSQL two
events of one customer are applied one after the other (SQLite has one writer
anyway), and rows are read `FOR UPDATE`. `stripe_updated` holds when (in
microseconds) the Stripe state written into a row was read; a write based on
an older read (a reconcile run that listed before a webhook fetched) is
skipped, so stale data never overwrites fresher data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from support.driver_sql import Statement, current_connection
from support.extensions import db
from support.models import CheckoutAttempt, OutboundEmail, Subscription, Supporter, utcnow

log = logging.getLogger(__name__)

PAID_SESSION = ("paid", "no_payment_required")
# Key in `db.session.info`: ids of the mails queued by the current transaction.
MAIL_LOG = "ledger_queued_mail"


def read_version() -> int:
    """A version for state about to be read from Stripe: now, in microseconds."""
    return time.time_ns() // 1000


def timestamp(value: int | None) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC) if value else None


def normalise_email(email: str | None) -> str | None:
    """Emails are stored trimmed and lowercase, so one reader is one supporter."""
    email = (email or "").strip().lower()
    return email or None


def dialect() -> str:
    """The database's dialect name ("postgresql" or "sqlite")."""
    return db.engine.dialect.name


def _postgres() -> bool:
    return dialect() == "postgresql"


def for_update(statement):
    """`statement` locking its rows on PostgreSQL (SQLite locks the whole database)."""
    return statement.with_for_update() if _postgres() else statement


class Prepared:
    """A select built once, with its FOR UPDATE twin: building and cache-keying
    a statement on every call cost more CPU than running it."""

    def __init__(self, statement):
        self.plain = Statement(statement)
        self.locking = Statement(statement.with_for_update())

    def for_update(self):
        """The statement that locks its rows on PostgreSQL."""
        return self.locking if _postgres() else self.plain


_ADVISORY_LOCK = Statement(sa.text("SELECT pg_advisory_xact_lock(:key)"))
# Key in `db.session.info`: (transaction, customer keys whose lock it holds).
HELD_LOCKS = "ledger_held_locks"


def lock_number(key: str) -> int:
    """The PostgreSQL advisory lock number of a customer key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _held() -> set[str]:
    """The customer keys locked by the current transaction."""
    transaction = db.session().get_transaction()
    held = db.session.info.get(HELD_LOCKS)
    if held is None or held[0] is not transaction:
        held = db.session.info[HELD_LOCKS] = (transaction, set())
    return held[1]


def holding_lock(key: str) -> None:
    """Note that the current transaction took `key`'s lock by other means (the
    webhook's claim statement takes it in the same round trip)."""
    _held().add(key)


def lock_customer(key: str) -> None:
    """Apply one customer's objects one at a time (PostgreSQL advisory lock,
    released at commit or rollback). SQLite serialises writers by itself."""
    if _postgres():
        held = _held()
        if key not in held:
            run(_ADVISORY_LOCK, {"key": lock_number(key)})
            held.add(key)


def run(statement, params: dict):
    """Execute a Core statement (or a `Statement`, on the driver) on the session's
    connection, without the ORM's bookkeeping."""
    if isinstance(statement, Statement):
        return statement.run(params)
    return current_connection().execute(statement, params)


_UPSERTS: dict[tuple, Statement] = {}


def upsert(table: sa.Table, key: str, values: dict, kept: tuple[str, ...] = ()) -> sa.Row | None:
    """INSERT ... ON CONFLICT (key) DO UPDATE of `values` (their keys are the columns
    written; `kept` and `created_at` are left alone by an update), only over older
    state (`stripe_updated`); the written row, or None when ours held fresher state.

    One statement per dialect and set of columns, built on first use.
    """
    name = dialect()
    cache_key = (table.name, key, name, tuple(values), kept)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        insert = postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)
        statement = _UPSERTS[cache_key] = Statement(
            insert.on_conflict_do_update(
                index_elements=[key],
                set_={
                    name: insert.excluded[name]
                    for name in values
                    if name not in (key, "created_at", *kept)
                },
                where=table.c.stripe_updated <= insert.excluded.stripe_updated,
            ).returning(*table.columns)
        )
    return run(statement, values).first()


def attribution_fields(meta: dict | None) -> dict:
    """source / campaign / variant from Stripe metadata, cut to their column sizes."""
    meta = meta or {}
    return {
        "source": (meta.get("source") or None) and meta["source"][:500],
        "campaign": (meta.get("campaign") or None) and meta["campaign"][:64],
        "variant": (meta.get("variant") or None) and meta["variant"][:64],
    }


# Rows are read and written as Core rows (named tuples with the columns as
# attributes), never as ORM objects: loading, tracking and flushing objects
# was half of the CPU a webhook event cost.
SUPPORTER = Supporter.__table__
SUBSCRIPTION = Subscription.__table__
_SUPPORTER_BY_CUSTOMER = Prepared(
    sa.select(SUPPORTER).where(SUPPORTER.c.stripe_customer_id == sa.bindparam("customer_id"))
)
_SUPPORTER_BY_EMAIL = Prepared(
    sa.select(SUPPORTER).where(SUPPORTER.c.email == sa.bindparam("email"))
)
_SUPPORTER_BY_ID = Statement(sa.select(SUPPORTER).where(SUPPORTER.c.id == sa.bindparam("id")))
_NEW_SUPPORTER = Statement(sa.insert(SUPPORTER).returning(*SUPPORTER.columns))
_EMAIL_TAKEN = Statement(
    sa.select(SUPPORTER.c.id).where(
        SUPPORTER.c.email == sa.bindparam("email"), SUPPORTER.c.id != sa.bindparam("id")
    )
)


def find_supporter(customer_id: str | None) -> sa.Row | None:
    """The supporter of a Stripe customer, locked for update."""
    if not customer_id:
        return None
    return run(_SUPPORTER_BY_CUSTOMER.for_update(), {"customer_id": customer_id}).first()


def update_supporter(supporter_id: int, **values) -> None:
    """Write some of a supporter's columns (`updated_at` follows)."""
    run(sa.update(SUPPORTER).where(SUPPORTER.c.id == supporter_id).values(**values), {})


def upsert_supporter(
    customer_id: str | None, email: str | None, name: str | None, lang: str | None = None
) -> sa.Row | None:
    """The supporter for a customer (or, without one, an email), created or updated."""
    email = normalise_email(email)
    supporter = find_supporter(customer_id)
    if supporter is None and email:
        supporter = run(_SUPPORTER_BY_EMAIL.for_update(), {"email": email}).first()
        if supporter is not None and supporter.stripe_customer_id is None and customer_id:
            update_supporter(supporter.id, stripe_customer_id=customer_id)
    if supporter is None:
        if not customer_id and not email:
            return None
        now = utcnow()
        values = {
            "stripe_customer_id": customer_id,
            "email": email,
            "name": (name or None) and name[:200],
            "lang": (lang or "en")[:8],
            "created_at": now,
            "updated_at": now,
        }
        return run(_NEW_SUPPORTER, values).one()
    if update_contact(supporter, email, name) or supporter.stripe_customer_id != customer_id:
        supporter = run(_SUPPORTER_BY_ID, {"id": supporter.id}).one()
    return supporter


def update_contact(supporter: sa.Row, email: str | None, name: str | None) -> bool:
    """Take a new email and name, except for erased supporters; True if one changed."""
    if supporter.erased_at is not None:
        return False
    values = {}
    if name and name[:200] != supporter.name:
        values["name"] = name[:200]
    email = normalise_email(email)
    if email and email != supporter.email:
        taken = run(_EMAIL_TAKEN, {"email": email, "id": supporter.id}).scalar()
        if taken:
            # Two Stripe customers, one reader: keep the rows apart rather than merge.
            log.warning(
                "Supporter %s: new email already belongs to supporter %s", supporter.id, taken
            )
        else:
            values["email"] = email
    if values:
        update_supporter(supporter.id, **values)
    return bool(values)


def apply_customer(customer: dict) -> sa.Row | None:
    """Refresh a known supporter's email and name; customers who never gave are skipped."""
    supporter = find_supporter(customer["id"])
    if supporter is not None and not customer.get("deleted"):
        update_contact(supporter, customer.get("email"), customer.get("name"))
    return supporter


def subscription_fields(sub: dict) -> dict:
    """Our columns for a Stripe subscription (amount and period from its items)."""
    items = (sub.get("items") or {}).get("data") or []
    recurring = (items[0]["price"].get("recurring") if items else None) or {}
    meta = sub.get("metadata") or {}
    ends = [item["current_period_end"] for item in items if item.get("current_period_end")]
    return {
        "status": sub["status"],
        "amount": sum(
            (item["price"].get("unit_amount") or 0) * (item.get("quantity") or 1) for item in items
        ),
        "currency": sub["currency"],
        "interval": recurring.get("interval") or "month",
        "started_at": timestamp(sub.get("start_date") or sub["created"]),
        "canceled_at": timestamp(sub.get("canceled_at")),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "current_period_end": timestamp(max(ends)) if ends else None,
        "lang": (meta.get("lang") or None) and meta["lang"][:8],
        **attribution_fields(meta),
    }


_SUBSCRIPTION = Prepared(
    sa.select(SUBSCRIPTION).where(SUBSCRIPTION.c.stripe_id == sa.bindparam("stripe_id"))
)


def _customer_upsert(name: str) -> sa.Insert:
    """The subscription upsert whose supporter is the one of `customer_id`, looked
    up in the same statement (INSERT ... SELECT: nothing is written without one)."""
    columns = [column for column in SUBSCRIPTION.columns if column.name != "id"]

    def value(column: sa.Column):
        if column.name == "supporter_id":
            return SUPPORTER.c.id
        param = sa.bindparam(column.name, type_=column.type)
        # PostgreSQL cannot infer a type for a parameter in a select list (NULLs
        # above all); strings need none, and a cast would silently cut them.
        if name == "postgresql" and not isinstance(column.type, sa.String):
            return sa.cast(param, column.type)
        return param

    source = sa.select(*map(value, columns)).where(
        SUPPORTER.c.stripe_customer_id == sa.bindparam("customer_id")
    )
    insert = (postgresql.insert if name == "postgresql" else sqlite.insert)(SUBSCRIPTION)
    insert = insert.from_select([column.name for column in columns], source)
    return insert.on_conflict_do_update(
        index_elements=["stripe_id"],
        set_={
            column.name: insert.excluded[column.name]
            for column in columns
            if column.name not in ("stripe_id", "created_at")
        },
        where=SUBSCRIPTION.c.stripe_updated <= insert.excluded.stripe_updated,
    ).returning(*SUBSCRIPTION.columns)


_CUSTOMER_UPSERT = {name: Statement(_customer_upsert(name)) for name in ("postgresql", "sqlite")}


def apply_customer_subscription(sub: dict, version: int) -> sa.Row | None:
    """`apply_subscription` for the supporter we have for the subscription's customer,
    in one statement; None when nothing was written (no such supporter yet, or
    ours is newer: the caller takes the long way)."""
    now = utcnow()
    values = subscription_fields(sub)
    values.update(
        stripe_id=sub["id"],
        customer_id=sub["customer"],
        stripe_updated=version,
        created_at=now,
        updated_at=now,
    )
    return run(_CUSTOMER_UPSERT[dialect()], values).first()


def find_subscription(stripe_id: str) -> sa.Row | None:
    """Our row for a Stripe subscription id, locked for update."""
    return run(_SUBSCRIPTION.for_update(), {"stripe_id": stripe_id}).first()


def apply_subscription(sub: dict, supporter: sa.Row, version: int) -> sa.Row:
    """Write a subscription as Stripe had it at `version` (unless ours is newer).

    One statement: an upsert that leaves a row holding fresher state alone.
    """
    now = utcnow()
    values = subscription_fields(sub)
    values.update(
        stripe_id=sub["id"],
        supporter_id=supporter.id,
        stripe_updated=version,
        created_at=now,
        updated_at=now,
    )
    return upsert(SUBSCRIPTION, "stripe_id", values) or find_subscription(sub["id"])


CHECKOUT = CheckoutAttempt.__table__
_CHECKOUT = Prepared(sa.select(CHECKOUT).where(CHECKOUT.c.session_id == sa.bindparam("session_id")))


def complete_checkout(
    session: dict, supporter: sa.Row | None, completed_at: datetime, context: dict
) -> sa.Row | None:
    """Mark our checkout attempt paid (first time only) and queue its thank-you mail.

    A session that is complete but not paid yet (a slow payment method) waits
    for `checkout.session.async_payment_succeeded`.
    """
    if session.get("status") != "complete" or session.get("payment_status") not in PAID_SESSION:
        return None
    attempt = run(_CHECKOUT.for_update(), {"session_id": session["id"]}).first()
    lang = supporter.lang if supporter is not None else None
    if attempt is not None:
        values = {}
        if attempt.completed_at is None:
            values["completed_at"] = completed_at
        if supporter is not None:
            if attempt.supporter_id != supporter.id:
                values["supporter_id"] = supporter.id
            if attempt.lang and attempt.lang != supporter.lang:
                update_supporter(supporter.id, lang=attempt.lang)
                lang = attempt.lang
        if values:
            run(sa.update(CHECKOUT).where(CHECKOUT.c.id == attempt.id).values(**values), {})
    queue_email(f"thanks:{session['id']}", "thank_you", supporter, context, lang)
    return attempt


_OUTBOUND = OutboundEmail.__table__
_QUEUE_EMAIL = {
    name: Statement(
        insert(_OUTBOUND).on_conflict_do_nothing(index_elements=["key"]).returning(_OUTBOUND.c.id)
    )
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def queue_email(
    key: str, kind: str, supporter: sa.Row | None, context: dict, lang: str | None = None
) -> bool:
    """Owe `supporter` a mail once per key; False when it was already owed (or erased).

    `lang` overrides the supporter's language read earlier in the transaction.
    The new row's id goes to the session's mail log (`queued_mail`), so the
    webhook can send exactly the mails its event queued once Stripe has its 200.
    """
    if supporter is None or supporter.erased_at is not None:
        return False
    values = {
        "key": key,
        "kind": kind,
        "supporter_id": supporter.id,
        "lang": lang or supporter.lang,
        "context": json.dumps(context, sort_keys=True),
        "created_at": utcnow(),
    }
    new_id = run(_QUEUE_EMAIL[dialect()], values).scalar()
    if new_id is None:
        return False
    db.session.info.setdefault(MAIL_LOG, []).append(new_id)
    return True


def start_mail_log() -> None:
    """Forget the mails logged so far (a transaction about to start or retry)."""
    db.session.info[MAIL_LOG] = []


def queued_mail() -> list[int]:
    """The ids of the mails queued since `start_mail_log`."""
    return list(db.session.info.get(MAIL_LOG, ()))


_FIRST_SUPPORTED = Statement(
    sa.update(SUPPORTER)
    .where(
        SUPPORTER.c.id == sa.bindparam("supporter_id"),
        sa.or_(
            SUPPORTER.c.first_supported_at.is_(None),
            SUPPORTER.c.first_supported_at > sa.bindparam("paid_at"),
        ),
    )
    .values(first_supported_at=sa.bindparam("paid_at"))
)


def first_supported(
    supporter_id: int | None, paid_at: datetime | None, known: datetime | None = None
) -> None:
    """`first_supported_at` is the earliest paid time, whatever order payments arrive in.

    `known` is the value read (locked) earlier in this transaction, if any: this
    transaction can only have lowered it since, so a `known` at or before
    `paid_at` means there is nothing to write.
    """
    if supporter_id is None or paid_at is None or (known is not None and known <= paid_at):
        return
    run(_FIRST_SUPPORTED, {"supporter_id": supporter_id, "paid_at": paid_at})
