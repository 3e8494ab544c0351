"""What every phase works with, and what it found wrong."""

from __future__ import annotations

import argparse
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.webhook_bench.database import Database
from bench.webhook_bench.processes import process_tree
from bench.webhook_bench.worker import Worker
from devtools.stripe_emulator import EmulatorClient


@dataclass
class Setup:
    """What every phase works with."""

    args: argparse.Namespace
    tmp: Path
    emulator: EmulatorClient
    emulator_process: subprocess.Popen
    history: list[dict]
    databases: list[Database]
    servers: dict[str, tuple[subprocess.Popen, str]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)  # goals not reached
    failures: list[str] = field(default_factory=list)  # checks failed: something is wrong

    def webhook_url(self, server: str) -> str:
        """Where `server` takes Stripe's deliveries."""
        return self.servers[server][1] + "/stripe/webhook"

    def start_worker(self, db: Database, threads: int) -> Worker:
        """A worker on `db` against the emulator, logging next to the servers."""
        env = db.env(self.emulator.base_url, self.args.budget)
        return Worker(db, env, threads, self.tmp / f"worker-{db.label}.log")

    def cpu_groups(self, db: Database | None, server: str, worker=None, readers=()):
        """Process groups to meter: the web server, the worker, PostgreSQL, the rest."""

        def groups() -> dict[str, list[int]]:
            found = {"gunicorn": process_tree(self.servers[server][0].pid)}
            if worker is not None:
                found["worker"] = [worker.process.pid]
            if db is not None and db.name:
                found["PostgreSQL"] = db.backends()
            found["emulator"] = [self.emulator_process.pid]
            found["clients"] = [os.getpid(), *readers]
            return found

        return groups
