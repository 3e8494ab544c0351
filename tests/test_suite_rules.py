"""How the suite itself is put together: which tests run on which database, which
count as browser tests, and where shared helpers live."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"

SAMPLE = """
import pytest

def test_pure():
    pass

def test_drives_chromium(page):
    pass

def test_drives_chromium_with_the_app(page, app):
    pass

def test_through_a_live_server(live_server):
    pass

@pytest.mark.one_database
def test_needs_only_the_app_context(app):
    pass

def test_queries(app):
    pass
"""


def run_sample(tmp_path, source: str, *options: str) -> subprocess.CompletedProcess:
    """pytest run on `source` (a test module) with this suite's conftest, in one process."""
    test = tmp_path / "test_sample.py"
    test.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "-p", "no:xdist", *options, str(test)],
        cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def collected(tmp_path, *options: str) -> set[str]:
    """The test ids a pytest run of SAMPLE with this suite's conftest would run."""
    done = run_sample(tmp_path, SAMPLE, "--collect-only", *options)
    assert done.returncode in (0, 5), done.stdout + done.stderr  # 5: nothing selected
    return {line.split("::")[1] for line in done.stdout.splitlines() if "::" in line}


@pytest.mark.slow
def test_only_database_tests_run_on_both_databases(tmp_path):
    assert collected(tmp_path) == {
        "test_pure",
        "test_drives_chromium",
        "test_drives_chromium_with_the_app[sqlite]",
        "test_needs_only_the_app_context[sqlite]",
        "test_queries[sqlite]",
        "test_queries[postgresql]",
        "test_through_a_live_server[sqlite]",
        "test_through_a_live_server[postgresql]",
    }


@pytest.mark.slow
def test_a_test_using_the_browser_is_a_browser_test_without_saying_so(tmp_path):
    assert collected(tmp_path, "-m", "browser") == {
        "test_drives_chromium",
        "test_drives_chromium_with_the_app[sqlite]",
    }


@pytest.mark.slow
def test_the_fast_loop_runs_no_browser_no_postgresql_and_no_live_server(tmp_path):
    quick = "not browser and not pgcluster and not slow"
    fast = collected(tmp_path, "--databases", "sqlite", "-m", quick)
    assert fast == {"test_pure", "test_needs_only_the_app_context[sqlite]", "test_queries[sqlite]"}


@pytest.mark.slow
def test_a_one_database_test_that_queries_fails(tmp_path):
    done = run_sample(
        tmp_path,
        "import pytest\n"
        "from support.extensions import db\n"
        "from support.models import Supporter\n\n"
        "@pytest.mark.one_database\n"
        "def test_needs_no_database(app):\n"
        "    assert app.config['TESTING']\n\n"
        "@pytest.mark.one_database\n"
        "def test_reads_supporters(app):\n"
        "    assert db.session.query(Supporter).count() == 0\n",
    )
    assert re.search(r"2 passed, .*1 error", done.stdout), done.stdout + done.stderr
    assert "ERROR at teardown of test_reads_supporters[sqlite]" in done.stdout
    assert "marked one_database, yet ran SQL (so it needs both databases): SELECT" in done.stdout


SHARED = """
import pytest

def test_adds_a_route(app):
    app.add_url_rule("/added", "added", lambda: "x")

def test_changes_the_app(app, client):
    app.config["SUPPORT_PRESETS"].append(999)
    app.config["SOMETHING_NEW"] = 1
    app.extensions["kept_by_a_test"] = 1
    client.get("/en/")

def test_finds_it_as_built(app):
    assert 999 not in app.config["SUPPORT_PRESETS"] and "SOMETHING_NEW" not in app.config
    assert "kept_by_a_test" not in app.extensions

@pytest.mark.own_app
def test_adds_a_route_to_its_own_app(app, client):
    app.add_url_rule("/added", "added", lambda: "added")
    assert client.get("/added").get_data(as_text=True) == "added"
"""


def test_the_shared_app_is_put_back_and_keeps_no_added_route(tmp_path):
    """Tests share one app per database: a change to its settings or kept values does
    not reach the next test; a route added to it fails the test that added it."""
    done = run_sample(tmp_path, SHARED, "--databases", "sqlite")
    # (Once the app has served a request, Flask itself refuses new routes.)
    assert re.search(r"4 passed, .*1 error", done.stdout), done.stdout + done.stderr
    assert "ERROR at teardown of test_adds_a_route[sqlite]" in done.stdout
    assert "added routes to the app the tests share: mark the test own_app" in done.stdout


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_test_module_imports_another():
    """Shared helpers live in tests/helpers (or conftest and factories, imported as
    `tests.…`): importing a test module runs its collection twice and hides what is shared."""
    wrong = {
        path.name: sorted(
            name
            for name in imported_modules(path)
            if name.rsplit(".", 1)[-1].startswith("test_") or name == "conftest"
        )
        for path in sorted(TESTS.rglob("*.py"))
    }
    assert {name: found for name, found in wrong.items() if found} == {}
