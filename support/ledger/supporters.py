"""Supporters: one per Stripe customer, found by it, created, kept up to date.

Email and name come from the Stripe customer (or, for a new supporter, from
what the reader typed at Checkout). A `customer.updated` event writes them
only over an older read, and never into an erased supporter.

An address is never a key: anyone can type any address at Checkout, so a new
customer makes a new supporter even when another one has the same address,
and nothing of that other supporter (gifts, mails, language) is touched.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from support.addresses import normalise_email
from support.extensions import db
from support.ledger.locks import for_update
from support.mail.queue import queue_mail
from support.models import Supporter, utcnow

SUPPORTER = Supporter.__table__


def find_supporter(customer_id: str | None) -> sa.Row | None:
    """The supporter of a Stripe customer, locked for update."""
    if not customer_id:
        return None
    query = sa.select(SUPPORTER).where(SUPPORTER.c.stripe_customer_id == customer_id)
    return db.session.execute(for_update(query)).first()


def find_supporters(email: str) -> list[Supporter]:
    """Every supporter row with this address (case-insensitive), oldest first.

    One person may have several rows, one per Stripe customer; the address is
    what was typed at Checkout, so none of them is proven by it.
    """
    address = normalise_email(email)
    if not address:
        return []
    # The ledger stores addresses in their normal form, so the index answers.
    query = sa.select(Supporter).where(Supporter.email == address).order_by(Supporter.id)
    return list(db.session.scalars(query))


def is_known(customer_id: str | None) -> bool:
    """Whether a supporter exists for this customer (a plain read, no lock)."""
    if not customer_id:
        return False
    query = sa.select(SUPPORTER.c.id).where(SUPPORTER.c.stripe_customer_id == customer_id)
    return db.session.execute(query).first() is not None


def _by_id(supporter_id: int) -> sa.Row:
    return db.session.execute(sa.select(SUPPORTER).where(SUPPORTER.c.id == supporter_id)).one()


def update_supporter(supporter_id: int, **values) -> None:
    """Write some of a supporter's columns (`updated_at` follows)."""
    db.session.execute(sa.update(SUPPORTER).where(SUPPORTER.c.id == supporter_id).values(**values))


def upsert_supporter(
    customer_id: str | None,
    email: str | None,
    name: str | None,
    lang: str | None = None,
    version: int = 0,
    owner_id: int | None = None,
) -> sa.Row | None:
    """The supporter of a customer, created when new; never one found by address.

    An object already in the ledger stays with its supporter (`owner_id`) when
    the customer is not known: once the reader is erased no address is left,
    and a new supporter would bring the name and address back. A supporter
    found so gets the customer id if it has none. A gift without a customer
    (made before every Checkout created one) gets a supporter of its own.
    `version` is the freshness of `email` and `name` when they come from a
    customer read.
    """
    email = normalise_email(email) or None
    supporter = find_supporter(customer_id)
    if supporter is not None:
        return supporter
    if owner_id is not None:
        query = sa.select(SUPPORTER).where(SUPPORTER.c.id == owner_id)
        supporter = db.session.execute(for_update(query)).first()
    if supporter is not None:
        if supporter.stripe_customer_id is None and customer_id:
            update_supporter(supporter.id, stripe_customer_id=customer_id)
            supporter = _by_id(supporter.id)
        return supporter
    if not customer_id and not email:
        return None
    now = utcnow()
    values = {
        "stripe_customer_id": customer_id,
        "email": email,
        "name": (name or None) and name[:200],
        "lang": (lang or "en")[:8],
        "stripe_updated": version,
        "created_at": now,
        "updated_at": now,
    }
    return db.session.execute(sa.insert(SUPPORTER).values(values).returning(SUPPORTER)).one()


def apply_customer(customer: dict, version: int) -> sa.Row | None:
    """A known supporter's email and name as the customer had them at `version`.

    Customers who never gave are skipped; so are erased supporters and rows
    holding a newer read.
    """
    supporter = find_supporter(customer["id"])
    if supporter is None or customer.get("deleted") or supporter.erased_at is not None:
        return supporter
    if version < supporter.stripe_updated:
        return supporter
    values: dict = {"stripe_updated": version}
    name = customer.get("name")
    if name and name[:200] != supporter.name:
        values["name"] = name[:200]
    email = normalise_email(customer.get("email"))
    if email and email != supporter.email:
        # Another supporter may have the same address: rows are per customer, never merged.
        values["email"] = email
    update_supporter(supporter.id, **values)
    return _by_id(supporter.id)


def first_supported(supporter_id: int | None, paid_at: datetime | None) -> None:
    """`first_supported_at` is the earliest paid time, whatever order payments arrive in."""
    if supporter_id is None or paid_at is None:
        return
    db.session.execute(
        sa.update(SUPPORTER)
        .where(
            SUPPORTER.c.id == supporter_id,
            sa.or_(
                SUPPORTER.c.first_supported_at.is_(None),
                SUPPORTER.c.first_supported_at > paid_at,
            ),
        )
        .values(first_supported_at=paid_at)
    )


def owe_mail(
    key: str, kind: str, supporter: sa.Row | None, context: dict, lang: str | None = None
) -> bool:
    """Owe `supporter` a mail once per key; False when it was owed already, or the
    supporter is erased (or unknown). `lang` overrides the supporter's language."""
    if supporter is None or supporter.erased_at is not None:
        return False
    return queue_mail(key, kind, supporter.id, lang or supporter.lang, context) is not None
