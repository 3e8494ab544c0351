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
    assert config["STRIPE_TIMEOUT"] == 20
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
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
        ({"STRIPE_TIMEOUT": "0"}, "STRIPE_TIMEOUT must be whole seconds"),
        ({"SUPPORT_FEE_PERCENT": "-1"}, "SUPPORT_FEE_PERCENT must be a positive number"),
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


def test_app_refuses_to_start_without_secrets(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setattr("support.ROOT", tmp_path)  # no .env to load
    with pytest.raises(ConfigError, match="SECRET_KEY, STRIPE_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
