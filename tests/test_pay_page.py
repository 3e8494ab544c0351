"""Checkout for our own pay page (`ui_mode: "elements"`) and `GET /<lang>/pay/<cs_id>`,
through the real stripe library and the emulator."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from support import stripe_budget
from support.extensions import db
from support.models import CheckoutAttempt
from support.security import page_policy, stripe_js_policy
from tests.helpers.checkout import appeal_form, sessions, submit
from tests.helpers.pay import session_id_of, start_on_pay_page, use_pay_page


@pytest.fixture
def elements(app):
    use_pay_page(app)


def attempt_of(session_id: str) -> CheckoutAttempt:
    return db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.session_id == session_id)
    )


def stripe_requests(emulator) -> int:
    return emulator.api_stats()["requests"]


def directive(policy: str, name: str) -> list[str]:
    for part in policy.split("; "):
        words = part.split()
        if words[0] == name:
            return words[1:]
    return []


# --- checkout ------------------------------------------------------------------------


def test_elements_checkout_goes_to_our_pay_page(client, emulator, elements):
    response = start_on_pay_page(client, email="reader@example.org")
    assert response.status_code == 303
    session_id = session_id_of(response.location)
    assert response.location == f"/en/pay/{session_id}"
    [session] = sessions(emulator)
    assert session["id"] == session_id
    assert session["ui_mode"] == "elements"
    assert session["return_url"] == (
        "http://support.test/en/thanks?session_id={CHECKOUT_SESSION_ID}"
    )
    assert not session.get("success_url") and not session.get("cancel_url")
    assert session["asked"]["subscription_data"]["metadata"]["lang"] == "en"
    attempt = attempt_of(session_id)
    assert attempt.client_secret == session["client_secret"]
    assert (attempt.amount, attempt.frequency) == (500, "month")


def test_without_the_scripts_field_the_reader_gets_hosted_checkout(client, emulator, elements):
    response = submit(client, amount="5")
    [session] = sessions(emulator)
    assert response.status_code == 303 and response.location == session["url"]
    assert session["ui_mode"] == "hosted_page"
    assert attempt_of(session["id"]).client_secret is None


def test_the_hosted_setting_sends_everyone_to_hosted_checkout(app, client, emulator):
    app.config["SUPPORT_CHECKOUT_UI"] = "hosted"
    response = start_on_pay_page(client)
    [session] = sessions(emulator)
    assert response.location == session["url"] and session["ui_mode"] == "hosted_page"


def test_one_form_makes_one_session_per_way_of_paying(client, emulator, elements):
    tokens = appeal_form(client)
    first = start_on_pay_page(client, tokens=tokens)
    again = start_on_pay_page(client, tokens=tokens)
    assert first.location == again.location
    hosted = submit(client, tokens=tokens, amount="5")
    assert "/c/pay/" in hosted.location
    assert len(sessions(emulator)) == 2


# --- the pay page --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", ["Complete your gift", "Your gift: $5 every month.", "Give $5 every month"]),
        ("ar", ["أكمل دعمك", "مساهمتك: 5 دولارات كل شهر.", "ادعمنا بـ5 دولارات كل شهر"]),
    ],
)
def test_the_pay_page_shows_the_gift_without_asking_stripe(
    app, client, emulator, elements, lang, says
):
    response = start_on_pay_page(client, lang, email="reader@example.org")
    session_id = session_id_of(response.location)
    emulator.reset_api_stats()
    page = client.get(response.location)
    assert page.status_code == 200
    assert stripe_requests(emulator) == 0
    html = unescape(page.get_data(as_text=True))
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    for text in says:
        assert text in html, text
    assert 'value="reader@example.org"' in html
    assert f'data-secret="{attempt_of(session_id).client_secret}"' in html
    assert f'data-lang="{lang}"' in html and 'data-key="pk_test_emulator"' in html
    assert f'<script src="{emulator.url}/v3/stripe.js" defer></script>' in html
    assert 'id="payment-element"' in html
    assert f'action="/{lang}/pay/{session_id}/hosted"' in html
    assert page.headers["Content-Security-Policy"] == stripe_js_policy()


def test_the_pay_page_says_what_covering_the_fee_costs(client, emulator, elements):
    response = start_on_pay_page(client, amount="other", amount_other="10", cover_fees="y")
    html = unescape(client.get(response.location).get_data(as_text=True))
    assert "Your gift: $10.61 every month." in html
    assert (
        "Your card will be charged $10.61: the card processor keeps $0.61 "
        "and we receive all of your $10." in html
    )
    assert "Give $10.61 every month" in html


def test_the_pay_page_uses_only_our_scripts_and_stripe_js(client, emulator, elements):
    response = start_on_pay_page(client, "ar")
    html = client.get(response.location).get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert [body for _, body in scripts] == ["", ""]
    assert [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts] == [
        f"{emulator.url}/v3/stripe.js",
        "/static/js/pay.js",
    ]
    tags = re.findall(r"<([a-z]+)\b([^>]*)>", html)
    assert "style" not in [tag for tag, _ in tags]
    names = {name for _, attrs in tags for name in re.findall(r'\s([a-z-]+)(?==")', attrs)}
    assert "style" not in names and not [n for n in names if n.startswith("on")]


@pytest.mark.parametrize(
    ("lang", "says"),
    [("en", "belongs to another browser"), ("ar", "تخص متصفحًا آخر")],
)
def test_only_the_browser_that_started_the_session_sees_its_pay_page(
    app, client, emulator, elements, lang, says
):
    location = start_on_pay_page(client, lang).location
    stranger = app.test_client()
    emulator.reset_api_stats()
    page = stranger.get(location)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert says in html and f'<html lang="{lang}"' in html
    assert "data-secret" not in html and "cs_test_" not in html.split("<main")[1].split("href")[0]
    assert stranger.post(location + "/hosted").status_code in (303, 403)
    assert stripe_requests(emulator) == 0
    assert len(sessions(emulator)) == 1


@pytest.mark.parametrize(
    "session_id", ["cs_test_unknown123", "not-a-session", "cs_test_" + "a" * 300, "cs_test_a%2Fb"]
)
def test_unknown_or_malformed_ids_are_404(client, emulator, elements, session_id):
    emulator.reset_api_stats()
    for lang in ("en", "ar"):
        page = client.get(f"/{lang}/pay/{session_id}")
        assert page.status_code == 404
        assert f'<html lang="{lang}"' in page.get_data(as_text=True)
    assert stripe_requests(emulator) == 0


def test_a_hosted_session_has_no_pay_page(client, emulator, elements):
    submit(client, amount="5")
    [session] = sessions(emulator)
    assert client.get(f"/en/pay/{session['id']}").status_code == 404


def test_a_paid_session_goes_on_to_the_thanks_page(client, emulator, elements):
    session_id = session_id_of(start_on_pay_page(client, "ar").location)
    attempt = attempt_of(session_id)
    attempt.completed_at = attempt.created_at
    db.session.commit()
    page = client.get(f"/ar/pay/{session_id}")
    assert page.status_code == 303
    assert page.location == f"/ar/thanks?session_id={session_id}"


@pytest.mark.parametrize(
    ("lang", "says"),
    [("en", "This payment page has expired"), ("ar", "انتهت صلاحية صفحة الدفع هذه")],
)
def test_an_expired_session_leads_back_to_the_appeal_with_the_choice(
    client, emulator, elements, lang, says
):
    location = start_on_pay_page(
        client, lang, amount="other", amount_other="12", frequency="year", cover_fees="y"
    ).location
    attempt = attempt_of(session_id_of(location))
    attempt.created_at -= timedelta(hours=25)
    db.session.commit()
    page = client.get(location)
    assert page.status_code == 410
    html = unescape(page.get_data(as_text=True))
    assert says in html
    [again] = re.findall(rf'href="(/{lang}/\?[^"]+)"', html)
    query = parse_qs(urlsplit(again).query)
    assert query["amount"] == ["12.00"] and query["frequency"] == ["year"]
    assert query["cover_fees"] == ["1"]
    appeal = unescape(client.get(again).get_data(as_text=True))
    assert 'value="12.00"' in appeal


def test_the_csp_allows_stripe_js_on_the_pay_page_only(app, client, emulator, elements):
    location = start_on_pay_page(client).location
    policy = client.get(location).headers["Content-Security-Policy"]
    for name in ("script-src", "frame-src", "connect-src"):
        assert emulator.url in directive(policy, name), name
    assert directive(policy, "script-src") == ["'self'", emulator.url]
    assert directive(policy, "frame-src") == [emulator.url]
    assert directive(policy, "connect-src") == ["'self'", emulator.url]
    appeal = client.get("/en/").headers["Content-Security-Policy"]
    assert appeal == page_policy()
    assert directive(appeal, "script-src") == ["'self'"]
    assert not directive(appeal, "frame-src") and not directive(appeal, "connect-src")
    assert "/v3/stripe.js" not in client.get("/en/").get_data(as_text=True)
    app.config["STRIPE_JS_URL"] = "https://js.stripe.com/endive/stripe.js"
    policy = client.get(location).headers["Content-Security-Policy"]
    assert directive(policy, "script-src") == [
        "'self'",
        "https://js.stripe.com",
        "https://*.js.stripe.com",
    ]
    assert emulator.url not in directive(policy, "connect-src")


# --- Stripe's hosted page for the same choice ----------------------------------------


def test_the_reader_can_switch_to_hosted_checkout_for_the_same_gift(client, emulator, elements):
    location = start_on_pay_page(
        client, "ar", amount="other", amount_other="10", cover_fees="y", email="a@example.org"
    ).location
    html = client.get(location).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    first = client.post(location + "/hosted", data={"csrf_token": token})
    again = client.post(location + "/hosted", data={"csrf_token": token})
    assert first.status_code == 303 and first.location == again.location
    hosted = [s for s in sessions(emulator) if s["ui_mode"] == "hosted_page"]
    assert [s["url"] for s in hosted] == [first.location]
    [session] = hosted
    assert session["amount_total"] == 1061
    assert session["customer_email"] == "a@example.org"
    assert session["success_url"].startswith("http://support.test/ar/thanks?")
    assert session["metadata"]["cover_fees"] == "1"
    attempt = attempt_of(session["id"])
    assert (attempt.amount, attempt.cover_fees, attempt.lang) == (1061, True, "ar")


def test_switching_without_a_valid_form_token_shows_the_pay_page_again(client, emulator, elements):
    location = start_on_pay_page(client).location
    response = client.post(location + "/hosted", data={"csrf_token": "stale"})
    assert response.status_code == 303 and response.location == location
    assert [s["ui_mode"] for s in sessions(emulator)] == ["elements"]


def test_switching_past_the_readers_share_is_a_calm_503(client, emulator, elements):
    location = start_on_pay_page(client).location
    html = client.get(location).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    emulator.reset_api_stats()
    readers = stripe_budget.readers()
    while readers.try_spend() == 0.0:
        pass
    response = client.post(location + "/hosted", data={"csrf_token": token})
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert stripe_requests(emulator) == 0


def test_switching_when_stripe_fails_is_a_502_page(client, emulator, elements):
    location = start_on_pay_page(client, "ar").location
    html = client.get(location).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    emulator.fail_next(status=500, count=5)
    response = client.post(location + "/hosted", data={"csrf_token": token})
    emulator.failures.clear()
    assert response.status_code == 502
    assert '<html lang="ar"' in response.get_data(as_text=True)


# --- flask stripe register-domain ----------------------------------------------------


@pytest.mark.one_database
def test_register_domain_registers_the_public_host_once(app, runner, emulator):
    app.config["SUPPORT_PUBLIC_URL"] = "https://support.example.org"
    first = runner.invoke(args=["stripe", "register-domain"])
    assert first.exit_code == 0, first.output
    assert "Registered support.example.org (pmd_" in first.output
    assert "apple_pay active" in first.output and "google_pay active" in first.output
    again = runner.invoke(args=["stripe", "register-domain"])
    assert again.exit_code == 0, again.output
    assert "support.example.org is already registered (pmd_" in again.output
    [domain] = emulator.state()["objects"]["payment_method_domain"]
    assert domain["domain_name"] == "support.example.org" and domain["enabled"]


@pytest.mark.one_database
def test_register_domain_enables_a_disabled_domain_again(app, runner, emulator, elements):
    app.config["SUPPORT_PUBLIC_URL"] = "https://support.example.org"
    from support import stripe_api

    with app.test_request_context():
        created = stripe_api.register_payment_method_domain("support.example.org")
        stripe_api.client().v1.payment_method_domains.update(
            created["id"], params={"enabled": False}
        )
    result = runner.invoke(args=["stripe", "register-domain"])
    assert result.exit_code == 0 and "already registered" in result.output
    [domain] = emulator.state()["objects"]["payment_method_domain"]
    assert domain["enabled"]


@pytest.mark.one_database
@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "http://localhost:5000"])
def test_register_domain_refuses_a_host_that_is_no_domain(app, runner, emulator, url):
    app.config["SUPPORT_PUBLIC_URL"] = url
    result = runner.invoke(args=["stripe", "register-domain"])
    assert result.exit_code == 1 and "not a public domain name" in result.output
    assert "payment_method_domain" not in emulator.state()["objects"]


@pytest.mark.one_database
def test_register_domain_says_what_stripe_refused(app, runner, emulator):
    app.config["SUPPORT_PUBLIC_URL"] = "https://support.example.org"
    emulator.fail_next(status=400, type="invalid_request_error", message="Domain not allowed")
    result = runner.invoke(args=["stripe", "register-domain"])
    assert result.exit_code == 1
    assert "Stripe refused to register support.example.org: Domain not allowed" in result.output


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_pay_page_promises_only_the_cancellation_there_is(client, elements, lang):
    response = start_on_pay_page(client, email="reader@example.org", lang=lang)
    page = " ".join(client.get(response.location).get_data(as_text=True).split())
    assert "two clicks" not in page and "بنقرتين" not in page
    assert ("account page" if lang == "en" else "صفحة حسابك") in page
