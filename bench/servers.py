"""What the benchmarks start alike: free ports, the schema, gunicorn.

Every server in a run uses the same command line, so that a ratio between two
of them measures the apps and nothing else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gunicorn.config import KNOWN_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
# The interpreter running the benchmark (the project's virtualenv) runs its servers too.
FLASK = (sys.executable, "-m", "flask", "--app", "wsgi")


def free_port() -> int:
    """A port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def migrate(env: dict) -> None:
    """Build the schema of `env`'s DATABASE_URL with the real migrations."""
    subprocess.run(
        [*FLASK, "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


def start_gunicorn(
    app: str,
    port: int,
    workers: int,
    env: dict,
    extra: Sequence[str] = (),
    stdout=None,
    stderr=None,
) -> subprocess.Popen:
    """gunicorn serving `app` on 127.0.0.1:`port` with `workers` sync workers.

    `env` adds to this process's environment; the project is importable.
    """
    command = [
        sys.executable, "-m", "gunicorn", app,
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--log-level", "warning", *extra,
    ]  # fmt: skip
    if any("--no-control-socket" in (s.cli or []) for s in KNOWN_SETTINGS):
        # gunicorn ≥ 25 opens a control socket at one fixed path; servers would collide.
        command.append("--no-control-socket")
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=stdout,
        stderr=stderr,
    )
