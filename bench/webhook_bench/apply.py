"""Phase 2: one worker process draining the whole history against the emulator, and
the checks that every event was applied once and the ledger matches Stripe's."""

from __future__ import annotations

import statistics
import time
from collections import Counter

from bench.webhook_bench.database import Database
from bench.webhook_bench.history import STRIPE_LIMIT, expected_ledger, whole_history
from bench.webhook_bench.processes import CpuMeter, cpu_line, wait_until
from bench.webhook_bench.setup import Setup
from bench.webhook_bench.traffic import post_all

BUSY_GOAL = 0.8
DONE = ("processed", "ignored")


def phase_apply(setup: Setup) -> None:
    """2. The worker draining the history: events/s, requests per event, the budget's use."""
    args = setup.args
    expected = expected_ledger(setup.emulator)
    print(
        f"\n2. Apply throughput: the whole history ({len(setup.history)} events, delivered "
        f"with the worker stopped) drained by one worker process; emulator limit "
        f"{STRIPE_LIMIT} requests/s, STRIPE_MAX_REQUESTS_PER_SECOND={args.budget} "
        f"(RATELIMIT_STORAGE_URI memory://). seconds: from the first Stripe request to the "
        "last event applied; req/s: accepted Stripe requests in each whole second of that, "
        f"mean (and min-max); busy = req/s ÷ {args.budget} (goal ≥ {BUSY_GOAL:.0%}); peak: "
        "most in any sliding second; 429s: refused (goal 0)."
    )
    print(f"   ledger expected from the emulator's objects: {expected}")
    print(
        f"   {'database':<11}{'latency':>8}{'threads':>8}{'seconds':>8}{'events/s':>9}"
        f"{'req/event':>10}{'req/s':>7}{'busy':>6}{'min-max':>8}{'peak':>5}{'429s':>5}"
    )
    for db in setup.databases:
        for latency in args.latencies:
            for threads in args.threads:
                found = drain(setup, db, latency, threads)
                name = f"{db.label} {latency * 1000:.0f}ms x{threads}"
                report_drain(setup, db, latency, threads, found, expected, name)


def drain(setup: Setup, db: Database, latency: float, threads: int) -> dict:
    """Deliver the whole history, then time the worker applying it; its figures."""
    args = setup.args
    db.empty(args.old_events)
    setup.emulator.configure(latency=0.0, max_requests_per_second=STRIPE_LIMIT)
    bodies = whole_history(setup.history, f"evt_apply_{threads}_{int(latency * 1000)}")
    _, got = post_all(setup.webhook_url(db.label), bodies, args.clients)
    events = len(setup.history)
    if set(got) != {200} or db.events() != {"pending": events}:
        raise SystemExit(f"storing the history failed: {got}, {db.events()}")
    # Statistics that see the backlog, as they are once autovacuum analyzed the table
    # during a long one: the claim's query plan may change with them.
    db.analyze()
    setup.emulator.configure(latency=latency, max_requests_per_second=STRIPE_LIMIT)
    setup.emulator.reset_api_stats()
    worker = setup.start_worker(db, threads)
    try:
        worker.wait_ready()
        # Metered from here: the worker's start-up (imports) is no event's cost.
        meter = CpuMeter(setup.cpu_groups(db, db.label, worker))
        meter.start()
        started = time.monotonic()
        finished = wait_until(lambda: db.waiting() == 0, args.drain_timeout, worker.process)
        first_pass = db.events()
        settled = finished
        if finished is not None and first_pass.get("failed"):
            # A failed attempt is retried after its backoff (15 s for a passing Stripe
            # trouble, then the worker's next look): wait for it, to see how it ends.
            settled = wait_until(
                lambda: db.waiting() == 0 and not db.events().get("failed"),
                args.retry_wait,
                worker.process,
            )
        used = meter.stop()
        stats = setup.emulator.api_stats(timestamps=True)
    finally:
        levels = worker.stop()
    accepted = sorted(stats["accepted_at"])
    figures = {
        "events": events,
        "first_pass": first_pass,
        "statuses": db.events(),
        "retried": db.scalar("SELECT count(*) FROM stripe_event WHERE attempts <> 1"),
        "ledger": db.ledger(),
        "accepted": stats["accepted"],
        "refused": stats["refused"],
        "peak": stats["peak_per_second"],
        "log": dict(levels),
        "cpu": used,
        "settled": settled is not None,
    }
    if finished is None or not accepted:
        return figures
    # The drain: from the first Stripe request to the moment nothing waited any more.
    begin = min(accepted[0], finished)
    seconds = finished - begin
    drained = [at for at in accepted if at <= finished]
    # Requests in each whole second of the drain (the last, partial one left out: a
    # moving window lets a full second's budget through at any instant, so a partial
    # second would overstate the rate).
    buckets = Counter(int(at - begin) for at in drained)
    whole = [buckets.get(s, 0) for s in range(int(seconds))] or [len(drained) / seconds]
    applied = sum(n for s, n in first_pass.items() if s in DONE)
    figures.update(
        seconds=seconds,
        startup=begin - started,
        rate=applied / seconds,
        per_event=stats["accepted"] / events,
        rps=statistics.mean(whole),
        busy=statistics.mean(whole) / args.budget,
        seconds_range=(min(whole), max(whole)),
    )
    return figures


def report_drain(setup, db, latency, threads, found, expected, name) -> None:
    """Print one drain's figures and checks; note what missed."""
    args = setup.args
    if "seconds" in found:
        low, high = found["seconds_range"]
        print(
            f"   {db.label:<11}{latency * 1000:>6.0f}ms{threads:>8}{found['seconds']:>8.1f}"
            f"{found['rate']:>9.1f}{found['per_event']:>10.2f}{found['rps']:>7.1f}"
            f"{found['busy']:>6.0%}{f'{low:g}-{high:g}':>8}{found['peak']:>5}{found['refused']:>5}"
        )
        if found["busy"] < BUSY_GOAL:
            setup.misses.append(f"budget use {name}: {found['busy']:.0%}")
    else:
        print(f"   {name}: NOT drained within {args.drain_timeout:g}s")
        setup.failures.append(f"drain {name}: not finished")
    done = sum(n for s, n in found["statuses"].items() if s in DONE)
    once = done == found["events"]
    sane = found["ledger"] == expected
    first = found["first_pass"]
    print(
        f"   {'':<11}events {found['statuses']}"
        + (f" (first pass {first})" if first != found["statuses"] else "")
        + f"; {found['retried']} took more than one attempt; "
        + ("each applied" if once else "NOT each applied")
        + "; ledger "
        + ("matches Stripe" if sane else f"DIFFERS: {found['ledger']}")
        + f"; worker log {found['log'] or 'no warnings'}"
    )
    # The web server idles and the clients here only poll the database: left out.
    cpu = {k: v for k, v in found["cpu"].items() if k in ("worker", "PostgreSQL", "emulator")}
    print(f"   {'':<11}{cpu_line(cpu, found['events'], 'event')}")
    if found["refused"]:
        setup.misses.append(f"429s {name}: {found['refused']}")
    if not once:
        setup.failures.append(f"events {name}: {found['statuses']}")
    elif found["retried"]:
        setup.misses.append(f"first attempts {name}: {found['retried']} events retried")
    if not sane:
        setup.failures.append(f"ledger {name}: {found['ledger']}")
