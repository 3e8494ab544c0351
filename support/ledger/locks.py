"""Which customer an object belongs to, and taking that customer's lock.

Every Stripe object the ledger writes is keyed to a customer: the customer
itself, the `customer` it names, or, for a one-time gift made without a
customer, its payment intent. Writers take the key's lock first, so two
events of one customer are written one after the other on PostgreSQL
(an advisory lock, released at commit or rollback). SQLite has one writer at
a time anyway.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from support.dialect import is_postgres
from support.extensions import db


def for_update(statement: sa.Select) -> sa.Select:
    """`statement` locking its rows on PostgreSQL (SQLite locks the whole database)."""
    return statement.with_for_update() if is_postgres() else statement


def customer_key(obj: dict) -> str:
    """The lock key of a Stripe object: its customer, else its payment intent, else itself.

    Works for customers, subscriptions, invoices, charges and Checkout Sessions
    alike, so a gift's session, its charge and a refund share one key.
    """
    if obj.get("object") == "customer":
        return obj["id"]
    return obj.get("customer") or obj.get("payment_intent") or obj["id"]


def lock_number(key: str) -> int:
    """The PostgreSQL advisory lock number of a customer key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def lock_customer(key: str) -> None:
    """Hold `key`'s lock until the transaction ends (PostgreSQL; SQLite needs none)."""
    if is_postgres():
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_number(key))))
