"""The worker's hourly look for cards that expire before the next payment, at 1M gifts.

    .venv/bin/python bench/expiring_cards.py [--size 1000000] [--runs 7] [--pg postgresql://postgres@127.0.0.1/postgres]

Creates a throw-away PostgreSQL database, migrates it, and fills it in SQL with
`--size` supporters, each with an active gift: nine in ten monthly (next payment
within 30 days), one in ten yearly (within a year), each card expiring in the
next five years, and one card in a hundred already expired and never replaced.
Then, through `support.reminders.expiring_cards`, it owes every warning due (in
batches, as the worker does) and times:

* the first look (it owes the most: one batch);
* the look once everything due is owed: what every other hour costs;
* a `SELECT 1`, the baseline.

Prints medians of `--runs` looks. Stripe is never asked anything (the app is
given no reachable Stripe). The database is dropped at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from support import create_app  # noqa: E402
from support.extensions import db  # noqa: E402
from support.models import utcnow  # noqa: E402
from support.reminders import expiring_cards  # noqa: E402

SEED = """
INSERT INTO supporter (id, email, name, stripe_customer_id, lang, stripe_updated,
                       created_at, updated_at)
SELECT i, 'reader' || i || '@example.org', 'Reader', 'cus_bench' || i,
       CASE WHEN i % 3 = 0 THEN 'ar' ELSE 'en' END, 0, now(), now()
FROM generate_series(1, :size) AS i;

INSERT INTO subscription (id, stripe_id, supporter_id, status, amount, currency, interval,
                          started_at, cancel_at_period_end, collection_paused,
                          current_period_end, card_brand, card_last4, card_exp_month,
                          card_exp_year, stripe_updated, created_at, updated_at)
SELECT i, 'sub_bench' || i, i, 'active', 500, 'usd',
       CASE WHEN i % 10 = 0 THEN 'year' ELSE 'month' END,
       now() - interval '100 days', false, false,
       now() + CASE WHEN i % 10 = 0 THEN random() * interval '365 days'
                    ELSE random() * interval '30 days' END,
       'visa', lpad((i % 10000)::text, 4, '0'),
       extract(month FROM expiry)::int, extract(year FROM expiry)::int,
       0, now(), now()
FROM (
    SELECT i, CASE WHEN i % 100 = 1 THEN now() - random() * interval '700 days'
                   ELSE now() + random() * interval '1825 days' END AS expiry
    FROM generate_series(1, :size) AS i
) AS cards;

ANALYZE supporter;
ANALYZE subscription;
"""


def median_ms(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="supporters and gifts")
    parser.add_argument("--runs", type=int, default=7, help="looks per median")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"support_bench_cards_{os.getpid()}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(args.pg)._replace(path=f"/{name}")).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    try:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "STRIPE_SECRET_KEY": "sk_test_bench",
                "STRIPE_API_BASE": "http://127.0.0.1:9",  # nothing listens: no Stripe read
                "SQLALCHEMY_DATABASE_URI": url,
            }
        )
        with app.app_context():
            upgrade()
            start = time.perf_counter()
            for statement in SEED.split(";"):
                if statement.strip():
                    db.session.execute(sa.text(statement), {"size": args.size})
            db.session.commit()
            seeded = time.perf_counter() - start
            print(f"database {name}: {args.size:,} gifts seeded in {seeded:.0f} s")
            baseline = median_ms(lambda: db.session.execute(sa.text("SELECT 1")), args.runs)

            start = time.perf_counter()
            first = expiring_cards.queue_due(utcnow())
            first_ms = (time.perf_counter() - start) * 1000
            owed, looks = first, 1
            while True:
                batch = expiring_cards.queue_due(utcnow())
                if not batch:
                    break
                owed, looks = owed + batch, looks + 1
            idle = median_ms(lambda: expiring_cards.queue_due(utcnow()), args.runs)
            print(f"warnings owed: {owed:,} in {looks} looks of at most {expiring_cards.BATCH}")
            print(f"SELECT 1:                   {baseline:8.1f} ms")
            print(f"first look (owes {first:,}): {first_ms:8.1f} ms")
            print(f"a look with nothing new:    {idle:8.1f} ms (median of {args.runs})")
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
