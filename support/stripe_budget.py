"""The workers' share of Stripe's request budget.

Stripe allows about 25 (test mode) or 100 (live) requests a second for the
whole account, and readers' checkouts need their part of that. Workers
reading events' objects therefore keep together under
`STRIPE_MAX_REQUESTS_PER_SECOND`: every read takes a place in a moving
one-second window first, counted in `RATELIMIT_STORAGE_URI` (the `limits`
library's storage, as Flask-Limiter uses it), so workers on several machines
share one count through Redis. With `memory://` the count is per process.
"""

from __future__ import annotations

import time

from flask import Flask, current_app
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

KEY = "stripe-worker-reads"
EXTENSION = "stripe_budget"


class Budget:
    """At most `per_second` Stripe requests a second across every worker sharing `storage_uri`."""

    def __init__(self, storage_uri: str, per_second: int):
        self.per_second = per_second
        self._item = RateLimitItemPerSecond(per_second)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def spend(self) -> float:
        """Take one request's place, waiting for one if the window is full; seconds waited."""
        waited = 0.0
        while not self._limiter.hit(self._item, KEY):
            reset = self._limiter.get_window_stats(self._item, KEY).reset_time
            pause = min(max(reset - time.time(), 0.005), 0.25)
            time.sleep(pause)
            waited += pause
        return waited


def install(app: Flask) -> Budget:
    """Make the app's Stripe reads spend from the shared budget (workers only: readers'
    requests are never held back by it)."""
    budget = Budget(
        app.config["RATELIMIT_STORAGE_URI"], app.config["STRIPE_MAX_REQUESTS_PER_SECOND"]
    )
    app.extensions[EXTENSION] = budget
    return budget


def spend() -> None:
    """Spend from the app's budget before a Stripe read, if it has one."""
    budget = current_app.extensions.get(EXTENSION)
    if budget is not None:
        budget.spend()
