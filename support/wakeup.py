"""Waking the worker when there is work: PostgreSQL's LISTEN/NOTIFY.

Storing work for the worker — a webhook event, a mail to send — notifies
`CHANNEL`: a trigger on `stripe_event` and `outbound_email` does it (see the
migration 0006_event_worker), so no writer can forget and no request pays a
round trip for it. PostgreSQL delivers the notification when the storing
transaction commits, so a worker never wakes before the row is visible.
Workers `listen()` on a connection of their own. SQLite has no such thing:
there the worker polls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)

CHANNEL = "support_worker"
# How long the listener waits for a notification before looking whether its worker is
# stopping: a stopping worker (a deploy, a test's server) finishes within this.
STOP_CHECK_SECONDS = 0.2


class Wakeup:
    """A doorbell for worker threads: `ring()` wakes every thread waiting on it.

    A thread notes `generation()` before looking for work and passes it to
    `wait()`, so a ring that comes between looking and waiting is not missed.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._generation = 0

    def generation(self) -> int:
        """The number of rings so far."""
        with self._changed:
            return self._generation

    def ring(self) -> None:
        """Wake every waiting thread."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Return once rung after `seen`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._generation != seen, timeout)


def listen(
    url: sa.URL, on_notify: Callable[[], None], stopping: threading.Event, retry: float = 2.0
) -> None:
    """LISTEN on PostgreSQL at `url` until `stopping` is set, calling `on_notify` for
    each notification; reconnects when the server goes away. Runs in a thread."""
    import psycopg

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stopping.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                on_notify()  # whatever arrived while we were not listening
                while not stopping.is_set():
                    for _ in connection.notifies(timeout=STOP_CHECK_SECONDS):
                        on_notify()
        except psycopg.Error as error:
            log.warning("Listening for work failed (%s); trying again in %ss", error, retry)
            stopping.wait(retry)
