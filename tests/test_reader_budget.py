"""Readers' Stripe requests keep to `STRIPE_READER_REQUESTS_PER_SECOND`: past it a
checkout gets the form back and the supporter page's portal button a page, both 503
with `Retry-After`, never a 502, and Stripe is not asked; staff refunds are not held
back by readers."""

from __future__ import annotations

import re
import time

import pytest

from support import stripe_budget
from support.portal_links import make_token
from support.stripe_api import StripeBusy
from tests.conftest import form_tokens
from tests.factories import signed_in
from tests.helpers.manage import customer_supporter
from tests.helpers.staff_actions import gifts, refund_form, refunded_at_stripe  # noqa: F401


def use_up_the_readers_share() -> None:
    """Other readers take every place in this second's readers' share."""
    readers = stripe_budget.readers()
    while readers.try_spend() == 0.0:
        pass


def stripe_requests(emulator) -> int:
    return emulator.api_stats()["requests"]


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", "Many readers are giving right now"),
        ("ar", "يتبرّع الآن عدد كبير من القرّاء"),
    ],
)
def test_a_checkout_past_the_share_gets_the_form_back_then_goes_through(
    client, emulator, lang, says
):
    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    choice = {"amount": "other", "amount_other": "12", "frequency": "year", "currency": "usd"}
    emulator.reset_api_stats()
    use_up_the_readers_share()
    refused = client.post(f"/{lang}/checkout", data={**choice, **tokens})
    assert refused.status_code == 503
    # At least the share's wait (Flask-Limiter may name its own window's end instead).
    assert int(refused.headers["Retry-After"]) >= 1
    html = refused.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html and says in html
    assert 'value="12"' in html and re.search(r'name="frequency" value="year"\s*checked', html)
    assert stripe_requests(emulator) == 0

    time.sleep(1.05)  # a moving one-second window: room again within a second
    again = client.post(f"/{lang}/checkout", data={**choice, **tokens})
    assert again.status_code == 303
    assert stripe_requests(emulator) == 1


def test_the_share_is_the_setting(app, client, emulator):
    app.config["STRIPE_READER_REQUESTS_PER_SECOND"] = 2
    codes = []
    for amount in ("3", "4", "5"):
        tokens = form_tokens(client.get("/en/").get_data(as_text=True))
        data = {"amount": amount, "frequency": "month", "currency": "usd", **tokens}
        codes.append(client.post("/en/checkout", data=data).status_code)
    assert codes == [303, 303, 503]
    assert len(emulator.state()["objects"]["checkout.session"]) == 2


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_portal_button_past_the_share_is_a_503_and_the_session_stays(client, emulator, lang):
    supporter = customer_supporter(lang=lang)
    link = f"/manage/{make_token(supporter.id, lang, 'mail')}"
    opened = client.post(link, data=form_tokens(client.get(link).get_data(as_text=True)))
    assert opened.headers["Location"] == f"/{lang}/account"
    account = client.get(opened.headers["Location"]).get_data(as_text=True)
    button = {**form_tokens(account), "supporter": str(supporter.id)}
    use_up_the_readers_share()
    busy = client.post(f"/{lang}/account/portal", data=button)
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
    html = busy.get_data(as_text=True)
    says = "Many readers are here right now" if lang == "en" else "يزورنا الآن عدد كبير من القرّاء"
    assert f'<html lang="{lang}"' in html and says in html
    assert "billing_portal.session" not in emulator.state()["objects"]

    time.sleep(1.05)
    assert client.post(f"/{lang}/account/portal", data=button).status_code == 303


def test_readers_past_their_share_do_not_hold_up_a_refund(client, gifts, emulator):
    signed_in(client, "admin")
    form = refund_form(client, gifts, "4")
    use_up_the_readers_share()
    done = client.post(gifts["refund"], data=form)
    assert done.status_code == 303
    assert refunded_at_stripe(emulator, gifts["charge"]) == 400


@pytest.mark.own_app
@pytest.mark.parametrize(
    ("lang", "says"), [("en", "try again in a few seconds"), ("ar", "بضع ثوانٍ")]
)
def test_any_readers_page_past_the_share_is_a_calm_503(app, client, lang, says):
    """A reader's Stripe request that no page handles itself (a future one) is no 502."""

    def busy():
        raise StripeBusy(2)

    app.add_url_rule("/<lang>/busy", "busy", lambda lang: busy())
    app.add_url_rule("/staff/api/busy", "api_busy", busy)
    page = client.get(f"/{lang}/busy")
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
    assert says in page.get_data(as_text=True)
    api = client.get("/staff/api/busy")
    assert api.status_code == 503 and api.get_json()["error"]["status"] == 503
