"""Staff sign-in forms fed odd values: a page (a 400 or the form with its problem), never
a 5xx. Sign-in, its code, the password reset and the invitation are open to anyone.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.staff.auth import account_links
from tests import factories
from tests.odd_inputs import (
    FORM,
    FUZZ,
    LIMITS,
    assert_page,
    hidden_fields,
    odd_form,
    odd_form_value,
)

# Hypothesis searches for a while: the full suite runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture
def limits(app):
    app.config.update(LIMITS)


@pytest.fixture
def viewer(app):
    return factories.staff("viewer@example.org")


@FUZZ
@given(data=st.data())
def test_the_login_form_with_odd_fields_is_a_page(app, client, limits, viewer, data):
    fields = {
        "email": "viewer@example.org",
        "password": "wrong password",
        **hidden_fields(client, "/staff/login"),
    }
    body = data.draw(odd_form(fields, ["email", "password", "csrf_token", "next"]))
    response = client.post("/staff/login", data=body, content_type=FORM)
    assert_page(response, (200, 302, 400, 401))


@pytest.fixture
def at_code_step(client, limits):
    """The client past the password, asked for its second factor."""
    factories.staff("admin@example.org", "admin")
    factories.sign_in(client, "admin@example.org", code=False)
    return client


@FUZZ
@given(data=st.data())
def test_the_code_form_with_odd_fields_is_a_page(app, client, at_code_step, data):
    fields = {"code": "000000", **hidden_fields(client, "/staff/login/code")}
    body = data.draw(odd_form(fields, ["code", "csrf_token"]))
    response = client.post("/staff/login/code", data=body, content_type=FORM)
    assert_page(response, (200, 302, 400, 401))


@FUZZ
@given(data=st.data())
def test_the_reset_request_with_odd_fields_is_a_page(app, client, limits, data):
    fields = {"email": "viewer@example.org", **hidden_fields(client, "/staff/password-reset")}
    body = data.draw(odd_form(fields, ["email", "csrf_token"]))
    response = client.post("/staff/password-reset", data=body, content_type=FORM)
    assert_page(response, (200, 400))


@FUZZ
@given(purpose=st.sampled_from(["reset", "invite"]), token=odd_form_value, data=st.data())
def test_password_links_with_odd_tokens_or_fields_are_a_page(
    app, client, viewer, purpose, token, data
):
    user = viewer
    base = "/staff/password-reset/" if purpose == "reset" else "/staff/invitation/"
    odd_link = base + (quote(token, safe="") or "x")
    assert_page(client.get(odd_link), (400, 403, 404, 410))
    path = base + account_links.make_token(user, purpose)
    fields = {"password": "a long new password", "confirm": "a long new password"}
    body = data.draw(odd_form({**fields, **hidden_fields(client, path)}))
    response = client.post(path, data=body, content_type=FORM)
    assert_page(response, (200, 303, 400, 410))


def test_a_sign_in_address_with_nul_is_refused_with_the_form(app, client, limits, viewer):
    token = hidden_fields(client, "/staff/login")["csrf_token"]
    form = {"email": "viewer@example.org\x00", "password": "x", "csrf_token": token}
    response = client.post("/staff/login", data=form)
    assert response.status_code == 401
    assert "Enter a valid email address." in response.get_data(as_text=True)
