"""Settings: defaults, parsing, and refusing to start when something is wrong."""

import importlib
import os
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from support import config as settings
from support import create_app
from support.config import ConfigError, load_config

SUPPORT = Path(settings.__file__).parent


def test_defaults_are_usable():
    config = load_config({})
    assert config["SUPPORT_CURRENCIES"] == ["usd"]
    assert config["SUPPORT_PRESETS"] == [Decimal(1), Decimal(5), Decimal(10)]
    assert config["SUPPORT_MAX_AMOUNT"] == Decimal(10000)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    # Below Stripe's 25 requests/s in test mode, leaving room for readers' checkouts.
    assert config["STRIPE_MAX_REQUESTS_PER_SECOND"] == 10
    # Readers' own share; with the workers' it leaves 5 of Stripe's 25 to staff actions.
    assert config["STRIPE_READER_REQUESTS_PER_SECOND"] == 10
    assert config["STRIPE_TIMEOUT"] == 20
    # A request failing on the network is sent once more, whatever the environment says.
    assert config["STRIPE_NETWORK_RETRIES"] == 1
    assert load_config({"STRIPE_NETWORK_RETRIES": "0"})["STRIPE_NETWORK_RETRIES"] == 1
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert config["CHECKOUT_LIMIT_PER_IP"] == "5 per minute;30 per hour"
    # Settings other modules once defaulted themselves are defaulted here.
    assert (
        config["MANAGE_LIMIT_PER_IP"],
        config["MANAGE_LIMIT_PER_EMAIL"],
        config["MANAGE_LIMIT_PORTAL"],
    ) == ("10 per hour", "3 per hour", "30 per hour")
    assert config["SUPPORT_BANNER_CACHE_SECONDS"] == 30
    assert config["SUPPORT_BANNER_EVENTS_LIMIT"] == "120/minute"
    assert (
        config["SUPPORT_NEWSROOM_NAME"]
        == load_config({"SUPPORT_NEWSROOM_NAME": ""})["SUPPORT_NEWSROOM_NAME"]
    )
    # No English placeholder inside Arabic sentences; a name set in English alone is kept.
    assert config["SUPPORT_NEWSROOM_NAME_AR"] == "غرفة الأخبار"
    named = load_config({"SUPPORT_NEWSROOM_NAME": "Al-Bayan"})
    assert named["SUPPORT_NEWSROOM_NAME_AR"] == "Al-Bayan"
    assert config["SUPPORT_GOAL_MIN_SHOWN"] == 100
    # Database errors (logged, and kept on events) never quote a reader's address or name.
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True


