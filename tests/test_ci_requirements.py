"""Under CI=true a missing PostgreSQL, Redis, Chromium or cluster tool fails the run.

Locally those tests are skipped, saying why; in CI a skip would let the run
pass without them.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def set_ci(monkeypatch, value: str | None) -> None:
    """`CI=value`, or no CI variable at all for None."""
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)


def run_database_test(tmp_path, ci: bool) -> subprocess.CompletedProcess:
    """Run a one-test pytest session on PostgreSQL with an unreachable TEST_DATABASE_URL."""
    test = tmp_path / "test_needs_postgresql.py"
    test.write_text("def test_uses_the_database(database):\n    assert database\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(TEST_DATABASE_URL=UNREACHABLE_PG, PYTHONPATH=str(ROOT))
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "-p", "tests.conftest", "-k", "postgresql", str(test)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_without_postgresql_ci_fails_saying_why(tmp_path):
    done = run_database_test(tmp_path, ci=True)
    assert done.returncode != 0, done.stdout
    assert "CI=true, so failing rather than skipping" in done.stdout
    assert "PostgreSQL tests need postgresql://postgres@127.0.0.1:1/test" in done.stdout
    assert "1 error" in done.stdout


@pytest.mark.slow
def test_without_postgresql_a_local_run_skips_saying_why(tmp_path):
    done = run_database_test(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "PostgreSQL tests need postgresql://postgres@127.0.0.1:1/test" in done.stdout


def outcome(check) -> tuple[str, str]:
    """What `check()` made of the test: ("failed" or "skipped", why), or ("ran", "")."""
    try:
        check()
    except pytest.fail.Exception as failed:
        return "failed", str(failed)
    except pytest.skip.Exception as skipped:
        return "skipped", str(skipped)
    return "ran", ""


@pytest.mark.parametrize(("ci", "expected"), [("true", "failed"), (None, "skipped")])
def test_without_redis(monkeypatch, ci, expected):
    monkeypatch.setattr(conftest, "REDIS_URL", "redis://127.0.0.1:1")
    set_ci(monkeypatch, ci)
    result, why = outcome(conftest.redis_server)
    assert result == expected
    assert "Redis tests need redis://127.0.0.1:1," in why


@pytest.mark.parametrize(("ci", "expected"), [("true", "failed"), (None, "skipped")])
def test_without_chromium(monkeypatch, tmp_path, ci, expected):
    missing = str(tmp_path / "chromium")
    monkeypatch.setattr(conftest, "CHROMIUM", missing)
    set_ci(monkeypatch, ci)
    result, why = outcome(conftest.chromium_path)
    assert result == expected
    assert f"browser tests need {missing}" in why


@pytest.mark.parametrize(("ci", "expected"), [("true", "failed"), (None, "skipped")])
def test_without_cluster_tools(monkeypatch, ci, expected):
    monkeypatch.setattr("shutil.which", lambda name: None)
    set_ci(monkeypatch, ci)
    result, why = outcome(conftest.require_cluster_tools)
    assert result == expected
    assert "needs pg_createcluster" in why


@pytest.mark.parametrize("ci", ["", "false", "1", "TRUE"])
def test_only_ci_true_turns_skips_into_failures(monkeypatch, ci):
    set_ci(monkeypatch, ci)
    assert outcome(lambda: conftest.unavailable("needs something"))[0] == "skipped"
