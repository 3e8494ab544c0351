"""JSON endpoints fed type-confused input: a JSON 4xx naming the problem, never a 5xx.

`POST /embed/events` takes beacons from any page without signing in; `POST
/stripe/webhook` takes whatever a valid signature covers. Each property puts odd
values (wrong types, control characters, lone surrogates, huge numbers, very long
text, repeated keys, bodies that are not JSON or not UTF-8) where a client could.
"""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from support.extensions import db
from support.models import BannerDailyStat, StripeEvent
from tests.odd_inputs import (
    FUZZ,
    broken_json,
    dumps,
    duplicated_key,
    leaf_paths,
    odd_json,
    with_value,
)
from tests.stripe_history import signature

# Hypothesis searches for a while: the full suite runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

BEACON = {"type": "click", "campaign": "banner", "variant": "monthly", "lang": "ar"}


def assert_json_error(response, statuses=(400,)) -> None:
    """A refusal with the JSON error body every API answers."""
    assert response.status_code in statuses, (response.status_code, response.get_data())
    error = response.get_json()["error"]
    assert error["status"] == response.status_code
    assert isinstance(error["message"], str) and error["message"]


def post_beacon(client, body: bytes, content_type: str = "text/plain"):
    return client.post("/embed/events", data=body, content_type=content_type)


@FUZZ
@given(field=st.sampled_from([*BEACON, "extra"]), value=odd_json)
def test_a_beacon_with_any_value_in_any_field_is_counted_or_refused_as_json(
    app, client, field, value
):
    app.config["SUPPORT_BANNER_EVENTS_LIMIT"] = "100000/minute"
    response = post_beacon(client, dumps({**BEACON, field: value}))
    if response.status_code == 204:
        return
    assert_json_error(response, (400, 413))
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@FUZZ
@given(body=st.one_of(broken_json, odd_json.map(dumps)))
def test_a_beacon_body_that_is_not_an_event_object_is_a_json_400(app, client, body):
    app.config["SUPPORT_BANNER_EVENTS_LIMIT"] = "100000/minute"
    response = post_beacon(client, body, "application/json")
    assert_json_error(response, (400, 413))


@FUZZ
@given(field=st.sampled_from(list(BEACON)), value=odd_json)
def test_a_beacon_naming_a_field_twice_is_refused(app, client, field, value):
    app.config["SUPPORT_BANNER_EVENTS_LIMIT"] = "100000/minute"
    response = post_beacon(client, duplicated_key(BEACON, field, value))
    assert_json_error(response, (400, 413))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BannerDailyStat)) == 0


def test_the_reported_beacons_are_json_400s_and_count_nothing(app, client):
    for body in ({"type": []}, {**BEACON, "lang": ["ar"]}, {**BEACON, "variant": "mon\x00thly"}):
        response = post_beacon(client, dumps(body))
        assert_json_error(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BannerDailyStat)) == 0
    assert post_beacon(client, dumps(BEACON)).status_code == 204


def stripe_event() -> dict:
    """A plausible event with the nested fields the inbox reads (customer, metadata)."""
    return {
        "id": f"evt_fuzz_{time.time_ns()}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_fuzz",
                "object": "checkout.session",
                "customer": "cus_fuzz",
                "customer_details": {"email": "reader@example.org", "name": "Reader"},
                "customer_email": "reader@example.org",
                "amount_total": 500,
                "currency": "usd",
                "metadata": {"lang": "ar", "source": "https://news.example.org/a"},
                "subscription": "sub_fuzz",
            },
            "previous_attributes": {"email": "old@example.org"},
        },
    }


@FUZZ
@given(data=st.data(), value=odd_json)
def test_a_signed_event_with_any_value_anywhere_is_stored_or_a_json_400(app, client, data, value):
    event = stripe_event()
    path = data.draw(st.sampled_from(leaf_paths(event)))
    body = dumps(with_value(event, path, value))
    response = client.post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": signature(body)}
    )
    if response.status_code == 200:
        stored = db.session.get(StripeEvent, response.get_json()["id"])
        assert stored is not None and json.loads(stored.payload)
        return
    assert_json_error(response)


@FUZZ
@given(body=st.one_of(broken_json, odd_json.map(dumps)))
def test_a_signed_body_that_is_not_an_event_is_a_json_400(app, client, body):
    headers = {"Stripe-Signature": signature(body) if _utf8(body) else "t=1,v1=00"}
    response = client.post("/stripe/webhook", data=body, headers=headers)
    assert_json_error(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 0


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(
    "change",
    [
        {"created": 0},
        {"created": True},
        {"created": 10**20},
        {"id": "evt_\x00"},
        {"type": ["invoice.paid"]},
    ],
)
def test_signed_events_that_once_answered_500_are_json_400s(app, client, change):
    body = dumps({**stripe_event(), **change})
    response = client.post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": signature(body)}
    )
    assert_json_error(response)


def test_a_session_without_an_email_in_its_details_is_stored(app, client):
    event = stripe_event()
    event["data"]["object"]["customer_details"] = {"name": "Reader"}
    body = dumps(event)
    response = client.post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": signature(body)}
    )
    assert response.status_code == 200
    payload = json.loads(db.session.get(StripeEvent, event["id"]).payload)
    assert payload["data"]["object"]["customer_details"] == {"name": "Reader"}
