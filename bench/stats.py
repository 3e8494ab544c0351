"""Dashboard and stats.json response times at 10k, 100k and 1M supporters on PostgreSQL.

    .venv/bin/python bench/stats.py [--max 1000000] [--runs 7] [--pg postgresql://postgres@127.0.0.1/postgres]

Creates a throw-away database, migrates it, and grows it with `flask demo
seed` to each size in turn (1M takes several minutes). At each size it signs
in a staff user and times, through the app (test client, no network):

* `/staff/` and `/staff/api/stats.json` as served (from the figures snapshot,
  at most STAFF_STATS_MAX_AGE old; this is what users meet);
* the same with the snapshot off (STAFF_STATS_MAX_AGE=0: every figure
  computed from the database, as the background refresh does);
* a trivial request running `SELECT 1`, the baseline;
* the retention figures' computation, which the worker's refresh runs at most
  every ten minutes (support/stats/retention.py): the cohort table alone, and
  all of them (cohorts, lifetime value, recovered payments, saves and pauses).

Prints the median of `--runs` requests and the ratio to the baseline. The
target is under 200 ms as served at 1M. The database is dropped at the end
unless `--keep`.
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
from support.demo import cli as demo  # noqa: E402
from support.extensions import db  # noqa: E402
from support.models import Supporter, utcnow  # noqa: E402
from support.staff.auth.accounts import create_staff  # noqa: E402
from support.stats import retention  # noqa: E402
from support.stats import snapshot as stats_cache  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
TARGET_MS = 200


def median_ms(client, path: str, runs: int) -> float:
    """Median wall time of `runs` GETs of `path`, after one warm-up."""
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, path
    return statistics.median(times)


def median_call_ms(work, runs: int) -> float:
    """Median wall time of `runs` calls of `work()`, after one warm-up."""
    work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build_app(url: str):
    """The app on the bench database, with a `SELECT 1` baseline route."""
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "SUPPORT_CURRENCIES": ["usd", "eur"],
            "WTF_CSRF_ENABLED": False,
            "STAFF_LOGIN_LIMIT_IP": "1000 per minute",
        }
    )

    def select_one() -> str:
        """The baseline: one round trip to the database."""
        return str(db.session.scalar(sa.text("SELECT 1")))

    app.add_url_rule("/bench/select1", "bench_select1", select_one)
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest size (supporters)")
    parser.add_argument("--runs", type=int, default=7, help="requests per median")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"support_bench_{os.getpid()}"
    admin = args.pg
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin)._replace(path=f"/{name}")).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    print(f"database {name}; median of {args.runs} requests; target < {TARGET_MS} ms served\n")
    header = (
        f"{'supporters':>10} {'seed s':>7} {'SELECT 1':>9} {'/staff/':>9} {'stats.json':>10} "
        f"{'/staff/ cold':>12} {'json cold':>10} {'ratio':>6} {'cohorts':>9} {'retention':>10}"
    )
    print(header)
    try:
        app = build_app(url)
        with app.app_context():
            upgrade()
            create_staff("bench@example.org", "bench-password-123", "viewer")
            db.session.commit()
            client = app.test_client()
            login = {"email": "bench@example.org", "password": "bench-password-123"}
            assert client.post("/staff/login", data=login).status_code == 302
            for size in (s for s in SIZES if s <= args.max):
                have = db.session.scalar(sa.select(sa.func.count(Supporter.id))) or 0
                start = time.perf_counter()
                demo.seed(size - have)
                demo.analyze()
                seeded = time.perf_counter() - start
                baseline = median_ms(client, "/bench/select1", args.runs)
                app.config["STAFF_STATS_MAX_AGE"] = 0
                cold = median_ms(client, "/staff/", max(3, args.runs // 2))
                cold_json = median_ms(client, "/staff/api/stats.json", max(3, args.runs // 2))
                # A fresh snapshot, so no background refresh runs while we time.
                app.config["STAFF_STATS_MAX_AGE"] = 3600
                stats_cache.refresh(app.config["SUPPORT_GOAL"])
                served = median_ms(client, "/staff/", args.runs)
                served_json = median_ms(client, "/staff/api/stats.json", args.runs)
                runs = max(3, args.runs // 2)
                cohorts = median_call_ms(lambda: retention.cohorts(utcnow()), runs)
                everything = median_call_ms(lambda: retention.compute(utcnow()), runs)
                db.session.rollback()
                print(
                    f"{size:>10,} {seeded:>7.0f} {baseline:>7.1f}ms {served:>7.1f}ms "
                    f"{served_json:>8.1f}ms {cold:>10.1f}ms {cold_json:>8.1f}ms "
                    f"{served / baseline:>5.1f}x {cohorts:>7.1f}ms {everything:>8.1f}ms",
                    flush=True,
                )
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
