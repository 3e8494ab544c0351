"""The attack this service must stop, end to end over real HTTP through the emulator:
an attacker types a supporter's address at Checkout. They reach only their own gift;
the victim's row, mails and language stay as they were; the victim, proving the
address by a mailed link, sees every gift made under it."""

from __future__ import annotations

import re

import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import CheckoutAttempt, OutboundEmail, Subscription, Supporter
from tests.conftest import form_tokens
from tests.helpers.checkout import give_over_http

VICTIM = "victim@example.org"


def supporter_of(session_id: str) -> Supporter:
    attempt = db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.session_id == session_id)
    )
    return db.session.get(Supporter, attempt.supporter_id)


def mails_of(supporter: Supporter) -> list[tuple[str, str]]:
    query = sa.select(OutboundEmail.kind, OutboundEmail.key).where(
        OutboundEmail.supporter_id == supporter.id
    )
    return sorted(tuple(row) for row in db.session.execute(query))


def test_an_address_typed_at_checkout_opens_nothing_of_its_owner(
    live_server, emulator, smtp_server
):
    base = live_server.url
    victim_browser, attacker_browser = requests.Session(), requests.Session()
    victim_session = give_over_http(base, "ar", VICTIM, "5", "Victim", victim_browser)
    live_server.settle()
    victim = supporter_of(victim_session)
    before = (victim.email, victim.name, victim.lang, victim.stripe_customer_id)
    assert before[:3] == (VICTIM, "Victim", "ar")
    victim_mails = mails_of(victim)
    assert victim_mails == [("thank_you", f"thanks:{victim_session}")]

    # The attacker, in their own browser, gives $1 a month typing the victim's address.
    attacker_session = give_over_http(base, "en", VICTIM.upper(), "1", "Attacker", attacker_browser)
    live_server.settle()
    db.session.expire_all()
    attacker = supporter_of(attacker_session)
    paid_by = emulator.get(attacker_session)["customer"]
    assert attacker.id != victim.id and attacker.stripe_customer_id == paid_by
    assert paid_by != victim.stripe_customer_id

    # Nothing of the victim changed: row, language, gifts, mails.
    db.session.refresh(victim)
    assert (victim.email, victim.name, victim.lang, victim.stripe_customer_id) == before
    owned = db.session.scalars(
        sa.select(Subscription.amount).where(Subscription.supporter_id == victim.id)
    ).all()
    assert owned == [500]
    assert mails_of(victim) == victim_mails
    assert mails_of(attacker) == [("thank_you", f"thanks:{attacker_session}")]

    # The attacker's thanks page opens the account page for their own customer only.
    thanks = attacker_browser.get(f"{base}/en/thanks?session_id={attacker_session}", timeout=10)
    link = re.search(r'href="(/manage/[^"]+)"', thanks.text).group(1)
    button = attacker_browser.get(base + link, timeout=10)
    assert button.status_code == 200
    opened = attacker_browser.post(
        base + link, data=form_tokens(button.text), allow_redirects=False, timeout=30
    )
    assert opened.status_code == 303 and opened.headers["Location"] == "/en/account"
    account = attacker_browser.get(f"{base}/en/account", timeout=10)
    assert account.status_code == 200 and "$1" in account.text and "$5" not in account.text
    ids = re.findall(r'name="supporter" value="(\d+)"', account.text)
    assert ids == [str(attacker.id)]

    # No way from the attacker's browser to the victim's customer.
    forged = {"supporter": victim.id, **form_tokens(account.text)}
    refused = attacker_browser.post(
        f"{base}/en/account/portal", data=forged, allow_redirects=False, timeout=10
    )
    assert refused.status_code == 403
    victim_gift = db.session.scalar(
        sa.select(Subscription.id).where(Subscription.supporter_id == victim.id)
    )
    for action in ("amount", "pause", "cancel"):
        seen = attacker_browser.get(f"{base}/en/account/gifts/{victim_gift}/{action}", timeout=10)
        assert seen.status_code == 403
    assert "billing_portal.session" not in emulator.state()["objects"]

    # The victim proves the address with a mailed link and sees every gift made under it.
    smtp_server.clear()
    page = victim_browser.get(f"{base}/ar/manage", timeout=10)
    asked = victim_browser.post(
        f"{base}/ar/manage", data={"email": VICTIM, **form_tokens(page.text)}, timeout=10
    )
    assert asked.status_code == 200
    live_server.settle()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == VICTIM
    link = re.search(r"http://127\.0\.0\.1:\d+/manage/\S+", mail.get_body(("plain",)).get_content())
    button = victim_browser.get(link.group(0), timeout=10)
    spent = victim_browser.post(
        link.group(0), data=form_tokens(button.text), allow_redirects=False, timeout=10
    )
    assert spent.status_code == 303 and spent.headers["Location"] == "/ar/account"
    account = victim_browser.get(f"{base}/ar/account", timeout=10)
    assert account.status_code == 200 and 'dir="rtl"' in account.text
    ids = sorted(map(int, re.findall(r'name="supporter" value="(\d+)"', account.text)))
    assert ids == sorted([victim.id, attacker.id])
