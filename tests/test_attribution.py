"""`source` never becomes a link, or Stripe metadata, unless browsers read it as we do.

A source URL ends up as the thanks page's "Back to the article" button, shown
right after a payment: any spelling a browser sends elsewhere than the host we
checked (a backslash, a tab, `%2E`, userinfo...) must be dropped on the way in.

A source is also copied into the ledger, Stripe, stored events, staff pages and
the CSV, so only the article and its campaign parameters are kept of it: a
newsletter link's `?email=` or `utm_email=` must never be stored.
"""

import html
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from support.attribution import clean_source, reduce_source
from support.extensions import db
from support.models import CheckoutAttempt
from tests.conftest import ARTICLE_HOST, form_tokens

# Each is a source a link could carry; none may survive cleaning.
HOSTILE_SOURCES = [
    # The audit's case: urlsplit reads the host as evil.example\.news..., browsers as evil.example.
    "https://evil.example\\.news.example.org/",
    "https://evil.example\\\\.news.example.org/",
    "https://evil.example%5C.news.example.org/",
    "https://evil.example/\\.news.example.org/",
    "https:/\\evil.example\\.news.example.org/",
    "https:\\\\evil.example\\.news.example.org/",
    "https://news.example.org/\\evil.example",
    "https://evil.example:443\\.news.example.org/",
    # Browsers strip tabs and newlines anywhere, and leading spaces or controls.
    "https://evil.exa\tmple\\.news.example.org/",
    "https://evil.example\n\\.news.example.org/",
    "https://news.example.org/a\tb",
    "https://news.example.org/a\r\n",
    "\thttps://news.example.org/a",
    " https://news.example.org/a",
    "https://news.example.org/a b",
    "https://news.example.org/\x00",
    "https://news.example.org/\u202egpj.exe",
    # Userinfo: the host is what follows the @.
    "https://news.example.org@evil.example/",
    "https://news.example.org:443@evil.example/",
    "https://user:secret@news.example.org/a",
    # Percent signs and look-alike dots in the host.
    "https://evil.example%2Enews.example.org/",
    "https://evil.example%2F.news.example.org/",
    "https://news.example.org%2F@evil.example/",
    "https://evil.example\u3002news.example.org/",
    "https://evil.example\uff0enews.example.org/",
    # Not the canonical spelling (uppercase, trailing dot, odd ports).
    "HTTPS://news.example.org/a",
    "https://NEWS.example.org/a",
    "https://News.Example.Org/a",
    "https://news.example.org./a",
    "https://news.example.org:/a",
    "https://news.example.org:0443/a",
    "https://news.example.org:99999/a",
    "https://news.example.org:http/a",
    # Internationalised look-alikes of the allowed host (Cyrillic е), raw or as punycode.
    "https://n\u0435ws.example.org/a",
    "https://xn--nws-rdd.example.org/a",
    # Other hosts, and hosts that merely contain or end with the allowed name.
    "https://evilnews.example.org/a",
    "https://news.example.org.evil.example/a",
    "https://evil.example/news.example.org",
    "https://evil.example/?next=https://news.example.org/",
    "https://[::1]/a",
    # Other schemes, and URLs without a scheme or host.
    "javascript://news.example.org/%0Aalert(1)",
    "ftp://news.example.org/a",
    "//news.example.org/a",
    "https:news.example.org/a",
    "https:///news.example.org/a",
    "news.example.org/a",
    "https://news.example.org/" + "a" * 500,
    "",
]

# The audit's variants, walked through the whole flow (the rest only through `clean_source`).
FLOW_SOURCES = [
    "https://evil.example\\.news.example.org/",
    "https://evil.example\\\\.news.example.org/",
    "https://evil.example%5C.news.example.org/",
    "https://evil.example/\\.news.example.org/",
    "https://evil.exa\tmple\\.news.example.org/",
    "https://evil.example\n\\.news.example.org/",
    "https://news.example.org@evil.example/",
    "https://evil.example%2Enews.example.org/",
    "HTTPS://news.example.org/a",
    "https://NEWS.example.org/a",
    "https://n\u0435ws.example.org/a",
    "https://xn--nws-rdd.example.org/a",
    "https://news.example.org:0443/a",
    "https://evilnews.example.org/a",
]

