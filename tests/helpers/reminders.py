"""What the reminder tests share: a recurring gift whose events were delivered and
applied (so its thank-you went out), the mails the SMTP server received, a new card
with a chosen expiry, and spending a mailed link in a fresh browser."""

from __future__ import annotations

import re

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.models import Subscription
from tests.conftest import form_tokens
from tests.helpers.account_changes import Deliveries
from tests.stripe_history import give

LINK = re.compile(r"http://support\.test(/manage/[\w.-]+)")


def delivered_gift(client, emulator, frequency="year", lang="en", amount="60"):
    """A gift given in `lang`, its events delivered and applied: (stripe id, deliveries)."""
    _session, sub_id, _charge = give(client, emulator, frequency, amount, lang=lang)
    deliveries = Deliveries(client, emulator)
    deliveries.deliver()
    return sub_id, deliveries


def ledger_row(sub_id: str) -> Subscription:
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscription).where(Subscription.stripe_id == sub_id))


def kinds(messages) -> list[str]:
    """The kinds of mails received, in order (from the X-Support-Mail header)."""
    return [m["X-Support-Mail"].split(";")[0].strip() for m in messages]


def of_kind(messages, kind: str) -> list:
    return [m for m in messages if m["X-Support-Mail"].split(";")[0].strip() == kind]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def new_card(emulator, sub_id: str, exp_month: int, exp_year: int, card="4242424242424242"):
    """The reader saves a card with this expiry and it becomes the gift's default."""
    sub = emulator.get(sub_id)
    client = stripe_api.client()
    seti = client.v1.setup_intents.create(params={"customer": sub["customer"]})
    emulator.confirm_setup(seti.id, card=card, exp_month=exp_month, exp_year=exp_year)
    method = emulator.get(seti.id)["payment_method"]
    client.v1.subscriptions.update(sub_id, params={"default_payment_method": method})
    return method


def open_mailed_link(app, message, lang: str):
    """Press the button of the mail's link in a new browser: (that browser, account page)."""
    path = LINK.search(text_of(message)).group(1)
    assert path in html_of(message)
    browser = app.test_client()
    page = browser.get(path)
    assert page.status_code == 200
    token = form_tokens(page.get_data(as_text=True))["csrf_token"]
    spent = browser.post(path, data={"csrf_token": token})
    assert spent.status_code == 303 and spent.headers["Location"] == f"/{lang}/account"
    account = browser.get(f"/{lang}/account")
    assert account.status_code == 200
    return browser, account.get_data(as_text=True)


def start_card_update(browser, account_page: str, subscription_id: int, lang: str):
    """Press the account page's "Update card" for one gift; the response (303 to the card page)."""
    assert f'name="subscription" value="{subscription_id}"' in account_page
    data = {"subscription": subscription_id, **form_tokens(account_page)}
    return browser.post(f"/{lang}/account/card", data=data)


def pause(sub_id: str) -> None:
    """Pause the gift's collection (Stripe voids the invoices meanwhile)."""
    params = {"pause_collection": {"behavior": "void"}}
    stripe_api.client().v1.subscriptions.update(sub_id, params=params)


def cancel_at_period_end(sub_id: str) -> None:
    stripe_api.client().v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})


def cancel_now(sub_id: str) -> None:
    stripe_api.client().v1.subscriptions.cancel(sub_id)


# What makes a gift not renew: neither reminder nor expiry warning is owed for it.
WILL_NOT_RENEW = [pause, cancel_at_period_end, cancel_now]
