"""Rewriting one column of every stored row, safely beside running workers.

Maintenance commands (`stripe reduce-payloads`, `supporters clean-sources`) go
through a table a batch per transaction, so no lock is held long, and write a
row only if it still holds the value read (compare and set), so a worker that
rewrote it meanwhile keeps its newer value.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from support.extensions import db


def rewrite_column(
    column,
    rewrite: Callable[..., object],
    batch: int,
    *,
    where=None,
    context: tuple = (),
) -> int:
    """Set `column` to `rewrite(value, *context_values)` in every row (in id order)
    where that differs from the value (None is a value: the column emptied); how many
    rows changed."""
    model = column.class_
    changed, after = 0, None
    while True:
        query = sa.select(model.id, column, *context).order_by(model.id).limit(batch)
        if where is not None:
            query = query.where(where)
        if after is not None:
            query = query.where(model.id > after)
        rows = db.session.execute(query).all()
        # End the read: on SQLite a transaction that read first may not write under load.
        db.session.rollback()
        if not rows:
            return changed
        for row_id, value, *rest in rows:
            new = rewrite(value, *rest)
            if new != value:
                changed += db.session.execute(
                    sa.update(model)
                    .where(model.id == row_id, column == value)
                    .values({column.key: new})
                ).rowcount
        db.session.commit()
        after = rows[-1][0]
