"""`GET /healthz`: is the database reachable, are webhooks arriving?"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from support.extensions import db
from support.models import StripeEvent

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with webhook figures when the database answers, 503 when it does not."""
    try:
        last = db.session.scalar(sa.select(sa.func.max(StripeEvent.received_at)))
        counts = dict(
            db.session.execute(
                sa.select(StripeEvent.status, sa.func.count())
                .where(StripeEvent.status.in_(("pending", "failed")))
                .group_by(StripeEvent.status)
            ).all()
        )
    except SQLAlchemyError as error:
        log.error("Health check: database unreachable: %s", error)
        db.session.rollback()
        return jsonify({"ok": False, "database": "unreachable"}), 503
    return jsonify(
        {
            "ok": True,
            "database": "ok",
            "last_webhook_received_at": last.isoformat() if last else None,
            "pending_events": counts.get("pending", 0),
            "failed_events": counts.get("failed", 0),
        }
    )
