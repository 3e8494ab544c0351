"""Values a process keeps for a short while, so hot reader pages skip a query.

The supporter count on the appeal and banner, the published campaigns, and
the banner's rendered content are read on nearly every reader request and
change rarely; each process keeps its own copy until it lapses. A copy lives
in the app (`app.extensions[name]`), so every app (and every test) starts
empty, and it is kept by the clock of `time.monotonic`, which a change of
the system time does not move.

Two readers finding a copy lapsed at once may both compute it again; the
values are cheap enough that a lock would cost more than it saves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import current_app

V = TypeVar("V")


def deadline(seconds: float) -> float:
    """The `time.monotonic()` moment `seconds` from now (an entry's `until`)."""
    return time.monotonic() + seconds


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    until: float  # time.monotonic(); the entry lapses at this moment


class ProcessCache(Generic[V]):
    """Entries by key, each kept until its own moment (see the module).

    A cache built from another's values `follows` it: forgetting that one
    forgets this one too.
    """

    def __init__(self, name: str, follows: ProcessCache | None = None):
        self.name = name
        self._followers: list[ProcessCache] = []
        if follows is not None:
            follows._followers.append(self)

    def get(
        self,
        load: Callable[[], V],
        *,
        seconds: float | None = None,
        until: Callable[[V], float] | None = None,
        key: Hashable = None,
    ) -> V:
        """The kept value for `key`, or a fresh one from `load()` when there is none
        or it lapsed. A fresh value is kept for `seconds`, or until the moment
        `until(value)` gives (a `deadline`), whichever comes first."""
        if seconds is None and until is None:
            raise TypeError("say how long to keep the value: seconds, until or both")
        entries: dict[Hashable, _Entry[V]] = current_app.extensions.setdefault(self.name, {})
        entry = entries.get(key)
        now = time.monotonic()
        if entry is None or entry.until <= now:
            value = load()
            moments = [] if seconds is None else [now + seconds]
            if until is not None:
                moments.append(until(value))
            entry = entries[key] = _Entry(value, min(moments))
        return entry.value

    def forget(self) -> None:
        """Drop every entry, and those of the caches that follow this one: the next
        read loads afresh (after a change staff made)."""
        current_app.extensions.pop(self.name, None)
        for follower in self._followers:
            follower.forget()
