"""Upgrade asks fed odd input: the staff form (odd values, fields given twice or left
out, bytes that are not UTF-8), the supporters list's new filters, and the mailed
links' tokens. A page every time (400 for a refused form or token), never a 5xx, and
no ask is sent from a form that was refused."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.helpers.asks import TEXTS, ask_mails, asks, seed
from tests.odd_inputs import FORM, FUZZ, assert_page, hidden_fields, odd_form, odd_text

pytestmark = pytest.mark.slow

FIELDS = ("q", "currency", "interval", "lang", "months", "under", "rule", "amount", *TEXTS)


@pytest.fixture
def editor(client):
    seed(3, amount=300)
    return factories.signed_in(client, "editor")


@FUZZ
@given(data=st.data())
def test_the_ask_form_with_odd_fields_is_a_page(editor, data):
    hidden = hidden_fields(editor, "/staff/asks/new")
    fields = {
        "csrf_token": hidden["csrf_token"],
        "token": hidden["token"],
        "currency": "usd",
        "interval": "month",
        "lang": "",
        "months": "1",
        "under": "5",
        "q": "",
        "rule": "plus",
        "amount": "2",
        "action": "preview",
        **TEXTS,
    }
    body = data.draw(odd_form(fields, [*FIELDS, "action"]))
    response = editor.post("/staff/asks/new", data=body, content_type=FORM)
    assert_page(response, (200, 303, 400))
    if response.status_code == 400:
        assert asks() == []


@FUZZ
@given(value=odd_text, name=st.sampled_from(["lang", "months", "under", "currency"]))
def test_odd_list_filters_are_dropped(editor, value, name):
    query = f"{name}={quote(value.encode('utf-8', 'surrogatepass'))}"
    assert_page(editor.get(f"/staff/supporters?{query}"), (200,))
    assert_page(editor.get(f"/staff/asks/new?{query}"), (200,))


@FUZZ
@given(token=odd_text)
def test_odd_tokens_get_a_page(app, client, token):
    app.config["MANAGE_LIMIT_PORTAL"] = "100000 per minute"
    token = quote(token.encode("utf-8", "surrogatepass"), safe="") or "x"
    assert_page(client.get(f"/asks/{token}"), (400, 404, 410))
    assert_page(client.post(f"/asks/{token}", data={}), (400, 404, 410))
    assert_page(client.post(f"/unsubscribe/{token}"), (400, 404))
    assert ask_mails() == []
