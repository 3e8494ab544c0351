"""Shares of Stripe's request budget: the workers' and the readers'.

Stripe allows about 25 (test mode) or 100 (live) requests a second for the
whole account, workers, readers and staff together, and answers 429 beyond.
So each kind of caller keeps to a share of its own, counted in a moving
one-second window in `RATELIMIT_STORAGE_URI` (the `limits` library's storage,
as Flask-Limiter uses it), so processes on several machines share one count
through Redis. With `memory://` the count is per process.

- Workers reading events' objects keep together under
  `STRIPE_MAX_REQUESTS_PER_SECOND` and wait for their turn (`Budget.spend`).
  Within a process, reads also leave evenly, one every 1/N second: with the
  window alone, threads waiting for it would wake together and leave in bursts,
  and Stripe, which counts reads when they arrive, a few milliseconds off from
  when they were counted here, would see more than N in some second.
- Readers' requests (checkout creation, the thanks page's read, Billing Portal
  sessions) keep together under `STRIPE_READER_REQUESTS_PER_SECOND`
  (`reader_turn`). A reader is never queued, as that would hold a web worker
  for each: a request that finds no room is not sent, and the caller answers at
  once from what it knows.
- Staff actions spend from neither: what the two shares leave of the account's
  limit is theirs, so readers cannot starve a refund.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

KEY = "stripe-worker-reads"
READERS_KEY = "stripe-reader-requests"
EXTENSION = "stripe_budget"
READERS_EXTENSION = "stripe_reader_budget"
_readers_made = threading.Lock()


class Budget:
    """At most `per_second` Stripe requests a second across every process sharing
    `storage_uri`, counted under `key`."""

    def __init__(self, storage_uri: str, per_second: int, key: str = KEY):
        self.per_second = per_second
        self.key = key
        self._item = RateLimitItemPerSecond(per_second)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._turn = threading.Lock()
        self._next = 0.0  # monotonic time this process's next read may leave

    def _until_room(self) -> float:
        """Seconds until the oldest request counted leaves the shared window."""
        reset = self._limiter.get_window_stats(self._item, self.key).reset_time
        return max(reset - time.time(), 0.005)

    def spend(self) -> None:
        """Take one request's place: wait for this process's next slot, then for room in
        the shared window."""
        with self._turn:  # the threads of this process take their slots in turn
            time.sleep(max(self._next - time.monotonic(), 0))
            while not self._limiter.hit(self._item, self.key):
                time.sleep(min(self._until_room(), 0.25))
            self._next = time.monotonic() + 1 / self.per_second

    def try_spend(self) -> float:
        """Take one request's place if the shared window has room now: 0 when taken,
        else the seconds until there will be room (and nothing is taken)."""
        if self._limiter.hit(self._item, self.key):
            return 0.0
        return self._until_room()


def install(app: Flask) -> Budget:
    """Make the app's Stripe reads spend from the workers' shared budget (worker
    processes only)."""
    budget = Budget(
        app.config["RATELIMIT_STORAGE_URI"], app.config["STRIPE_MAX_REQUESTS_PER_SECOND"]
    )
    app.extensions[EXTENSION] = budget
    return budget


def spend() -> None:
    """Spend from the app's workers' budget before a Stripe read, if it has one."""
    budget = current_app.extensions.get(EXTENSION)
    if budget is not None:
        budget.spend()


def readers() -> Budget:
    """The app's readers' budget, made on first use from its settings."""
    extensions = current_app.extensions
    budget = extensions.get(READERS_EXTENSION)
    if budget is None:
        with _readers_made:  # one per app: with memory://, two would each count apart
            budget = extensions.get(READERS_EXTENSION)
            if budget is None:
                config = current_app.config
                budget = extensions[READERS_EXTENSION] = Budget(
                    config["RATELIMIT_STORAGE_URI"],
                    config["STRIPE_READER_REQUESTS_PER_SECOND"],
                    key=READERS_KEY,
                )
    return budget


def reader_turn() -> float:
    """Take a place for one reader's Stripe request: 0 when taken, else the seconds
    until the readers' share has room again (send nothing then)."""
    return readers().try_spend()
