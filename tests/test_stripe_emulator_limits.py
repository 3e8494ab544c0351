"""Stripe emulator: latency, the requests-per-second limit, stalls, Stripe-Should-Retry, counters.

Each test runs its own emulator (port 0) so the knobs never leak into the shared one,
and talks to it with the real ``stripe`` library over HTTP.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import stripe

from devtools.stripe_emulator import Emulator, EmulatorClient, EmulatorError
from tests.helpers.emulator import http

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def emu():
    """A private emulator; tests set its knobs as attributes."""
    with Emulator() as emulator:
        yield emulator


def client(emu, **http_options) -> stripe.StripeClient:
    """A StripeClient as the app builds it; ``timeout=`` shortens the read timeout."""
    http_client = stripe.RequestsClient(**http_options) if http_options else None
    return stripe.StripeClient(
        "sk_test_limits",
        base_addresses={"api": emu.url},
        max_network_retries=0,
        http_client=http_client,
    )


def timed(call) -> float:
    """Seconds ``call()`` took."""
    start = time.monotonic()
    call()
    return time.monotonic() - start


def in_threads(call, n: int) -> list:
    """Run ``call()`` in ``n`` threads at once; each result or exception, in thread order."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_latency_delays_each_api_call_and_concurrent_calls_overlap(emu):
    sc = client(emu)
    sc.v1.customers.list()  # open the keep-alive connection outside the timings
    emu.latency = 0.2
    assert timed(sc.v1.customers.list) >= 0.2
    elapsed = timed(lambda: in_threads(sc.v1.customers.list, 5))
    # Five calls serialised would take a second; overlapping they take one latency.
    assert 0.2 <= elapsed < 0.6
    # Helpers and hosted pages are not Stripe API calls: no latency there.
    assert timed(lambda: http("GET", f"{emu.url}/_emulator/now")) < 0.15
    assert timed(lambda: http("GET", f"{emu.url}/c/pay/cs_test_missing")) < 0.15
    stats = emu.api_stats()
    assert (stats["requests"], stats["accepted"], stats["refused"]) == (7, 7, 0)


@pytest.mark.slow
def test_rate_limit_refuses_over_limit_without_side_effects_then_recovers(emu):
    sc = client(emu)
    emu.max_requests_per_second = 2
    emu.fail_next(status=429, type="invalid_request_error", code="rate_limit")
    with pytest.raises(stripe.RateLimitError):
        sc.v1.customers.create(params={"email": "first@example.com"})  # injected, accepted
    sc.v1.customers.create(params={"email": "second@example.com"})
    emu.fail_next(status=500)
    emu.stall_next(5)
    with pytest.raises(stripe.RateLimitError) as caught:
        sc.v1.customers.create(params={"email": "refused@example.com"})
    error = caught.value
    assert error.http_status == 429
    assert (error.error.type, error.error.code) == ("invalid_request_error", "rate_limit")
    assert error.error.message.startswith("Request rate limit exceeded")
    # The refused call created nothing and used up neither the failure nor the stall.
    assert [c["email"] for c in emu.state()["objects"]["customer"]] == ["second@example.com"]
    assert len(emu.failures) == 1
    stats = emu.api_stats(timestamps=True)
    assert stats["pending_stalls"] == 1
    assert {k: stats[k] for k in ("requests", "accepted", "refused", "injected")} == {
        "requests": 3,
        "accepted": 2,
        "refused": 1,
        "injected": 1,
    }
    assert stats["statuses"] == {"200": 1, "429": 2}
    assert stats["peak_per_second"] == 2 and len(stats["accepted_at"]) == 2

    emu.reset()  # drops the failure and the stall; keeps the limit
    assert emu.max_requests_per_second == 2
    sc.v1.customers.list()
    time.sleep(0.3)
    sc.v1.customers.list()
    with pytest.raises(stripe.RateLimitError):
        sc.v1.customers.list()
    # The window slides: a second after the first accepted call there is room for one
    # more, while the second one still counts.
    first = emu.api_stats(timestamps=True)["accepted_at"][0]
    time.sleep(max(0.0, first + 1.0 - time.monotonic()) + 0.02)
    sc.v1.customers.list()
    with pytest.raises(stripe.RateLimitError):
        sc.v1.customers.list()
    stats = emu.api_stats()
    assert (stats["accepted"], stats["refused"], stats["injected"]) == (3, 2, 0)


def test_rate_limit_holds_under_concurrency(emu):
    sc = client(emu)
    emu.max_requests_per_second = 4
    results = in_threads(sc.v1.customers.list, 10)
    refused = [r for r in results if isinstance(r, stripe.RateLimitError)]
    assert len(refused) == 6 and len(results) - len(refused) == 4
    stats = emu.api_stats()
    assert (stats["accepted"], stats["refused"], stats["requests"]) == (4, 6, 10)
    assert stats["statuses"] == {"200": 4, "429": 6}
    emu.max_requests_per_second = 0  # 0 means no limit
    assert emu.max_requests_per_second is None
    assert all(not isinstance(r, Exception) for r in in_threads(sc.v1.customers.list, 10))


