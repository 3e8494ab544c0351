"""Every rate limit counts through one keyed function (`support.address_keys`).

IPv6 readers count by their /64, so one network cannot mint fresh counters by
changing the last bits; and no limiter storage, Redis or memory, ever holds
a reader's address or an email, on any limited endpoint.
"""

import ipaddress
import json
import uuid

import pytest

from support import create_app
from support.address_keys import account_address_key, email_key, limiter_key, network
from support.extensions import db, limiter
from tests.conftest import REDIS_URL, RequestScopedClient, base_config, form_tokens, redis_server
from tests.factories import PASSWORD, csrf, sign_in, staff

ALL_LIMITS = (
    "CHECKOUT_LIMIT_PER_IP",
    "MANAGE_LIMIT_PER_IP",
    "MANAGE_LIMIT_PER_EMAIL",
    "MANAGE_LIMIT_PORTAL",
    "SUPPORT_BANNER_EVENTS_LIMIT",
    "STAFF_LOGIN_LIMIT_IP",
    "STAFF_LOGIN_LIMIT_ACCOUNT",
    "STAFF_RESET_LIMIT_PER_IP",
    "STAFF_RESET_LIMIT_PER_EMAIL",
)


def checkout(client, environ, email):
    tokens = form_tokens(client.get("/en/").get_data(as_text=True))
    data = {"amount": "5", "frequency": "month", "currency": "usd", "email": email, **tokens}
    return client.post("/en/checkout", data=data, environ_base=environ)


def manage(client, environ, email):
    token = csrf(client, "/en/manage")
    data = {"email": email, "csrf_token": token}
    return client.post("/en/manage", data=data, environ_base=environ)


def portal(client, environ, email):
    return client.get("/manage/not-a-token", environ_base=environ)


def beacon(client, environ, email):
    body = json.dumps({"type": "impression", "variant": "a", "lang": "en"})
    return client.post("/embed/events", data=body, content_type="text/plain", environ_base=environ)


def login(client, environ, email):
    data = {"email": email, "password": "wrong password", "csrf_token": csrf(client)}
    return client.post("/staff/login", data=data, environ_base=environ)


