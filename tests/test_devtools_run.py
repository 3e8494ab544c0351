"""`make run`: the .env it writes (names asked for), the public URL following RUN_PORT,
the port check before starting, and its children stopped once."""

import os
import socket
import sys
import time

import pytest
from dotenv import dotenv_values

from devtools import run
from support.config import load_config


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    """A fresh .env written by `make run` from .env.example, in a scratch directory."""
    path = tmp_path / ".env"
    monkeypatch.setattr(run, "ENV_FILE", path)
    for name in ("RUN_PORT", "SUPPORT_PUBLIC_URL", "STRIPE_SECRET_KEY", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    run.ensure_env_file()
    return path


def test_the_written_env_has_a_random_secret_and_no_public_url(env_file):
    values = dotenv_values(env_file)
    assert len(values["SECRET_KEY"]) >= 32 and values["SECRET_KEY"] != "change-me"
    assert "SUPPORT_PUBLIC_URL" not in values


@pytest.mark.parametrize(("run_port", "url"), [(None, "http://127.0.0.1:5000"), ("5001", None)])
def test_the_public_url_follows_run_port(env_file, monkeypatch, run_port, url):
    if run_port:
        monkeypatch.setenv("RUN_PORT", run_port)
    env, use_emulator = run.app_environment()
    expected = url or f"http://127.0.0.1:{run_port}"
    assert env["SUPPORT_PUBLIC_URL"] == expected
    assert use_emulator
    assert load_config(env)["SUPPORT_PUBLIC_URL"] == expected
    assert run.public_url_warning(env) is None
    # Readers pay on our own page, with the emulator's Stripe.js stand-in.
    config = load_config(env)
    assert config["SUPPORT_CHECKOUT_UI"] == "elements"
    assert config["STRIPE_JS_URL"] == f"{env['STRIPE_API_BASE']}/v3/stripe.js"


def test_an_empty_public_url_in_env_follows_run_port(env_file, monkeypatch):
    env_file.write_text(env_file.read_text() + "SUPPORT_PUBLIC_URL=\n")
    monkeypatch.setenv("RUN_PORT", "5002")
    assert run.app_environment()[0]["SUPPORT_PUBLIC_URL"] == "http://127.0.0.1:5002"


def test_a_public_url_set_in_env_is_kept(env_file, monkeypatch):
    env_file.write_text(env_file.read_text() + "SUPPORT_PUBLIC_URL=https://support.example.org\n")
    monkeypatch.setenv("RUN_PORT", "5001")
    env, _ = run.app_environment()
    assert env["SUPPORT_PUBLIC_URL"] == "https://support.example.org"
    assert run.public_url_warning(env) is None


def test_an_older_env_pinned_to_another_local_port_is_pointed_out(env_file, monkeypatch):
    env_file.write_text(env_file.read_text() + "SUPPORT_PUBLIC_URL=http://127.0.0.1:5000\n")
    monkeypatch.setenv("RUN_PORT", "5001")
    warning = run.public_url_warning(run.app_environment()[0])
    assert warning and "port 5001" in warning and "Remove it from .env" in warning


def test_the_app_default_is_unchanged_without_make_run():
    assert load_config({})["SUPPORT_PUBLIC_URL"] == "http://127.0.0.1:5000"


def test_a_run_without_a_terminal_keeps_the_default_names(env_file):
    config = load_config(dotenv_values(env_file))
    assert config["SUPPORT_NEWSROOM_NAME"] == "The Newsroom"
    assert config["SUPPORT_NEWSROOM_NAME_AR"] == "غرفة الأخبار"


def test_no_terminal_says_how_to_set_the_names(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "ENV_FILE", tmp_path / ".env")
    run.ensure_env_file(None)
    said = capsys.readouterr().out
    assert "SUPPORT_NEWSROOM_NAME_AR" in said and "غرفة الأخبار" in said


def test_the_first_run_asks_for_the_newsroom_names(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    monkeypatch.setattr(run, "ENV_FILE", path)
    answers = iter(['The "Daily" Star\\', "  النجمة اليومية \x1b "])
    questions = []

    def ask(question):
        questions.append(question)
        return next(answers)

    run.ensure_env_file(ask)
    assert "Arabic" in questions[1]
    config = load_config(dotenv_values(path))
    assert config["SUPPORT_NEWSROOM_NAME"] == 'The "Daily" Star\\'
    assert config["SUPPORT_NEWSROOM_NAME_AR"] == "النجمة اليومية"
    # Asked once: a .env that exists is left alone.
    run.ensure_env_file(lambda _: pytest.fail("asked again"))


def test_empty_answers_or_a_closed_input_keep_the_defaults(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    monkeypatch.setattr(run, "ENV_FILE", path)

    def closed(_):
        raise EOFError

    run.ensure_env_file(closed)
    config = load_config(dotenv_values(path))
    assert config["SUPPORT_NEWSROOM_NAME"] == "The Newsroom"
    assert config["SUPPORT_NEWSROOM_NAME_AR"] == "غرفة الأخبار"


def test_a_taken_port_is_named_before_anything_starts(env_file, monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("RUN_PORT", str(port))
        monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")  # no emulator port to check
        monkeypatch.setattr(run, "flask", lambda *a, **k: pytest.fail("started anyway"))
        assert run.main() == 1
    out, err = capsys.readouterr()
    assert f"port {port} (the app, RUN_PORT) is already in use" in err
    assert "Reader support is running" not in out
    assert "RUN_PORT=5001" in err


def test_free_ports_pass_the_check_and_several_taken_are_all_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run.busy_ports_message({"the app": port}) is None
    with socket.socket() as one, socket.socket() as two:
        for taken in (one, two):
            taken.bind(("127.0.0.1", 0))
            taken.listen()
        a, b = one.getsockname()[1], two.getsockname()[1]
        said = run.busy_ports_message({"the app": a, "the emulator": b})
    assert f"ports {a} (the app) and {b} (the emulator) are already in use" in said


CHILD = """
import signal, sys, time
def count(*_):
    with open(sys.argv[1], "a") as f:
        f.write("TERM\\n")
    time.sleep(0.3)
    sys.exit(0)
signal.signal(signal.SIGTERM, count)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(30)
"""


def test_children_are_stopped_once_and_do_not_get_the_terminals_ctrl_c(tmp_path):
    children = run.Children()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    for log in logs:
        children.start([sys.executable, "-c", CHILD, str(log)])
    deadline = time.monotonic() + 10
    while not all(os.path.exists(f"{log}.ready") for log in logs) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Ctrl-C goes to the terminal's foreground process group: ours, not theirs.
    assert all(os.getpgid(p.pid) != os.getpgid(0) for p in children.processes)
    assert children.running()
    children.stop()
    children.stop()
    assert not children.running()
    assert [log.read_text() for log in logs] == ["TERM\n", "TERM\n"]


def test_ctrl_c_while_setting_up_ends_quietly(env_file, monkeypatch, capsys):
    monkeypatch.setenv("RUN_PORT", "0")  # any free port: the check passes
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "flask", interrupted)
    assert run.cli() == 130
    assert "Stopped before reader support started." in capsys.readouterr().err
