"""Cards that expire before the next payment: the worker finds them in the ledger (one
query, no Stripe read) and mails the supporter once per card, 30 days ahead, in their
language, with a link to their page where the card is changed. A new card that also
expires is mailed about again; a card that lasts, or a gift that will not renew, is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, format_date

from support.extensions import db
from support.mail import outbox
from support.models import OutboundEmail, utcnow
from support.reminders import expiring_cards
from support.webhooks.worker import Worker
from tests import factories
from tests.conftest import statements_run
from tests.helpers.reminders import (
    WILL_NOT_RENEW,
    delivered_gift,
    html_of,
    kinds,
    ledger_row,
    new_card,
    of_kind,
    open_mailed_link,
    start_card_update,
    text_of,
)

WORDS = {
    "en": {
        "subject": "Your card for The Newsroom expires before your next payment",
        "card": "Visa ending in \u2066•••• 4242\u2069, expires \u206601/2027\u2069",
    },
    "ar": {
        "subject": "تنتهي صلاحية بطاقتك لدى غرفة الأخبار قبل دفعتك القادمة",
        "card": "\u2066•••• 4242\u2069",
    },
}


def scan(now) -> int:
    """What the worker's hourly look does, at `now`, then sending what is due."""
    owed = expiring_cards.queue_due(now)
    outbox.send_due()
    return owed


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_card_that_expires_before_the_renewal_is_mailed_about_once(
    app, client, emulator, smtp_server, lang
):
    sub_id, deliveries = delivered_gift(client, emulator, "year", lang)
    new_card(emulator, sub_id, 1, 2027)
    deliveries.deliver()
    row = ledger_row(sub_id)
    assert (row.card_last4, row.card_exp_month, row.card_exp_year) == ("4242", 1, 2027)
    renews = row.current_period_end

    assert scan(renews - timedelta(days=31)) == 0  # not yet: 30 days ahead
    assert scan(renews - timedelta(days=30)) == 1
    assert scan(renews - timedelta(days=29)) == 0  # that card is mailed about once
    messages = smtp_server.received()
    assert kinds(messages) == ["thank_you", "card_expiring"]

    [mail] = of_kind(messages, "card_expiring")
    text, html = text_of(mail), html_of(mail)
    with force_locale(lang):
        date = format_date(renews)
    assert mail["Subject"] == WORDS[lang]["subject"] and mail["Content-Language"] == lang
    assert WORDS[lang]["card"] in text and date in text and date in html
    if lang == "ar":
        assert '<html lang="ar" dir="rtl">' in html and "expires" not in text

    browser, account = open_mailed_link(app, mail, lang)
    started = start_card_update(browser, account, row.id, lang)
    assert started.status_code == 303
    assert started.headers["Location"].startswith(f"/{lang}/account/card/seti_")

    # Another card, which also expires before the renewal: mailed about too.
    new_card(emulator, sub_id, 6, 2027, card="4000000000000341")
    deliveries.deliver()
    assert scan(renews - timedelta(days=20)) == 1
    assert scan(renews - timedelta(days=19)) == 0
    later = of_kind(smtp_server.received(), "card_expiring")
    assert len(later) == 2 and "0341" in text_of(later[1])

    # A card that lasts: nothing more.
    new_card(emulator, sub_id, 12, 2030)
    deliveries.deliver()
    assert scan(renews - timedelta(days=10)) == 0
    assert len(of_kind(smtp_server.received(), "card_expiring")) == 2


@pytest.mark.parametrize("change", WILL_NOT_RENEW)
def test_no_warning_for_a_gift_that_will_not_renew(client, emulator, smtp_server, change):
    sub_id, deliveries = delivered_gift(client, emulator)
    new_card(emulator, sub_id, 1, 2027)
    change(sub_id)
    deliveries.deliver()
    renews = factories.NOW + timedelta(days=365)
    assert scan(renews - timedelta(days=20)) == 0
    assert kinds(smtp_server.received()) == ["thank_you"]


