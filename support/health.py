"""`GET /healthz`: is the database reachable, are webhooks arriving and applied?"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from support.extensions import db
from support.models import utcnow
from support.stats import figures as stats

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with webhook figures when the database answers, 503 when it does not."""
    try:
        backlog = stats.webhook_backlog()
    except SQLAlchemyError as error:
        log.error("Health check: database unreachable: %s", error)
        db.session.rollback()
        return jsonify({"ok": False, "database": "unreachable"}), 503
    oldest = backlog.oldest_pending_at
    return jsonify(
        {
            "ok": True,
            "database": "ok",
            "last_webhook_received_at": _iso(backlog.last_received_at),
            "pending_events": backlog.pending,
            "failed_events": backlog.failed,
            # Queue lag: how long the longest-waiting event has waited for a worker.
            "oldest_pending_age_seconds": (
                round((utcnow() - oldest).total_seconds(), 1) if oldest else None
            ),
            "worker_last_seen_at": _iso(backlog.worker_last_seen_at),
        }
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
