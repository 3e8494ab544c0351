"""The two databases the app runs on, asked about one way.

Production may run PostgreSQL or SQLite; a few statements differ: locking
rows, advisory locks, the clock, bulk loads, and `INSERT ... ON CONFLICT`,
which both have but SQLAlchemy builds per dialect. Code asks here rather
than reading a dialect name or a URL itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from support.extensions import db


def is_postgres() -> bool:
    """Whether the app's database is PostgreSQL (else SQLite)."""
    return db.engine.dialect.name == "postgresql"


def insert(table: sa.Table, postgres: bool | None = None) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say `ON CONFLICT` (`on_conflict_do_nothing/_update`) on the
    app's database, or on PostgreSQL or SQLite as `postgres` says (a statement
    built once, before there is an app)."""
    if postgres is None:
        postgres = is_postgres()
    return postgresql.insert(table) if postgres else sqlite.insert(table)


def deadlocked(error: BaseException) -> bool:
    """Whether PostgreSQL ended this transaction to break a deadlock (SQLSTATE 40P01);
    running it again is what PostgreSQL advises."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "40P01"
