"""Which Checkout Sessions this browser started, kept in the reader's signed session.

The thanks page's direct link to the Billing Portal must not work for whoever
holds a thanks URL (it can sit in a history, a log or a shared screen), only
for the browser that paid. The Flask session cookie the reader already has
(for CSRF) is signed, HttpOnly and SameSite=Lax, and Stripe sends the reader
back with a top-level GET, which carries it.
"""

from __future__ import annotations

from flask import session

KEY = "checkouts"
# A few, for a reader who starts several gifts in one visit; the cookie stays small.
KEPT = 3


def remember(session_id: str) -> None:
    """Note that this browser started `session_id`."""
    started = [s for s in session.get(KEY, []) if s != session_id]
    session[KEY] = [*started[-(KEPT - 1) :], session_id]


def started_here(session_id: str | None) -> bool:
    """Did this browser start `session_id`?"""
    started = session.get(KEY)
    return bool(session_id) and isinstance(started, list) and session_id in started


def started() -> list[str]:
    """The Checkout Sessions this browser started (the last few)."""
    found = session.get(KEY)
    return [s for s in found if isinstance(s, str)] if isinstance(found, list) else []
