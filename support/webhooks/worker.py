"""`flask stripe worker`: applies stored events and sends due mail, until told to stop.

Threads, each with its own app context and database session, claim events
one at a time and apply them (`applying.apply_claimed`); with no event due
they queue the next batch of an upgrade ask still queuing (`asks.queueing`),
send due mail (manage links, asks, retries) and recompute the dashboard's
figures if events changed the ledger, and with nothing to do they wait. On
PostgreSQL a listening connection wakes them as soon as a delivery or a mail
is stored (LISTEN/NOTIFY, see `support.wakeup`), and they look anyway every
`poll` seconds for failed events whose wait is over; on SQLite they poll.

Staying alive: a lost database connection makes a thread wait (0.5 s,
doubling, at most 10 s) and try again, the event in hand included; Stripe
rate limiting or erroring makes it pause likewise, so the worker never spins.
SIGTERM (or Ctrl-C) lets every thread finish the event in hand, then exits.
A heartbeat row tells /healthz when a worker was last seen; beside it, the
main thread moves optimised campaigns' banner weights (`campaigns.optimise`)
and, at most hourly, owes the warnings of cards that expire before the next
payment (`reminders.expiring_cards`: one query, no Stripe read),
and, once a day is over, owes opted-in staff its digest (`alerts.digest`);
threads with no event due post owed chat alerts (`alerts.sender`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from support import dialect, stripe_budget, wakeup
from support.alerts import digest, sender
from support.asks import queueing as ask_queue
from support.campaigns import optimise
from support.extensions import db
from support.mail import outbox
from support.models import WorkerHeartbeat, utcnow
from support.reminders import expiring_cards
from support.stats import snapshot as stats_cache
from support.webhooks import inbox
from support.webhooks.applying import apply_claimed, database_down

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# How often the main thread looks whether a daily digest is owed.
DIGEST_CHECK = timedelta(minutes=1)
# Heartbeats of workers gone this long are removed.
HEARTBEAT_KEPT = timedelta(days=1)
# How often the main thread looks for cards that expire before the next payment.
CARD_SCAN_EVERY = timedelta(hours=1)
MAX_PAUSE = 10.0


class Worker:
    """A worker process's threads, listener and heartbeat."""

    def __init__(
        self,
        app: Flask,
        threads: int = 4,
        poll: float | None = None,
        max_attempts: int = inbox.MAX_ATTEMPTS,
    ):
        self.app = app
        self.threads = threads
        self.max_attempts = max_attempts
        with app.app_context():
            self.postgres = dialect.is_postgres()
        self.poll = poll if poll is not None else (10.0 if self.postgres else 1.0)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.wakeup = wakeup.Wakeup()
        self.cards_scanned_at = None

    def stop(self, *_signal_args) -> None:
        """Finish the events in hand, then stop (also a signal handler)."""
        if not self.stopping.is_set():
            log.info("Worker %s stopping after the events in hand", self.name)
        self.stopping.set()
        self.wakeup.ring()

    def run(self, handle_signals: bool = True) -> None:
        """Work until `stop()` (SIGTERM, SIGINT); returns once every thread finished."""
        stripe_budget.install(self.app)
        if handle_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
            # Threads started with these signals blocked keep them blocked, so the kernel
            # hands them to this thread, whose wait they interrupt. Landing on a worker
            # thread instead, the handler would run only when this one next woke (up to
            # a heartbeat later) while the threads went on claiming events.
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        helpers = [
            threading.Thread(target=self._work, name=f"worker-{n}") for n in range(self.threads)
        ]
        if self.postgres:
            with self.app.app_context():
                url = db.engine.url
            listener = threading.Thread(
                target=wakeup.listen,
                args=(url, self.wakeup.ring, self.stopping),
                name="listener",
                daemon=True,
            )
            helpers.append(listener)
        for thread in helpers:
            thread.start()
        if handle_signals:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        log.info(
            "Worker %s: %s threads, %s, budget %s Stripe requests/s",
            self.name,
            self.threads,
            "woken by NOTIFY" if self.postgres else f"polling every {self.poll}s",
            self.app.config["STRIPE_MAX_REQUESTS_PER_SECOND"],
        )
        started = utcnow()
        digest_checked = None
        with self.app.app_context():
            while not self.stopping.is_set():
                self._beat(started)
                self._optimise()
                self._expiring_cards()
                if digest_checked is None or utcnow() - digest_checked >= DIGEST_CHECK:
                    digest_checked = utcnow()
                    self._digest()
                self.stopping.wait(HEARTBEAT_SECONDS)
            for thread in helpers:
                thread.join()
            self._beat(started)
            db.session.remove()
        log.info("Worker %s stopped", self.name)

    def _beat(self, started) -> None:
        """Say this worker is alive (and forget long-gone ones); never raises."""
        table = WorkerHeartbeat.__table__
        insert = dialect.insert(table, self.postgres)
        now = utcnow()
        try:
            db.session.execute(
                insert.values(
                    name=self.name, threads=self.threads, started_at=started, seen_at=now
                ).on_conflict_do_update(index_elements=["name"], set_={"seen_at": now})
            )
            db.session.execute(sa.delete(table).where(table.c.seen_at < now - HEARTBEAT_KEPT))
            db.session.commit()
        except sa.exc.SQLAlchemyError as error:
            log.warning("Worker heartbeat not recorded: %s", error)
            db.session.rollback()

    def _optimise(self) -> None:
        """Move optimised campaigns' banner weights (at most hourly each); never raises."""
        try:
            done = optimise.refresh_due()
        except sa.exc.SQLAlchemyError as error:
            log.warning("Campaign weights not recomputed: %s", error)
            db.session.rollback()
            return
        if done:
            log.info("Recomputed banner weights of %s", ", ".join(done))

    def _expiring_cards(self) -> None:
        """Owe the warnings of cards that expire before the next payment (hourly, and
        batch after batch while a look owes a full one); never raises. The mails are
        sent by the threads, like any other."""
        now = utcnow()
        if self.cards_scanned_at is not None and now - self.cards_scanned_at < CARD_SCAN_EVERY:
            return
        batch = expiring_cards.BATCH
        try:
            owed = expiring_cards.queue_due(now, batch)
        except sa.exc.SQLAlchemyError as error:
            log.warning("Expiring cards not looked for: %s", error)
            db.session.rollback()
            return
        # A full batch may have left some: the next turn of the loop looks again.
        self.cards_scanned_at = now if owed < batch else None
        if owed:
            log.info("Owed %s warnings of cards that expire before the next payment", owed)
            self.wakeup.ring()

    def _digest(self) -> None:
        """Owe yesterday's digest to opted-in staff once the day is over; never raises."""
        try:
            digest.queue_due(utcnow())
        except sa.exc.SQLAlchemyError as error:
            log.warning("Daily digest not owed yet: %s", error)
            db.session.rollback()

    def _pause(self, pause: float) -> float:
        """Wait `pause` seconds (or until stopped); the next, longer pause."""
        self.stopping.wait(pause)
        return min(pause * 2, MAX_PAUSE)

    def _work(self) -> None:
        """One thread: claim, apply, send mail, wait; until stopped."""
        with self.app.app_context():
            pause = 0.5
            while not self.stopping.is_set():
                seen = self.wakeup.generation()
                try:
                    busy, trouble = self._step()
                except Exception as error:
                    if database_down(error):
                        log.warning("Database unreachable, waiting %.1fs: %s", pause, error)
                    else:
                        log.exception("Worker thread error; waiting %.1fs", pause)
                    db.session.remove()
                    pause = self._pause(pause)
                    continue
                if trouble:
                    pause = self._pause(pause)
                    continue
                pause = 0.5
                if not busy:
                    self.wakeup.wait(seen, self.poll)
            db.session.remove()

    def _step(self) -> tuple[bool, bool]:
        """Apply one due event, or else send due mail and recompute stale figures;
        (did something, Stripe in trouble)."""
        claim = inbox.claim_next(self.max_attempts)
        if claim is None:
            if ask_queue.continue_due():
                return True, False
            report = outbox.send_due(limit=10)
            if report.sent or report.failed or report.skipped:
                return True, False
            posted = sender.send_due(limit=10)
            if posted.sent or posted.failed:
                return True, False
            return stats_cache.refresh_if_stale(self.app.config["SUPPORT_GOAL"]), False
        pause = 0.5
        while True:
            try:
                outcome = apply_claimed(claim)
            except Exception as error:
                if not database_down(error) or self.stopping.is_set():
                    raise
                # Keep the event in hand: the lease is ours until it lapses.
                log.warning("Database unreachable applying %s, waiting %.1fs", claim.id, pause)
                db.session.remove()
                pause = self._pause(pause)
                continue
            return True, outcome.stripe_trouble
