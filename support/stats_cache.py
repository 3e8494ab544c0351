"""The dashboard's figures, computed at most once per `STAFF_STATS_MAX_AGE` seconds.

Counting half a million active subscriptions takes a few hundred
milliseconds at a million supporters, so the dashboard and `stats.json` serve
the last computed figures (a one-row snapshot) while they are younger than
the maximum age (default 60 s). When they are older, the request still
answers at once with them, and one worker — whichever claims the snapshot
first — recomputes them in a background thread. Only the very first request,
with no snapshot at all, waits for the computation. `STAFF_STATS_MAX_AGE=0`
turns the cache off.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from support import stats, stats_history
from support.extensions import db
from support.models import StatsSnapshot, utcnow

log = logging.getLogger(__name__)

KEY = "dashboard"
DEFAULT_MAX_AGE = 60
# A refresh that has not finished after this long is presumed dead (worker killed).
CLAIM_TIMEOUT = timedelta(minutes=5)


def compute(goal: int, now: datetime | None = None) -> dict:
    """Every figure and a year of history, straight from the database."""
    now = now or utcnow()
    body = stats.overview(goal, now).as_json()
    body["history"] = stats_history.points_json(stats_history.history(12, now))
    return body


def _store(body: dict, now: datetime) -> dict:
    """Save `body` as the snapshot (commits); a concurrent first write wins harmlessly."""
    row = db.session.get(StatsSnapshot, KEY)
    if row is None:
        db.session.add(StatsSnapshot(key=KEY, body=json.dumps(body), computed_at=now))
    else:
        row.body, row.computed_at, row.refreshing_since = json.dumps(body), now, None
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return body


def refresh(goal: int) -> dict:
    """Recompute the figures now and keep them (after a bulk load, or from a cron job)."""
    now = utcnow()
    return _store(compute(goal, now), now)


def _claim(now: datetime) -> bool:
    """Mark the snapshot as being refreshed; False if another worker already is."""
    result = db.session.execute(
        sa.update(StatsSnapshot)
        .where(
            StatsSnapshot.key == KEY,
            sa.or_(
                StatsSnapshot.refreshing_since.is_(None),
                StatsSnapshot.refreshing_since < now - CLAIM_TIMEOUT,
            ),
        )
        .values(refreshing_since=now)
    )
    db.session.commit()
    return result.rowcount == 1


def _refresh_in_background(goal: int) -> None:
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                _store(compute(goal), utcnow())
            except Exception:  # a background thread has no one else to tell
                log.exception("Refreshing the dashboard figures failed")
                db.session.rollback()
            finally:
                db.session.remove()

    threading.Thread(target=run, name="stats-refresh", daemon=True).start()


def figures(goal: int) -> dict:
    """The dashboard's figures (as `compute` returns them), at most a little stale."""
    max_age = int(current_app.config.get("STAFF_STATS_MAX_AGE", DEFAULT_MAX_AGE))
    now = utcnow()
    if max_age <= 0:
        return compute(goal, now)
    row = db.session.get(StatsSnapshot, KEY)
    if row is None:
        return _store(compute(goal, now), now)
    body = json.loads(row.body)
    if now - row.computed_at < timedelta(seconds=max_age) or not _claim(now):
        return body
    if current_app.testing:  # tests want the new figures, not a thread
        return _store(compute(goal, now), now)
    _refresh_in_background(goal)
    return body
