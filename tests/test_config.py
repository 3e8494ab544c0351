"""Settings: defaults, parsing, and refusing to start when something is wrong."""

from decimal import Decimal

import pytest

from support import create_app
from support.config import ConfigError, load_config


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
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert config["CHECKOUT_LIMIT_PER_IP"] == "5 per minute;30 per hour"
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
        ({"SUPPORT_PRESETS": "1,abc"}, "SUPPORT_PRESETS must be a number"),
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
        ({"SUPPORT_FEE_PERCENT": "-1"}, "SUPPORT_FEE_PERCENT must be a positive number"),
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


def test_app_refuses_to_start_without_secrets(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setattr("support.ROOT", tmp_path)  # no .env to load
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