VALID_SOURCES = [
    ("https://news.example.org/en/article-1", "https://news.example.org/en/article-1"),
    ("http://news.example.org/a", "http://news.example.org/a"),
    ("https://news.example.org", "https://news.example.org"),
    ("https://www.news.example.org/a?x=1&y=2", "https://www.news.example.org/a"),
    ("https://xn--nws-rdd.news.example.org/a", "https://xn--nws-rdd.news.example.org/a"),
    ("https://news.example.org:8443/a", "https://news.example.org:8443/a"),
    ("https://news.example.org/ar/a-1#comments", "https://news.example.org/ar/a-1"),
    ("https://news.example.org/ar/%D9%85%D9%82%D8%A7%D9%84", None),
    ("https://news.example.org/ar/مقال?ref=x", "https://news.example.org/ar/مقال"),
    (
        "https://news.example.org/a?utm_email=them@example.org&utm_source=nl",
        "https://news.example.org/a?utm_source=nl",
    ),
]


@pytest.fixture
def config_only():
    """An app context with the settings `clean_source` reads; no database."""
    app = Flask(__name__)
    app.config["SUPPORT_ALLOWED_HOSTS"] = [ARTICLE_HOST]
    app.config["SUPPORT_PUBLIC_URL"] = "http://support.test"
    with app.app_context():
        yield


@pytest.mark.parametrize("source", HOSTILE_SOURCES)
def test_hostile_sources_are_dropped(config_only, source):
    assert clean_source(source) is None


@pytest.mark.parametrize(("source", "cleaned"), VALID_SOURCES)
def test_plain_sources_on_allowed_hosts_are_kept(config_only, source, cleaned):
    assert clean_source(source) == (cleaned or source)


def test_the_rebuilt_url_is_returned_not_the_input(config_only):
    # Equal text, but a new string built from the parsed parts.
    source = "https://news.example.org/a?utm_source=nl"
    assert clean_source(source) == source
    assert clean_source(source) is not source


ARTICLE = "https://news.example.org/a"
ADDRESS = "them@example.org"

# (what a link carries, what is kept of it): the article and campaign tokens only.
REDUCED_SOURCES = [
    # An address or an id in any other parameter.
    (f"{ARTICLE}?email={ADDRESS}", ARTICLE),
    (f"{ARTICLE}?utm_email={ADDRESS}&utm_source=nl", f"{ARTICLE}?utm_source=nl"),
    (f"{ARTICLE}?utm_source=nl&e=them%40example.org&utm_medium=email",
     f"{ARTICLE}?utm_source=nl&utm_medium=email"),
    (f"{ARTICLE}?mc_eid=5f3a9c&fbclid=IwAR0x&gclid=Cj0K&subscriber=1234", ARTICLE),
    (f"{ARTICLE}?UTM_SOURCE=nl&utm_source_platform=x&utm_id=1234&utm_sourcex=y", ARTICLE),
    (f"{ARTICLE}?next=https://news.example.org/b?email={ADDRESS}", ARTICLE),
    # Campaign parameters whose value is not a short token.
    (f"{ARTICLE}?utm_source={ADDRESS}", ARTICLE),
    (f"{ARTICLE}?utm_source=them%40example.org", ARTICLE),
    (f"{ARTICLE}?utm_term=them%2540example.org", ARTICLE),
    (f"{ARTICLE}?utm_content=Layla+Haddad", ARTICLE),
    (f"{ARTICLE}?utm_content=Layla%20Haddad", ARTICLE),
    (f"{ARTICLE}?utm_content=%D9%84%D9%8A%D9%84%D9%89", ARTICLE),
    (f"{ARTICLE}?utm_content=ليلى", ARTICLE),
    (f"{ARTICLE}?utm_campaign=a/b&utm_medium=-x&utm_term=_x&utm_content=", ARTICLE),
    (f"{ARTICLE}?utm_campaign=nl%0A", ARTICLE),
    (f"{ARTICLE}?utm_term={'a' * 65}", ARTICLE),
    (f"{ARTICLE}?utm_term={'a' * 64}", f"{ARTICLE}?utm_term={'a' * 64}"),
    # Kept in one order and once, so one article in one campaign is spelled one way.
    (f"{ARTICLE}?utm_term=t.1&utm_source=nl&utm_source=x&utm_campaign=may-2026&utm_medium=email"
     "&utm_content=top_link",
     f"{ARTICLE}?utm_source=nl&utm_medium=email&utm_campaign=may-2026&utm_content=top_link"
     "&utm_term=t.1"),
    (f"{ARTICLE}?utm_source={ADDRESS}&utm_source=nl", f"{ARTICLE}?utm_source=nl"),
    (f"{ARTICLE}?utm_campaign=a%2Db", f"{ARTICLE}?utm_campaign=a-b"),
    # Fragments go whole.
    (f"{ARTICLE}#email={ADDRESS}", ARTICLE),
    (f"{ARTICLE}?utm_source=nl#{ADDRESS}", f"{ARTICLE}?utm_source=nl"),
    (f"{ARTICLE}#?utm_source=nl", ARTICLE),
    # A handle at the start of a path segment is the newsroom's, not an address.
    ("https://news.example.org/@desk/a?utm_source=nl", "https://news.example.org/@desk/a?utm_source=nl"),
]  # fmt: skip

