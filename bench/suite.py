"""The test suite's wall time against an earlier commit's, measured in the same run.

    .venv/bin/python bench/suite.py [--baseline 91288e7] [--runs 1] [-- PYTEST_ARGS ...]

The same suite has taken 405 s on one machine of this kind and 784 s on another:
a time taken elsewhere says little, so this runs both suites here, in turn. It
checks `--baseline` out in a temporary git worktree, sets it up with its own
Makefile (`make translations`: its own venv and catalogs), then runs, `--runs`
times each, the baseline's tests and this checkout's, each with the pytest command
its own `make test` ends with (its processes, its environment), under `CI=true` so
that a missing PostgreSQL, Redis or Chromium fails rather than skips. Lint and the
catalog check, which take a second or two, are left out. PYTEST_ARGS are added to
both commands (a few test files, for a quick try).

Prints each run's wall time and pytest's summary, and each pair's ratio (this
checkout's time over the baseline's). The default baseline is the last commit
before the suite was made faster: 1,774 tests in one process.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "91288e7"
# pytest's last line: "=== 1774 passed, 5 skipped in 1298.73s (0:21:38) ===".
SUMMARY = re.compile(
    r"^=*\s*((?:\d+ \w+, )*\d+ (?:passed|failed)\b.* in [\d.]+s\b.*?)\s*=*$", re.MULTILINE
)
# Where `make test` runs pytest: the recipe line of the `test` target that does.
PYTEST_LINE = re.compile(r"^test:.*?\n((?:\t.*\n)+)", re.MULTILINE)


def pytest_command(checkout: Path) -> str:
    """The pytest line of `checkout`'s `make test` recipe, as written in its Makefile."""
    makefile = (checkout / "Makefile").read_text()
    recipe = PYTEST_LINE.search(makefile)
    lines = [line.strip() for line in recipe.group(1).splitlines()] if recipe else []
    for line in lines:
        if " -m pytest" in line:
            return line
    raise SystemExit(f"no pytest line in the test target of {checkout / 'Makefile'}")


def run_suite(checkout: Path, extra: list[str], log: Path) -> tuple[float, str]:
    """Run `checkout`'s pytest line through its own Makefile (so its variables and
    exported environment apply); the wall seconds and pytest's summary line."""
    line = " ".join([pytest_command(checkout), *extra])
    target = log.with_suffix(".mk")
    target.write_text(f"bench-suite-pytest:\n\t{line}\n")
    env = {**os.environ, "CI": "true"}
    command = ["make", "--no-print-directory", "-f", "Makefile", "-f", str(target)]
    started = time.monotonic()
    with log.open("w") as out:
        subprocess.run(
            [*command, "bench-suite-pytest"], cwd=checkout, env=env, stdout=out, stderr=out
        )
    wall = time.monotonic() - started
    found = SUMMARY.findall(log.read_text())
    return wall, found[-1] if found else f"no pytest summary: see {log}"


def set_up(checkout: Path) -> None:
    subprocess.run(["make", "--no-print-directory", "translations"], cwd=checkout, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="a commit of this repository")
    parser.add_argument("--runs", type=int, default=1, help="runs of each suite, in turn")
    parser.add_argument("pytest_args", nargs="*", help="added to both pytest commands")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="suite-bench-"))
    baseline = work / "baseline"
    added = subprocess.run(
        ["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=ROOT
    )
    if added.returncode != 0:
        raise SystemExit(f"could not check out {args.baseline!r}: git said why above")
    try:
        print(f"setting up {args.baseline} in {baseline} and this checkout", flush=True)
        set_up(baseline)
        set_up(ROOT)
        ratios = []
        for run in range(1, args.runs + 1):
            times = {}
            for name, checkout in (("baseline", baseline), ("this checkout", ROOT)):
                log = work / f"{name.replace(' ', '-')}-{run}.log"
                wall, summary = run_suite(checkout, args.pytest_args, log)
                times[name] = wall
                print(f"run {run}, {name}: {wall:.0f} s ({summary})", flush=True)
                if " failed" in summary or "no pytest summary" in summary:
                    print("  (not a whole passing run: its time is not comparable)", flush=True)
            ratios.append(times["this checkout"] / times["baseline"])
            print(f"run {run}: this checkout / baseline = {ratios[-1]:.2f}", flush=True)
        if len(ratios) > 1:
            print(f"median ratio over {len(ratios)} runs: {statistics.median(ratios):.2f}")
        print(f"logs in {work}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT)


if __name__ == "__main__":
    main()