def login_code(client, environ, email):
    """A wrong second-factor code, from an account half signed in with its password."""
    address = f"code-{uuid.uuid4().hex[:8]}@example.org"
    staff(address, "viewer", totp=True)
    data = {"email": address, "password": PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/staff/login", data=data).status_code == 302
    form = {"code": "000000", "csrf_token": csrf(client, "/staff/login/code")}
    return client.post("/staff/login/code", data=form, environ_base=environ)


def password_reset(client, environ, email):
    data = {"email": email, "csrf_token": csrf(client, "/staff/password-reset")}
    return client.post("/staff/password-reset", data=data, environ_base=environ)


# Each limited endpoint, and the limit that counts its requests per address.
BY_ADDRESS = {
    "checkout": (checkout, "CHECKOUT_LIMIT_PER_IP"),
    "manage": (manage, "MANAGE_LIMIT_PER_IP"),
    "portal": (portal, "MANAGE_LIMIT_PORTAL"),
    "beacon": (beacon, "SUPPORT_BANNER_EVENTS_LIMIT"),
    "login": (login, "STAFF_LOGIN_LIMIT_IP"),
    "login_code": (login_code, "STAFF_LOGIN_LIMIT_IP"),
    "password_reset": (password_reset, "STAFF_RESET_LIMIT_PER_IP"),
}


def fresh_email() -> str:
    return f"Reader.{uuid.uuid4().hex[:10]}@Example.org"


def test_an_ipv6_address_counts_as_its_64():
    assert network("2001:db8:1:2:aaaa::1") == network("2001:db8:1:2:ffff:1:2:3")
    assert network("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert network("2001:db8:1:3::1") != network("2001:db8:1:2::1")
    assert network("203.0.113.7") == "203.0.113.7" != network("203.0.113.8")
    assert network("::ffff:203.0.113.7") == "203.0.113.7"
    assert network("fe80::1%eth0") == "fe80::/64"
    assert network("unknown") == "unknown"


def test_keys_are_keyed_with_the_secret(app):
    with app.test_request_context():
        key = email_key("manage-email", " Layla@Example.com ")
        assert key == email_key("manage-email", "layla@example.com")
        assert key != email_key("staff-reset-email", "layla@example.com")
        assert key.startswith("manage-email:") and "layla" not in key
        app.config["SECRET_KEY"] = "another-secret"
        assert email_key("manage-email", "layla@example.com") != key


@pytest.mark.parametrize("endpoint", sorted(BY_ADDRESS))
def test_two_addresses_in_one_64_share_a_count_and_other_64s_do_not(app, client, endpoint):
    hit, limit = BY_ADDRESS[endpoint]
    for name in ALL_LIMITS:
        app.config[name] = "1000 per minute"
    app.config[limit] = "1 per minute"
    prefix = ipaddress.IPv6Network(f"2001:db8:{uuid.uuid4().int % 65000:x}::/48")
    first = {"REMOTE_ADDR": str(prefix[1])}
    same_64 = {"REMOTE_ADDR": str(prefix[0xFFFF_0000_0000_0001])}
    next_64 = {"REMOTE_ADDR": str(prefix[1 << 64])}
    assert hit(client, first, fresh_email()).status_code != 429
    assert hit(client, same_64, fresh_email()).status_code == 429
    assert hit(client, next_64, fresh_email()).status_code != 429


def recovery_codes(client, environ, email):
    """A wrong code on the signed-in account's page (counted per account)."""
    address = f"signed-{uuid.uuid4().hex[:8]}@example.org"
    staff(address, "viewer", totp=True)
    assert sign_in(client, address).status_code == 302
    form = {"code": "000000", "csrf_token": csrf(client, "/staff/account/two-factor")}
    return client.post("/staff/account/two-factor/recovery-codes", data=form, environ_base=environ)


def every_limited_endpoint(client, environ, email):
    """One counted request on each limited endpoint from `environ`'s address, with `email`."""
    for hit, _ in BY_ADDRESS.values():
        assert hit(client, environ, email).status_code != 429
    assert recovery_codes(client, environ, email).status_code == 400


def stored_keys(storage: str) -> list[str]:
    """Every key the limiter's storage holds (Redis, or this process's memory)."""
    if storage == "redis":
        return [k.decode() for k in redis_server().scan_iter("*")]
    keys: list[str] = []
    for value in vars(limiter.storage).values():
        if isinstance(value, dict):
            keys += [str(k) for k in value]
    return keys


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_no_limiter_key_holds_an_address_or_an_email(app, database, emulator, storage):
    config = {**base_config(database, emulator.url)}
    if storage == "redis":
        redis_server()
        config["RATELIMIT_STORAGE_URI"] = REDIS_URL
        # Redis keeps counts across tests and runs, and some keys name row ids that
        # every test starts again at 1 (a signed-in account's wrong codes): every request
        # is still counted, but none is refused for an earlier run's.
        config.update(dict.fromkeys(ALL_LIMITS, "1000 per minute"))
    instance = create_app(config)
    instance.test_client_class = RequestScopedClient
    # Addresses and emails of this run only: Redis outlives the test.
    v6 = ipaddress.IPv6Network(
        f"2001:db8:{uuid.uuid4().int % 65000:x}:{uuid.uuid4().int % 65000:x}::/64"
    )
    v4 = f"100.{64 + uuid.uuid4().int % 64}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    readers = [
        ({"REMOTE_ADDR": str(v6[0xABCD])}, fresh_email()),
        ({"REMOTE_ADDR": v4}, fresh_email()),
    ]
    with instance.app_context():
        for environ, email in readers:
            every_limited_endpoint(instance.test_client(), environ, email)
        with instance.test_request_context():
            expected = [limiter_key("manage-email", email.lower()) for _, email in readers]
            expected += [limiter_key("manage-ip", v4), limiter_key("banner", str(v6))]
        for environ, email in readers:
            # Failed sign-ins count per account and address together.
            with instance.test_request_context(environ_base=environ):
                expected.append(account_address_key("staff-login", email.lower()))
        keys = stored_keys(storage)
        db.session.remove()
    for key in expected:
        assert any(key in k for k in keys), f"{key} not counted: the scan would prove nothing"
    secrets = [v4, str(v6[0xABCD]), str(v6.network_address), v6.exploded[:19], str(v6)]
    for _, email in readers:
        secrets += [email, email.lower(), email.split("@")[0].lower()]
    leaked = [k for k in keys if any(s.lower() in k.lower() for s in secrets)]
    assert leaked == []