# Sources dropped whole: an address in the path or userinfo, or too long to be a link.
PERSONAL_SOURCES = [
    f"https://news.example.org/u/{ADDRESS}",
    "https://news.example.org/u/them%40example.org",
    "https://news.example.org/u/them%2540example.org",
    "https://news.example.org/u/them%252540example.org",
    "https://news.example.org/a%3Femail%3Dthem%40example.org",
    f"https://news.example.org/a;email={ADDRESS}",
    "https://news.example.org/@them@example.org/a",
    f"https://{ADDRESS}@news.example.org/a",
    "https://them%40example.org@news.example.org/a",
    "https://them:secret@news.example.org/a",
    f"{ARTICLE}?utm_source=nl&email={ADDRESS}&pad={'x' * 500}",
    f"mailto:{ADDRESS}",
]


@pytest.mark.parametrize(("source", "kept"), REDUCED_SOURCES)
def test_a_source_keeps_only_the_article_and_its_campaign(config_only, source, kept):
    assert clean_source(source) == kept
    assert reduce_source(source) == kept
    assert reduce_source(kept) == kept  # cleaning again changes nothing


@pytest.mark.parametrize("source", PERSONAL_SOURCES)
def test_a_source_with_an_address_outside_the_query_is_dropped(config_only, source):
    assert clean_source(source) is None
    assert reduce_source(source) is None


@pytest.mark.parametrize("source", HOSTILE_SOURCES)
def test_reducing_drops_what_cleaning_drops_except_other_hosts(config_only, source):
    # What survives reducing is plain, and only its host keeps it out of a link.
    reduced = reduce_source(source)
    host = reduced and reduced.split("/")[2]
    assert reduced is None or not (host == ARTICLE_HOST or host.endswith("." + ARTICLE_HOST))
    assert reduced is None or reduced == source.split("?")[0]


def test_reducing_a_stored_source_needs_no_host_list():
    # Rows and Stripe metadata written when another host was allowed keep counting.
    assert reduce_source(f"https://old.example.net/a?email={ADDRESS}&utm_source=nl") == (
        "https://old.example.net/a?utm_source=nl"
    )
    assert reduce_source(None) is None and reduce_source("newsletter") is None


_HIDDEN = re.compile(r'<input id="\w+" name="(\w+)" type="hidden" value="([^"]*)"')


def hidden_fields(rendered: str) -> dict[str, str]:
    """Every hidden input of the appeal form, as a browser would submit it."""
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(rendered)}


