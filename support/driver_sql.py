"""Core statements run straight on the PostgreSQL driver, compiled once.

The webhook applies a few small statements per event, and SQLAlchemy's
execution path (execution context, parameter and result processing, result
metadata) cost more CPU than psycopg's own work for each of them. A
`Statement` is an ordinary Core statement that, on PostgreSQL, is compiled
once and then executed on the session's DBAPI connection, inside the
session's transaction: commit, rollback and locks are the session's as
before. On SQLite it runs through SQLAlchemy as usual.

Values keep their SQLAlchemy types both ways: bind and result processors of
the statement's columns are applied (aware UTC datetimes stay aware UTC),
Python-side column defaults are filled in, engine listeners see the
statements, and driver errors come back as SQLAlchemy's exceptions
(`IntegrityError` above all, which the inbox retries on). Rows are named
tuples: attributes by column name, like SQLAlchemy's rows. An `IN` list
(bound per execution by SQLAlchemy) is refused when a `Statement` is made.

`pinned()` saves asking the session for its connection on every statement
of a transaction; `Statement.run_and_commit` runs a statement as its own
transaction without giving the session's connection back to the pool.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound, StatementError
from sqlalchemy.sql import visitors

from support.extensions import db

Processor = Callable[[Any], Any]


class Compiled:
    """A statement's PostgreSQL SQL with what it takes to bind and read it."""

    __slots__ = ("binds", "columns", "construct", "defaults", "row", "sql")

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect, keys: tuple[str, ...]):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        self.construct = compiled.construct_params
        # Python-side column defaults (`default=`, `onupdate=`) the statement writes.
        self.defaults = [(column.key, column.default) for column in compiled.insert_prefetch] + [
            (column.key, column.onupdate) for column in compiled.update_prefetch
        ]
        self.binds: list[tuple[str, Processor]] = [
            (name, processor)
            for bind, name in compiled.bind_names.items()
            if (processor := bind.type.bind_processor(dialect)) is not None
        ]
        returned = list(getattr(statement, "exported_columns", ()))
        self.columns: list[Processor | None] = [
            column.type.result_processor(dialect, None) if hasattr(column, "type") else None
            for column in returned
        ]
        names = [getattr(column, "key", None) or f"c{n}" for n, column in enumerate(returned)]
        self.row = namedtuple("Row", names, rename=True) if names else None

    def params(self, values: dict) -> dict:
        """The driver's parameters for `values`: defaults added, values processed."""
        params = self.construct(values)
        for name, default in self.defaults:
            if name not in values:
                params[name] = default.arg(None) if default.is_callable else default.arg
        try:
            for name, processor in self.binds:
                params[name] = processor(params[name])
        except Exception as error:
            # As SQLAlchemy reports a value its type refuses.
            raise StatementError(str(error), self.sql, values, error) from error
        return params

    def rows(self, values: Sequence) -> tuple:
        """A driver row as a named tuple of processed values."""
        processed = [
            processor(value) if processor is not None else value
            for processor, value in zip(self.columns, values, strict=True)
        ]
        return self.row._make(processed)


class Result:
    """What `Statement.run` returns: the few result methods the ledger uses."""

    __slots__ = ("_compiled", "_cursor")

    def __init__(self, cursor: psycopg.Cursor, compiled: Compiled):
        self._cursor, self._compiled = cursor, compiled

    def _next(self):
        values = self._cursor.fetchone() if self._compiled.row is not None else None
        return self._compiled.rows(values) if values is not None else None

    def first(self):
        """The first row, or None."""
        return self._next()

    def one(self):
        """The only row; NoResultFound or MultipleResultsFound otherwise."""
        row = self._next()
        if row is None:
            raise NoResultFound("No row was found when one was required")
        if self._cursor.fetchone() is not None:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return row

    def scalar(self):
        """The first column of the first row, or None."""
        row = self._next()
        return row[0] if row is not None else None


class Statement:
    """A Core statement that runs on the driver on PostgreSQL (see the module)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: sa.Executable):
        if any(getattr(node, "expanding", False) for node in visitors.iterate(statement)):
            raise ValueError("an IN list is bound per execution; write the values out instead")
        self.statement = statement
        # By the parameters' names: an INSERT or UPDATE writes the columns given.
        self._compiled: dict[tuple[str, ...], Compiled] = {}

    def _compile(self, dialect: sa.Dialect, values: dict) -> Compiled:
        keys = tuple(values)
        compiled = self._compiled.get(keys)
        if compiled is None:
            compiled = self._compiled[keys] = Compiled(self.statement, dialect, keys)
        return compiled

    def run(self, values: dict):
        """Execute in the session's transaction; a `Result` (or SQLAlchemy's)."""
        connection = current_connection()
        if connection.dialect.name != "postgresql":
            return connection.execute(self.statement, values)
        return self._execute(connection, values)

    def run_and_commit(self, values: dict):
        """Execute and commit; the first row returned, or None.

        On PostgreSQL, when the session has no transaction open on the
        database, the statement runs as a transaction of its own (autocommit)
        and the session keeps its connection, so the transaction that follows
        runs on it without a trip back to the pool. Otherwise it runs in the
        open transaction and the session commits.
        """
        connection = current_connection()
        if connection.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            if driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                driver.autocommit = True
                try:
                    return self._execute(connection, values).first()
                finally:
                    if not driver.closed:
                        driver.autocommit = False
        row = self.run(values).first()
        db.session.commit()
        return row

    def _execute(self, connection: sa.Connection, values: dict) -> Result:
        compiled = self._compile(connection.dialect, values)
        params = compiled.params(values)
        driver = connection.connection.driver_connection
        events = connection.dispatch
        try:
            cursor = driver.cursor()
            # Listeners (SQL logging, tracing, tests) see these statements too.
            if events.before_cursor_execute:
                events.before_cursor_execute(connection, cursor, compiled.sql, params, None, False)
            cursor.execute(compiled.sql, params)
        except psycopg.Error as error:
            if driver.closed:
                connection.invalidate(error)
            raise DBAPIError.instance(compiled.sql, params, error, psycopg.Error) from error
        if events.after_cursor_execute:
            events.after_cursor_execute(connection, cursor, compiled.sql, params, None, False)
        return Result(cursor, compiled)


# The connection of the transaction being applied, looked up once for all its
# statements (`pinned`); otherwise the session is asked each time.
_PINNED: ContextVar[sa.Connection | None] = ContextVar("pinned_connection", default=None)


def current_connection() -> sa.Connection:
    """The session's connection for the current transaction."""
    return _PINNED.get() or db.session.connection()


@contextmanager
def pinned() -> Iterator[sa.Connection]:
    """Within the block, statements use the session's current connection without
    asking the session again. Commit or roll back after the block, not in it."""
    connection = db.session.connection()
    token = _PINNED.set(connection)
    try:
        yield connection
    finally:
        _PINNED.reset(token)
