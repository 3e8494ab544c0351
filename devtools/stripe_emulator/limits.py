"""Stripe's limits on /v1 calls: network latency, a requests-per-second budget, stalls, counters.

Real Stripe is a round trip away and answers 429 once an account goes over its global
budget (25 requests per second in test mode, 100 in live mode). ``Limits`` reproduces
both so benchmarks and tests meet the same back-pressure, and counts what it saw.
"""

import threading
import time
from collections import deque

from .errors import StripeError

RATE_LIMITED = (
    "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
WINDOW = 1.0  # seconds; Stripe's budget is per second


def check_latency(value) -> float:
    """Validate a latency setting (seconds, ``>= 0``); ``None`` means none."""
    value = float(value or 0.0)
    if value < 0:
        raise ValueError("latency must be >= 0 seconds")
    return value


def check_max_rps(value) -> int | None:
    """Validate a requests-per-second limit; ``0`` and ``None`` both mean no limit."""
    if value in (None, "", 0, "0"):
        return None
    value = int(value)
    if value < 0:
        raise ValueError("max_requests_per_second must be >= 0")
    return value


def rate_limited() -> StripeError:
    """The 429 Stripe answers when the account's request budget is used up."""
    return StripeError(429, RATE_LIMITED, code="rate_limit")


class Limits:
    """Latency, the sliding-window rate limit, pending stalls and the request counters.

    Only requests the limiter accepted enter the window, so "at most N accepted in any
    one second" holds exactly and a client that keeps retrying cannot lock itself out.
    Everything here takes its own lock, never the store's, so sleeping requests and the
    limiter never wait on API calls in progress.
    """

    def __init__(self, latency=0.0, max_requests_per_second=None):
        self._lock = threading.Lock()
        self._latency = check_latency(latency)
        self._max_rps = check_max_rps(max_requests_per_second)
        self._window: deque[float] = deque()
        self.stalls: list[float] = []
        self.in_flight = 0
        # Notified whenever the last request in flight is answered (see wait_answered).
        self._answered = threading.Condition(self._lock)
        self.reset_stats()

    # -- settings --------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds added before answering every /v1 request."""
        return self._latency

    @latency.setter
    def latency(self, value):
        self._latency = check_latency(value)

    @property
    def max_requests_per_second(self) -> int | None:
        """Accepted /v1 requests allowed in any one second; ``None`` for no limit."""
        return self._max_rps

    @max_requests_per_second.setter
    def max_requests_per_second(self, value):
        self._max_rps = check_max_rps(value)

    # -- the request path --------------------------------------------------------------------
    def admit(self) -> tuple[bool, float]:
        """Decide on an arriving /v1 request: ``(refused, seconds to wait before answering)``.

        The caller sleeps outside any lock, so concurrent requests overlap their delays.
        """
        with self._lock:
            # Read the clock under the lock so ``accepted_at`` stays sorted.
            now = time.monotonic()
            self.in_flight += 1
            window = self._window
            # Kept up to date even without a limit, so setting one later counts the
            # requests already in the last second.
            while window and window[0] <= now - WINDOW:
                window.popleft()
            limit = self._max_rps
            if limit and len(window) >= limit:
                self.refused += 1
                # A 429 costs the same round trip as any answer: without it a client that
                # retries at once would spin far faster than it ever could against Stripe.
                return True, self._latency
            window.append(now)
            self.accepted_at.append(now)
            stall = self.stalls.pop(0) if self.stalls else 0.0
            if stall:
                self.stalled += 1
            return False, self._latency + stall

    def answered(self, status: int) -> None:
        """Count a request's answer (after ``admit``)."""
        with self._lock:
            self.in_flight -= 1
            self.requests += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if not self.in_flight:
                self._answered.notify_all()

    def wait_answered(self, timeout: float) -> bool:
        """Block until no request is in flight (a stalled one answered too); False on timeout."""
        with self._answered:
            return self._answered.wait_for(lambda: not self.in_flight, timeout)

    def count_injected(self) -> None:
        """Count an accepted request answered with a ``fail_next`` error."""
        with self._lock:
            self.injected += 1

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` accepted requests ``seconds`` longer before answering."""
        seconds = float(seconds)
        if seconds < 0 or count < 0:
            raise ValueError("seconds and count must be >= 0")
        with self._lock:
            self.stalls.extend([seconds] * int(count))

    # -- resetting and reading -------------------------------------------------------------
    def reset_stats(self) -> None:
        """Zero the counters and start a new measuring period (the window is kept)."""
        with self._lock:
            self.started = time.monotonic()
            self.requests = self.refused = self.injected = self.stalled = 0
            self.statuses: dict[int, int] = {}
            self.accepted_at: list[float] = []

    def clear(self) -> None:
        """Reset counters, drop pending stalls and empty the window; keep the settings."""
        with self._lock:
            self.stalls.clear()
            self._window.clear()
        self.reset_stats()

    def stats(self, timestamps: bool = False) -> dict:
        """JSON-able counters since the last reset (see the README for each field)."""
        with self._lock:
            now = time.monotonic()
            accepted = list(self.accepted_at)
            data = {
                "latency": self._latency,
                "max_requests_per_second": self._max_rps,
                "requests": self.requests,
                "accepted": len(accepted),
                "refused": self.refused,
                "injected": self.injected,
                "stalled": self.stalled,
                "in_flight": self.in_flight,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "started": self.started,
                "elapsed": now - self.started,
                "pending_stalls": len(self.stalls),
            }
        data["accepted_per_second"] = per_second(accepted, data["started"], now)
        data["peak_per_second"] = peak(accepted)
        if timestamps:
            data["accepted_at"] = accepted
        return data


def per_second(times: list[float], start: float, end: float) -> list[int]:
    """Counts of ``times`` in each whole second from ``start`` (the last one partial)."""
    counts = [0] * (int(end - start) + 1)
    for t in times:
        index = int(t - start)
        if 0 <= index < len(counts):
            counts[index] += 1
    return counts


def peak(times: list[float]) -> int:
    """The most of the (sorted) ``times`` that fall within any one-second sliding window."""
    best, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - WINDOW:
            first += 1
        best = max(best, last - first + 1)
    return best
