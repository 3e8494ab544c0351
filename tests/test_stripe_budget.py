"""The workers' Stripe budget: at most N requests a second, shared through the storage."""

import threading
import time

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


def test_the_budget_holds_a_burst_to_its_rate():
    budget = Budget("memory://", per_second=5)
    # 5 go at once, the next 5 in the next second, the last 2 in the one after.
    assert 2.0 <= spend_all([budget], 12) < 3.5


def test_workers_share_one_count_through_redis():
    redis_server()
    uri = f"{REDIS_URL}/15"
    redis.Redis.from_url(uri).flushdb()
    two_workers = [Budget(uri, per_second=4), Budget(uri, per_second=4)]
    # Each alone would let 4 through at once; together they wait their turn.
    assert 1.0 <= spend_all(two_workers, 8) < 2.5
