"""A clock a test moves forward, in place of a module's `time`, instead of sleeping."""

from __future__ import annotations

import time


class ShiftedClock:
    """The real clock plus an offset the test advances.

    Put it in place of one module's `time` (`monkeypatch.setattr(module, "time", clock)`)
    so a cache lapses or a rate-limit window passes at once, while every other module,
    thread and server keeps the real clock. Anything else is the real `time` module's.
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def __getattr__(self, name: str):
        return getattr(time, name)