def test_lists_and_postgres_urls_are_normalised():
    config = load_config(
        {
            "SUPPORT_CURRENCIES": "USD, eur",
            "SUPPORT_ALLOWED_HOSTS": "News.Example.org , example.net",
            "DATABASE_URL": "postgres://u:p@db/support",
        }
    )
    assert config["SUPPORT_CURRENCIES"] == ["usd", "eur"]
    assert config["SUPPORT_ALLOWED_HOSTS"] == ["news.example.org", "example.net"]
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/support"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SUPPORT_CURRENCIES": "usd,xyz"}, "unknown currency 'xyz'"),
        ({"SUPPORT_AMOUNT_STYLE": "wide"}, "SUPPORT_AMOUNT_STYLE must be symbol or narrow"),
        ({"SUPPORT_PRESETS": "1,abc"}, r"SUPPORT_PRESETS\[1\]: 'abc' must be a number such as 5"),
        # Amounts follow money.py's rules, as a reader's typed amount does.
        ({"SUPPORT_PRESETS": "1e1"}, r"SUPPORT_PRESETS\[0\]: '1e1' must be a number such as 5"),
        ({"SUPPORT_PRESETS": "0.50,5"}, r"SUPPORT_PRESETS\[0\]: '0.50' is below the minimum gift"),
        ({"SUPPORT_PRESETS": "5,20000"}, r"'20000' is above SUPPORT_MAX_AMOUNT \(10000\)"),
        ({"SUPPORT_PRESETS": "-5"}, "'-5' must be a number such as 5"),
        (
            {"SUPPORT_CURRENCIES": "usd,jpy", "SUPPORT_PRESETS": "2.50"},
            "'2.50' has more decimals than jpy has",
        ),
        ({"SUPPORT_PRESETS": "1,5,5"}, "SUPPORT_PRESETS lists an amount twice"),
        ({"SUPPORT_PRESETS": "1,2,3,4,5,6,7"}, "SUPPORT_PRESETS must list at most 6 amounts"),
        ({"SUPPORT_MAX_AMOUNT": "1e4"}, "SUPPORT_MAX_AMOUNT must be a number such as 5"),
        ({"SUPPORT_MAX_AMOUNT": "0.5"}, "SUPPORT_MAX_AMOUNT must be at least the minimum gift"),
        ({"SUPPORT_FEE_PERCENT": "29e-1"}, "SUPPORT_FEE_PERCENT must be a number such as 5"),
        ({"SUPPORT_FEE_FIXED": "30.5"}, "SUPPORT_FEE_FIXED must be a whole number"),
        ({"SUPPORT_GOAL": "20000000"}, "SUPPORT_GOAL must be a whole number of supporters up to"),
        ({"MANAGE_LIMIT_PER_IP": "lots"}, "MANAGE_LIMIT_PER_IP must be a rate like"),
        ({"MANAGE_LIMIT_PER_EMAIL": "0 per hour"}, "MANAGE_LIMIT_PER_EMAIL must allow at least"),
        ({"MANAGE_LIMIT_PORTAL": "x"}, "MANAGE_LIMIT_PORTAL must be a rate like"),
        ({"SUPPORT_BANNER_EVENTS_LIMIT": "x"}, "SUPPORT_BANNER_EVENTS_LIMIT must be a rate like"),
        ({"SUPPORT_BANNER_CACHE_SECONDS": "soon"}, "SUPPORT_BANNER_CACHE_SECONDS must be a number"),
        ({"SUPPORT_GOAL": "many"}, "SUPPORT_GOAL must be a whole number"),
        ({"STRIPE_MAX_REQUESTS_PER_SECOND": "0"}, "STRIPE_MAX_REQUESTS_PER_SECOND must be"),
        ({"STRIPE_MAX_REQUESTS_PER_SECOND": "fast"}, "STRIPE_MAX_REQUESTS_PER_SECOND must be"),
        ({"STRIPE_READER_REQUESTS_PER_SECOND": "0"}, "STRIPE_READER_REQUESTS_PER_SECOND must"),
        ({"STRIPE_READER_REQUESTS_PER_SECOND": "2.5"}, "STRIPE_READER_REQUESTS_PER_SECOND must"),
        (
            {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_READER_REQUESTS_PER_SECOND": "15"},
            "must leave 5 of Stripe's 25 requests a second to staff actions",
        ),
        (
            {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_MAX_REQUESTS_PER_SECOND": "20"},
            r"\(at most 20 together\), not 30",
        ),
        ({"STRIPE_TIMEOUT": "0"}, "STRIPE_TIMEOUT must be whole seconds"),
        ({"SUPPORT_FEE_PERCENT": "-1"}, "SUPPORT_FEE_PERCENT must be a number such as 5"),
        ({"CHECKOUT_LIMIT_PER_IP": "a few"}, "CHECKOUT_LIMIT_PER_IP must be a rate like"),
        ({"CHECKOUT_LIMIT_PER_IP": "5/minute;x"}, "CHECKOUT_LIMIT_PER_IP must be a rate like"),
        ({"CHECKOUT_LIMIT_PER_IP": "0 per hour"}, "CHECKOUT_LIMIT_PER_IP must allow at least"),
        ({"STAFF_LOGIN_LIMIT_IP": "often"}, "STAFF_LOGIN_LIMIT_IP must be a rate like"),
        ({"STRIPE_SECRET_KEY": "sk_live_x"}, "STRIPE_WEBHOOK_SECRET is required"),
        (
            {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
            "SUPPORT_PUBLIC_URL must be https",
        ),
        ({"STRIPE_SECRET_KEY": "sk_live_x"}, "MAIL_URL is required with a live Stripe key"),
    ],
)
def test_bad_settings_fail_at_start_up_with_a_clear_message(env, problem):
    with pytest.raises(ConfigError, match=problem):
        load_config(env)


def test_the_stripe_shares_fit_the_account_they_run_against():
    live = load_config({**LIVE, "STRIPE_MAX_REQUESTS_PER_SECOND": "45",
                        "STRIPE_READER_REQUESTS_PER_SECOND": "50"})  # fmt: skip
    assert (live["STRIPE_MAX_REQUESTS_PER_SECOND"], live["STRIPE_READER_REQUESTS_PER_SECOND"]) == (
        45, 50)  # fmt: skip
    with pytest.raises(ConfigError, match="of Stripe's 100 requests a second"):
        load_config({**LIVE, "STRIPE_READER_REQUESTS_PER_SECOND": "90"})
    # The emulator (or another Stripe-compatible API) has limits of its own.
    emulated = load_config(
        {"STRIPE_API_BASE": "http://127.0.0.1:12111", "STRIPE_MAX_REQUESTS_PER_SECOND": "20"}
    )
    assert emulated["STRIPE_MAX_REQUESTS_PER_SECOND"] == 20


def test_app_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY, STRIPE_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


LIVE = {
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "SUPPORT_PUBLIC_URL": "https://support.example.org",
    "SECRET_KEY": "k" * 32,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "MAIL_URL": "smtp://user:secret@mail.example.org:587?starttls=1",
}


@pytest.mark.parametrize("key", ["sk_live_x", "rk_live_x"])
def test_safe_live_settings_start(key):
    assert load_config({**LIVE, "STRIPE_SECRET_KEY": key})["STRIPE_LIVEMODE"] is True
    assert load_config({**LIVE, "MAIL_URL": "smtps://user:secret@mail.example.org"})
    # A relay without a password (on the same host, say) needs no TLS.
    assert load_config({**LIVE, "MAIL_URL": "smtp://127.0.0.1:25"})


@pytest.mark.parametrize(
    ("unsafe", "problem"),
    [
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY is still the placeholder from .env.example"),
        ({"SECRET_KEY": "k" * 31}, "SECRET_KEY must be at least 32 bytes"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be at least 32 bytes"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI must be shared storage"),
        ({"RATELIMIT_STORAGE_URI": ""}, "RATELIMIT_STORAGE_URI must be shared storage"),
        (
            {"MAIL_URL": "smtp://user:secret@mail.example.org:587"},
            "MAIL_URL would send the SMTP password unencrypted",
        ),
        (
            {"MAIL_URL": "smtp://user:secret@mail.example.org?starttls=0"},
            "MAIL_URL would send the SMTP password unencrypted",
        ),
        ({"MAIL_URL": "http://mail.example.org"}, "MAIL_URL must start with smtp://"),
    ],
)
def test_live_mode_refuses_unsafe_settings(unsafe, problem):
    with pytest.raises(ConfigError, match=problem) as refused:
        load_config({**LIVE, **unsafe})
    assert "secret@" not in str(refused.value)
    # Test keys keep them, for trying the service out.
    assert load_config({**LIVE, **unsafe, "STRIPE_SECRET_KEY": "sk_test_x"})


def test_live_mode_names_every_unsafe_setting_at_once():
    unsafe = {
        "SECRET_KEY": "change-me",
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_URL": "smtp://user:secret@mail.example.org",
    }
    with pytest.raises(ConfigError) as refused:
        load_config({**LIVE, **unsafe})
    message = str(refused.value)
    assert message.count("\n  - ") == 3
    for name in unsafe:
        assert name in message
    assert "secret@" not in message


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as refused:
        load_config({"SUPPORT_PRESETS": "1e1", "MANAGE_LIMIT_PORTAL": "x", "SUPPORT_GOAL": "-1"})
    message = str(refused.value)
    assert message.count("\n  - ") == 3
    for name in ("SUPPORT_PRESETS", "MANAGE_LIMIT_PORTAL", "SUPPORT_GOAL"):
        assert name in message


def test_configured_amounts_are_read_as_written():
    config = load_config(
        {
            "SUPPORT_CURRENCIES": "usd,eur",
            "SUPPORT_PRESETS": "2.50, 5, ٧",
            "SUPPORT_MAX_AMOUNT": "500",
        }
    )
    assert config["SUPPORT_PRESETS"] == [Decimal("2.50"), Decimal(5), Decimal(7)]
    assert config["SUPPORT_MAX_AMOUNT"] == Decimal(500)
    assert load_config({"SUPPORT_PRESETS": "1"})["SUPPORT_PRESETS"] == [Decimal(1)]


LEAKED = {
    "SUPPORT_NEWSROOM_NAME": "From a developer's .env",
    "SECRET_KEY": "from-a-developers-env",
    "STRIPE_SECRET_KEY": "sk_test_from_env",
    "DATABASE_URL": "sqlite://",
}


@pytest.fixture
def developer_env(tmp_path, monkeypatch):
    """A `.env` where the project's would be, its settings absent from the environment."""
    path = tmp_path / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in LEAKED.items()))
    monkeypatch.setattr(settings, "ENV_FILE", path)
    monkeypatch.chdir(tmp_path)
    for name in LEAKED:
        monkeypatch.setenv(name, "")  # restored (removed) after the test
        monkeypatch.delenv(name)
    return path


