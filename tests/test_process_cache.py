"""The per-process cache behind the reader pages' supporter count, live campaigns and
banner content: values kept for their time and no longer, forgotten on demand.

If it kept values too long, an editor's campaign would not reach readers; too
short, every banner request would query the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from support import process_cache
from support.campaigns import store
from support.extensions import db
from support.models import utcnow
from support.process_cache import ProcessCache, deadline
from tests.helpers.campaigns import sample


class Clock:
    """`time.monotonic` under the test's control."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(process_cache.time, "monotonic", fake)
    return fake


@pytest.fixture
def bare_app():
    app = Flask(__name__)
    with app.app_context():
        yield app


class Loads:
    """A loader that counts its calls and returns the count."""

    def __init__(self):
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def test_a_value_is_kept_for_its_seconds_then_loaded_again(bare_app, clock):
    cache, load = ProcessCache("numbers"), Loads()
    assert cache.get(load, seconds=30) == 1
    clock.now += 29.9
    assert cache.get(load, seconds=30) == 1
    clock.now += 0.1
    assert cache.get(load, seconds=30) == 2


def test_the_sooner_of_seconds_and_until_wins(bare_app, clock):
    cache, load = ProcessCache("numbers"), Loads()
    start = clock.now
    assert cache.get(load, seconds=30, until=lambda value: start + 5) == 1
    clock.now = start + 5
    assert cache.get(load, seconds=30, until=lambda value: start + 100) == 2
    clock.now = start + 34.9
    assert cache.get(load, seconds=30) == 2
    clock.now = start + 35
    assert cache.get(load, seconds=30) == 3


def test_until_alone_keeps_a_value_until_its_own_moment(bare_app, clock):
    cache, load = ProcessCache("numbers"), Loads()
    assert cache.get(load, until=lambda value: deadline(60)) == 1
    clock.now += 59
    assert cache.get(load, until=lambda value: deadline(60)) == 1
    clock.now += 1
    assert cache.get(load, until=lambda value: deadline(60)) == 2


def test_keys_are_kept_apart(bare_app, clock):
    cache, load = ProcessCache("by_lang"), Loads()
    assert cache.get(load, seconds=30, key="en") == 1
    assert cache.get(load, seconds=30, key="ar") == 2
    assert cache.get(load, seconds=30, key="en") == 1


def test_forgetting_drops_the_values_and_those_of_its_followers(bare_app, clock):
    campaigns, load = ProcessCache("campaigns"), Loads()
    banner = ProcessCache("banner", follows=campaigns)
    campaigns.get(load, seconds=30)
    banner.get(load, seconds=30)
    banner.forget()  # a follower forgetting leaves what it follows alone
    assert campaigns.get(load, seconds=30) == 1
    banner.get(load, seconds=30)  # 3
    campaigns.forget()
    assert campaigns.get(load, seconds=30) == 4
    assert banner.get(load, seconds=30) == 5


def test_each_app_keeps_its_own_values(clock):
    cache, load = ProcessCache("numbers"), Loads()
    for expected in (1, 2):
        with Flask(__name__).app_context():
            assert cache.get(load, seconds=30) == expected


def test_it_must_be_told_how_long(bare_app):
    with pytest.raises(TypeError):
        ProcessCache("numbers").get(Loads())


def test_the_banner_lapses_when_a_campaign_starts_before_its_seconds(app, client, clock):
    """`SUPPORT_BANNER_CACHE_SECONDS` is 30 s, but a campaign starting in 10 s makes
    banner.json read the campaigns again at 10 s: a campaign published meanwhile
    (without the editor's page, so nothing was forgotten) shows then."""
    soon = (utcnow() + timedelta(seconds=10)).isoformat()
    store.create(sample("soon", status="live", starts_at=soon), None)
    db.session.commit()
    assert client.get("/embed/banner.json?lang=en").get_json()["campaigns"] == []
    store.create(sample("now", status="live"), None)
    db.session.commit()
    clock.now += 9
    assert client.get("/embed/banner.json?lang=en").get_json()["campaigns"] == []
    clock.now += 1
    slugs = [c["slug"] for c in client.get("/embed/banner.json?lang=en").get_json()["campaigns"]]
    assert "now" in slugs
