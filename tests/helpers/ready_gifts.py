"""What the failed-payment and monthly-offer tests share: the mails received, and the
single-use gift links (`/give/<token>`) they carry (giving over HTTP is
`tests.helpers.checkout.give_over_http`)."""

from __future__ import annotations

import re

import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail
from tests.conftest import form_tokens

GIVE_LINK = re.compile(r"https?://[^\s\"'<>]+/give/[A-Za-z0-9_.\-]+")


def kinds(messages) -> list[str]:
    """The kinds of mail received, in order."""
    return [m["X-Support-Mail"].split(";")[0].strip() for m in messages]


def of_kind(messages, kind: str) -> list:
    return [m for m in messages if kinds([m]) == [kind]]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def give_link_in(message) -> str:
    """The one gift link of a mail: the same in its plain text and its HTML."""
    [link] = GIVE_LINK.findall(text_of(message))
    assert link in html_of(message).replace("&amp;", "&")
    return link


def owed(kind: str) -> list[OutboundEmail]:
    """The mails of `kind` owed in the outbox (each key once, whatever was delivered)."""
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboundEmail).where(OutboundEmail.kind == kind)))


def button_form(http: requests.Session, link: str) -> dict[str, str]:
    """GET the link's button page (which spends nothing); its form's hidden fields."""
    page = http.get(link, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text[:300]
    assert page.headers["Cache-Control"] == "no-store"
    return form_tokens(page.text)


def press(http: requests.Session, link: str, form: dict | None = None) -> requests.Response:
    """POST the link's button (as the reader's press does), without following redirects."""
    form = form if form is not None else button_form(http, link)
    return http.post(link, data=form, allow_redirects=False, timeout=30)
