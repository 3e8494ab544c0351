"""Plain model inserts for tests: supporters, subscriptions, payments, events, staff."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from itertools import count

import pyotp

from support.extensions import db
from support.models import Payment, StripeEvent, Subscription, Supporter, utcnow
from support.staff.auth import totp_keys
from support.staff.auth.accounts import create_staff

PASSWORD = "correct horse battery"
NOW = utcnow()
_numbers = count(1)


def ago(days: float) -> datetime:
    """`days` before the test's fixed now."""
    return NOW - timedelta(days=days)


def supporter(email: str | None = None, name: str | None = "Reader", **values) -> Supporter:
    """A supporter row; the email defaults to a unique one."""
    number = next(_numbers)
    row = Supporter(
        email=email if email is not None else f"reader{number}@example.org",
        name=name,
        stripe_customer_id=values.pop("stripe_customer_id", f"cus_t{number}"),
        lang=values.pop("lang", "en"),
        first_supported_at=values.pop("first_supported_at", ago(100)),
        **values,
    )
    db.session.add(row)
    db.session.flush()
    return row


def subscription(
    owner: Supporter, amount: int = 500, currency: str = "usd", **values
) -> Subscription:
    """A subscription of `owner`; active, monthly, started 100 days ago unless told."""
    row = Subscription(
        stripe_id=f"sub_t{next(_numbers)}",
        supporter=owner,
        status=values.pop("status", "active"),
        amount=amount,
        currency=currency,
        interval=values.pop("interval", "month"),
        started_at=values.pop("started_at", ago(100)),
        **values,
    )
    db.session.add(row)
    db.session.flush()
    return row


def payment(owner: Supporter | None, amount: int = 500, currency: str = "usd", **values) -> Payment:
    """A paid one-time payment 5 days ago unless told."""
    row = Payment(
        stripe_id=values.pop("stripe_id", f"pi_t{next(_numbers)}"),
        supporter=owner,
        kind=values.pop("kind", "one_time"),
        amount=amount,
        currency=currency,
        status=values.pop("status", "paid"),
        paid_at=values.pop("paid_at", ago(5)),
        **values,
    )
    db.session.add(row)
    db.session.flush()
    return row


def event(event_type: str = "invoice.paid", status: str = "processed", **values) -> StripeEvent:
    """A stored webhook event with a Stripe-shaped payload."""
    event_id = values.pop("id", f"evt_t{next(_numbers)}")
    received = values.pop("received_at", NOW)
    data = values.pop("data", {"object": {"object": event_type.split(".")[0]}})
    payload = {"id": event_id, "object": "event", "type": event_type, "livemode": False,
               "created": int(received.timestamp()), "data": data}  # fmt: skip
    row = StripeEvent(
        id=event_id,
        type=event_type,
        livemode=False,
        created=received,
        payload=values.pop("payload", json.dumps(payload)),
        status=status,
        received_at=received,
        **values,
    )
    db.session.add(row)
    db.session.flush()
    return row


# The authenticator secret of every test account with two-step sign-in.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def staff(email: str = "editor@example.org", role: str = "viewer", totp: bool | None = None):
    """A committed staff account with PASSWORD; admins (or `totp=True`) have TOTP_SECRET."""
    user = create_staff(email, PASSWORD, role)
    if totp if totp is not None else role == "admin":
        user.totp_secret = totp_keys.encrypt(TOTP_SECRET)
    db.session.commit()
    return user


def totp_code(steps_ahead: int = 0, secret: str = TOTP_SECRET) -> str:
    """The authenticator app's code now (or `steps_ahead` 30-second steps later)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enter_code(client, code: str):
    """Post the second-factor page's form."""
    return client.post("/staff/login/code", data={"code": code, "csrf_token": csrf(client)})


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')


def csrf(client, path: str = "/staff/login") -> str:
    """The CSRF token from a staff page's form."""
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no csrf token on {path}"
    return match.group(1)


def sign_in(client, email: str = "editor@example.org", password: str = PASSWORD, code=True):
    """Post the login form as a browser would; then the current code, if one is asked for.

    A code is accepted once, so signing in again within 30 seconds uses the next one.
    `code=False` stops at the code page.
    """
    response = client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf(client)},
    )
    if code and response.headers.get("Location", "").startswith("/staff/login/code"):
        for steps in (0, 1):
            response = enter_code(client, totp_code(steps))
            if response.status_code == 302:
                break
    return response


def sign_out(client):
    """Press the header's "Sign out" button (a POST with the page's CSRF token)."""
    return client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})


def signed_in(client, role: str = "viewer"):
    """A client signed in as a new staff user with `role`."""
    email = f"{role}@example.org"
    staff(email, role)
    response = sign_in(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