def _give(client, emulator, lang, source):
    """Follow a link carrying `source`, submit the appeal as rendered, pay; the thanks page."""
    appeal = client.get(f"/{lang}/", query_string={"source": source, "campaign": "c"})
    assert appeal.status_code == 200
    rendered = appeal.get_data(as_text=True)
    hidden = hidden_fields(rendered)
    assert {"csrf_token", "form_token", "source", "campaign"} <= set(hidden)
    response = client.post(
        f"/{lang}/checkout",
        data={**hidden, "amount": "5", "frequency": "month", "currency": "usd"},
    )
    assert response.status_code == 303
    session_id = response.location.rsplit("/", 1)[1]
    emulator.pay(session_id)
    thanks = client.get(f"/{lang}/thanks", query_string={"session_id": session_id})
    return rendered, session_id, thanks


def _session(emulator, session_id):
    [session] = [
        s for s in emulator.state()["objects"]["checkout.session"] if s["id"] == session_id
    ]
    return session, emulator.store.extra[session_id]


def _assert_not_carried(emulator, session_id, thanks):
    """The source is on no link of the thanks page and in none of Stripe's objects."""
    session, asked = _session(emulator, session_id)
    assert "source" not in session["metadata"]
    assert "source" not in asked["subscription_data"]["metadata"]
    assert "evil" not in session["cancel_url"]
    html = thanks.get_data(as_text=True)
    assert thanks.status_code == 200
    assert "#supported" not in html
    assert "evil" not in html
    assert "Back to the article" not in html and "data-back-to-article" not in html
    assert "data-share-mail" in html  # what the page offers instead: passing the appeal on


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("source", FLOW_SOURCES)
def test_hostile_source_from_a_link_never_reaches_stripe_or_the_thanks_page(
    client, emulator, lang, source
):
    rendered, session_id, thanks = _give(client, emulator, lang, source)
    assert hidden_fields(rendered)["source"] == ""
    _assert_not_carried(emulator, session_id, thanks)
    assert _session(emulator, session_id)[0]["metadata"]["campaign"] == "c"


@pytest.mark.parametrize("source", FLOW_SOURCES)
def test_hostile_source_posted_directly_is_dropped(client, emulator, source):
    lang = "ar"
    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    response = client.post(
        f"/{lang}/checkout",
        data={"amount": "5", "frequency": "month", "currency": "usd", "source": source, **tokens},
    )
    assert response.status_code == 303
    session_id = response.location.rsplit("/", 1)[1]
    emulator.pay(session_id)
    thanks = client.get(f"/{lang}/thanks", query_string={"session_id": session_id})
    _assert_not_carried(emulator, session_id, thanks)
    assert db.session.scalars(sa.select(CheckoutAttempt.source)).all() == [None]


@pytest.mark.parametrize(("source", "cleaned"), VALID_SOURCES)
def test_plain_source_goes_through_to_stripe_and_the_thanks_page(client, emulator, source, cleaned):
    cleaned = cleaned or source
    rendered, session_id, thanks = _give(client, emulator, "ar", source)
    assert hidden_fields(rendered)["source"] == cleaned
    session, asked = _session(emulator, session_id)
    assert session["metadata"]["source"] == cleaned
    assert asked["subscription_data"]["metadata"]["source"] == cleaned
    assert f'href="{html.escape(cleaned)}#supported"' in thanks.get_data(as_text=True)


def test_a_hostile_source_stored_earlier_is_not_linked(client, emulator):
    # A row written before the stricter rule: the thanks page cleans it again.
    response = client.post(
        "/en/checkout",
        data={
            "amount": "5", "frequency": "month", "currency": "usd",
            **form_tokens(client.get("/en/").get_data(as_text=True)),
        },
    )  # fmt: skip
    session_id = response.location.rsplit("/", 1)[1]
    attempt = db.session.scalar(sa.select(CheckoutAttempt))
    attempt.source = HOSTILE_SOURCES[0]
    db.session.commit()
    emulator.pay(session_id)
    thanks = client.get("/en/thanks", query_string={"session_id": session_id})
    assert "#supported" not in thanks.get_data(as_text=True)
    assert "evil" not in thanks.get_data(as_text=True)
