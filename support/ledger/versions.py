"""Freshness versions: which of two reads of a Stripe object is the newer.

A version is the database's clock, in microseconds, read just before an object
is read from Stripe. It comes from the database rather than the host because
workers on several machines write the same rows, and their clocks may
disagree; the database's clock is the one they share. A row keeps the
version of the read it holds (`stripe_updated`), and a write based on an
older read leaves it alone, so an old event applied late, a duplicate, or a
reconcile run that listed before a webhook read, never overwrite fresher
state. Two reads in the same microsecond are both current: the later write wins.
"""

from __future__ import annotations

import sqlalchemy as sa

from support.dialect import insert as upsert
from support.dialect import is_postgres
from support.extensions import db

_NOW_POSTGRES = sa.text("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)")
# julianday('now') has millisecond resolution; 2440587.5 is the Unix epoch as a Julian day.
_NOW_SQLITE = sa.text("SELECT CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)")


def read_version() -> int:
    """Now, by the database's clock, in microseconds since the epoch.

    Ends the transaction it ran in: callers read from Stripe next, and no
    transaction stays open across a network call.
    """
    version = db.session.execute(_NOW_POSTGRES if is_postgres() else _NOW_SQLITE).scalar_one()
    db.session.rollback()
    return int(version)


def upsert_if_newer(
    table: sa.Table, key: str, values: dict, kept: tuple[str, ...] = ()
) -> sa.Row | None:
    """INSERT ... ON CONFLICT (key) DO UPDATE with `values`, unless the stored row
    holds a newer read (`stripe_updated`); the written row, or None when ours
    was newer. `kept` columns and `created_at` are left alone by an update."""
    insert = upsert(table).values(values)
    statement = insert.on_conflict_do_update(
        index_elements=[key],
        set_={
            name: insert.excluded[name] for name in values if name not in (key, "created_at", *kept)
        },
        where=table.c.stripe_updated <= insert.excluded.stripe_updated,
    ).returning(*table.columns)
    return db.session.execute(statement).first()
