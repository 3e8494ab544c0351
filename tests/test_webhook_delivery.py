"""How a delivery is answered: in front of Flask (the shortcut) or by the Flask route,
the same answers, the same mails once answered, and JSON for every failure."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from support.extensions import db
from support.models import OutboundEmail, StripeEvent
from support.webhooks import inbox
from tests.conftest import flask_only
from tests.stripe_history import give, oldest_first, post_event, signature


@pytest.fixture(params=["shortcut", "flask"])
def served(request) -> Iterator[str]:
    """Run the test with deliveries answered by the shortcut, then by the Flask route."""
    if request.param == "flask":
        with flask_only():
            yield request.param
    else:
        yield request.param


def deliver_history(client, emulator) -> list:
    """Every event, signed; each answer closed as a server closes it (mail goes then)."""
    answers = []
    for event in oldest_first(emulator):
        payload = json.dumps(event).encode()
        signed = {"Stripe-Signature": signature(payload)}
        answers.append(client.post("/stripe/webhook", data=payload, headers=signed, buffered=True))
    return answers


def completed(emulator) -> dict:
    return next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")


def test_a_gift_is_recorded_and_thanked_once_stripe_has_its_answer(
    served, client, emulator, smtp_server
):
    give(client, emulator, email="Layla@Example.org", lang="ar")
    answers = deliver_history(client, emulator)
    assert [a.status_code for a in answers] == [200] * len(answers)
    assert {a.get_json()["status"] for a in answers} <= {"processed", "ignored"}
    assert all(a.headers["Content-Type"] == "application/json" for a in answers)
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "layla@example.org"
    db.session.expire_all()
    assert db.session.scalar(sa.select(OutboundEmail.status)) == "sent"


def test_both_ways_give_the_same_answers(served, client, emulator):
    give(client, emulator, frequency="once")
    first = completed(emulator)
    payload = json.dumps(first).encode()
    answers = [
        client.post(
            "/stripe/webhook", data=payload, headers={"Stripe-Signature": signature(payload)}
        )
        for _ in range(2)
    ]
    assert [a.get_json() for a in answers] == [{"id": first["id"], "status": "processed"}] * 2
    refused = client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": "t=1,v1=0"})
    assert refused.status_code == 400
    assert refused.get_json() == {
        "error": {"status": 400, "message": "Invalid or expired Stripe-Signature"}
    }
    huge = client.post("/stripe/webhook", data=b" " * (2 << 20), headers={"Stripe-Signature": "x"})
    assert (huge.status_code, huge.get_json()["error"]["status"]) == (413, 413)
    for answer in (*answers, refused, huge):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"


def test_a_body_shorter_than_its_length_is_a_json_400(served, client):
    cut = client.post(
        "/stripe/webhook",
        input_stream=io.BytesIO(b'{"id": "evt_1"'),
        headers={"Stripe-Signature": "x"},
        environ_overrides={"CONTENT_LENGTH": "500"},  # the client went away mid-body
    )
    assert cut.status_code == 400
    assert cut.get_json()["error"]["message"] == "The body ended before its Content-Length"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 0


def test_a_database_down_while_storing_is_a_json_500(served, client, emulator, monkeypatch):
    give(client, emulator)
    first = completed(emulator)

    def down(*args, **kwargs):
        raise OperationalError("INSERT INTO stripe_event ...", {}, Exception("server closed"))

    monkeypatch.setattr(inbox, "store_event", down)
    answer = post_event(client, first)
    assert answer.status_code == 500
    assert answer.get_json()["id"] == first["id"]
    assert answer.get_json()["error"]["status"] == 500
    monkeypatch.undo()
    assert post_event(client, first).get_json()["status"] == "processed"  # Stripe's retry
    assert db.session.scalar(sa.select(StripeEvent.status)) == "processed"


def test_other_methods_and_paths_go_to_flask(client):
    assert client.get("/stripe/webhook").status_code == 405
    assert client.post("/stripe/webhook/").status_code == 404
    assert client.get("/healthz").status_code == 200
