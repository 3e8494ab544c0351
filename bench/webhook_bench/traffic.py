"""The clients: Stripe's deliveries, as fast as answered or paced, and the readers.

Bodies are signed before the clock starts, so that the clients' own work stays
out of what they measure.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.webhook_bench.history import sign

STRIPE_CONNECTIONS = 8  # Stripe's concurrent deliveries to one endpoint
READER_PATHS = ("/en/", "/embed/banner.json?lang=en")
# A cap that keeps a reader's loop bounded in count, whatever the clock says.
MAX_READS = 100_000


def deliver(conn, parts, body: bytes, signature: str):
    """POST one delivery on `conn` (opened or reopened as needed); (conn, status).

    gunicorn's sync workers close every connection after answering, so the
    next delivery on this client opens a new one, as Stripe's would.
    """
    for attempt in range(2):
        if conn is None:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request(
                "POST",
                parts.path,
                body=body,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            )
            answer = conn.getresponse()
            answer.read()
            break
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            conn = None
            if attempt:
                raise
    if answer.will_close:
        conn.close()
        conn = None
    return conn, answer.status


def post_all(url: str, bodies: list[bytes], clients: int, limit: float = 300) -> tuple[float, dict]:
    """Post every body from `clients` threads as fast as answered; (seconds, answers by
    status). Bodies are signed before the clock starts; none is sent after `limit` s."""
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    signed = [(body, sign(body)) for body in bodies]
    parts = urlsplit(url)
    deadline = time.monotonic() + limit

    def client(chunk: list[tuple[bytes, str]]) -> None:
        conn = None
        for body, signature in chunk:
            if time.monotonic() > deadline:
                break
            conn, status = deliver(conn, parts, body, signature)
            with lock:
                answers[status] += 1

    threads = [threading.Thread(target=client, args=(signed[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, dict(answers)


@dataclass
class Burst:
    """What a paced burst of deliveries came to."""

    sent: int = 0
    seconds: float = 0.0
    answers: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def post_paced(url: str, bodies: list[bytes], rate: float, start_at: float, limit: float) -> Burst:
    """Deliver `bodies` at `rate` a second from STRIPE_CONNECTIONS connections, the
    first at `start_at` (time.monotonic()); a late client sends at once to catch up.
    Nothing is sent more than `limit` s after `start_at`."""
    signed = [(body, sign(body)) for body in bodies]
    parts = urlsplit(url)
    burst = Burst()
    lock = threading.Lock()
    ends: list[float] = []

    def client(first: int) -> None:
        conn = None
        for k in range(first, len(signed), STRIPE_CONNECTIONS):
            due = start_at + k / rate
            now = time.monotonic()
            if now > start_at + limit:
                break
            if due > now:
                time.sleep(due - now)
            sent = time.perf_counter()
            conn, status = deliver(conn, parts, *signed[k])
            took = time.perf_counter() - sent
            with lock:
                burst.sent += 1
                burst.answers[status] += 1
                burst.latencies.append(took)
        with lock:
            ends.append(time.monotonic())

    threads = [threading.Thread(target=client, args=(c,)) for c in range(STRIPE_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst.seconds = max(ends) - start_at
    return burst


def read_pages(port: int, start_at: float, end_at: float, think: float) -> list[tuple]:
    """A reader: fetch the reader paths in turn, one at a time, `think` s apart, from
    `start_at` to `end_at` (time.monotonic(), the same clock in every process on Linux);
    [(path, seconds, status)]. Runs in a process of its own."""
    samples = []
    time.sleep(max(start_at - time.monotonic(), 0))
    for n in range(MAX_READS):
        if time.monotonic() >= end_at:
            break
        path = READER_PATHS[n % len(READER_PATHS)]
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path)
            answer = conn.getresponse()
            answer.read()
            status = answer.status
        except (http.client.HTTPException, OSError):
            status = 0
        finally:
            conn.close()
        samples.append((path, time.perf_counter() - started, status))
        time.sleep(think)
    return samples


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank is too coarse for ~100 samples: interpolated)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[94]
