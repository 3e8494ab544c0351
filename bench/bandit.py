"""How fast "optimise" finds the banner variant that brings paying supporters.

    .venv/bin/python bench/bandit.py [--runs 10]

Simulates campaigns whose variants have known paid-per-impression rates. Each
simulated hour the banner shows `--hourly` impressions split by the current
weights (as banner.js draws them), readers pay at their variant's true rate, and
the weights are recomputed with the optimiser's own code
(`support.campaigns.optimise.estimate` and `weights`), as the worker does hourly.
It prints, per scenario, how many impressions it took until the truly best variant
was, for good, 95% likely to be the best, how often the one found was the best, and
the share of impressions that went to worse variants (the price of learning),
next to showing every variant equally (the baseline).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from dataclasses import dataclass

from support.campaigns.optimise import estimate, weights

SCENARIOS = {
    # Paid supporters per impression: small numbers, as banners see.
    "one clearly better (0.2% / 0.3% / 0.5%)": [0.002, 0.003, 0.005],
    "close pair (0.30% / 0.36%)": [0.0030, 0.0036],
    "four variants (0.1% / 0.2% / 0.2% / 0.4%)": [0.001, 0.002, 0.002, 0.004],
}


@dataclass
class Outcome:
    # Impressions until the best variant was, for good, 95% likely the best (None: never).
    impressions_to_confidence: int | None
    found_best: bool
    regret_share: float  # impressions shown to a worse variant, as a share of all
    final_weights: list[float]


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Successes in n trials of probability p (geometric skips: quick for small p)."""
    if p <= 0 or n <= 0:
        return 0
    k, position, log_q = 0, 0, math.log(1 - p)
    while True:
        position += int(math.log(1 - rng.random()) / log_q) + 1
        if position > n:
            return k
        k += 1


def simulate(
    rates: list[float],
    seed: int,
    hourly: int = 2000,
    hours: int = 24 * 14,
    optimise: bool = True,
    confidence: float = 0.95,
    draws: int = 1000,
) -> Outcome:
    """One campaign's month: impressions per hour split by weight, weights hourly."""
    rng = random.Random(seed)
    names = [f"v{i}" for i in range(len(rates))]
    best = max(range(len(rates)), key=rates.__getitem__)
    shown, paid = [0] * len(rates), [0] * len(rates)
    share = [1 / len(rates)] * len(rates)
    settled = None
    for hour in range(hours):
        for i, rate in enumerate(rates):
            n = round(hourly * share[i])
            shown[i] += n
            paid[i] += binomial(rng, n, rate)
        arms = estimate(list(zip(names, shown, paid, strict=True)), draws=draws, seed=hour)
        if optimise:
            learned = weights(arms)
            share = [learned[name] for name in names]
        # Counted from the start of the last stretch in which the true best stayed
        # at least 95% likely to be the best: an early lucky crossing does not count.
        sure = arms[best].p_best >= confidence
        settled = (settled or sum(shown)) if sure else None
    found = max(range(len(arms)), key=lambda i: arms[i].p_best) == best
    worse = sum(n for i, n in enumerate(shown) if i != best)
    return Outcome(settled, found, worse / max(sum(shown), 1), share)


def summarise(rates: list[float], runs: int, optimise: bool) -> dict:
    outcomes = [simulate(rates, seed, optimise=optimise) for seed in range(runs)]
    reached = [o.impressions_to_confidence for o in outcomes if o.impressions_to_confidence]
    return {
        "median_impressions": statistics.median(reached) if reached else None,
        "confident_runs": len(reached),
        "found_best": sum(o.found_best for o in outcomes),
        "regret": statistics.mean(o.regret_share for o in outcomes),
        "best_weight": statistics.mean(
            o.final_weights[max(range(len(rates)), key=rates.__getitem__)] for o in outcomes
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for label, rates in SCENARIOS.items():
        tuned = summarise(rates, args.runs, optimise=True)
        even = summarise(rates, args.runs, optimise=False)
        print(f"\n{label}, {args.runs} runs of 14 days × 2,000 impressions/hour")
        for name, result in (("optimise", tuned), ("even split", even)):
            median = result["median_impressions"]
            print(
                f"  {name:10}  95% sure after {median or 0:>9,.0f} impressions (median, "
                f"{result['confident_runs']}/{args.runs} runs), found the best in "
                f"{result['found_best']}/{args.runs}, impressions on worse variants "
                f"{result['regret']:.0%}, best's final weight {result['best_weight']:.0%}"
            )


if __name__ == "__main__":
    main()
