"""SQLite settings for a server whose workers write at the same time.

- WAL: readers never block the writer nor the writer readers, and a commit
  is one append to the log (synced: `synchronous=FULL` keeps every commit
  durable across a power cut, as PostgreSQL's are).
- A 30 s busy timeout: a transaction that finds the write lock taken waits
  its turn instead of failing with "database is locked" after 5 s (SQLite's
  wait is not a queue, so under a burst of webhooks a writer could be passed
  over long enough to give Stripe a 500).

The webhook inbox also starts every write transaction with a write, so it
takes the write lock before reading (a transaction that read first and then
tries to write can fail at once, whatever the timeout).
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 30_000


@sa.event.listens_for(Engine, "connect")
def _configure(dbapi_connection, connection_record) -> None:
    """Apply the settings to every new SQLite connection (other databases untouched)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database stays "memory"
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()
