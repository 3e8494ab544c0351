"""`flask demo seed --supporters N`: realistic fake supporters for the dashboard and benchmarks.

Rows (from `support.demo.rows`) are generated in chunks and written with
PostgreSQL `COPY` (Core bulk inserts on SQLite), so a million supporters with
about a dozen payments each take minutes, not hours.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from support import dialect
from support.demo.rows import CHUNK, MODELS, VARIANTS, Seeder
from support.extensions import db
from support.models import BannerDailyStat, StripeEvent, utcnow
from support.stats import history as stats_history
from support.stats import snapshot as stats_cache

# Below this many rows, updating the indexes as we go is cheaper than rebuilding them.
DEFER_INDEXES_FROM = 50_000

demo_group = AppGroup("demo", help="Fake data for trying the dashboard and for benchmarks.")


def _drop_indexes() -> list[sa.Index]:
    """Drop the plain (non-unique) indexes of the seeded tables, to build them once at the end.

    Sorting a million keys once is far faster than updating a btree row by row;
    DDL is transactional on PostgreSQL, so a failed seed leaves them in place.
    """
    dropped = []
    for model in MODELS.values():
        for index in model.__table__.indexes:
            if not index.unique:
                index.drop(db.session.connection())
                dropped.append(index)
    return dropped


def copy_writer(connection) -> Callable[[str, Sequence[str], list[tuple]], None]:
    """A writer that streams rows through PostgreSQL COPY on a psycopg connection."""

    def write(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    return write


def core_writer(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """A writer using Core bulk inserts (SQLite and anything without COPY)."""
    model = MODELS[table]
    db.session.execute(sa.insert(model), [dict(zip(columns, row, strict=True)) for row in rows])


def seed(
    count: int,
    seed_value: int = 1,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> None:
    """Add `count` supporters with their history; commits and refreshes the rollup."""
    now = now or utcnow()
    seeder = Seeder(random.Random(seed_value), now, current_app.config["SUPPORT_CURRENCIES"])
    postgres = dialect.is_postgres()
    raw = db.session.connection().connection.driver_connection if postgres else None
    write = copy_writer(raw) if postgres else core_writer
    deferred = _drop_indexes() if postgres and count >= DEFER_INDEXES_FROM else []
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        for _ in range(size):
            seeder.supporter()
        seeder.flush(write)
        done += size
        if progress:
            progress(size)
    if postgres:
        for table in MODELS.values():
            name = table.__tablename__
            db.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {name}))"
                )
            )
    for index in deferred:
        index.create(db.session.connection())
    _banner_days(seeder.rng, now, count)
    _events(seeder.rng, now, seeder.next_id["supporter"])
    db.session.commit()
    stats_history.refresh(now, everything=True)
    # The dashboard would otherwise show the figures from before the load for a minute.
    stats_cache.refresh(current_app.config["SUPPORT_GOAL"])


def _banner_days(rng: random.Random, now: datetime, count: int) -> None:
    """A year of daily banner counters, unless some are there already."""
    if db.session.scalar(sa.select(sa.func.count(BannerDailyStat.id))):
        return
    today = now.date()
    rows = []
    for back in range(365):
        for variant in VARIANTS:
            for lang in ("en", "ar"):
                shown = max(1, int(count / 10 * rng.uniform(0.5, 1.5)))
                rows.append(
                    {
                        "day": today - timedelta(days=back),
                        "variant": variant,
                        "lang": lang,
                        "impressions": shown,
                        "clicks": int(shown * rng.uniform(0.01, 0.04)),
                        "dismissals": int(shown * rng.uniform(0.03, 0.08)),
                    }
                )
    db.session.execute(sa.insert(BannerDailyStat), rows)


def _events(rng: random.Random, now: datetime, last_supporter: int) -> None:
    """A few hundred webhook events for the inbox, some failed."""
    kinds = ("invoice.paid", "customer.subscription.updated", "checkout.session.completed",
             "charge.refunded", "invoice.payment_failed")  # fmt: skip
    rows = []
    for number in range(300):
        received = now - timedelta(minutes=number * 7)
        kind = rng.choice(kinds)
        event_id = f"evt_demo{last_supporter}_{number}"
        customer = f"cus_demo{rng.randrange(1, max(last_supporter, 2))}"
        failed = rng.random() < 0.03
        data = {"object": {"object": kind.split(".")[0], "customer": customer}}
        payload = {"id": event_id, "object": "event", "type": kind,
                   "created": int(received.timestamp()), "data": data}  # fmt: skip
        rows.append(
            {"id": event_id, "type": kind, "livemode": False, "created": received,
             "payload": json.dumps(payload), "status": "failed" if failed else "processed",
             "attempts": 3 if failed else 1,
             "last_error": "LedgerError: subscription not found" if failed else None,
             "received_at": received, "processed_at": None if failed else received}
        )  # fmt: skip
    db.session.execute(sa.insert(StripeEvent), rows)


def analyze() -> None:
    """Refresh PostgreSQL's planner statistics and visibility map after a bulk load."""
    if not dialect.is_postgres():
        return
    engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for table in (*MODELS, "stats_month", "banner_daily_stat", "stripe_event"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))


@demo_group.command("seed")
@click.option("--supporters", "count", type=click.IntRange(1, 10_000_000), default=1000,
              show_default=True, help="How many supporters to add.")  # fmt: skip
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="Random seed, for repeatable data.")  # fmt: skip
def seed_command(count: int, seed_value: int) -> None:
    """Add N fake supporters with subscriptions, payments, checkouts, banner counts and events."""
    with click.progressbar(length=count, label="Supporters") as bar:
        seed(count, seed_value, progress=bar.update)
    click.echo("Updating planner statistics…")
    analyze()
    click.echo(f"Added {count} supporters.")
