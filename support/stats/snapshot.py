"""The dashboard's figures, computed at most once per `STAFF_STATS_MAX_AGE` seconds.

Counting half a million active subscriptions takes a few hundred
milliseconds at a million supporters, so the dashboard and `stats.json` serve
the last computed figures (a one-row snapshot) while they are younger than
the maximum age (default 60 s). When they are older, the request still
answers at once with them, and one worker — whichever claims the snapshot
first — recomputes them in a background thread. Only the very first request,
with no snapshot at all, waits for the computation. `STAFF_STATS_MAX_AGE=0`
turns the cache off.

Figures do not wait out their age after the ledger changed: the worker marks
the snapshot stale in the transaction that applies an event (`mark_stale`),
and recomputes it itself once it has nothing else to do (`refresh_if_stale`,
at most every `STALE_REFRESH_GAP`), so a refund or a cancellation shows on the
dashboard seconds after Stripe's webhook; a request that finds the snapshot
stale first refreshes it like an old one.

The retention figures (support/stats/retention.py) read every payment, so a
refresh carries them over from the stored snapshot while they are younger than
`retention.MAX_AGE` instead of recomputing them after every event.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from support.extensions import db
from support.models import StatsSnapshot, utcnow
from support.stats import cancellations, retention
from support.stats import figures as stats
from support.stats import history as stats_history

log = logging.getLogger(__name__)

KEY = "dashboard"
# A refresh that has not finished after this long is presumed dead (worker killed).
CLAIM_TIMEOUT = timedelta(minutes=5)
# The worker recomputes stale figures at most this often (a burst of events
# would otherwise recompute them after every one).
STALE_REFRESH_GAP = timedelta(seconds=5)


def compute(goal: int, now: datetime | None = None) -> dict:
    """Every figure and a year of history, straight from the database."""
    now = now or utcnow()
    body = stats.overview(goal, now).as_json()
    body["history"] = stats_history.points_json(stats_history.history(12, now))
    body["cancellations"] = cancellations.as_json(cancellations.breakdown(now))
    body["retention"] = retention.carried_or_computed(_stored_retention(), now)
    return body


def _stored_retention() -> dict | None:
    """The retention figures in the stored snapshot, if any (they are kept a while)."""
    body = db.session.scalar(sa.select(StatsSnapshot.body).where(StatsSnapshot.key == KEY))
    try:
        return json.loads(body).get("retention") if body else None
    except ValueError:
        return None


def _store(body: dict, now: datetime) -> dict:
    """Save `body` as the snapshot (commits); a concurrent first write wins harmlessly."""
    row = db.session.get(StatsSnapshot, KEY)
    if row is None:
        db.session.add(StatsSnapshot(key=KEY, body=json.dumps(body), computed_at=now))
    else:
        # `stale_since` is left alone: the claim cleared it, and a change applied
        # while the figures were computed has set it again, for the next refresh.
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


def mark_stale() -> None:
    """The ledger changed: recompute the figures soon, whatever their age (not committed).

    Called in the transaction that writes the change, so it is stale exactly
    when the change is visible. Once stale, the row is not written again, so
    workers applying events side by side do not queue on it.
    """
    db.session.execute(
        sa.update(StatsSnapshot)
        .where(StatsSnapshot.key == KEY, StatsSnapshot.stale_since.is_(None))
        .values(stale_since=utcnow())
    )


def _claim(now: datetime, *conditions) -> bool:
    """Mark the snapshot as being refreshed; False if another worker already is.

    Claiming also clears `stale_since`: the figures about to be computed see
    every change committed so far, and a later one marks them stale again.
    """
    result = db.session.execute(
        sa.update(StatsSnapshot)
        .where(
            StatsSnapshot.key == KEY,
            sa.or_(
                StatsSnapshot.refreshing_since.is_(None),
                StatsSnapshot.refreshing_since < now - CLAIM_TIMEOUT,
            ),
            *conditions,
        )
        .values(refreshing_since=now, stale_since=None)
    )
    db.session.commit()
    return result.rowcount == 1


def _refresh_claimed(goal: int) -> None:
    """Compute and keep the figures after claiming; a failure leaves them stale."""
    try:
        _store(compute(goal), utcnow())
    except Exception:
        db.session.rollback()
        db.session.execute(
            sa.update(StatsSnapshot)
            .where(StatsSnapshot.key == KEY)
            .values(refreshing_since=None, stale_since=utcnow())
        )
        db.session.commit()
        raise


def refresh_if_stale(goal: int) -> bool:
    """Recompute the figures if the ledger changed since (the worker, when idle).

    At most every `STALE_REFRESH_GAP`; only one worker at a time. Whether it did.
    A plain read first: idle workers call this often, and most of the time there
    is nothing to do (SQLite would take its write lock even for an update that
    matches nothing).
    """
    now = utcnow()
    row = db.session.execute(
        sa.select(StatsSnapshot.stale_since, StatsSnapshot.computed_at).where(
            StatsSnapshot.key == KEY
        )
    ).first()
    db.session.rollback()
    if row is None or row.stale_since is None or row.computed_at >= now - STALE_REFRESH_GAP:
        return False
    claimed = _claim(
        now,
        StatsSnapshot.stale_since.is_not(None),
        StatsSnapshot.computed_at < now - STALE_REFRESH_GAP,
    )
    if claimed:
        _refresh_claimed(goal)
        log.info("Dashboard figures recomputed after ledger changes")
    return claimed


def _refresh_in_background(goal: int) -> None:
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                _refresh_claimed(goal)
            except Exception:  # a background thread has no one else to tell
                log.exception("Refreshing the dashboard figures failed")
                db.session.rollback()
            finally:
                db.session.remove()

    threading.Thread(target=run, name="stats-refresh", daemon=True).start()


def figures(goal: int) -> dict:
    """The dashboard's figures (as `compute` returns them), at most a little stale."""
    max_age = current_app.config["STAFF_STATS_MAX_AGE"]
    now = utcnow()
    if max_age <= 0:
        return compute(goal, now)
    row = db.session.get(StatsSnapshot, KEY)
    if row is None:
        return _store(compute(goal, now), now)
    body = json.loads(row.body)
    fresh = now - row.computed_at < timedelta(seconds=max_age) and row.stale_since is None
    if fresh or not _claim(now):
        return body
    if current_app.testing:  # tests want the new figures, not a thread
        return _store(compute(goal, now), now)
    _refresh_in_background(goal)
    return body
