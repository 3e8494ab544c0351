"""The workers' Stripe budget: at most N requests a second, shared through the storage."""

import itertools
import threading
import time

import pytest
import redis

from support.stripe_budget import READERS_KEY, Budget
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


# The readers' share: the same window, under its own key, and never waited for.


def test_the_readers_share_refuses_past_its_rate_at_once_and_frees_within_a_second():
    readers = Budget("memory://", per_second=3, key=READERS_KEY)
    started = time.monotonic()
    taken = [readers.try_spend() for _ in range(5)]
    assert taken[:3] == [0.0] * 3
    # Past the share: no place taken, no waiting, and when there will be room.
    assert all(0 < wait <= 1.0 for wait in taken[3:])
    assert time.monotonic() - started < 0.2
    time.sleep(taken[-1] + 0.02)
    assert readers.try_spend() == 0.0


def test_readers_in_threads_never_get_more_than_the_share():
    readers = Budget("memory://", per_second=10, key=READERS_KEY)
    results: list[float] = []
    threads = [
        threading.Thread(target=lambda: results.append(readers.try_spend())) for _ in range(40)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results.count(0.0) == 10


def redis_uri() -> str:
    """An emptied Redis database for these tests (another than the workers' test's)."""
    redis_server()
    uri = f"{REDIS_URL}/13"
    redis.Redis.from_url(uri).flushdb()
    return uri


def test_web_processes_share_the_readers_count_through_redis():
    uri = redis_uri()
    two_processes = [Budget(uri, per_second=4, key=READERS_KEY) for _ in range(2)]
    taken = [two_processes[n % 2].try_spend() == 0.0 for n in range(6)]
    assert taken == [True] * 4 + [False] * 2
    stored = [key.decode() for key in redis.Redis.from_url(uri).scan_iter("*")]
    assert any(READERS_KEY in key for key in stored), stored


def test_readers_and_workers_keep_to_their_own_shares():
    uri = redis_uri()
    readers = Budget(uri, per_second=2, key=READERS_KEY)
    workers = Budget(uri, per_second=2)
    workers.spend()
    workers.spend()
    # The workers' window is full, and readers still get their own places...
    assert [readers.try_spend() == 0.0 for _ in range(3)] == [True, True, False]
    # ...while the readers' full share does not hold the workers: their own window
    # frees first (their first read leaves it), before the readers' does.
    workers.spend()
    assert readers.try_spend() > 0