def test_the_expiry_month_counts_in_full(app):
    """A card valid through March pays on March 31st, not on April 1st."""
    now = factories.NOW.replace(year=2031, month=3, day=10, hour=12)
    owner = factories.supporter()
    on_time = factories.subscription(
        owner, current_period_end=now.replace(day=31), card_last4="1111",
        card_exp_month=3, card_exp_year=2031,
    )  # fmt: skip
    too_late = factories.subscription(
        owner, current_period_end=now.replace(month=4, day=1, hour=0), card_last4="2222",
        card_exp_month=3, card_exp_year=2031,
    )  # fmt: skip
    long_expired = factories.subscription(
        owner, current_period_end=now + timedelta(days=2), card_last4="3333",
        card_exp_month=11, card_exp_year=2029,
    )  # fmt: skip
    db.session.commit()
    rows = db.session.execute(expiring_cards.due_query(now)).all()
    assert {r.stripe_id for r in rows} == {too_late.stripe_id, long_expired.stripe_id}
    assert on_time.stripe_id not in {r.stripe_id for r in rows}


def test_the_scan_is_one_query_and_no_stripe_request(app, emulator, smtp_server):
    now = utcnow()
    month_ago = now - timedelta(days=31)
    for number in range(40):
        owner = factories.supporter(lang="ar" if number % 2 else "en")
        factories.subscription(
            owner, interval="year", current_period_end=now + timedelta(days=1 + number % 29),
            card_brand="mastercard", card_last4=f"{number:04d}",
            card_exp_month=month_ago.month, card_exp_year=month_ago.year,
        )  # fmt: skip
    quiet = factories.supporter()
    factories.subscription(quiet, current_period_end=now + timedelta(days=5), card_last4="9999",
                           card_exp_month=12, card_exp_year=now.year + 3)  # fmt: skip
    db.session.commit()
    emulator.reset_api_stats()
    with statements_run(db.engine) as seen:
        assert expiring_cards.queue_due(now) == 40
        selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1
        assert emulator.api_stats()["requests"] == 0
        count = len(seen)
        assert expiring_cards.queue_due(now) == 0  # a second look finds nothing new
        assert len(seen) - count <= 3  # the one query, and its transaction's end
    outbox.send_due()
    received = smtp_server.received()
    assert kinds(received) == ["card_expiring"] * 40
    assert sum("Mastercard" in text_of(m) for m in received) == 40
    english = [text_of(m) for m in received if m["Content-Language"] == "en"]
    assert len(english) == 20
    assert all("The card for your gift to The Newsroom has expired." in t for t in english)
    assert emulator.api_stats()["requests"] == 0


def test_the_worker_looks_at_most_hourly(app, monkeypatch):
    now = utcnow()
    owner = factories.supporter()
    factories.subscription(owner, current_period_end=now + timedelta(days=3), card_last4="4444",
                           card_exp_month=1, card_exp_year=2020)  # fmt: skip
    db.session.commit()
    worker = Worker(app, threads=1)

    def owed() -> int:
        db.session.expire_all()
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboundEmail))

    worker._expiring_cards()
    assert owed() == 1
    db.session.execute(sa.delete(OutboundEmail))
    db.session.commit()
    worker._expiring_cards()
    assert owed() == 0  # within the hour: not looked again
    worker.cards_scanned_at -= timedelta(hours=1)
    worker._expiring_cards()
    assert owed() == 1

    # A look that owes a full batch is followed at once by another.
    for last4 in ("5555", "6666"):
        factories.subscription(owner, current_period_end=now + timedelta(days=4),
                               card_last4=last4, card_exp_month=2, card_exp_year=2020)  # fmt: skip
    db.session.commit()
    monkeypatch.setattr(expiring_cards, "BATCH", 1)
    worker.cards_scanned_at -= timedelta(hours=1)
    worker._expiring_cards()
    assert owed() == 2 and worker.cards_scanned_at is None
    worker._expiring_cards()
    assert owed() == 3 and worker.cards_scanned_at is None
    worker._expiring_cards()
    assert owed() == 3 and worker.cards_scanned_at is not None


def test_staff_see_the_reminders_on_the_supporters_page(app, client):
    owner = factories.supporter()
    factories.subscription(owner, current_period_end=utcnow() + timedelta(days=3),
                           card_last4="4444", card_exp_month=1, card_exp_year=2020)  # fmt: skip
    db.session.commit()
    expiring_cards.queue_due()
    factories.signed_in(client)
    page = client.get(f"/staff/supporters/{owner.id}").get_data(as_text=True)
    assert "Card expiring" in page  # by kind: the outbox key means nothing to a person
    assert "card_expiring:" not in page
