"""bench/suite.py: it runs each checkout's own pytest command, through its own
Makefile, and reads pytest's summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.suite import ROOT, SUMMARY, pytest_command, run_suite

MAKEFILE = f"""BIN := {Path(sys.executable).parent}
export FROM_THE_MAKEFILE := yes

lint:
\techo not this one -m pytest

test: lint
\techo lint first
\t$(BIN)/python -m pytest -q -p no:cacheprovider
"""

ENVIRONMENT_TEST = """import os

def test_the_makefiles_environment():
    assert os.environ["FROM_THE_MAKEFILE"] == "yes"
    assert os.environ["CI"] == "true"
"""


def test_the_pytest_line_is_the_test_targets_own():
    assert pytest_command(ROOT) == "$(BIN)/python -m pytest -n 2"


def test_a_makefile_without_one_is_refused(tmp_path):
    (tmp_path / "Makefile").write_text("test:\n\techo no tests here\n")
    with pytest.raises(SystemExit, match="no pytest line"):
        pytest_command(tmp_path)


@pytest.mark.parametrize(
    "output, summary",
    [
        (
            "..\n==== 1774 passed, 5 skipped in 1298.73s (0:21:38) ====\n",
            "1774 passed, 5 skipped in 1298.73s (0:21:38)",
        ),
        ("FAILED x\n== 2 failed, 9 passed in 3.10s ==\n", "2 failed, 9 passed in 3.10s"),
        (
            "2985 passed, 8 skipped in 784.35s (0:13:04)\n",
            "2985 passed, 8 skipped in 784.35s (0:13:04)",
        ),
    ],
)
def test_pytests_summary_is_read_with_or_without_rules(output, summary):
    assert SUMMARY.findall(output) == [summary]


@pytest.mark.slow
def test_a_checkout_runs_through_its_own_makefile(tmp_path):
    (tmp_path / "Makefile").write_text(MAKEFILE)
    (tmp_path / "test_env.py").write_text(ENVIRONMENT_TEST)
    wall, summary = run_suite(tmp_path, ["test_env.py"], tmp_path / "run.log")
    assert summary.startswith("1 passed in "), (tmp_path / "run.log").read_text()
    assert "lint first" not in (tmp_path / "run.log").read_text()  # only the pytest line
    assert wall > 0

    (tmp_path / "test_env.py").write_text("def test_fails():\n    assert False\n")
    _, summary = run_suite(tmp_path, ["test_env.py"], tmp_path / "run.log")
    assert summary.startswith("1 failed in ")
