"""The worker (`flask --app wsgi stripe worker`) as its own process, as deployed."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

from bench.servers import FLASK, ROOT
from bench.webhook_bench.database import Database
from bench.webhook_bench.processes import stop, wait_until


class Worker:
    """`flask --app wsgi stripe worker` as its own process, logging to a file."""

    def __init__(self, db: Database, env: dict, threads: int, log: Path):
        self.db = db
        self.log = log
        self.offset = log.stat().st_size if log.exists() else 0
        self.process = subprocess.Popen(
            [*FLASK, "stripe", "worker", "--threads", str(threads)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )

    def wait_ready(self, timeout: float = 30) -> None:
        """Block until its heartbeat is stored (its threads are running by then)."""
        if wait_until(self.beating, timeout, self.process) is None:
            raise SystemExit(f"the worker did not start; see {self.log}")

    def beating(self) -> bool:
        """Whether this process stored its heartbeat."""
        beats = self.db.scalar(
            "SELECT count(*) FROM worker_heartbeat WHERE name LIKE :name",
            name=f"%:{self.process.pid}",
        )
        return bool(beats)

    def stop(self) -> Counter:
        """SIGTERM (it finishes the events in hand); its log's lines by level since start."""
        stop(self.process)
        text = self.log.read_bytes()[self.offset :].decode(errors="replace")
        return Counter(
            level for line in text.splitlines() for level in ("WARNING", "ERROR") if level in line
        )
