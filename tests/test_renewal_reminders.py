"""The reminder before a gift renews, end to end: the emulator emits `invoice.upcoming`
(a preview invoice with no id), the webhook stores it, the worker applies it and mails
the supporter once, in their language, with the amount, the date, the card and a link
that opens their page. Settings, frequencies and gifts that do not renew mail nothing."""

from __future__ import annotations

import json
import re

import pytest
from flask_babel import force_locale, format_date

from support.config import ConfigError, load_config
from support.mail import outbox
from support.mail.messages import build_message
from support.models import OutboundEmail
from support.webhooks import inbox
from support.webhooks.applying import apply_event
from tests import factories
from tests.helpers.reminders import (
    WILL_NOT_RENEW,
    cancel_at_period_end,
    delivered_gift,
    html_of,
    kinds,
    ledger_row,
    new_card,
    of_kind,
    open_mailed_link,
    pause,
    start_card_update,
    text_of,
)
from tests.stripe_history import apply_due, post_event

WORDS = {
    "en": {
        "subject": "Your gift to The Newsroom renews soon",
        "gift": "Your gift: $60 every year.",
        "card": "Visa ending in \u2066•••• 4242\u2069",
    },
    "ar": {
        "subject": "تتجدّد مساهمتك في غرفة الأخبار قريبًا",
        "gift": "سنخصم المبلغ من",
        "card": "\u2066•••• 4242\u2069",
    },
}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_yearly_gift_is_reminded_once_in_the_supporters_language(
    app, client, emulator, smtp_server, lang
):
    sub_id, deliveries = delivered_gift(client, emulator, "year", lang)
    assert kinds(smtp_server.received()) == ["thank_you"]

    preview = emulator.upcoming(sub_id)
    assert "id" not in preview and preview["billing_reason"] == "upcoming"
    [event] = deliveries.deliver()
    assert event["type"] == "invoice.upcoming"
    assert inbox.status_of(event["id"]) == "processed"
    # Stripe delivers it again, and sends another for the same renewal: still one mail.
    assert post_event(client, event).status_code == 200
    apply_due()
    assert apply_event(event["id"], again=True) == "processed"  # a staff replay
    outbox.send_due()
    emulator.upcoming(sub_id)
    deliveries.deliver()
    messages = smtp_server.received()
    assert kinds(messages) == ["thank_you", "renewal_reminder"]

    [mail] = of_kind(messages, "renewal_reminder")
    row = ledger_row(sub_id)
    assert int(row.current_period_end.timestamp()) == preview["period_end"]
    with force_locale(lang):
        date = format_date(row.current_period_end)
    text, html = text_of(mail), html_of(mail)
    words = WORDS[lang]
    assert mail["Subject"] == words["subject"]
    assert date in text and date in html
    assert words["gift"] in text and words["card"] in text
    assert "This card expires before then" not in text  # 12/2034 lasts
    assert mail["Content-Language"] == lang
    if lang == "ar":
        assert '<html lang="ar" dir="rtl">' in html
        assert "60" in text and "renews" not in text and "Visa" in text
    assert (row.card_brand, row.card_last4) == ("visa", "4242")

    browser, account = open_mailed_link(app, mail, lang)
    started = start_card_update(browser, account, row.id, lang)
    assert started.status_code == 303
    assert started.headers["Location"].startswith(f"/{lang}/account/card/seti_")


def test_the_reminder_warns_of_a_card_that_will_have_expired(client, emulator, smtp_server):
    sub_id, deliveries = delivered_gift(client, emulator)
    new_card(emulator, sub_id, 3, 2027)
    deliveries.deliver()
    emulator.upcoming(sub_id)
    deliveries.deliver()
    [mail] = of_kind(smtp_server.received(), "renewal_reminder")
    assert "expires \u206603/2027\u2069" in text_of(mail)
    assert "This card expires before then" in text_of(mail)
    assert "This card expires before then" in html_of(mail)


def test_monthly_gifts_are_reminded_only_when_chosen(app, client, emulator, smtp_server):
    sub_id, deliveries = delivered_gift(client, emulator, "month", amount="5")
    emulator.reset_api_stats()
    emulator.upcoming(sub_id)
    deliveries.deliver()
    assert kinds(smtp_server.received()) == ["thank_you"]
    # Not reminded: the ledger says so, and Stripe is not asked anything.
    assert emulator.api_stats()["requests"] == 0

    app.config["SUPPORT_RENEWAL_REMINDERS"] = ("year", "month")
    emulator.upcoming(sub_id)
    deliveries.deliver()
    messages = smtp_server.received()
    assert kinds(messages) == ["thank_you", "renewal_reminder"]
    assert "Your gift: $5 every month." in text_of(messages[-1])