def test_should_retry_header_on_injected_failures(emu):
    sc = client(emu)
    emu.fail_next(status=503, should_retry=True)
    emu.fail_next(status=400, type="invalid_request_error", should_retry=False)
    emu.fail_next(status=500)
    with pytest.raises(stripe.APIError) as caught:
        sc.v1.customers.list()
    assert caught.value.headers["Stripe-Should-Retry"] == "true"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.customers.list()
    assert caught.value.http_status == 400
    assert caught.value.headers["Stripe-Should-Retry"] == "false"
    with pytest.raises(stripe.APIError) as caught:
        sc.v1.customers.list()
    assert "Stripe-Should-Retry" not in caught.value.headers
    # stripe-python obeys the header: a 500 marked "false" is not retried.
    emu.fail_next(status=500, should_retry=False, count=2)
    retrying = stripe.StripeClient(
        "sk_test_limits", base_addresses={"api": emu.url}, max_network_retries=2
    )
    with pytest.raises(stripe.APIError):
        retrying.v1.customers.list()
    assert len(emu.failures) == 1
    assert emu.api_stats()["injected"] == 4


def test_stall_next_times_out_a_short_timeout_client(emu):
    impatient = client(emu, timeout=0.3)
    emu.stall_next(0.6)
    start = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.customers.create(params={"email": "lost@example.com"})
    assert time.monotonic() - start < 0.55
    # The call still ran once its stall was over, as when Stripe's answer is lost.
    assert emu.wait_answered(5)
    assert [c["email"] for c in emu.state()["objects"]["customer"]] == ["lost@example.com"]
    assert impatient.v1.customers.list().data[0].email == "lost@example.com"
    stats = emu.api_stats()
    assert (stats["stalled"], stats["pending_stalls"], stats["accepted"]) == (1, 0, 2)


def test_reset_clears_failures_stalls_and_counters_but_keeps_settings():
    with Emulator(latency=0.05, max_requests_per_second=2) as emu:
        sc = client(emu)
        sc.v1.customers.list()
        sc.v1.customers.list()
        emu.fail_next(count=3)
        emu.stall_next(5, count=2)
        emu.reset()
        stats = emu.api_stats()
        assert emu.failures == [] and stats["pending_stalls"] == 0
        assert (stats["requests"], stats["accepted"], stats["refused"]) == (0, 0, 0)
        assert (emu.latency, emu.max_requests_per_second) == (0.05, 2)
        # A full budget again, no stall, no failure: the next call answers at once.
        assert 0.05 <= timed(sc.v1.customers.list) < 1.0


def test_helper_routes_change_knobs_and_read_counters(emu):
    sc = client(emu)
    remote = EmulatorClient(emu.url)
    settings = remote.configure(latency=0.1, max_requests_per_second=5)
    assert settings["latency"] == 0.1 and settings["max_requests_per_second"] == 5
    assert (emu.latency, emu.max_requests_per_second) == (0.1, 5)
    assert timed(sc.v1.customers.list) >= 0.1
    remote.configure(latency=0, max_requests_per_second=0)
    assert (emu.latency, emu.max_requests_per_second) == (0.0, None)
    with pytest.raises(EmulatorError) as caught:
        remote.configure(latency=-1)
    assert caught.value.status == 400

    remote.fail_next(status=502, should_retry=True)
    with pytest.raises(stripe.APIError) as failed:
        sc.v1.customers.list()
    assert failed.value.headers["Stripe-Should-Retry"] == "true"
    remote.stall_next(0.6)
    with pytest.raises(stripe.APIConnectionError):
        client(emu, timeout=0.2).v1.customers.list()
    assert emu.wait_answered(5)

    stats = remote.api_stats(timestamps=True)
    assert {k: stats[k] for k in ("requests", "accepted", "refused", "injected", "stalled")} == {
        "requests": 3,
        "accepted": 3,
        "refused": 0,
        "injected": 1,
        "stalled": 1,
    }
    assert stats["statuses"] == {"200": 2, "502": 1}
    assert sum(stats["accepted_per_second"]) == 3 and len(stats["accepted_at"]) == 3
    assert "accepted_at" not in remote.api_stats()
    remote.reset_api_stats()
    assert remote.api_stats()["requests"] == 0
    status, _, body = http("GET", f"{emu.url}/_emulator/api_stats?timestamps=1")
    assert status == 200 and json.loads(body)["accepted_at"] == []


@pytest.mark.slow
def test_cli_flags_set_latency_and_limit():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.stripe_emulator",
            "--port",
            "0",
            "--latency",
            "0.05",
            "--max-rps",
            "25",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        stats = EmulatorClient(url).api_stats()
        assert (stats["latency"], stats["max_requests_per_second"]) == (0.05, 25)
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
