"""The workers' share of Stripe's request budget.

Stripe allows about 25 (test mode) or 100 (live) requests a second for the
whole account, and readers' checkouts need their part of that. Workers
reading events' objects therefore keep together under
`STRIPE_MAX_REQUESTS_PER_SECOND`: every read takes a place in a moving
one-second window first, counted in `RATELIMIT_STORAGE_URI` (the `limits`
library's storage, as Flask-Limiter uses it), so workers on several machines
share one count through Redis. With `memory://` the count is per process.

Within a process, reads also leave evenly, one every 1/N second: with the
window alone, threads waiting for it would wake together and leave in bursts,
and Stripe, which counts reads when they arrive, a few milliseconds off from
when they were counted here, would see more than N in some second.
"""

from __future__ import annotations

import threading
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
        self._turn = threading.Lock()
        self._next = 0.0  # monotonic time this process's next read may leave

    def spend(self) -> None:
        """Take one request's place: wait for this process's next slot, then for room in
        the shared window."""
        with self._turn:  # the threads of this process take their slots in turn
            time.sleep(max(self._next - time.monotonic(), 0))
            while not self._limiter.hit(self._item, KEY):
                reset = self._limiter.get_window_stats(self._item, KEY).reset_time
                time.sleep(min(max(reset - time.time(), 0.005), 0.25))
            self._next = time.monotonic() + 1 / self.per_second


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
