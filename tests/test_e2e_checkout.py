"""The whole gift over real HTTP: appeal → checkout → emulator Pay → webhooks → thanks."""

import pytest
import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import CheckoutAttempt
from tests.conftest import form_tokens


def give(base_url: str, lang: str, **choice) -> requests.Response:
    """Walk the flow as a browser without JavaScript would; return the thanks page."""
    http = requests.Session()
    appeal = http.get(f"{base_url}/{lang}/", timeout=10)
    assert appeal.status_code == 200
    form = {"amount": "1", "frequency": "month", "currency": "usd", **choice}
    checkout = http.post(
        f"{base_url}/{lang}/checkout",
        data={**form_tokens(appeal.text), **form},
        allow_redirects=False,
        timeout=10,
    )
    assert checkout.status_code == 303, checkout.text[:500]
    hosted = http.get(checkout.headers["Location"], timeout=10)
    assert hosted.status_code == 200 and 'id="pay"' in hosted.text
    paid = http.post(
        checkout.headers["Location"],
        data={"action": "pay", "email": "reader@example.org", "name": "Reader"},
        allow_redirects=False,
        timeout=30,
    )
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith(f"{base_url}/{lang}/thanks?session_id=cs_test_")
    return http.get(paid.headers["Location"], timeout=10)


@pytest.mark.parametrize(
    ("lang", "confirmed_text"),
    [("en", "Your payment is confirmed"), ("ar", "تم تأكيد الدفع")],
)
def test_monthly_support_end_to_end(live_server, emulator, lang, confirmed_text):
    thanks = give(
        live_server.url, lang, amount="1", source=f"https://news.example.org/{lang}/article-123"
    )
    assert thanks.status_code == 200
    assert confirmed_text in thanks.text
    assert f'href="https://news.example.org/{lang}/article-123#supported"' in thanks.text

    webhook = live_server.url + "/stripe/webhook"
    results = [d.result for d in emulator.deliveries if d.url == webhook]
    assert results, "the emulator delivered no webhook to the app"
    assert set(results) == {200}, emulator.deliveries
    types = [e["type"] for e in emulator.state()["objects"]["event"]]
    for wanted in ("checkout.session.completed", "customer.subscription.created", "invoice.paid"):
        assert wanted in types

    live_server.settle()
    [attempt] = db.session.scalars(sa.select(CheckoutAttempt)).all()
    assert attempt.completed_at is not None, "checkout.session.completed was not applied"
    assert attempt.lang == lang


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_backslash_source_is_no_link_after_paying(live_server, emulator, lang):
    # Browsers read the host as evil.example; it must not be the button after payment.
    thanks = give(live_server.url, lang, source="https://evil.example\\.news.example.org/")
    assert thanks.status_code == 200
    assert "evil.example" not in thanks.text
    assert "#supported" not in thanks.text
    assert "data-back-to-article" not in thanks.text and "data-share-mail" in thanks.text
    [session] = emulator.state()["objects"]["checkout.session"]
    assert "source" not in session["metadata"]
