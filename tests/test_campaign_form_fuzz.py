"""The campaign editor with odd values in every field: a page with the problem, never a 500."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from support.campaigns import store
from support.extensions import db
from support.models import Campaign, CampaignRevision
from tests.factories import csrf, signed_in
from tests.helpers.campaigns import form_data

ODD = [
    "",
    " ",
    "-1",
    "0",
    "1e9",
    "NaN",
    "inf",
    "١٢",
    "３",
    "2026-13-45T99:99",
    "9999-12-31T23:59",
    "x" * 5000,
    "\x00",
    "\u202e",
    "<b>",
    "%s%s%n",
    "[]",
    "{}",
    "1,2,3,4,5,6,7,8",
    "0.001",
    "https://evil.example/",
    "banner",
    "UPPER",
    "a" * 49,
]


@pytest.mark.slow
def test_odd_values_in_every_field_never_break_the_editor(app, client):
    signed_in(client, "editor")
    token = csrf(client, "/staff/campaigns/new")
    fields = [k for k in form_data(token) if k != "csrf_token"]
    fields += ["banner.optimise", "targeting.langs", "slots", "banner.variants[5].name"]
    rng = random.Random(7)
    statuses = set()
    for _ in range(150):
        data = form_data(token)
        for name in rng.sample(fields, 3):
            data[name] = rng.choice(ODD)
        response = client.post("/staff/campaigns/new", data=data)
        assert response.status_code in (302, 303, 400), (data, response.status_code)
        statuses.add(response.status_code)
        campaign = store.get("winter")
        if campaign is not None:  # a valid combination was saved: start again
            db.session.execute(sa.delete(CampaignRevision))
            db.session.execute(sa.delete(Campaign))
            db.session.commit()
    assert statuses == {303, 400} or statuses == {302, 400}
