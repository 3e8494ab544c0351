"""POST /<lang>/checkout through the real stripe library and the Stripe emulator."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from support.extensions import db, limiter
from support.models import CheckoutAttempt
from tests.helpers.checkout import appeal_form, sessions, submit


def price(session):
    return session["asked"]["line_items"][0]["price"]


def attempts():
    return db.session.scalars(sa.select(CheckoutAttempt)).all()


def test_monthly_gift_creates_a_subscription_session(client, emulator):
    response = submit(
        client,
        amount="5",
        source="https://news.example.org/en/article-1",
        campaign="banner",
        variant="b",
        email="Reader@Example.org",
    )
    assert response.status_code == 303
    [session] = sessions(emulator)
    assert response.location == session["url"]
    assert session["mode"] == "subscription"
    assert session["locale"] == "en"
    assert session["customer_email"] == "Reader@Example.org"
    assert session["amount_total"] == 500
    assert session["metadata"] == {
        "lang": "en",
        "cover_fees": "0",
        "source": "https://news.example.org/en/article-1",
        "campaign": "banner",
        "variant": "b",
    }
    assert price(session)["recurring"]["interval"] == "month"
    assert price(session)["unit_amount"] == 500
    assert session["asked"]["subscription_data"]["metadata"]["variant"] == "b"
    assert (
        session["success_url"] == "http://support.test/en/thanks?session_id={CHECKOUT_SESSION_ID}"
    )
    cancel = urlsplit(session["cancel_url"])
    assert cancel.path == "/en/cancelled"
    assert parse_qs(cancel.query)["amount"] == ["5.00"]

    [attempt] = attempts()
    assert (attempt.session_id, attempt.amount, attempt.frequency) == (session["id"], 500, "month")
    assert (attempt.source, attempt.campaign, attempt.variant) == (
        "https://news.example.org/en/article-1",
        "banner",
        "b",
    )
    assert attempt.completed_at is None


def test_yearly_and_one_time_gifts(client, emulator):
    assert submit(client, amount="60", frequency="year").status_code == 303
    assert submit(client, amount="25", frequency="once").status_code == 303
    yearly, once = sorted(sessions(emulator), key=lambda s: s["mode"] != "subscription")
    assert price(yearly)["recurring"]["interval"] == "year"
    assert once["mode"] == "payment"
    assert once["submit_type"] == "donate"
    assert price(once)["recurring"] is None
    assert once["asked"]["payment_intent_data"]["metadata"]["lang"] == "en"


def test_arabic_reader_gets_stripe_auto_locale_and_arabic_digits_work(client, emulator):
    response = submit(client, lang="ar", amount="other", amount_other="٧٫٥٠")
    assert response.status_code == 303
    [session] = sessions(emulator)
    assert session["locale"] == "auto"
    assert session["amount_total"] == 750
    assert session["metadata"]["lang"] == "ar"
    assert "/ar/thanks" in session["success_url"]


def test_cover_fees_charges_the_grossed_up_amount(client, emulator):
    submit(client, amount="1", cover_fees="y")
    [session] = sessions(emulator)
    assert session["amount_total"] == 134
    assert session["metadata"]["cover_fees"] == "1"
    assert attempts()[0].amount == 134


def test_double_submit_of_one_form_makes_one_session(client, emulator):
    tokens = appeal_form(client)
    first = submit(client, tokens=tokens, amount="5")
    second = submit(client, tokens=tokens, amount="5")
    assert first.location == second.location
    assert len(sessions(emulator)) == 1
    assert len(attempts()) == 1


def test_changing_the_choice_on_the_same_form_makes_a_new_session(client, emulator):
    tokens = appeal_form(client)
    first = submit(client, tokens=tokens, amount="5")
    second = submit(client, tokens=tokens, amount="10")
    assert first.location != second.location
    assert len(attempts()) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "other", "amount_other": ""}, "Please choose or enter an amount."),
        ({"amount": "other", "amount_other": "1e3"}, "Please enter the amount as a number"),
        ({"amount": "other", "amount_other": "-5"}, "Please enter the amount as a number"),
        ({"amount": "other", "amount_other": "1,000"}, "Please enter the amount as a number"),
        ({"amount": "other", "amount_other": "NaN"}, "Please enter the amount as a number"),
        ({"amount": "other", "amount_other": "5.555"}, "too many digits after the decimal point"),
        ({"amount": "0.50"}, "The smallest gift we can accept is $1."),
        ({"amount": "10000.01"}, "The largest gift we can accept online is $10,000."),
        ({"frequency": "weekly"}, "Please choose monthly, yearly or once."),
        ({"currency": "eur"}, "We cannot accept gifts in that currency."),
        ({"email": "not-an-email"}, "Please enter a valid email address"),
    ],
)
def test_invalid_choices_are_refused_without_calling_stripe(client, emulator, fields, message):
    response = submit(client, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'role="alert"' in html
    assert sessions(emulator) == []
    assert attempts() == []


def test_errors_are_in_the_readers_language_and_keep_the_choice(client, emulator):
    response = submit(
        client, lang="ar", amount="other", amount_other="abc", frequency="year",
        source="https://news.example.org/ar/1",
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "يُرجى كتابة المبلغ بالأرقام" in html
    assert '<html lang="ar" dir="rtl">' in html
    assert re.search(r'name="frequency" value="year"\s*checked', html)
    assert 'value="abc"' in html
    assert 'value="https://news.example.org/ar/1"' in html


def test_custom_amount_wins_over_the_preselected_preset(client, emulator):
    submit(client, amount="1", amount_other="12")
    assert sessions(emulator)[0]["amount_total"] == 1200


def test_foreign_source_is_not_sent_to_stripe(client, emulator):
    submit(client, source="https://evil.example.com/phish", campaign="x y")
    metadata = sessions(emulator)[0]["metadata"]
    assert "source" not in metadata
    assert "campaign" not in metadata


def test_csrf_is_enforced(client, emulator):
    response = client.post(
        "/en/checkout", data={"amount": "5", "frequency": "month", "currency": "usd"}
    )
    assert response.status_code == 400
    assert sessions(emulator) == []


def test_stripe_error_gives_a_502_page_in_the_readers_language(client, emulator):
    tokens = appeal_form(client, "ar")
    emulator.fail_next(status=500, type="api_error", count=5)
    response = submit(client, lang="ar", tokens=tokens, amount="5")
    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert "خدمة الدفع لا تستجيب الآن" in html
    assert re.search(r'name="amount" value="5"\s*checked', html)
    assert attempts() == []
    # The same form works once Stripe answers again.
    emulator.failures.clear()
    assert submit(client, lang="ar", tokens=tokens, amount="5").status_code == 303


def test_stripe_unreachable_gives_a_502(app, client, emulator):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    app.extensions.pop("stripe_client", None)
    response = submit(client, amount="5")
    assert response.status_code == 502
    assert "The payment service is not answering" in response.get_data(as_text=True)


@pytest.mark.one_database
def test_huge_body_is_refused(client, emulator):
    response = client.post("/en/checkout", data={"amount": "5", "email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert sessions(emulator) == []


def test_thanks_page_confirms_once_paid(client, emulator):
    location = submit(client, amount="5", source="https://news.example.org/en/a-1").location
    session_id = location.rsplit("/", 1)[1]
    pending = client.get(f"/en/thanks?session_id={session_id}").get_data(as_text=True)
    assert 'data-status="pending"' in pending
    assert "$5 every month" in pending

    emulator.pay(session_id)
    # Stripe was asked a moment ago: the page says so again and looks by itself later.
    again = client.get(f"/en/thanks?session_id={session_id}").get_data(as_text=True)
    assert 'data-status="pending"' in again and '<meta http-equiv="refresh"' in again
    limiter.storage.reset()  # as when the 10 s between two reads have passed
    html = client.get(f"/en/thanks?session_id={session_id}").get_data(as_text=True)
    assert 'data-status="confirmed"' in html
    assert "refresh" not in html
    assert 'href="https://news.example.org/en/a-1#supported"' in html


def test_thanks_page_in_arabic(client, emulator):
    session_id = submit(client, lang="ar", amount="10", frequency="once").location.rsplit("/", 1)[1]
    emulator.pay(session_id)
    html = client.get(f"/ar/thanks?session_id={session_id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "تم تأكيد الدفع" in html
    assert "لمرة واحدة" in html


@pytest.mark.parametrize("session_id", ["", "cs_test_unknown123", "../etc", "cs_test_" + "a" * 300])
def test_thanks_page_for_unknown_sessions_is_404(client, emulator, session_id):
    response = client.get(f"/en/thanks?session_id={session_id}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_thanks_page_when_stripe_is_down_says_being_confirmed(client, emulator):
    session_id = submit(client, amount="5").location.rsplit("/", 1)[1]
    emulator.fail_next(status=500, count=5)
    response = client.get(f"/en/thanks?session_id={session_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-status="pending"' in html
    assert '<meta http-equiv="refresh" content="10">' in html


def test_cancelled_page_keeps_the_choice(client, emulator):
    location = submit(client, amount="other", amount_other="7.50", frequency="year").location
    session = sessions(emulator)[0]
    cancel = urlsplit(session["cancel_url"])
    html = client.get(f"{cancel.path}?{cancel.query}").get_data(as_text=True)
    assert "No payment was made" in html
    assert 'value="7.50"' in html
    assert re.search(r'name="frequency" value="year"\s*checked', html)
    assert location


def test_thanks_after_a_one_time_gift_offers_monthly_and_sharing(client, emulator):
    article = "https://news.example.org/en/a-7"
    location = submit(
        client, amount="7", frequency="once", cover_fees="y", source=article, campaign="spring"
    ).location
    session_id = location.rsplit("/", 1)[1]
    emulator.pay(session_id)
    html = client.get(f"/en/thanks?session_id={session_id}").get_data(as_text=True)
    offer = re.search(r'href="([^"]+)" data-monthly-offer', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(offer).query)
    # The gift the reader chose (not the fee they covered on top), monthly this time.
    assert urlsplit(offer).path == "/en/"
    assert query["amount"] == ["7"] and query["frequency"] == ["month"]
    assert query["cover_fees"] == ["1"] and query["source"] == [article]
    assert query["campaign"] == ["spring"]
    appeal = client.get(offer.removeprefix("http://support.test")).get_data(as_text=True)
    assert 'value="month" checked' in appeal and 'value="7"' in appeal
    # Back to the article (the main button, #supported for its banner); share with a sentence.
    assert f'<a class="button primary" href="{article}#supported" data-back-to-article>' in html
    assert f">{article}<" not in html  # no raw address as text
    share = re.search(r"<button [^>]*data-share [^>]*>", html).group(0)
    assert 'class="button"' in share and " hidden" in share  # share.js shows it where it can
    assert 'data-share-url="http://support.test/en/"' in share
    assert "I have just supported independent journalism at The Newsroom. You can too:" in share
    mail = unescape(re.search(r'href="(mailto:[^"]+)" data-share-mail', html).group(1))
    query = parse_qs(urlsplit(mail).query)
    assert query["subject"] == ["Support independent journalism at The Newsroom"]
    assert query["body"] == [
        "I have just supported independent journalism at The Newsroom. You can too: "
        "http://support.test/en/"
    ]


def test_thanks_after_a_monthly_gift_does_not_offer_monthly(client, emulator):
    session_id = submit(client, amount="5").location.rsplit("/", 1)[1]
    emulator.pay(session_id)
    html = client.get(f"/en/thanks?session_id={session_id}").get_data(as_text=True)
    assert "data-monthly-offer" not in html
    # No article to go back to: sharing is the main button, and nothing leads back to
    # the appeal the reader has just given through.
    assert "data-back-to-article" not in html and 'href="/en/"' not in html
    assert re.search(r'<button type="button" class="button primary" data-share hidden', html)
    assert "data-share-mail" in html


def test_the_arabic_thanks_page_shares_in_arabic_with_the_arabic_name(client, emulator):
    article = "https://news.example.org/ar/a-8"
    session_id = submit(client, "ar", amount="5", source=article).location.rsplit("/", 1)[1]
    emulator.pay(session_id)
    html = client.get(f"/ar/thanks?session_id={session_id}").get_data(as_text=True)
    assert f'href="{article}#supported" data-back-to-article>العودة إلى المقال<' in html
    share = re.search(r"<button [^>]*data-share [^>]*>", html).group(0)
    assert "دعمتُ للتو الصحافة المستقلة في غرفة الأخبار" in share
    assert 'data-share-url="http://support.test/ar/"' in share
    assert "The Newsroom" not in html
