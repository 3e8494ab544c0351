"""Updating a gift's card from the account page, end to end through the emulator and the
webhooks, on both databases: a SetupIntent for the gift's customer, its card made the
subscription's default, a waiting invoice paid at once, one confirmation mail; the
errors in the page's language; 401 without proof and 403 for someone else's gift."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from support import stripe_budget
from support.extensions import db
from support.models import OutboundEmail
from tests.conftest import form_tokens
from tests.helpers.cards import (
    DECLINE,
    DECLINE_AFTER_ATTACH,
    SUCCESS,
    THREE_D_SECURE,
    actual_cards,
    card_of,
    elements_gift,
    expected_cards,
    expected_receipts,
    ledger_subscription,
    supporter_of,
    sync,
)
from tests.helpers.manage import sign_in
from tests.stripe_history import actual_ledger, expected_ledger

SETUP = re.compile(r"/(en|ar)/account/card/(seti_\w+)$")


def start(client, sub_id: str, lang: str = "en"):
    """Press "Update card" for the gift on the account page; the response."""
    page = client.get(f"/{lang}/account").get_data(as_text=True)
    row = ledger_subscription(sub_id)
    form = rf'name="subscription" value="{row.id}">\s*'
    nonce = re.search(form + r'<input type="hidden" name="nonce" value="([^"]+)"', page).group(1)
    data = {"csrf_token": form_tokens(page)["csrf_token"], "subscription": row.id, "nonce": nonce}
    return client.post(f"/{lang}/account/card", data=data)


def setup_id(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return SETUP.search(response.headers["Location"]).group(2)


def signed_in_gift(client, emulator, card=SUCCESS, lang="en"):
    sub_id = elements_gift(emulator, card=card, lang=lang)
    sync(client, emulator)
    sign_in(client, supporter_of(sub_id).id, lang)
    return sub_id


def mails(kind="card_updated") -> list[OutboundEmail]:
    return db.session.scalars(sa.select(OutboundEmail).where(OutboundEmail.kind == kind)).all()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_account_page_shows_the_card_next_payment_and_receipts(client, emulator, lang):
    signed_in_gift(client, emulator, lang=lang)
    html = client.get(f"/{lang}/account").get_data(as_text=True)
    assert "•••• 4242" in html and "12/2034" in html and "Visa" in html
    (receipt,) = expected_receipts(emulator).values()
    assert f'href="{receipt}"' in html
    if lang == "ar":
        assert "الدفعة التالية" in html and "الدفعات السابقة" in html and "إيصال" in html
    else:
        assert "Next payment: $5 on" in html and "Past payments" in html
        assert "Receipt on Stripe's page" in html


def test_update_the_card_end_to_end(client, emulator):
    sub_id = signed_in_gift(client, emulator)
    seti = setup_id(start(client, sub_id))
    intent = emulator.get(seti)
    assert intent["customer"] == emulator.get(sub_id)["customer"]
    assert intent["usage"] == "off_session" and intent["metadata"] == {"subscription": sub_id}

    page = client.get(f"/en/account/card/{seti}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {emulator.url}" in csp and f"frame-src {emulator.url}" in csp
    html = page.get_data(as_text=True)
    assert f'data-secret="{intent["client_secret"]}"' in html and 'data-locale="en"' in html
    assert f'<script src="{emulator.url}/v3/stripe.js"></script>' in html
    assert "<script>" not in html and "style=" not in html

    emulator.confirm_setup(seti, card=THREE_D_SECURE)  # as Stripe.js does
    emulator.confirm_setup(seti, three_d_secure="complete")
    done = client.get(f"/en/account/card/{seti}/done?setup_intent={seti}&redirect_status=succeeded")
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    text = done.get_data(as_text=True)
    assert "Your card is updated" in text and "•••• 3155" in text
    method = emulator.get(seti)["payment_method"]
    assert emulator.get(sub_id)["default_payment_method"] == method
    # The ledger has not heard yet: the account page says the change is on its way.
    account = client.get("/en/account").get_data(as_text=True)
    assert "data-card-pending" in account and "•••• 3155" in account

    again = client.get(f"/en/account/card/{seti}/done")  # a reload asks nothing new
    assert again.status_code == 200
    assert len(mails()) == 1
    mail = mails()[0]
    assert mail.key == f"card_updated:{seti}" and mail.lang == "en"
    assert json.loads(mail.context)["last4"] == "3155"

    sync(client, emulator)
    assert card_of(ledger_subscription(sub_id)) == ("visa", "3155", 12, 2034)
    account = client.get("/en/account").get_data(as_text=True)
    assert "data-card-pending" not in account and "•••• 3155" in account
    assert actual_cards() == expected_cards(emulator)
    assert actual_ledger() == expected_ledger(emulator)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_past_due_gift_gets_its_waiting_invoice_paid(client, emulator, lang):
    sub_id = signed_in_gift(client, emulator, card=DECLINE_AFTER_ATTACH, lang=lang)
    emulator.fail_renewal(sub_id)
    sync(client, emulator)
    assert ledger_subscription(sub_id).status == "past_due"
    waiting = [i for i in emulator.state()["objects"]["invoice"] if i["status"] == "open"]
    assert len(waiting) == 1
    html = client.get(f"/{lang}/account").get_data(as_text=True)
    assert 'data-card-state="ok"' in html and "•••• 0341" in html

    seti = setup_id(start(client, sub_id, lang))
    emulator.confirm_setup(seti, card=SUCCESS)
    done = client.get(f"/{lang}/account/card/{seti}/done")
    assert done.status_code == 200
    assert done.get_data(as_text=True).count('data-card-result="paid"') == 1
    assert emulator.get(waiting[0]["id"])["status"] == "paid"
    assert emulator.get(sub_id)["status"] == "active"
    sync(client, emulator)
    row = ledger_subscription(sub_id)
    assert row.status == "active" and card_of(row)[1] == "4242"
    assert actual_cards() == expected_cards(emulator)
    assert actual_ledger() == expected_ledger(emulator)
    assert [m.lang for m in mails()] == [lang]
    assert json.loads(mails()[0].context)["retried"] == "paid"


def test_a_waiting_invoice_declined_again_says_so(client, emulator):
    sub_id = signed_in_gift(client, emulator, card=DECLINE_AFTER_ATTACH)
    emulator.fail_renewal(sub_id)
    sync(client, emulator)
    seti = setup_id(start(client, sub_id))
    emulator.confirm_setup(seti, card=DECLINE_AFTER_ATTACH)
    done = client.get(f"/en/account/card/{seti}/done")
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert 'data-card-result="declined"' in text and "declined the payment that was waiting" in text
    assert emulator.get(sub_id)["status"] == "past_due"
    sync(client, emulator)
    assert actual_ledger() == expected_ledger(emulator)


@pytest.mark.parametrize(
    ("lang", "card", "tds", "says"),
    [
        ("en", DECLINE, None, "Your card was declined."),
        ("ar", DECLINE, None, "تم رفض بطاقتك."),
        ("en", THREE_D_SECURE, "fail", "Your bank could not confirm this card."),
        ("ar", THREE_D_SECURE, "fail", "لم يتمكن مصرفك من تأكيد هذه البطاقة."),
        ("en", None, None, "The new card was not confirmed"),
    ],
)
def test_a_setup_intent_not_succeeded_changes_nothing(client, emulator, lang, card, tds, says):
    sub_id = signed_in_gift(client, emulator, lang=lang)
    before = emulator.get(sub_id)["default_payment_method"]
    seti = setup_id(start(client, sub_id, lang))
    if card:
        emulator.confirm_setup(seti, card=card)
    if tds:
        emulator.confirm_setup(seti, three_d_secure=tds)
    done = client.get(f"/{lang}/account/card/{seti}/done")
    assert done.status_code == 409
    assert says in done.get_data(as_text=True)
    assert emulator.get(sub_id)["default_payment_method"] == before
    assert mails() == []


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_stripe_unavailable_or_busy(app, client, emulator, lang):
    sub_id = signed_in_gift(client, emulator, lang=lang)
    emulator.fail_next(status=500, count=2)
    refused = start(client, sub_id, lang)
    assert refused.status_code == 502
    html = refused.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html and 'data-card-result="unavailable"' in html
    assert "setup_intent" not in emulator.state()["objects"]

    page = client.get(f"/{lang}/account").get_data(as_text=True)
    data = {**form_tokens(page), "subscription": ledger_subscription(sub_id).id}
    readers = stripe_budget.readers()
    while readers.try_spend() == 0.0:  # other readers take this second's share
        pass
    busy = client.post(f"/{lang}/account/card", data=data)
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
    assert "setup_intent" not in emulator.state()["objects"]


def test_stripe_unavailable_on_the_return_page_then_a_retry_finishes(client, emulator):
    sub_id = signed_in_gift(client, emulator)
    seti = setup_id(start(client, sub_id))
    emulator.confirm_setup(seti, card=SUCCESS)
    emulator.fail_next(status=500)
    failed = client.get(f"/en/account/card/{seti}/done")
    assert failed.status_code == 502 and mails() == []
    assert f'href="/en/account/card/{seti}/done"' in failed.get_data(as_text=True)
    assert client.get(f"/en/account/card/{seti}/done").status_code == 200
    assert len(mails()) == 1


def test_someone_elses_gift_is_refused(client, emulator):
    mine = elements_gift(emulator, email="rana@example.com")
    theirs = elements_gift(emulator, email="other@example.com")
    sync(client, emulator)
    sign_in(client, supporter_of(theirs).id)
    their_seti = setup_id(start(client, theirs))
    client.post(
        "/en/account/sign-out", data=form_tokens(client.get("/en/account").get_data(as_text=True))
    )
    sign_in(client, supporter_of(mine).id)
    page = client.get("/en/account").get_data(as_text=True)
    data = {
        "csrf_token": form_tokens(page)["csrf_token"],
        "subscription": ledger_subscription(theirs).id,
    }
    assert client.post("/en/account/card", data=data).status_code == 403
    assert client.get(f"/en/account/card/{their_seti}").status_code == 403
    emulator.confirm_setup(their_seti, card=SUCCESS)
    assert client.get(f"/en/account/card/{their_seti}/done").status_code == 403
    assert (
        emulator.get(theirs)["default_payment_method"] != emulator.get(their_seti)["payment_method"]
    )
    assert client.get("/en/account/card/seti_unknown123").status_code == 404
    assert client.get("/en/account/card/not-an-id").status_code == 404


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_without_a_session_the_page_is_closed(app, client, emulator, lang):
    sub_id = elements_gift(emulator)
    sync(client, emulator)
    seti = stripe_setup_for(sub_id, emulator)
    tokens = form_tokens(client.get(f"/{lang}/manage").get_data(as_text=True))
    data = {**tokens, "subscription": ledger_subscription(sub_id).id}
    emulator.reset_api_stats()
    for response in (
        client.post(f"/{lang}/account/card", data=data),
        client.get(f"/{lang}/account/card/{seti}"),
        client.get(f"/{lang}/account/card/{seti}/done"),
    ):
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert 'data-account="closed"' in html and f'<html lang="{lang}"' in html
    assert emulator.api_stats()["requests"] == 0  # nothing is asked of Stripe without proof


def stripe_setup_for(sub_id: str, emulator) -> str:
    from support import stripe_api

    customer = emulator.get(sub_id)["customer"]
    return stripe_api.create_setup_intent(customer, sub_id, "test-key-" + sub_id)["id"]


def test_a_post_without_csrf_or_with_a_bad_gift_is_refused(client, emulator):
    sub_id = signed_in_gift(client, emulator)
    row = ledger_subscription(sub_id)
    assert client.post("/en/account/card", data={"subscription": row.id}).status_code == 400
    tokens = form_tokens(client.get("/en/account").get_data(as_text=True))
    bad = client.post("/en/account/card", data={**tokens, "subscription": "x"})
    assert bad.status_code == 400
    missing = client.post("/en/account/card", data={**tokens, "subscription": "99999"})
    assert missing.status_code == 403


def test_one_form_makes_one_setup_intent(client, emulator):
    sub_id = signed_in_gift(client, emulator)
    page = client.get("/en/account").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    data = {
        "csrf_token": form_tokens(page)["csrf_token"],
        "subscription": ledger_subscription(sub_id).id,
        "nonce": nonce,
    }
    first = setup_id(client.post("/en/account/card", data=data))
    second = setup_id(client.post("/en/account/card", data=data))
    assert first == second and len(emulator.state()["objects"]["setup_intent"]) == 1


def test_an_ended_gift_has_no_card_to_update(client, emulator):
    sub_id = signed_in_gift(client, emulator)
    page = client.get("/en/account").get_data(as_text=True)
    tokens = form_tokens(page)
    emulator.cancel(sub_id)
    sync(client, emulator)
    response = client.post(
        "/en/account/card", data={**tokens, "subscription": ledger_subscription(sub_id).id}
    )
    assert response.status_code == 409 and 'data-card-result="ended"' in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("lang", "subject", "says"),
    [
        ("en", "Your card for", "Visa ending in •••• 4242, expires 12/2034"),
        ("ar", "تم تحديث بطاقتك", "Visa المنتهية بـ •••• 4242، تنتهي صلاحيتها في 12/2034"),
    ],
)
def test_the_confirmation_mail_in_the_supporters_language(client, emulator, lang, subject, says):
    from support.mail.messages import build_message
    from support.models import Supporter

    sub_id = signed_in_gift(client, emulator, lang=lang)
    seti = setup_id(start(client, sub_id, lang))
    emulator.confirm_setup(seti, card=SUCCESS)
    assert client.get(f"/{lang}/account/card/{seti}/done").status_code == 200
    (row,) = mails()
    message = build_message(row, db.session.get(Supporter, row.supporter_id))
    assert subject in message["Subject"] and message["Content-Language"] == lang
    text = message.get_body(("plain",)).get_content()
    assert says in text.replace("\u2066", "").replace("\u2069", "")


def test_the_account_page_asks_stripe_nothing(client, emulator):
    signed_in_gift(client, emulator)
    emulator.reset_api_stats()
    html = client.get("/en/account").get_data(as_text=True)
    assert "•••• 4242" in html and "data-receipt" in html
    assert emulator.api_stats()["requests"] == 0


@pytest.mark.parametrize(
    ("lang", "soon", "expired"),
    [("en", "(expires soon)", "(expired)"), ("ar", "(تنتهي صلاحيتها قريبًا)", "(انتهت صلاحيتها)")],
)
def test_a_card_expiring_within_the_month_is_flagged(client, emulator, lang, soon, expired):
    from support.models import utcnow

    sub_id = signed_in_gift(client, emulator, lang=lang)
    row = ledger_subscription(sub_id)
    now = utcnow()
    row.card_exp_month, row.card_exp_year = now.month, now.year
    db.session.commit()
    html = client.get(f"/{lang}/account").get_data(as_text=True)
    assert 'data-card-state="soon"' in html and soon in html
    row = ledger_subscription(sub_id)
    row.card_exp_month, row.card_exp_year = 1, now.year - 1
    db.session.commit()
    html = client.get(f"/{lang}/account").get_data(as_text=True)
    assert 'data-card-state="expired"' in html and expired in html
