"""Every HTML page sends a strict Content-Security-Policy, and none holds inline script,
inline style or an event handler that the policy would block."""

from __future__ import annotations

import time
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from support.extensions import db
from support.models import CheckoutAttempt, utcnow
from support.portal_links import make_token
from support.security import page_policy
from support.stripe_api import StripeUnavailable
from tests.conftest import ARTICLE_HOST, form_tokens
from tests.factories import event, signed_in, supporter
from tests.helpers.manage import customer_supporter, open_portal, press, sign_in


def policy_for(app: Flask, frame_ancestors: str = "'none'") -> str:
    with app.test_request_context():
        return page_policy(frame_ancestors)


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' blocks, and assets from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script_with_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._script_with_src = tag == "script" and bool(values.get("src"))
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and not values.get("src"):
            self.found.append("inline <script>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name}= on <{tag}>")
        asset = values.get("src") if tag == "script" else None
        if tag == "link" and values.get("rel") == "stylesheet":
            asset = values.get("href")
        if asset is not None and (not asset.startswith("/") or asset.startswith("//")):
            self.found.append(f"<{tag}> from another site: {asset}")

    handle_startendtag = handle_starttag  # <rect .../> in the SVG charts

    def handle_data(self, data: str) -> None:
        if self.lasttag == "script" and self._script_with_src and data.strip():
            self.found.append("code inside <script src>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_scanner_finds_what_the_policy_blocks():
    page = (
        '<style>p{}</style><script>go()</script><p style="x">'
        '<a href="javascript:go()" onclick="go()">x</a><svg><rect style="fill:red"/></svg>'
        '<script src="https://cdn.example/x.js"></script>'
    )
    assert len(inline_code(page)) == 7
    assert inline_code('<script src="/static/js/a.js" defer></script><p>style="x"</p>') == []


# --- the pages ---------------------------------------------------------------------------

Fetch = Callable[[Flask, FlaskClient, str], TestResponse]


def _attempt(session_id: str, lang: str) -> str:
    owner = customer_supporter(lang=lang)
    db.session.add(
        CheckoutAttempt(
            session_id=session_id, amount=500, currency="usd", frequency="month", lang=lang,
            completed_at=utcnow(), supporter_id=owner.id,
        )
    )  # fmt: skip
    db.session.commit()
    return f"/{lang}/thanks?session_id={session_id}"


def thanks_page(app, client, lang):
    path = _attempt("cs_test_csp1", lang)
    with client.session_transaction() as session:
        session["checkouts"] = ["cs_test_csp1"]  # the paying browser: the direct link
    return client.get(path)


def sent_page(app, client, lang):
    token = form_tokens(client.get(f"/{lang}/manage").get_data(as_text=True))["csrf_token"]
    return client.post(f"/{lang}/manage", data={"email": "a@example.org", "csrf_token": token})


def refused_checkout(app, client, lang):
    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    return client.post(f"/{lang}/checkout", data={**tokens, "amount": "other", "amount_other": "0"})


def checkout_stripe_down(app, client, lang):
    from flask import current_app

    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    current_app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    current_app.extensions.pop("stripe_client", None)
    return client.post(
        f"/{lang}/checkout", data={**tokens, "amount": "5", "frequency": "month", "currency": "usd"}
    )


def used_link(app, client, lang):
    path = f"/manage/{make_token(customer_supporter(lang=lang).id, lang)}"
    assert press(client, path).status_code == 303
    return client.get(path)


def link_button(app, client, lang):
    return client.get(f"/manage/{make_token(customer_supporter(lang=lang).id, lang, 'mail')}")


def account_page(app, client, lang):
    sign_in(client, customer_supporter(lang=lang).id, lang)
    return client.get(f"/{lang}/account")


def expired_link(app, client, lang):
    owner = customer_supporter(lang=lang)
    with pytest.MonkeyPatch.context() as past:
        past.setattr(time, "time", lambda: 1_000_000_000)
        token = make_token(owner.id, lang)
    return client.get(f"/manage/{token}")


def other_browser_link(app, client, lang):
    owner = customer_supporter(lang=lang)
    return client.get(f"/manage/{make_token(owner.id, lang, 'thanks', 'cs_test_elsewhere')}")


def portal_unavailable(app, client, lang):
    from flask import current_app

    owner = customer_supporter(lang=lang)
    sign_in(client, owner.id, lang)
    current_app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    current_app.extensions.pop("stripe_client", None)
    return open_portal(client, owner.id, lang)


def stripe_error_page(app, client, lang):
    @app.get("/<lang>/stripe-fails")
    def stripe_fails(lang):
        raise StripeUnavailable("down")

    return client.get(f"/{lang}/stripe-fails")


def server_error_page(app, client, lang):
    @app.get("/<lang>/boom")
    def boom(lang):
        raise RuntimeError("boom")

    return client.get(f"/{lang}/boom")


def staff_page(path: str) -> Fetch:
    def fetch(app, client, lang):
        row = supporter("someone@example.org")
        event("invoice.paid", status="failed")
        db.session.commit()
        signed_in(client, "admin")
        return client.get(path.format(supporter=row.id), headers={"Accept-Language": lang})

    return fetch


def plain(path: str) -> Fetch:
    return lambda app, client, lang: client.get(
        path.format(lang=lang), headers={"Accept-Language": lang}
    )


PAGES: dict[str, tuple[Fetch, int]] = {
    "appeal": (plain("/{lang}/?amount=3"), 200),
    "appeal refused": (refused_checkout, 400),
    "appeal, Stripe down": (checkout_stripe_down, 502),
    "cancelled": (plain("/{lang}/cancelled?amount=5&frequency=year"), 200),
    "thanks": (thanks_page, 200),
    "manage": (plain("/{lang}/manage"), 200),
    "manage, sent": (sent_page, 200),
    "link invalid": (plain("/manage/not-a-token"), 400),
    "link expired": (expired_link, 410),
    "link used": (used_link, 410),
    "link's button": (link_button, 200),
    "account": (account_page, 200),
    "account closed": (plain("/{lang}/account"), 401),
    "link in another browser": (other_browser_link, 403),
    "portal unavailable": (portal_unavailable, 502),
    "not found": (plain("/{lang}/nowhere"), 404),
    "wrong method": (plain("/{lang}/checkout"), 405),
    "Stripe error page": (stripe_error_page, 502),
    "server error page": (server_error_page, 500),
    "staff login": (plain("/staff/login"), 200),
    "staff logout by GET": (plain("/staff/logout"), 405),
    "staff dashboard": (staff_page("/staff/"), 200),
    "staff banner": (staff_page("/staff/banner"), 200),
    "staff supporters": (staff_page("/staff/supporters"), 200),
    "staff supporter": (staff_page("/staff/supporters/{supporter}"), 200),
    "staff events": (staff_page("/staff/events"), 200),
    "embed preview": (plain("/embed/"), 200),
}


# Pages made by a route the test adds: they need an app of their own.
ADDED_ROUTES = {"Stripe error page", "server error page"}


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.own_app) if n in ADDED_ROUTES else n for n in PAGES],
)
def test_every_page_has_the_policy_and_no_inline_code(app, client, emulator, name, lang):
    fetch, status = PAGES[name]
    response = fetch(app, client, lang)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == policy_for(app)
    html = response.get_data(as_text=True)
    assert f'lang="{lang}"' in html  # the page in the language asked for
    assert inline_code(html) == []


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_banner_iframe_page_keeps_its_frame_ancestors(app, client, lang):
    response = client.get(f"/embed/banner.html?lang={lang}&variant=goal")
    assert response.status_code == 200
    ancestors = " ".join(
        f"{scheme}://{prefix}{ARTICLE_HOST}:*"
        for prefix in ("", "*.")
        for scheme in ("https", "http")
    )
    assert response.headers["Content-Security-Policy"] == policy_for(app, f"'self' {ancestors}")
    assert inline_code(response.get_data(as_text=True)) == []
    stylesheet = client.get("/embed/banner.css", headers={"Accept-Encoding": "identity"})
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    assert b".g progress" in stylesheet.data


@pytest.mark.one_database
def test_the_policy_allows_this_site_and_stripe_checkout_only(app, emulator):
    policy = policy_for(app)
    assert policy == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self' {emulator.url}; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'none'"
    )
    app.config["STRIPE_API_BASE"] = None  # Stripe itself
    assert "form-action 'self' https://checkout.stripe.com;" in policy_for(app)


def test_responses_other_than_pages_only_refuse_framing(client):
    assert client.get("/healthz").headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    css = client.get("/static/css/site.css")
    assert css.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
