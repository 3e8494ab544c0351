"""Owing a chat alert: a `StaffAlert` row under a unique key, posted later by the worker.

Alerts are owed while the worker applies a Stripe event (support/webhooks/handlers.py),
in the same transaction, so an event delivered twice or replayed owes nothing more
and an event rolled back owes nothing at all. No request ever owes one. Nothing is
owed when `STAFF_ALERT_WEBHOOK_URL` is unset, nor for what happened more than
`MAX_AGE` ago (a late replay from the inbox, or a webhook URL set today, must not
post last month's news).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from support import dialect
from support.extensions import db
from support.models import StaffAlert, utcnow

# Stripe retries a delivery for three days; older news is not news.
MAX_AGE = timedelta(days=3)


def owe_alert(key: str, kind: str, text: str, happened_at: datetime | None = None) -> int | None:
    """Owe the chat `text` once under `key` (not committed); the new row's id, or None
    (owed already, alerts off, or too old)."""
    if not current_app.config.get("STAFF_ALERT_WEBHOOK_URL"):
        return None
    now = utcnow()
    if happened_at is not None and happened_at < now - MAX_AGE:
        return None
    table = StaffAlert.__table__
    return db.session.execute(
        dialect.insert(table)
        .values(key=key, kind=kind, text=text, status="pending", attempts=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    ).scalar()
