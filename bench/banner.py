"""Throughput of the banner's two hot routes next to a Flask hello-world.

    .venv/bin/python bench/banner.py [--requests 4000] [--concurrency 4] [--rounds 3]

Starts two gunicorn servers with the same settings (2 sync workers on
127.0.0.1): the app (on a throw-away SQLite database) and the hello-world
below. Small client processes then send a fixed number of requests to
`/embed/banner.js` (gzip, as browsers ask), `/embed/banner.json?lang=ar` and the
hello-world, round after round so that drift hits all three alike, and print the
median requests/s and the ratio to hello-world.

Both banner routes are ordinary Flask views, so each request also runs the
app's request hooks (rate limiter, CSRF, login, session, security headers)
that the hello-world does not have. In production a CDN answers most of them;
the app only has to stay reasonably quick. Target: ≥ 0.6×.

Client and servers share the machine, so absolute figures depend on it; the
ratio is the comparable number.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import free_port, migrate, start_gunicorn  # noqa: E402

TARGET_RATIO = 0.6

hello_app = Flask("hello")


@hello_app.get("/")
def hello() -> str:
    """The baseline: the least a Flask view can do."""
    return "Hello, World!"


def wait_until_up(port: int, path: str, timeout: float = 20) -> None:
    """Poll until the server answers `path` with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer {path}")


def hammer(port: int, path: str, headers: dict, count: int) -> int:
    """Send `count` GETs (sync workers close each connection); how many were 200."""
    ok = 0
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        ok += response.status == 200
        conn.close()
    return ok


def measure(pool, port: int, path: str, headers: dict, total: int, clients: int) -> float:
    """Requests per second for `total` requests spread over `clients` processes."""
    share = total // clients
    start = time.perf_counter()
    done = sum(pool.map(hammer, *zip(*[(port, path, headers, share)] * clients, strict=True)))
    elapsed = time.perf_counter() - start
    if done != share * clients:
        raise SystemExit(f"{path}: {share * clients - done} requests failed")
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per target and round")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-banner-"))
    env = {
        "SECRET_KEY": "bench",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "SUPPORT_PUBLIC_URL": "https://support.example.org",
    }
    migrate(env)
    app_port, hello_port = free_port(), free_port()
    servers = [
        start_gunicorn("wsgi:app", app_port, args.workers, env),
        start_gunicorn(
            "banner:hello_app", hello_port, args.workers, env, extra=["--pythonpath", "bench"]
        ),
    ]
    targets = {
        "hello-world": (hello_port, "/", {}),
        "banner.js": (app_port, "/embed/banner.js", {"Accept-Encoding": "gzip"}),
        "banner.json?lang=ar": (app_port, "/embed/banner.json?lang=ar", {}),
    }
    results: dict[str, list[float]] = {name: [] for name in targets}
    try:
        wait_until_up(app_port, "/embed/banner.json?lang=ar")
        wait_until_up(hello_port, "/")
        with ProcessPoolExecutor(args.concurrency) as pool:
            for port, path, headers in targets.values():  # warm every worker
                measure(pool, port, path, headers, 200, args.concurrency)
            for _ in range(args.rounds):
                for name, (port, path, headers) in targets.items():
                    results[name].append(
                        measure(pool, port, path, headers, args.requests, args.concurrency)
                    )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)

    print(
        f"gunicorn: {args.workers} sync workers each; {args.concurrency} client processes; "
        f"{args.requests} requests x {args.rounds} rounds per target; {os.cpu_count()} CPUs"
    )
    baseline = statistics.median(results["hello-world"])
    print(f"{'target':<22}{'req/s (median)':>16}{'vs hello-world':>16}")
    ratios = []
    for name, figures in results.items():
        rate = statistics.median(figures)
        ratio = rate / baseline
        if name != "hello-world":
            ratios.append(ratio)
        print(f"{name:<22}{rate:>16.0f}{ratio:>15.2f}x")
    worst = min(ratios)
    verdict = "meets" if worst >= TARGET_RATIO else "MISSES"
    print(f"slowest banner route: {worst:.2f}x hello-world, {verdict} the {TARGET_RATIO}x target")
    return 0 if worst >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
