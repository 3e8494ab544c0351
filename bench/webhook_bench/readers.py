"""Phase 3: readers' p95, idle and while bursts of deliveries arrive and the worker
applies them."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from bench.webhook_bench.history import STRIPE_LATENCY, STRIPE_LIMIT, deliveries
from bench.webhook_bench.processes import CpuMeter
from bench.webhook_bench.setup import Setup
from bench.webhook_bench.traffic import (
    READER_PATHS,
    STRIPE_CONNECTIONS,
    Burst,
    p95,
    post_paced,
    read_pages,
)

P95_GOAL = 1.5


def phase_readers(setup: Setup) -> None:
    """3. Readers' p95 idle and during bursts of deliveries at several rates."""
    args = setup.args
    print(
        f"\n3. Readers during a burst: {args.readers} sequential readers (own process, "
        f"{args.think * 1000:.0f} ms between reads) fetch {' and '.join(READER_PATHS)} for "
        f"{args.window:g}s idle (worker running, queue empty), then {args.window:g}s while "
        f"deliveries arrive from {STRIPE_CONNECTIONS} connections; the worker (--threads "
        f"{args.reader_threads}) applies them against the emulator at "
        f"{STRIPE_LATENCY * 1000:.0f} ms, {STRIPE_LIMIT} requests/s, budget {args.budget}. "
        f"Goal: p95 burst ÷ p95 idle ≤ {P95_GOAL}x for both routes."
    )
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.readers, mp_context=spawn) as pool:
        list(pool.map(time.sleep, [0] * args.readers))  # start the reader processes now
        readers = [p.pid for p in pool._processes.values()]
        short = [path.split("?")[0].rsplit("/", 1)[-1] or path for path in READER_PATHS]
        for db in setup.databases:
            port = urlsplit(setup.servers[db.label][1]).port
            print(
                f"   {db.label}\n   {'rate/s':>7}{'sent/s':>7}{'answers':>13}{'ack p50/p95 ms':>16}"
                + "".join(f"{name + ' p95 idle→burst ms':>30}" for name in short)
                + f"{'worst':>7}  backlog after the burst"
            )
            steps = [reader_step(setup, db, pool, port, rate, readers) for rate in args.rates]
            # Every step starts from the same state (empty queue, worker running), so
            # their idle windows pooled make a steadier denominator than any one of them.
            idle = {p: [x for step in steps for x in step.idle[p]] for p in READER_PATHS}
            print(
                "   idle p95 (all idle windows): "
                + ", ".join(f"{p} {p95(idle[p]) * 1000:.1f} ms" for p in READER_PATHS)
                + "; each idle window's: "
                + "; ".join(
                    "/".join(f"{p95(step.idle[p]) * 1000:.1f}" for p in READER_PATHS)
                    for step in steps
                )
            )
            for step in steps:
                print(step.line(idle))
                if max(step.ratios(idle)) > P95_GOAL:
                    setup.misses.append(f"reader p95 on {db.label} at {step.rate}/s")
                if set(step.burst.answers) != {200} or step.failed_reads:
                    setup.failures.append(f"answers on {db.label} at {step.rate}/s")


def reader_window(setup: Setup, pool, port: int, start_at: float) -> list[tuple]:
    """Run the readers for one window starting at `start_at`; their samples."""
    args = setup.args
    end_at = start_at + args.window
    futures = [
        pool.submit(read_pages, port, start_at, end_at, args.think) for _ in range(args.readers)
    ]
    return [sample for future in futures for sample in future.result(timeout=args.window + 60)]


def by_path(samples: list[tuple]) -> dict[str, list[float]]:
    """Seconds by reader path (failed reads included: they are what a reader meets)."""
    found: dict[str, list[float]] = {path: [] for path in READER_PATHS}
    for path, seconds, _ in samples:
        found[path].append(seconds)
    return found


def reader_step(setup, db, pool, port, rate, readers) -> Step:
    """One rate: an idle window, then a burst window."""
    args = setup.args
    db.empty(args.old_events)
    setup.emulator.configure(latency=STRIPE_LATENCY, max_requests_per_second=STRIPE_LIMIT)
    worker = setup.start_worker(db, args.reader_threads)
    url = setup.servers[db.label][1]
    results: dict = {}

    def send(bodies: list[bytes], start_at: float) -> None:
        try:
            results["burst"] = post_paced(url + "/stripe/webhook", bodies, rate, start_at, limit)
        except Exception as error:  # reported below rather than lost with the thread
            results["error"] = error

    limit = args.window * 3
    try:
        worker.wait_ready()
        idle = reader_window(setup, pool, port, time.monotonic() + 0.2)
        bodies = deliveries(setup.history, int(rate * args.window), f"evt_burst_{rate}")
        start_at = time.monotonic() + 0.5  # leaves time to sign the bodies
        meter = CpuMeter(setup.cpu_groups(db, db.label, worker, readers))
        meter.start()
        metered = time.monotonic()
        sender = threading.Thread(target=send, args=(bodies, start_at))
        sender.start()
        loud = reader_window(setup, pool, port, start_at)
        sender.join(limit + 120)
        used = meter.stop()
        metered = time.monotonic() - metered
        health = requests.get(url + "/healthz", timeout=30).json()
    finally:
        levels = worker.stop()
    if "burst" not in results:
        raise SystemExit(f"the burst at {rate}/s failed: {results.get('error')}")
    failed = sum(1 for *_, status in idle + loud if status != 200)
    burst = results["burst"]
    return Step(rate, burst, by_path(idle), by_path(loud), used, metered, health, levels, failed)


@dataclass
class Step:
    """One rate of phase 3: the burst, the readers' samples, what the processes used."""

    rate: int
    burst: Burst
    idle: dict[str, list[float]]
    loud: dict[str, list[float]]
    cpu: dict[str, float]
    seconds: float
    health: dict
    levels: Counter
    failed_reads: int

    def ratios(self, idle: dict[str, list[float]]) -> list[float]:
        """p95 during the burst ÷ p95 idle, by reader path."""
        return [p95(self.loud[p]) / p95(idle[p]) for p in READER_PATHS]

    def line(self, idle: dict[str, list[float]]) -> str:
        """The printed figures."""
        burst = self.burst
        ratios = self.ratios(idle)
        worst = max(ratios)
        cells = "".join(
            f"{p95(idle[p]) * 1000:>10.1f} →{p95(self.loud[p]) * 1000:>6.1f}"
            f"{r:>6.2f}x ({len(self.loud[p])})"
            for p, r in zip(READER_PATHS, ratios, strict=True)
        )
        ack = sorted(burst.latencies)
        verdict = "" if worst <= P95_GOAL else " MISSES"
        line = (
            f"   {self.rate:>7}{burst.sent / burst.seconds:>7.0f}{dict(burst.answers)!s:>13}"
            f"{statistics.median(ack) * 1000:>9.1f} /{p95(ack) * 1000:>5.0f}{cells}"
            f"{worst:>6.2f}x{verdict}  {self.health['pending_events']} waiting, oldest "
            f"{self.health['oldest_pending_age_seconds']} s"
        )
        # Over the burst, in % of one CPU (the machine has os.cpu_count() of them).
        shares = ", ".join(f"{k} {100 * v / self.seconds:.0f}" for k, v in self.cpu.items())
        extra = [f"CPU % over the burst: {shares} (of {100 * (os.cpu_count() or 1)})"]
        if self.failed_reads:
            extra.append(f"{self.failed_reads} reads not answered 200")
        if self.levels:
            extra.append(f"worker log {dict(self.levels)}")
        return line + "\n" + " " * 14 + "; ".join(extra)