def test_a_dotenv_file_does_not_leak_into_an_app_built_for_tests(developer_env):
    app = create_app(
        {
            "SECRET_KEY": "k",
            "STRIPE_SECRET_KEY": "sk_test_x",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    assert app.config["SUPPORT_NEWSROOM_NAME"] == "The Newsroom"
    assert app.config["SECRET_KEY"] == "k"
    assert not any(name in os.environ for name in LEAKED)


def test_the_wsgi_entry_point_reads_the_dotenv_file(developer_env, monkeypatch):
    """`gunicorn wsgi:app` and `flask --app wsgi ...` (make run too) still use `.env`."""
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    monkeypatch.syspath_prepend(str(SUPPORT.parent))
    app = importlib.import_module("wsgi").app
    monkeypatch.delitem(sys.modules, "wsgi")
    assert app.config["SUPPORT_NEWSROOM_NAME"] == LEAKED["SUPPORT_NEWSROOM_NAME"]
    assert app.config["STRIPE_SECRET_KEY"] == "sk_test_from_env"


# A setting read or defaulted outside config.py: `config.get("NAME", default)`,
# `config.get("NAME") or default`, or the environment read directly.
READ_ELSEWHERE = re.compile(
    r'config\.get\(\s*"[A-Z][A-Z0-9_]*"\s*(,|\)\s*or\b)|os\.environ|os\.getenv|getenv\(|dotenv'
)


def test_settings_are_read_and_defaulted_only_in_config():
    found = [
        f"{path.relative_to(SUPPORT.parent)}:{number}: {line.strip()}"
        for path in sorted(SUPPORT.rglob("*.py"))
        if path != SUPPORT / "config.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if READ_ELSEWHERE.search(line)
    ]
    assert found == []


def test_every_setting_the_code_reads_comes_from_config():
    """Each `config["NAME"]` in support/ and templates/ is one load_config defaults and checks."""
    known = set(load_config({}))
    read = {
        (match.group(1), str(path.relative_to(SUPPORT.parent)))
        for path in [*SUPPORT.rglob("*.py"), *(SUPPORT.parent / "templates").rglob("*.html")]
        for match in re.finditer(
            r'config(?:\.get\(|\[)\s*"([A-Z][A-Z0-9_]*)"', path.read_text(encoding="utf-8")
        )
    }
    assert read, "the pattern finds the settings read"
    assert sorted((name, path) for name, path in read if name not in known) == []


class Recorded(dict):
    """An empty environment that notes every name asked of it."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def get(self, name, default=None):
        self.names.add(name)
        return super().get(name, default)


def test_every_setting_is_documented_in_env_example_and_the_readme():
    env = Recorded()
    load_config(env)
    assert {"SECRET_KEY", "MANAGE_LIMIT_PORTAL", "SUPPORT_BANNER_CACHE_SECONDS"} <= env.names
    example = (SUPPORT.parent / ".env.example").read_text(encoding="utf-8")
    readme = (SUPPORT.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert sorted(n for n in env.names if not re.search(rf"^#? ?{n}=", example, re.M)) == []
    assert sorted(n for n in env.names if f"`{n}`" not in table) == []


def test_the_pay_page_settings_default_to_elements_with_a_key_and_stripe_js_from_stripe():
    config = load_config({"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_PUBLISHABLE_KEY": "pk_test_x"})
    assert config["SUPPORT_CHECKOUT_UI"] == "elements"
    assert config["STRIPE_JS_URL"] == "https://js.stripe.com/endive/stripe.js"
    assert config["SUPPORT_SAVE_OFFER"] == "pause"
    # Without a publishable key nothing can mount an Element: Stripe's hosted page.
    assert load_config({"STRIPE_SECRET_KEY": "sk_test_x"})["SUPPORT_CHECKOUT_UI"] == "hosted"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SUPPORT_CHECKOUT_UI": "embedded"}, "SUPPORT_CHECKOUT_UI must be elements or hosted"),
        ({"SUPPORT_CHECKOUT_UI": "elements"}, "needs STRIPE_PUBLISHABLE_KEY"),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_test_oops"}, "must be a publishable key"),
        ({"STRIPE_PUBLISHABLE_KEY": "pk_live_x"}, "both be live or both be test keys"),
        ({"STRIPE_JS_URL": "https://cdn.example.org/stripe.js"}, "from https://js.stripe.com"),
        ({"STRIPE_JS_URL": "javascript:alert(1)"}, "STRIPE_JS_URL must be an http(s) URL"),
        ({"SUPPORT_SAVE_OFFER": "discount"}, "SUPPORT_SAVE_OFFER must be pause, lower or none"),
    ],
)
def test_bad_pay_page_settings_are_named_at_start_up(env, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config({"STRIPE_SECRET_KEY": "sk_test_x", **env})


def test_the_emulator_may_serve_stripe_js():
    config = load_config(
        {
            "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_API_BASE": "http://127.0.0.1:12111",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
            "STRIPE_JS_URL": "http://127.0.0.1:12111/v3/stripe.js",
        }
    )
    assert config["STRIPE_JS_URL"] == "http://127.0.0.1:12111/v3/stripe.js"
