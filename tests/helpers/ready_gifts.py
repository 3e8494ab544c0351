"""What the failed-payment and monthly-offer tests share: giving over HTTP, the mails
received, and the single-use gift links (`/give/<token>`) they carry."""

from __future__ import annotations

import re

import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail
from tests.conftest import form_tokens

GIVE_LINK = re.compile(r"https?://[^\s\"'<>]+/give/[A-Za-z0-9_.\-]+")


def give(
    base: str,
    lang: str,
    email: str,
    amount: str = "5",
    frequency: str = "month",
    http: requests.Session | None = None,
    **fields,
) -> str:
    """A gift through the live appeal and the emulator's hosted Checkout, from `http` (a
    browser of its own); the Checkout Session id."""
    http = http or requests.Session()
    appeal = http.get(f"{base}/{lang}/", timeout=10)
    form = {"amount": amount, "frequency": frequency, "currency": "usd", **fields}
    form.update(form_tokens(appeal.text))
    checkout = http.post(f"{base}/{lang}/checkout", data=form, allow_redirects=False, timeout=30)
    assert checkout.status_code == 303, checkout.text[:300]
    paid = http.post(
        checkout.headers["Location"],
        data={"action": "pay", "email": email, "name": "Reader"},
        allow_redirects=False,
        timeout=30,
    )
    assert paid.status_code == 303
    return re.search(r"cs_test_\w+", paid.headers["Location"]).group(0)


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
