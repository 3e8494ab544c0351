"""The outbox against a real SMTP server: once, in the supporter's language, retried, never
to an erased supporter. Rows are written here as the ledger writes them."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.mail import outbox
from support.mail.queue import queue_mail, queued
from support.models import OutboundEmail, Supporter, utcnow
from tests.conftest import free_port


def supporter(email="layla@example.com", lang="en", name="Layla", customer="cus_test1"):
    row = Supporter(email=email, name=name, lang=lang, stripe_customer_id=customer)
    db.session.add(row)
    db.session.commit()
    return row


def owe(who, key="thanks:cs_test_1", kind="thank_you", lang=None, **context):
    context = context or {"amount": 500, "currency": "usd", "frequency": "month"}
    row = OutboundEmail(
        key=key, kind=kind, supporter_id=who.id, lang=lang or who.lang, context=json.dumps(context)
    )
    db.session.add(row)
    db.session.commit()
    return row


def row_for(key):
    db.session.expire_all()
    return db.session.scalar(sa.select(OutboundEmail).where(OutboundEmail.key == key))


def test_thank_you_mail_in_english(app, smtp_server):
    owe(supporter())
    report = outbox.send_due()
    assert (report.sent, report.failed, report.skipped) == (1, 0, 0)
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "layla@example.com"
    assert mail["From"] == app.config["MAIL_FROM"]
    assert mail["Subject"] == "Thank you for supporting The Newsroom"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Dear Layla," in text
    assert "Your gift: $5 every month." in text
    assert "http://support.test/manage/" in text  # the signed portal link
    assert "http://support.test/en/manage" in text  # and the page for a new one
    assert '<html lang="en" dir="ltr">' in html
    assert "Your gift: $5 every month." in html
    row = row_for("thanks:cs_test_1")
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_a_sent_mail_is_never_sent_again(app, smtp_server):
    owe(supporter())
    outbox.send_due()
    outbox.send_due()
    assert outbox.send_due().sent == 0
    assert len(smtp_server.received()) == 1


def test_the_same_key_cannot_be_owed_twice(app, smtp_server):
    who = supporter()
    owe(who)
    assert queue_mail("thanks:cs_test_1", "thank_you", who.id, "en") is None
    assert queued() == []
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        owe(who)
    db.session.rollback()
    outbox.send_due()
    assert len(smtp_server.received()) == 1


def test_concurrent_senders_send_one_mail(app, smtp_server):
    owe(supporter())
    start = threading.Barrier(4)
    reports = []

    def sender():
        with app.app_context():
            start.wait()
            reports.append(outbox.send_due())

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sum(r.sent for r in reports) == 1
    assert len(smtp_server.received()) == 1
    assert row_for("thanks:cs_test_1").attempts == 1


def test_arabic_mail_is_right_to_left(app, smtp_server):
    owe(supporter(lang="ar", name="ليلى"))
    outbox.send_due()
    [mail] = smtp_server.wait_for(1)
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    assert 'dir="rtl"' in html.split("<body", 1)[1]
    assert mail["Content-Language"] == "ar"
    assert "شكرًا" in mail["Subject"]
    assert "ليلى" in text and "Thank you" not in text
    assert "/ar/manage" in text


def test_payment_failed_mail_once_with_a_card_link(app, smtp_server):
    who = supporter()
    owe(who, key="payment_failed:in_1", kind="payment_failed", amount=500, currency="usd")
    outbox.send_due()
    outbox.send_due()
    [mail] = smtp_server.received()
    text = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "Your payment to The Newsroom did not go through"
    assert "We could not take your payment of $5" in text
    assert "http://support.test/manage/" in text
    assert "Update my card" in mail.get_body(("html",)).get_content()


def test_erased_supporters_get_no_mail(app, smtp_server):
    who = supporter()
    owe(who)
    who.erased_at = utcnow()
    db.session.commit()
    report = outbox.send_due()
    assert (report.sent, report.skipped) == (0, 1)
    assert smtp_server.received() == []
    row = row_for("thanks:cs_test_1")
    assert row.status == "skipped" and row.last_error == "supporter erased"


def test_smtp_down_marks_the_row_failed_and_the_cli_retries_it(app, smtp_server, runner):
    owe(supporter())
    working_url = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    report = outbox.send_due()  # must not raise
    assert report.failed == 1
    row = row_for("thanks:cs_test_1")
    assert row.status == "failed" and "Connection" in row.last_error
    assert row.next_attempt_at > utcnow()

    app.config["MAIL_URL"] = working_url
    result = runner.invoke(args=["mail", "send"])
    assert "sent 0, failed 0" in result.output  # still waiting out its backoff

    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "sent 1, failed 0, skipped 0" in result.output
    assert len(smtp_server.wait_for(1)) == 1
    row = row_for("thanks:cs_test_1")
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None


def test_retries_stop_after_the_last_backoff(app, smtp_server):
    row = owe(supporter())
    row.attempts = outbox.MAX_ATTEMPTS - 1
    db.session.commit()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    outbox.send_due()
    row = row_for("thanks:cs_test_1")
    assert row.status == "failed" and row.next_attempt_at is None
    assert outbox.send_due().failed == 0  # left for staff to see, not retried forever


def test_a_mail_that_cannot_be_built_fails_without_raising(app, smtp_server):
    owe(supporter(), key="mystery:1", kind="mystery")
    assert outbox.send_due().failed == 1
    assert "mystery" in row_for("mystery:1").last_error


def test_an_abandoned_claim_is_retried_after_its_lease(app, smtp_server):
    row = owe(supporter())
    row.status, row.attempts = "sending", 1
    row.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert outbox.send_due().sent == 0  # another sender may still be at it
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert outbox.send_due().sent == 1


def test_the_sign_off_names_the_newsroom_once(app, smtp_server):
    # A name that starts with "The" used to read "The The Newsroom team".
    owe(supporter())
    outbox.send_due()
    [mail] = smtp_server.wait_for(1)
    for body in (mail.get_body(("plain",)), mail.get_body(("html",))):
        text = body.get_content()
        assert "The team at The Newsroom" in text
        assert "The The" not in text


def test_arabic_mail_uses_the_arabic_name_and_currency(app, smtp_server):
    app.config["SUPPORT_NEWSROOM_NAME_AR"] = "غرفة الأخبار"
    app.config["SUPPORT_ARABIC_DIGITS"] = "arab"
    owe(supporter(lang="ar", name="ليلى"))
    outbox.send_due()
    [mail] = smtp_server.wait_for(1)
    assert "غرفة الأخبار" in mail["Subject"] and "The Newsroom" not in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "٥ دولارات" in text and "US$" not in text and "أمريكي" not in text
    assert "فريق غرفة الأخبار" in text


def test_arabic_mail_never_says_the_english_default_name(app, smtp_server):
    # Nothing set: the Arabic placeholder, not "The Newsroom" inside an Arabic sentence.
    assert app.config["SUPPORT_NEWSROOM_NAME"] == "The Newsroom"
    owe(supporter(lang="ar", name="ليلى"))
    outbox.send_due()
    [mail] = smtp_server.wait_for(1)
    assert "The Newsroom" not in mail["Subject"]
    for body in (mail.get_body(("plain",)), mail.get_body(("html",))):
        text = body.get_content()
        assert "The Newsroom" not in text and "غرفة الأخبار" in text
