"""`GET /healthz`: is the database reachable, are webhooks arriving?"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from support import stats
from support.extensions import db

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
    return jsonify(
        {
            "ok": True,
            "database": "ok",
            "last_webhook_received_at": (
                backlog.last_received_at.isoformat() if backlog.last_received_at else None
            ),
            "pending_events": backlog.pending,
            "failed_events": backlog.failed,
        }
    )
