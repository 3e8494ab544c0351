"""Staff forms and filters fed odd values: a page (a 400 for a refused form), never a 5xx.

The campaign editor, the actions on a supporter and the account forms are for
signed-in staff, whose mistakes (or a tampered form) must still get a page.
Filters in query strings (supporters, CSV, inbox, funnel) drop what they cannot use,
and names in addresses that no stored row can have are not found.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from support.extensions import db
from support.models import Campaign, CampaignRevision, OutboundEmail
from tests import factories
from tests.odd_inputs import (
    FORM,
    FUZZ,
    LIMITS,
    assert_page,
    form_body,
    hidden_fields,
    odd_form,
    odd_form_value,
)

# Hypothesis searches for a while: the full suite runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture
def admin(client, app):
    """The client signed in as an admin (with a second factor)."""
    app.config.update(LIMITS)
    return factories.signed_in(client, "admin")


@pytest.fixture
def viewer(app):
    return factories.staff("viewer@example.org")


@FUZZ
@given(data=st.data())
def test_the_account_forms_with_odd_fields_are_a_page(app, admin, viewer, data):
    other = viewer
    token = hidden_fields(admin, "/staff/accounts")["csrf_token"]
    invite = data.draw(
        odd_form({"email": "new@example.org", "role": "viewer", "csrf_token": token})
    )
    assert_page(
        admin.post("/staff/accounts/invite", data=invite, content_type=FORM),
        (200, 302, 303, 400, 409),
    )
    role = data.draw(odd_form({"role": "viewer", "csrf_token": token}))
    response = admin.post(f"/staff/accounts/{other.id}/role", data=role, content_type=FORM)
    assert_page(response, (302, 303, 400))


@pytest.fixture
def editor(client):
    return factories.signed_in(client, "editor")


def editor_form(token: str) -> dict[str, str]:
    fields = {
        "csrf_token": token,
        "base_version": "0",
        "slots": "1",
        "name": "Winter appeal",
        "slug": "winter",
        "starts_at": "2027-01-01T09:00",
        "ends_at": "",
        "goal.supporters": "500",
        "presets.usd": "3, 7, 12",
        "default_frequency": "year",
        "appeal.en.headline": "Keep the lights on",
        "appeal.en.body": "First paragraph.",
        "appeal.ar.headline": "أبقوا الأضواء مضاءة",
        "appeal.ar.body": "الفقرة الأولى.",
        "targeting.langs": "en",
        "targeting.url_prefixes": "https://news.example.org/",
        "banner.optimise": "y",
    }
    variant = {"name": "calm", "weight": "1", "headline.en": "H", "headline.ar": "ع",
               "text.en": "T", "text.ar": "ن", "cta.en": "Give", "cta.ar": "ادعم"}  # fmt: skip
    for key, value in variant.items():
        fields[f"banner.variants[0].{key}"] = value
    return fields


@FUZZ
@given(data=st.data())
def test_the_campaign_editor_with_odd_fields_is_a_page(app, client, editor, data):
    fields = editor_form(hidden_fields(client, "/staff/campaigns/new")["csrf_token"])
    body = data.draw(odd_form(fields, [*fields, "action", "banner.variants[9].name"]))
    response = client.post("/staff/campaigns/new", data=body, content_type=FORM)
    assert_page(response, (200, 302, 303, 400))
    db.session.execute(sa.delete(CampaignRevision))
    db.session.execute(sa.delete(Campaign))
    db.session.commit()


@pytest.fixture
def supporter_rows(app):
    owner = factories.supporter("reader@example.org")
    paid = factories.payment(owner, 500)
    monthly = factories.subscription(owner)
    mail = OutboundEmail(
        key="thanks:cs_fuzz", kind="thanks", lang="en", status="sent", supporter_id=owner.id
    )
    db.session.add(mail)
    db.session.commit()
    return owner, paid, monthly, mail


ACTIONS = {
    "refund": ("payments/{paid}/refund", {"amount": "5", "reason": "requested_by_customer"}),
    "cancel": ("subscriptions/{monthly}/cancel", {"when": "period_end"}),
    "resend": ("mails/{mail}/resend", {}),
}


@FUZZ
@given(action=st.sampled_from(list(ACTIONS)), data=st.data())
def test_the_action_forms_with_odd_fields_are_a_page(app, admin, supporter_rows, action, data):
    owner, paid, monthly, mail = supporter_rows
    path, fields = ACTIONS[action]
    path = f"/staff/supporters/{owner.id}/" + path.format(
        paid=paid.id, monthly=monthly.id, mail=mail.id
    )
    fields = {**fields, "confirm": "y", **hidden_fields(admin, path)}
    body = data.draw(odd_form(fields))
    response = admin.post(path, data=body, content_type=FORM)
    # 502: the form was valid and the emulator refused a payment it never made.
    assert_page(response, (200, 303, 400, 409, 502))


FILTERS = {
    "/staff/supporters": ["q", "status", "currency", "interval", "page"],
    "/staff/supporters.csv": ["q", "status", "currency", "interval", "excel"],
    "/staff/events": ["type", "status", "page"],
    "/staff/banner": ["days"],
    "/staff/campaigns": ["page"],
}


@FUZZ
@given(
    path=st.sampled_from(list(FILTERS)),
    values=st.lists(odd_form_value, min_size=1, max_size=3),
    data=st.data(),
)
def test_odd_filters_are_dropped_not_an_error(app, admin, supporter_rows, path, values, data):
    pairs = [(data.draw(st.sampled_from(FILTERS[path])), value) for value in values]
    response = admin.get(f"{path}?{form_body(pairs).decode()}")
    assert response.status_code == 200, (response.status_code, pairs)
    if path.endswith(".csv"):
        response.get_data()  # the whole streamed export


@pytest.mark.parametrize(
    "query",
    [
        "/staff/supporters?page=%C2%B2",
        "/staff/supporters?page=" + "%D9%A3" * 5000,
        "/staff/supporters?q=a%00b",
        "/staff/supporters.csv?q=%00",
        "/staff/events?type=%00&page=%C2%B2",
        "/staff/banner?days=%C2%B2",
    ],
)
def test_filters_that_once_answered_500_are_dropped(app, admin, query):
    response = admin.get(query)
    assert response.status_code == 200
    assert "%C2%B2" not in response.get_data(as_text=True)


@pytest.fixture
def admin_token(admin) -> str:
    return hidden_fields(admin, "/staff/campaigns/new")["csrf_token"]


PATHS = [
    ("GET", "/staff/campaigns/{}"),
    ("GET", "/staff/campaigns/{}/preview"),
    ("GET", "/staff/campaigns/{}/history"),
    ("GET", "/staff/campaigns/{}/duplicate"),
    ("GET", "/staff/campaigns/{}/revert/1"),
    ("POST", "/staff/campaigns/{}"),
    ("POST", "/staff/campaigns/{}/publish"),
    ("GET", "/staff/campaigns/{}/end"),
    ("POST", "/staff/campaigns/{}/end"),
    ("POST", "/staff/campaigns/{}/discard"),
    ("POST", "/staff/campaigns/{}/merge"),
    ("POST", "/staff/events/{}/replay"),
]


@FUZZ
@given(route=st.sampled_from(PATHS), segment=odd_form_value)
def test_odd_names_in_staff_addresses_are_not_found(app, admin, admin_token, route, segment):
    method, path = route
    url = path.format(quote(segment, safe="") or "x")
    token = admin_token
    response = admin.open(
        url, method=method, data={"csrf_token": token} if method == "POST" else None
    )
    # 308: a "/" (even as %2F) makes an empty segment, which Werkzeug merges away.
    assert_page(response, (200, 308, 400, 404))
