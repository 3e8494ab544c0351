"""`make run`'s environment: the .env it writes and the public URL following RUN_PORT."""

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
