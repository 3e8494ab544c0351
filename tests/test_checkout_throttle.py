"""POST /<lang>/checkout is throttled per reader address (`CHECKOUT_LIMIT_PER_IP`)."""

import re
import uuid

import limits.storage.memory

from support import create_app
from support.appeal.throttle import address_key
from support.config import load_config
from tests.conftest import REDIS_URL, RequestScopedClient, base_config, form_tokens, redis_server
from tests.helpers.clock import ShiftedClock

READER = {"REMOTE_ADDR": "203.0.113.7"}
NEIGHBOUR = {"REMOTE_ADDR": "198.51.100.23"}


def appeal_form(client, lang="en") -> dict[str, str]:
    """A freshly rendered appeal form's hidden tokens."""
    return form_tokens(client.get(f"/{lang}/").get_data(as_text=True))


def sessions(emulator) -> list[dict]:
    """The Checkout Sessions the emulator created."""
    return emulator.state()["objects"].get("checkout.session", [])


def post(client, lang="en", tokens=None, environ=None, **fields):
    """Submit a choice from `environ`'s address (a fresh form unless `tokens` is given)."""
    environ = environ or READER
    if tokens is None:
        tokens = appeal_form(client, lang)
    data = {"amount": "1", "frequency": "month", "currency": "usd", **tokens, **fields}
    return client.post(f"/{lang}/checkout", data=data, environ_base=environ)


def stripe_requests(emulator) -> int:
    return emulator.api_stats()["requests"]


def test_forty_checkouts_from_one_address_are_throttled(app, client, emulator):
    # The default (5 a minute, 30 an hour), which the other tests' settings raise.
    app.config["CHECKOUT_LIMIT_PER_IP"] = load_config({})["CHECKOUT_LIMIT_PER_IP"]
    codes = [post(client, amount=str(n + 1)).status_code for n in range(40)]
    assert codes == [303] * 5 + [429] * 35
    assert len(sessions(emulator)) == 5

    refused = post(client)
    assert refused.status_code == 429
    assert "Too many payment attempts from your connection" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0

    # Another reader is not held up by the first one.
    assert post(client, environ=NEIGHBOUR).status_code == 303
    assert len(sessions(emulator)) == 6


def test_a_throttled_reader_gets_their_language_and_choice_back_without_stripe(
    app, client, emulator
):
    app.config["CHECKOUT_LIMIT_PER_IP"] = "1 per minute"
    assert post(client, lang="ar").status_code == 303
    asked = stripe_requests(emulator)

    tokens = appeal_form(client, "ar")
    response = post(
        client, lang="ar", tokens=tokens, amount="other", amount_other="12", frequency="year",
        cover_fees="y", source="https://news.example.org/ar/1",
    )  # fmt: skip
    assert response.status_code == 429
    assert stripe_requests(emulator) == asked
    assert len(sessions(emulator)) == 1
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "محاولات دفع كثيرة من اتصالك" in html
    assert 'value="12"' in html
    assert re.search(r'name="frequency" value="year"\s*checked', html)
    assert '<input checked id="cover_fees"' in html
    assert 'value="https://news.example.org/ar/1"' in html
    # The same form, so pressing the button later still makes one session.
    assert f'value="{tokens["form_token"]}"' in html


def test_double_submits_and_the_appeal_page_are_not_counted(app, client, emulator):
    app.config["CHECKOUT_LIMIT_PER_IP"] = "2 per minute"
    for _ in range(10):
        assert client.get("/en/", environ_base=READER).status_code == 200
    tokens = appeal_form(client)
    clicks = [post(client, tokens=tokens, amount="5") for _ in range(3)]
    assert [c.status_code for c in clicks] == [303] * 3
    assert len({c.location for c in clicks}) == 1
    assert post(client, amount="10").status_code == 303
    assert len(sessions(emulator)) == 2
    # Only the third new choice is refused.
    assert post(client, amount="20").status_code == 429
    assert len(sessions(emulator)) == 2


def test_a_form_sent_again_and_again_is_counted_after_a_few_times(app, client, emulator):
    app.config["CHECKOUT_LIMIT_PER_IP"] = "2 per minute"
    tokens = appeal_form(client)
    codes = [post(client, tokens=tokens, amount="5").status_code for _ in range(6)]
    # Each replay asks Stripe again (to hand back the same session): a bot must not loop.
    assert codes == [303, 303, 303, 303, 429, 429]
    assert len(sessions(emulator)) == 1


def test_the_same_form_with_another_choice_is_counted(app, client, emulator):
    app.config["CHECKOUT_LIMIT_PER_IP"] = "2 per minute"
    tokens = appeal_form(client)
    codes = [post(client, tokens=tokens, amount=amount).status_code for amount in "123"]
    assert codes == [303, 303, 429]


def test_a_refused_choice_sent_again_later_is_counted(app, client, emulator, monkeypatch):
    # The limiter's in-memory windows read this clock: moving it passes the window at once.
    clock = ShiftedClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    app.config["CHECKOUT_LIMIT_PER_IP"] = "1 per 2 seconds"
    assert post(client, amount="5").status_code == 303
    tokens = appeal_form(client)
    assert post(client, tokens=tokens, amount="10").status_code == 429
    clock.advance(2.2)
    # Sent again once the window passed: a new session, so it uses up the window.
    assert post(client, tokens=tokens, amount="10").status_code == 303
    assert post(client, amount="20").status_code == 429
    assert len(sessions(emulator)) == 2


def test_invalid_choices_are_not_counted(app, client, emulator):
    app.config["CHECKOUT_LIMIT_PER_IP"] = "1 per minute"
    for _ in range(3):
        assert post(client, amount="other", amount_other="abc").status_code == 400
    assert post(client, amount="5").status_code == 303


def test_readers_behind_a_proxy_are_counted_apart(app, database, emulator):
    """Behind `SUPPORT_PROXY_COUNT` proxies the reader's address counts, not the proxy's."""
    behind = create_app(
        {
            **base_config(database, emulator.url),
            "SUPPORT_PROXY_COUNT": 1,
            "CHECKOUT_LIMIT_PER_IP": "1 per minute",
        }
    )
    behind.test_client_class = RequestScopedClient
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    with behind.app_context():
        client = behind.test_client()

        def reader(address: str):
            return post(
                client, environ={**proxy, "HTTP_X_FORWARDED_FOR": address}, amount="5"
            ).status_code

        assert [reader("203.0.113.1"), reader("203.0.113.2"), reader("203.0.113.1")] == [
            303,
            303,
            429,
        ]


def test_two_app_instances_share_the_count_through_redis(app, database, emulator):
    """Two web processes (two gunicorn workers) count one reader together, in Redis."""
    server = redis_server()
    config = {
        **base_config(database, emulator.url),
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "CHECKOUT_LIMIT_PER_IP": "3 per minute",
    }
    # Redis outlives the test: an address of this run only.
    reader = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9"}

    def checkouts(instance, count: int) -> list[int]:
        instance.test_client_class = RequestScopedClient
        with instance.app_context():
            client = instance.test_client()
            return [post(client, environ=reader, amount="5").status_code for _ in range(count)]

    first = create_app(config)
    codes = checkouts(first, 2)
    with first.test_request_context(environ_base=reader):
        key = address_key()
    stored = [k.decode() for k in server.scan_iter(f"*{key}*")]
    assert stored, "the count is not in Redis"
    assert not any(reader["REMOTE_ADDR"] in k for k in stored)
    # A second instance started afterwards reads the same count.
    codes += checkouts(create_app(config), 2)
    assert codes == [303, 303, 303, 429]
    assert len(sessions(emulator)) == 3
