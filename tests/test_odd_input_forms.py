"""Reader pages fed odd form fields and query strings: a page in the reader's language
(a 400 for a refused form), never a 5xx.

Each property makes one to three fields odd (control characters, very long text,
bytes that are not UTF-8, a field given twice, a field left out) and posts the form
as a browser would, with its CSRF token.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import form_tokens
from tests.odd_inputs import FORM, FUZZ, form_body, odd_form, odd_form_value

# Hypothesis searches for a while: the full suite runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

LANGS = st.sampled_from(["en", "ar"])
DIRECTIONS = {"en": "ltr", "ar": "rtl"}


def assert_page_in(response, lang: str, statuses) -> None:
    """An HTML page in the reader's language with one of `statuses`."""
    assert response.status_code in statuses, (response.status_code, response.location)
    if response.status_code in (301, 302, 303):
        return
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{DIRECTIONS[lang]}"' in page


def appeal_fields(client, lang: str) -> dict[str, str]:
    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    return {
        "amount": "5",
        "amount_other": "",
        "frequency": "month",
        "currency": "usd",
        "cover_fees": "y",
        "email": "reader@example.org",
        "source": "https://news.example.org/a",
        "campaign": "",
        "variant": "monthly",
        **tokens,
    }


@FUZZ
@given(lang=LANGS, data=st.data())
def test_the_appeal_form_with_odd_fields_is_a_checkout_or_a_400_page(app, client, lang, data):
    # Many valid choices a second: the readers' Stripe share is tested on its own.
    app.config["STRIPE_READER_REQUESTS_PER_SECOND"] = 1000
    fields = appeal_fields(client, lang)
    names = [name for name in fields if name != "amount_other"] + ["amount_other", "unknown"]
    body = data.draw(odd_form(fields, names))
    response = client.post(f"/{lang}/checkout", data=body, content_type=FORM)
    assert_page_in(response, lang, (303, 400))


@FUZZ
@given(lang=LANGS, data=st.data())
def test_the_manage_form_with_odd_fields_is_answered_in_the_readers_language(
    app, client, lang, data
):
    app.config.update(
        MANAGE_LIMIT_PER_IP="100000 per hour", MANAGE_LIMIT_PER_EMAIL="100000 per hour"
    )
    tokens = form_tokens(client.get(f"/{lang}/manage").get_data(as_text=True))
    fields = {"email": "reader@example.org", "csrf_token": tokens["csrf_token"]}
    body = data.draw(odd_form(fields, ["email", "csrf_token", "other"]))
    response = client.post(f"/{lang}/manage", data=body, content_type=FORM)
    assert_page_in(response, lang, (200, 400))


READER_PAGES = [
    ("/{lang}/", ["amount", "frequency", "currency", "source", "campaign", "variant"]),
    ("/{lang}/cancelled", ["amount", "frequency", "currency", "campaign"]),
    ("/{lang}/thanks", ["session_id"]),
    ("/{lang}/manage/done", ["r"]),
    ("/{lang}/manage", ["email"]),
]


@FUZZ
@given(
    lang=LANGS,
    page=st.sampled_from(READER_PAGES),
    values=st.lists(odd_form_value, min_size=1, max_size=3),
    data=st.data(),
)
def test_odd_query_strings_on_reader_pages_get_a_page_in_their_language(
    app, client, lang, page, values, data
):
    path, names = page
    pairs = [(data.draw(st.sampled_from(names)), value) for value in values]
    query = form_body(pairs).decode()
    response = client.get(f"{path.format(lang=lang)}?{query}")
    assert_page_in(response, lang, (200, 302, 400, 404, 410))


@FUZZ
@given(lang=LANGS, token=odd_form_value)
def test_an_odd_manage_link_gets_a_page_not_an_error(app, client, lang, token):
    app.config["MANAGE_LIMIT_PORTAL"] = "100000 per hour"
    response = client.get(f"/manage/{quote(token, safe='') or 'x'}?lang={lang}")
    assert response.status_code in (400, 403, 404, 410), response.status_code
    assert response.mimetype == "text/html"


EMBED_QUERIES = ["lang", "source", "variant", "campaign"]


@FUZZ
@given(
    path=st.sampled_from(["/embed/banner.json", "/embed/banner.html"]),
    values=st.lists(st.tuples(st.sampled_from(EMBED_QUERIES), odd_form_value), max_size=4),
)
def test_odd_banner_queries_still_get_a_banner(app, client, path, values):
    response = client.get(f"{path}?{form_body(values).decode()}")
    assert response.status_code == 200, response.get_data()


@pytest.mark.parametrize("path", ["/manage//", "/manage//0", "/asks//x", "/en//", "/unsubscribe//"])
def test_a_doubled_slash_is_a_page_not_a_redirect(client, path):
    """Werkzeug would redirect `/manage//0` to `/manage/0` (a token nobody sent): a path
    with `//` in it is simply not found."""
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