def test_no_reminder_when_the_setting_is_off(app, client, emulator, smtp_server):
    app.config["SUPPORT_RENEWAL_REMINDERS"] = ()
    sub_id, deliveries = delivered_gift(client, emulator)
    emulator.reset_api_stats()
    emulator.upcoming(sub_id)
    [event] = deliveries.deliver()
    assert inbox.status_of(event["id"]) == "processed"
    assert kinds(smtp_server.received()) == ["thank_you"]
    assert emulator.api_stats()["requests"] == 0


@pytest.mark.parametrize("change", WILL_NOT_RENEW)
def test_no_reminder_for_a_gift_that_will_not_renew(client, emulator, smtp_server, change):
    """The gift changed after Stripe sent the event: the fresh read decides."""
    sub_id, deliveries = delivered_gift(client, emulator)
    emulator.upcoming(sub_id)
    upcoming = deliveries.new()
    change(sub_id)
    deliveries.deliver(upcoming)  # the reminder's event is applied first
    deliveries.deliver()
    assert kinds(smtp_server.received()) == ["thank_you"]
    if change is pause:
        # Paused before Stripe sent it: the ledger says so, and Stripe is not asked.
        emulator.reset_api_stats()
        emulator.upcoming(sub_id)
        deliveries.deliver()
        assert emulator.api_stats()["requests"] == 0
        assert kinds(smtp_server.received()) == ["thank_you"]


def test_a_cancelling_gift_has_no_upcoming_invoice_at_the_emulator(client, emulator):
    sub_id, _deliveries = delivered_gift(client, emulator)
    cancel_at_period_end(sub_id)
    with pytest.raises(Exception, match="cancel at period end"):
        emulator.upcoming(sub_id)


def test_a_reminder_applied_after_the_renewal_is_not_sent(client, emulator, smtp_server):
    sub_id, deliveries = delivered_gift(client, emulator)
    emulator.upcoming(sub_id)
    late = deliveries.new()
    emulator.renew(sub_id)
    deliveries.deliver(deliveries.new()[len(late) :])  # the renewal first
    deliveries.deliver(late)
    assert "renewal_reminder" not in kinds(smtp_server.received())


def test_an_upcoming_invoice_of_a_stranger_does_nothing(client, emulator, smtp_server):
    """A subscription we never had, or no subscription at all: processed, no mail, no read."""
    delivered_gift(client, emulator)
    emulator.reset_api_stats()
    for parent in (
        {"type": "subscription_details", "subscription_details": {"subscription": "sub_nope"}},
        None,
    ):
        event = {
            "id": f"evt_stranger_{parent is None}",
            "object": "event",
            "type": "invoice.upcoming",
            "created": 1_800_000_000,
            "livemode": False,
            "data": {"object": {"object": "invoice", "customer": "cus_x", "parent": parent}},
        }
        assert post_event(client, event).status_code == 200
        apply_due()
        assert inbox.status_of(event["id"]) == "processed"
    assert kinds(smtp_server.received()) == ["thank_you"]
    assert emulator.api_stats()["requests"] == 0


@pytest.mark.parametrize(
    ("value", "chosen"),
    [
        (None, ("year",)),
        ("year", ("year",)),
        ("month, YEAR", ("year", "month")),
        ("month", ("month",)),
        ("off", ()),
        ("OFF", ()),
    ],
)
def test_the_setting_names_the_frequencies_reminded(value, chosen):
    env = {"STRIPE_SECRET_KEY": "sk_test_x"}
    if value is not None:
        env["SUPPORT_RENEWAL_REMINDERS"] = value
    assert load_config(env)["SUPPORT_RENEWAL_REMINDERS"] == chosen


@pytest.mark.parametrize("value", ["weekly", "year,once", ",", "yes"])
def test_a_wrong_setting_is_named_at_start_up(value):
    message = "SUPPORT_RENEWAL_REMINDERS must be off or a comma-separated list of year and month"
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config({"STRIPE_SECRET_KEY": "sk_test_x", "SUPPORT_RENEWAL_REMINDERS": value})


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize(
    "context",
    [
        {},
        {"amount": 6000, "currency": "usd", "frequency": "year"},
        {"date": "not a date", "card_last4": 4242, "card_exp_month": "12", "amount": "lots"},
    ],
)
def test_both_mails_render_from_whatever_context_is_left(app, lang, context):
    """An older row, or one whose context was scrubbed (erasure), still renders."""
    who = factories.supporter(lang=lang)
    for kind in ("renewal_reminder", "card_expiring"):
        row = OutboundEmail(key=f"{kind}:x", kind=kind, lang=lang, context=json.dumps(context))
        message = build_message(row, who)
        text = message.get_body(("plain",)).get_content()
        assert "/manage/" in text and "{{" not in text
        if kind == "renewal_reminder" and lang == "en":
            assert "Your gift to The Newsroom renews soon." in text
            assert "We will charge the card your gift is paid with." in text
        if kind == "card_expiring":
            assert "ending in" not in text and "due on" not in text
