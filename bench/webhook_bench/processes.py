"""The processes a run starts and stops, and the CPU they use.

The servers, the emulator and the worker each run in a process of their own,
as in production, so that none shares a GIL with the clients measuring it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.servers import ROOT, free_port, start_gunicorn

# What a newsroom deploys (deploy/reader-support-web.service, Procfile): 4 sync workers.
GUNICORN_WORKERS = 4
# A cap that keeps every polling loop bounded in count, whatever the clock says.
MAX_POLLS = 100_000


def wait_for(url: str, timeout: float = 30) -> None:
    """Block until `url` answers at all."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_POLLS):
        if time.monotonic() > deadline:
            break
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def wait_until(done, timeout: float, process: subprocess.Popen) -> float | None:
    """Poll `done()` every 50 ms until true (its time.monotonic()), or None once
    `timeout` s passed or `process` ended."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_POLLS):
        if time.monotonic() > deadline or process.poll() is not None:
            return None
        if done():
            return time.monotonic()
        time.sleep(0.05)
    return None


def start_emulator() -> tuple[subprocess.Popen, str]:
    """The emulator in its own process, so it does not share a GIL with the clients."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url)
    return process, url


def serve(app: str, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn on 127.0.0.1 serving `app` with the settings every server here shares,
    once it answers; (process, base URL)."""
    port = free_port()
    process = start_gunicorn(
        app, port, GUNICORN_WORKERS, env, stdout=subprocess.DEVNULL, stderr=log.open("ab")
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/healthz")
    return process, url


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout` s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each of `pids` (Linux /proc)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def process_tree(pid: int) -> list[int]:
    """`pid` and its children (gunicorn's master and workers)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [pid, *map(int, found.stdout.split())]


class CpuMeter:
    """CPU seconds used by named groups of processes between `start()` and `stop()`.

    Groups are looked up again at the end: processes started meanwhile (new
    database connections, the worker) count from zero.
    """

    def __init__(self, groups):
        self.groups = groups  # () -> {name: [pid, ...]}
        self.before: dict[str, dict[int, float]] = {}

    def start(self) -> None:
        """Note what every group used so far."""
        self.before = {name: cpu_seconds(pids) for name, pids in self.groups().items()}

    def stop(self) -> dict[str, float]:
        """CPU seconds per group since `start()`."""
        return {
            name: sum(
                now - self.before.get(name, {}).get(pid, 0.0)
                for pid, now in cpu_seconds(pids).items()
            )
            for name, pids in self.groups().items()
        }


def cpu_line(used: dict[str, float], per: int, unit: str) -> str:
    """CPU milliseconds per `unit` by group."""
    parts = [f"{name} {1000 * value / per:.2f}" for name, value in used.items() if value > 0]
    return f"CPU ms per {unit}: " + ", ".join(parts)
