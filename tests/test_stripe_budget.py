"""The workers' Stripe budget: at most N requests a second, shared through the storage."""

import itertools
import threading
import time

import pytest
import redis

from support.stripe_budget import Budget
from tests.conftest import REDIS_URL, redis_server


def spend_all(budgets: list[Budget], count: int) -> float:
    """Spend `count` requests spread over `budgets` from as many threads; seconds taken."""
    started = time.monotonic()
    threads = [threading.Thread(target=budgets[n % len(budgets)].spend) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return time.monotonic() - started


@pytest.mark.slow
def test_the_budget_holds_a_burst_to_its_rate():
    budget = Budget("memory://", per_second=5)
    # One every 0.2 s: the 12th leaves 2.2 s after the first.
    assert 2.1 <= spend_all([budget], 12) < 3.5


@pytest.mark.slow
def test_reads_leave_evenly_not_in_bursts():
    budget = Budget("memory://", per_second=10)
    leaving: list[float] = []

    def read() -> None:
        budget.spend()
        leaving.append(time.monotonic())

    threads = [threading.Thread(target=read) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    leaving.sort()
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(leaving))
    # Evenly, one every 0.1 s (a thread may note its time a little late on a busy machine).
    assert gaps[len(gaps) // 2] >= 0.09
    busiest = max(sum(1 for t in leaving if start <= t < start + 1) for start in leaving)
    assert busiest <= 11


@pytest.mark.slow
def test_workers_share_one_count_through_redis():
    redis_server()
    uri = f"{REDIS_URL}/15"
    redis.Redis.from_url(uri).flushdb()
    two_workers = [Budget(uri, per_second=4), Budget(uri, per_second=4)]
    # Each alone would let its 4 through within 0.75 s; sharing the window, the
    # second four wait for the first to leave it.
    assert 1.0 <= spend_all(two_workers, 8) < 2.5
