"""`Statement`: the same rows, types, defaults and errors as SQLAlchemy's own path,
on PostgreSQL (the driver) and on SQLite (SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound, StatementError

from support.driver_sql import Statement, pinned
from support.extensions import db
from support.models import OutboundEmail, Supporter

SUPPORTER = Supporter.__table__
OUTBOUND = OutboundEmail.__table__
INSERT = Statement(sa.insert(SUPPORTER).returning(*SUPPORTER.columns))
BY_LANG = Statement(
    sa.select(SUPPORTER).where(SUPPORTER.c.lang == sa.bindparam("lang")).order_by(SUPPORTER.c.id)
)
RENAME = Statement(
    sa.update(SUPPORTER)
    .where(SUPPORTER.c.id == sa.bindparam("supporter_id"))
    .values(name=sa.bindparam("new_name"))
    .returning(SUPPORTER.c.updated_at)
)


def add(email: str, lang: str = "en", **values):
    return INSERT.run({"email": email, "lang": lang, **values}).one()


def test_rows_come_back_typed_with_their_column_names(app):
    if db.engine.dialect.name == "postgresql":  # the driver's datetimes come in this zone
        db.session.execute(sa.text("SET LOCAL TIME ZONE 'Asia/Damascus'"))
    paid = datetime(2026, 3, 1, 12, 30, tzinfo=UTC) + timedelta(microseconds=7)
    row = add("a@example.org", "ar", name="Layla", first_supported_at=paid)
    assert (row.email, row.lang, row.name) == ("a@example.org", "ar", "Layla")
    assert row.first_supported_at == paid and row.first_supported_at.tzinfo == UTC
    assert row.erased_at is None
    assert row.created_at.tzinfo == UTC and row.updated_at.tzinfo == UTC  # Python defaults
    assert row[0] == row.id
    db.session.commit()
    assert db.session.get(Supporter, row.id).first_supported_at == paid


def test_first_one_and_scalar_follow_sqlalchemy(app):
    assert BY_LANG.run({"lang": "en"}).first() is None
    assert BY_LANG.run({"lang": "en"}).scalar() is None
    with pytest.raises(NoResultFound):
        BY_LANG.run({"lang": "en"}).one()
    add("a@example.org")
    add("b@example.org")
    assert BY_LANG.run({"lang": "en"}).first().email == "a@example.org"
    with pytest.raises(MultipleResultsFound):
        BY_LANG.run({"lang": "en"}).one()
    db.session.rollback()


def test_python_side_defaults_and_onupdate_are_written(app):
    row = add("a@example.org")
    queued = Statement(sa.insert(OUTBOUND).returning(OUTBOUND.c.status, OUTBOUND.c.attempts))
    values = {"key": "k1", "kind": "thank_you", "supporter_id": row.id, "lang": "en"}
    assert tuple(queued.run(values).one()) == ("pending", 0)
    before = row.updated_at
    [updated_at] = RENAME.run({"supporter_id": row.id, "new_name": "Rami"}).one()
    assert updated_at > before
    db.session.rollback()


def test_a_value_its_type_refuses_is_a_statement_error(app):
    with pytest.raises(StatementError, match="naive datetime"):
        add("a@example.org", first_supported_at=datetime(2026, 1, 1))
    db.session.rollback()


def test_a_unique_conflict_is_sqlalchemys_integrity_error(app):
    add("a@example.org")
    with pytest.raises(IntegrityError):
        add("a@example.org")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Supporter)) == 0


def test_engine_listeners_see_the_statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with pinned():
            add("a@example.org")
            BY_LANG.run({"lang": "en"}).first()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
        db.session.rollback()
    assert [s.split()[0] for s in seen] == ["INSERT", "SELECT"]


def test_run_and_commit_commits_on_its_own(app):
    row = INSERT.run_and_commit({"email": "a@example.org", "lang": "en"})
    assert row.email == "a@example.org"
    db.session.rollback()
    assert db.session.scalar(sa.select(Supporter.email)) == "a@example.org"


def test_run_and_commit_inside_an_open_transaction_commits_it(app):
    add("a@example.org")
    INSERT.run_and_commit({"email": "b@example.org", "lang": "en"})
    db.session.rollback()
    emails = db.session.scalars(sa.select(Supporter.email).order_by(Supporter.email)).all()
    assert emails == ["a@example.org", "b@example.org"]


def test_a_lost_connection_is_replaced(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the driver path is PostgreSQL's")
    db.session.connection().connection.driver_connection.close()
    with pytest.raises(sa.exc.DBAPIError):
        add("a@example.org")
    db.session.rollback()
    assert add("a@example.org").email == "a@example.org"
    db.session.rollback()


def test_in_lists_are_refused_when_the_statement_is_made():
    with pytest.raises(ValueError, match="IN list"):
        Statement(sa.select(SUPPORTER).where(SUPPORTER.c.lang.in_(["en", "ar"])))
