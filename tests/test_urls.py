"""Absolute URLs (mails, Stripe, banner, manage and staff links) come from `urls.public_url`."""

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import support
from support.portal_links import portal_url
from support.staff.auth.account_links import link_url
from support.urls import public_url
from tests.factories import staff
from tests.helpers.checkout import sessions, submit

# Served under a path of a shared host: every absolute link must keep the prefix.
BASE = "https://readers.example.org/support"


def test_public_url_is_built_from_the_route_outside_a_request(app):
    app.config["SUPPORT_PUBLIC_URL"] = BASE
    assert public_url("appeal.appeal", lang="ar") == f"{BASE}/ar/"
    link = urlsplit(public_url("appeal.appeal", lang="en", amount="7.50", variant="a-b"))
    assert parse_qs(link.query) == {"amount": ["7.50"], "variant": ["a-b"]}


def test_stripe_return_urls_follow_the_public_url(app, client, emulator):
    app.config["SUPPORT_PUBLIC_URL"] = BASE
    assert submit(client, amount="5").status_code == 303
    [session] = sessions(emulator)
    assert session["success_url"] == f"{BASE}/en/thanks?session_id={{CHECKOUT_SESSION_ID}}"
    assert session["cancel_url"].startswith(f"{BASE}/en/cancelled?")


def test_banner_links_and_snippet_follow_the_public_url(app, client):
    app.config["SUPPORT_PUBLIC_URL"] = BASE
    app.config["SUPPORT_BANNER_CACHE_SECONDS"] = 0
    data = client.get("/embed/banner.json?lang=en").get_json()
    urls = [data["variants"][0]["url"], *(a["url"] for a in data["variants"][0]["amounts"])]
    assert all(url.startswith(f"{BASE}/en/?") for url in urls), urls
    snippet = unescape(client.get("/embed/").get_data(as_text=True))
    assert f'<script async src="{BASE}/embed/banner.js"></script>' in snippet
    assert f"{BASE}/embed/banner.html" in snippet


def test_manage_and_staff_links_follow_the_public_url(app):
    app.config["SUPPORT_PUBLIC_URL"] = BASE
    assert portal_url(7, "ar", "request").startswith(f"{BASE}/manage/")
    user = staff()
    assert link_url(user, "invite").startswith(f"{BASE}/staff/invitation/")
    assert link_url(user, "reset").startswith(f"{BASE}/staff/password-reset/")


def test_no_module_builds_absolute_urls_itself():
    """Only urls.py takes SUPPORT_PUBLIC_URL from the settings, to join it to a route."""
    root = Path(support.__file__).parent
    readers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"\[\s*['\"]SUPPORT_PUBLIC_URL['\"]\s*\]", path.read_text(encoding="utf-8"))
    )
    assert readers == ["urls.py"]
