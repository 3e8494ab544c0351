"""Phase 1: deliveries acknowledged per second by the web process alone, against an
endpoint that only verifies the signature."""

from __future__ import annotations

import statistics
from collections import Counter

from bench.webhook_bench.history import deliveries
from bench.webhook_bench.processes import CpuMeter, cpu_line
from bench.webhook_bench.setup import Setup
from bench.webhook_bench.traffic import post_all

ACK_GOAL = 0.5


def phase_ack(setup: Setup) -> None:
    """1. Deliveries per second answered 200, app against the signature-only baseline."""
    args = setup.args
    targets = ["baseline", *(db.label for db in setup.databases)]
    print(
        f"\n1. Acknowledgement throughput: {args.ack_deliveries} deliveries per round "
        f"(one in ten twice) from {args.clients} client threads, {args.rounds} "
        "rounds alternating the servers; the worker is NOT running (the web process alone)."
    )
    rates: dict[str, list[float]] = {name: [] for name in targets}
    cpu: dict[str, Counter] = {name: Counter() for name in targets}
    answers: dict[str, Counter] = {name: Counter() for name in targets}
    for name in targets:  # warm every gunicorn worker and connection pool
        warm = deliveries(setup.history, args.clients * 5, f"evt_warm_{name}")
        post_all(setup.webhook_url(name), warm, args.clients)
    for round_ in range(args.rounds):
        for name in targets:
            db = next((d for d in setup.databases if d.label == name), None)
            bodies = deliveries(setup.history, args.ack_deliveries, f"evt_ack_{round_}_{name}")
            meter = CpuMeter(setup.cpu_groups(db, name))
            meter.start()
            seconds, got = post_all(setup.webhook_url(name), bodies, args.clients)
            cpu[name].update(meter.stop())
            answers[name].update(got)
            rates[name].append(len(bodies) / seconds)
    baseline = statistics.median(rates["baseline"])
    print(f"   {'server':<26}{'deliveries/s':>13}{'vs baseline':>13}   rounds; answers")
    for name in targets:
        rate = statistics.median(rates[name])
        ratio = rate / baseline
        label = "baseline (verify only)" if name == "baseline" else f"app on {name}"
        verdict = ""
        if name != "baseline":
            verdict = "meets" if ratio >= ACK_GOAL else "MISSES"
            verdict = f" {verdict} ≥ {ACK_GOAL}x"
            if ratio < ACK_GOAL:
                setup.misses.append(f"acknowledgement on {name}: {ratio:.2f}x baseline")
        every = ", ".join(f"{r:.0f}" for r in rates[name])
        print(
            f"   {label:<26}{rate:>13.0f}{ratio:>12.2f}x{verdict}   [{every}]; "
            f"{dict(answers[name])}"
        )
        total = args.ack_deliveries * args.rounds
        cpu[name].pop("emulator", None)  # the emulator has nothing to do in this phase
        print(f"   {'':<26}{cpu_line(cpu[name], total, 'delivery')}")
        if set(answers[name]) != {200}:
            setup.failures.append(f"acknowledgement on {name}: answers {dict(answers[name])}")
    for db in setup.databases:
        print(f"   events stored on {db.label}: {db.events()}")
