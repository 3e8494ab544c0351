"""Tables that workers take rows from: claim, hold for a lease, try again later.

The webhook inbox (`stripe_event`) and the mail outbox (`outbound_email`) are
both such tables: a row has a `status`, the number of `attempts` made, and
`next_attempt_at`, which means "not before" for a row waiting to be tried
(again) and "until" for a row a worker holds. The rules they share live here;
each table keeps its own statuses, lease and schedule.

- Claiming marks due rows as held (`holding`), counts the attempt and sets
  the lease, in one statement that is committed at once, so no lock outlives
  it and a worker then talks to Stripe or SMTP holding nothing. On PostgreSQL
  the rows are chosen `FOR UPDATE SKIP LOCKED`, so any number of workers on
  any number of machines never wait on each other nor take the same row;
  SQLite has one writer at a time, which serialises claims (SQLAlchemy leaves
  the clause out there). Starting with the write matters on SQLite: a
  transaction that read first and then tries to write can fail at once.
- A worker that dies leaves a held row; it is due again once its lease lapses.
- A claim is the worker's own while the row is held and its attempts are
  unchanged (`still_held`): one that stalled past its lease cannot overwrite
  the worker that took over.
- After a failed attempt the row waits (`Backoff`) before it is due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from support.extensions import db


@dataclass(frozen=True)
class Backoff:
    """How long a row waits after failed attempt number n (counted from 1).

    `waits` are taken in turn. Past them, with `doubling`, each wait is twice
    the one before; without, there is no next attempt (None). No wait is
    longer than `cap`.
    """

    waits: tuple[timedelta, ...]
    doubling: bool = False
    cap: timedelta | None = None

    def wait(self, attempts: int) -> timedelta | None:
        """The wait after failed attempt `attempts`; None when there is no next one."""
        attempt = max(attempts, 1)
        if attempt <= len(self.waits):
            wait = self.waits[attempt - 1]
        elif not self.doubling:
            return None
        else:
            wait = self.waits[-1]
            for _ in range(attempt - len(self.waits)):
                wait *= 2
                if self.cap is not None and wait >= self.cap:
                    break  # also keeps a huge attempt count from overflowing
        return min(wait, self.cap) if self.cap is not None else wait

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after failed attempt `attempts`; None: not again."""
        wait = self.wait(attempts)
        return now + wait if wait is not None else None


@dataclass(frozen=True)
class WorkQueue:
    """One table of rows that workers claim: its model, the status of a held row,
    and how long a claim lasts (longer than a worker can take over one row)."""

    model: Any  # a mapped class with `id`, `status`, `attempts`, `next_attempt_at`
    holding: str
    lease: timedelta

    def waited(self, now: datetime) -> sa.ColumnElement[bool]:
        """Rows whose wait, if any, is over at `now` (the caller says which statuses)."""
        row = self.model
        return sa.or_(row.next_attempt_at.is_(None), row.next_attempt_at <= now)

    def lapsed(self, now: datetime) -> sa.ColumnElement[bool]:
        """Held rows whose lease is over at `now`: their worker is presumed gone."""
        row = self.model
        return sa.and_(row.status == self.holding, row.next_attempt_at <= now)

    def held(self, now: datetime) -> sa.ColumnElement[bool]:
        """Rows a worker holds at `now`, under a lease that has not lapsed."""
        row = self.model
        return sa.and_(row.status == self.holding, row.next_attempt_at > now)

    def still_held(self, row_id: Any, attempts: int) -> sa.ColumnElement[bool]:
        """The row, if it is still held by the claim that made attempt `attempts`."""
        row = self.model
        return sa.and_(row.id == row_id, row.status == self.holding, row.attempts == attempts)

    def claim(
        self,
        due: sa.ColumnElement[bool],
        now: datetime,
        returning: tuple,
        order_by: Any = None,
        limit: int = 1,
    ) -> list[sa.Row]:
        """Hold rows matching `due` for a lease, and commit; the `returning` columns
        of each row claimed (none when nothing was due).

        With `order_by`, the first `limit` due rows that no other worker is
        claiming right now; without, every row matching `due` (one named row).
        """
        row = self.model
        chosen = due
        if order_by is not None:
            first = (
                sa.select(row.id)
                .where(due)
                .order_by(order_by)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            chosen = row.id.in_(first)
        claimed = db.session.execute(
            sa.update(row)
            .where(chosen)
            .values(
                status=self.holding, attempts=row.attempts + 1, next_attempt_at=now + self.lease
            )
            .returning(*returning)
        ).all()
        db.session.commit()
        return claimed
