"""One rule for which article pages may use the service: attribution keeps a source,
and the iframe banner may be framed, on the same hosts, schemes and ports."""

from __future__ import annotations

import pytest
from flask import Flask

from support.article_hosts import frame_sources, is_allowed
from support.attribution import clean_source
from support.config import ConfigError, load_config


@pytest.fixture
def hosts():
    """An app context whose article sites and public address a test sets."""
    app = Flask(__name__)
    app.config["SUPPORT_PUBLIC_URL"] = "http://127.0.0.1:5000"

    def configure(*entries: str, public_url: str = "http://127.0.0.1:5000") -> None:
        app.config["SUPPORT_ALLOWED_HOSTS"] = list(entries)
        app.config["SUPPORT_PUBLIC_URL"] = public_url

    with app.app_context():
        yield configure


def test_any_port_of_an_allowed_host(hosts):
    hosts("news.example.org", "127.0.0.1")
    assert clean_source("http://127.0.0.1:5201/article") == "http://127.0.0.1:5201/article"
    assert clean_source("https://news.example.org:8443/a") == "https://news.example.org:8443/a"
    assert "http://127.0.0.1:*" in frame_sources()
    assert "https://*.news.example.org:*" in frame_sources()
    # Addresses have no subdomains to allow.
    assert not any(source.startswith("http://*.127") for source in frame_sources())


def test_in_production_a_bare_host_is_https_only(hosts):
    hosts("news.example.org", "localhost", public_url="https://support.example.org")
    assert clean_source("https://news.example.org/a") == "https://news.example.org/a"
    assert clean_source("http://news.example.org/a") is None
    assert clean_source("http://sub.news.example.org/a") is None
    sources = frame_sources()
    assert "https://news.example.org:*" in sources
    assert not any(source.startswith("http://") and "news" in source for source in sources)
    # Local hosts keep http: a newsroom tries its templates on its own machine.
    assert clean_source("http://localhost:5201/a") == "http://localhost:5201/a"
    assert "http://localhost:*" in sources


def test_an_entry_may_name_its_scheme(hosts):
    hosts("http://intranet.example", "https://secure.example", public_url="https://s.example")
    assert is_allowed("http", "intranet.example")
    assert is_allowed("https", "desk.intranet.example")
    assert is_allowed("https", "secure.example")
    assert not is_allowed("http", "secure.example")
    # Before https, a named https entry is still https only.
    hosts("https://secure.example")
    assert not is_allowed("http", "secure.example")
    assert frame_sources() == ["https://secure.example:*", "https://*.secure.example:*"]


def test_other_hosts_are_refused_whatever_the_port(hosts):
    hosts("news.example.org")
    assert clean_source("https://evil.example:443/news.example.org") is None
    assert clean_source("https://news.example.org.evil.example/a") is None
    assert not is_allowed("https", "evilnews.example.org")


@pytest.mark.parametrize(
    "entry", ["news.example.org:8080", "news.example.org/ar", "ftp://news.example.org", "*.x.org"]
)
def test_config_refuses_what_is_not_a_host(entry):
    with pytest.raises(ConfigError, match="SUPPORT_ALLOWED_HOSTS"):
        load_config({"SUPPORT_ALLOWED_HOSTS": f"news.example.net,{entry}"})


def test_config_keeps_a_named_scheme():
    config = load_config({"SUPPORT_ALLOWED_HOSTS": "News.Example.org, HTTP://Intranet.example/"})
    assert config["SUPPORT_ALLOWED_HOSTS"] == ["news.example.org", "http://intranet.example"]
