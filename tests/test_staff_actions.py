"""Admins acting on a supporter: refund, cancel, send the thank-you again, Stripe links.

Gifts are real ones in the emulator; the actions go to it through the app's
StripeClient, and the ledger changes only when the webhook that follows is
delivered and applied, as in production.
"""

from __future__ import annotations

import json
import re
import threading

import pytest
import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import (
    OutboundEmail,
    Payment,
    StaffAction,
    StatsSnapshot,
    Subscription,
    Supporter,
)
from support.staff.supporters import actions
from support.stats import snapshot as stats_cache
from tests.factories import (
    PASSWORD,
    csrf,
    payment,
    signed_in,
    staff,
    subscription,
    supporter,
    totp_code,
)
from tests.helpers.staff_actions import (
    FORM_TOKEN,
    confirmation,
    deliver_new,
    gifts,  # noqa: F401 (a fixture)
    refund_form,
    refunded_at_stripe,
)
from tests.stripe_history import give


def staff_actions() -> list[StaffAction]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(StaffAction).order_by(StaffAction.id)))


# Who may act


def test_viewers_get_403_and_see_no_action(client, gifts, emulator):
    signed_in(client, "viewer")
    page = client.get(gifts["page"]).get_data(as_text=True)
    assert "Refund…" not in page and "Cancel…" not in page and "Send again…" not in page
    mail = db.session.scalar(sa.select(OutboundEmail))
    resend = f"{gifts['page']}/mails/{mail.id}/resend"
    token = csrf(client, gifts["page"])
    for path in (gifts["refund"], gifts["cancel"], resend):
        assert client.get(path).status_code == 403
        data = {"csrf_token": token, "token": "x" * 32, "confirm": "y", "amount": "10",
                "currency": "usd", "when": "now"}  # fmt: skip
        assert client.post(path, data=data).status_code == 403
    assert refunded_at_stripe(emulator, gifts["charge"]) == 0
    assert emulator.get(gifts["sub_id"])["status"] == "active"
    assert staff_actions() == []


def test_signed_out_visitors_are_sent_to_sign_in(client, gifts):
    response = client.get(gifts["refund"])
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_rows_of_another_supporter_are_404(client, gifts):
    other = supporter("other@example.org")
    db.session.commit()
    signed_in(client, "admin")
    for path in (
        f"/staff/supporters/{other.id}/payments/{gifts['payment']}/refund",
        f"/staff/supporters/{other.id}/subscriptions/{gifts['subscription']}/cancel",
        f"/staff/supporters/{gifts['supporter']}/payments/999999/refund",
    ):
        assert client.get(path).status_code == 404


# Refunds


def test_partial_then_full_refund_through_the_webhook(client, gifts, emulator):
    signed_in(client, "admin")
    page = client.get(gifts["refund"]).get_data(as_text=True)
    assert "Left to refund" in page and "$10" in page
    assert 'value="10.00"' in page  # all that is left, unless changed

    done = client.post(gifts["refund"], data=refund_form(client, gifts, "4"))
    assert done.status_code == 303 and done.headers["Location"].endswith(gifts["page"])
    flashed = client.get(gifts["page"]).get_data(as_text=True)
    assert (
        "Refund of $4 requested; the ledger and the dashboard update when Stripe confirms it, "
        "usually within seconds." in flashed
    )
    assert refunded_at_stripe(emulator, gifts["charge"]) == 400
    [action] = staff_actions()
    assert (action.action, action.target, action.amount, action.currency, action.outcome) == (
        "refund", gifts["charge"], 400, "usd", "requested")  # fmt: skip
    assert action.staff_email == "admin@example.org" and action.detail.startswith("re_")
    # The action writes no ledger row: the webhook does.
    assert db.session.get(Payment, gifts["payment"]).refunded_amount == 0
    assert [e["type"] for e in emulator.events("charge.refunded")] == ["charge.refunded"]
    assert ">requested<" in client.get(gifts["page"]).get_data(as_text=True)
    deliver_new(client, emulator, gifts["seen"])
    db.session.expire_all()
    paid = db.session.get(Payment, gifts["payment"])
    assert (paid.refunded_amount, paid.status) == (400, "partially_refunded")
    # The webhook applied: the action shows what Stripe did, here and in the audit.
    assert staff_actions()[0].outcome == "confirmed"
    assert ">confirmed by Stripe<" in client.get(gifts["page"]).get_data(as_text=True)

    page = client.get(gifts["refund"]).get_data(as_text=True)
    assert 'value="6.00"' in page
    client.post(gifts["refund"], data=refund_form(client, gifts, "6.00"))
    deliver_new(client, emulator, gifts["seen"])
    db.session.expire_all()
    assert db.session.get(Payment, gifts["payment"]).status == "refunded"
    detail = client.get(gifts["page"]).get_data(as_text=True)
    assert f"/payments/{gifts['payment']}/refund" not in detail  # nothing left to refund
    assert detail.count(">confirmed by Stripe<") == 2 and "admin@example.org" in detail
    assert ">requested<" not in detail
    assert client.get(gifts["refund"]).get_data(as_text=True).count("Nothing is left") == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("10.01", "That is more than the $10 left to refund of this payment."),
        ("11", "That is more than the $10 left to refund of this payment."),
        ("0", "The amount must be more than zero."),
        ("0.00", "The amount must be more than zero."),
        ("-1", "Enter the amount in digits, like 5 or 2.50."),
        ("1e3", "Enter the amount in digits, like 5 or 2.50."),
        ("1.234", "USD amounts have at most 2 decimals."),
        ("", "Enter the amount to refund."),
    ],
)
def test_refund_amount_is_validated(client, gifts, emulator, amount, message):
    signed_in(client, "admin")
    refused = client.post(gifts["refund"], data=refund_form(client, gifts, amount))
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert refunded_at_stripe(emulator, gifts["charge"]) == 0
    assert staff_actions() == []


def test_refund_in_the_wrong_currency_is_refused(client, gifts, emulator):
    signed_in(client, "admin")
    data = refund_form(client, gifts, "5", currency="eur")
    refused = client.post(gifts["refund"], data=data)
    assert refused.status_code == 400
    assert "This payment is in USD" in refused.get_data(as_text=True)
    assert refunded_at_stripe(emulator, gifts["charge"]) == 0


def test_refund_needs_confirmation_csrf_and_token(client, gifts, emulator):
    signed_in(client, "admin")
    unticked = refund_form(client, gifts, "5")
    del unticked["confirm"]
    response = client.post(gifts["refund"], data=unticked)
    assert response.status_code == 400 and "Tick the box to confirm." in response.get_data(
        as_text=True
    )
    no_csrf = {k: v for k, v in refund_form(client, gifts, "5").items() if k != "csrf_token"}
    assert client.post(gifts["refund"], data=no_csrf).status_code == 400
    no_token = {k: v for k, v in refund_form(client, gifts, "5").items() if k != "token"}
    assert client.post(gifts["refund"], data=no_token).status_code == 400
    assert refunded_at_stripe(emulator, gifts["charge"]) == 0 and staff_actions() == []


def test_double_submit_refunds_once(client, gifts, emulator):
    signed_in(client, "admin")
    data = refund_form(client, gifts, "3")
    first = client.post(gifts["refund"], data=data)
    second = client.post(gifts["refund"], data=data)
    assert first.status_code == second.status_code == 303
    page = client.get(gifts["page"]).get_data(as_text=True)
    assert "nothing was done twice" in page
    assert refunded_at_stripe(emulator, gifts["charge"]) == 300
    assert len(emulator.state()["objects"]["refund"]) == 1
    assert len(staff_actions()) == 1


def test_a_lost_answer_then_pressing_again_refunds_once(client, gifts, emulator, app):
    """Stripe refunded, but its answer was lost on the way: the page says to press
    again, and pressing again (the same form, so the same idempotency key) gets
    Stripe's first answer back instead of a second refund."""
    app.config["STRIPE_TIMEOUT"] = 1
    app.config["STRIPE_NETWORK_RETRIES"] = 1  # as in production: its retry is lost too
    app.extensions.pop("stripe_client", None)  # built again with these settings
    signed_in(client, "admin")
    data = refund_form(client, gifts, "2")
    emulator.stall_next(1.5, count=2)  # the library's own retry is lost too
    lost = client.post(gifts["refund"], data=data)
    assert lost.status_code == 502
    assert "Stripe did not answer. Press the button again" in lost.get_data(as_text=True)
    assert refunded_at_stripe(emulator, gifts["charge"]) == 200  # it did happen
    assert staff_actions()[0].outcome == "failed"

    again = client.post(gifts["refund"], data=data)
    assert again.status_code == 303
    assert refunded_at_stripe(emulator, gifts["charge"]) == 200  # not twice
    assert len(emulator.state()["objects"]["refund"]) == 1
    [action] = staff_actions()
    assert action.outcome == "requested" and action.detail.startswith("re_")
    # The emulator is still holding the library's retry: let it answer, or it would
    # take the failure the next test injects.
    assert emulator.wait_answered(5)


def test_a_stripe_refusal_is_shown_and_pressing_again_works(client, gifts, emulator):
    signed_in(client, "admin")
    data = refund_form(client, gifts, "5")
    emulator.fail_next(status=400, type="invalid_request_error", code="charge_disputed",
                       message="Charge has been charged back; cannot issue a refund.")  # fmt: skip
    refused = client.post(gifts["refund"], data=data)
    assert refused.status_code == 502
    html = refused.get_data(as_text=True)
    assert "Stripe refused: Charge has been charged back; cannot issue a refund." in html
    assert FORM_TOKEN.search(html).group(1) == data["token"]  # the same form, to press again
    [action] = staff_actions()
    assert action.outcome == "failed" and "charged back" in action.detail
    assert "charged back" in client.get(gifts["page"]).get_data(as_text=True)

    again = client.post(gifts["refund"], data=data)
    assert again.status_code == 303
    [action] = staff_actions()
    assert action.outcome == "requested"
    assert refunded_at_stripe(emulator, gifts["charge"]) == 500


def test_stripe_trouble_and_silence_are_explained(client, gifts, emulator):
    signed_in(client, "admin")
    emulator.fail_next(status=500, type="api_error", message="Stripe is having trouble", count=2)
    trouble = client.post(gifts["refund"], data=refund_form(client, gifts, "5"))
    assert trouble.status_code == 502
    assert "Stripe could not do it right now (Stripe is having trouble)" in trouble.get_data(
        as_text=True
    )
    assert refunded_at_stripe(emulator, gifts["charge"]) == 0


def test_stripe_refuses_more_than_it_has_left(client, gifts, emulator):
    """Refunded at Stripe, webhook not applied yet: our ledger still says $10 is left."""
    emulator.refund(gifts["charge"], amount=700)
    signed_in(client, "admin")
    refused = client.post(gifts["refund"], data=refund_form(client, gifts, "10"))
    assert refused.status_code == 502
    html = refused.get_data(as_text=True)
    assert "Stripe refused: Refund amount (10.00 USD) is greater than unrefunded amount" in html
    assert refunded_at_stripe(emulator, gifts["charge"]) == 700


# Cancellations


def test_cancel_at_period_end_then_now(client, gifts, emulator):
    signed_in(client, "admin")
    page = client.get(gifts["cancel"]).get_data(as_text=True)
    assert "At the end of the period already paid for" in page and ">Now<" in page
    data = {**confirmation(client, gifts["cancel"]), "when": "period_end"}
    done = client.post(gifts["cancel"], data=data)
    assert done.status_code == 303
    assert "at the end of its period requested; the ledger and the dashboard update" in (
        client.get(gifts["page"]).get_data(as_text=True)
    )
    assert emulator.get(gifts["sub_id"])["cancel_at_period_end"] is True
    db.session.expire_all()
    assert db.session.get(Subscription, gifts["subscription"]).cancel_at_period_end is False
    assert staff_actions()[0].outcome == "requested"
    deliver_new(client, emulator, gifts["seen"])
    db.session.expire_all()
    sub = db.session.get(Subscription, gifts["subscription"])
    assert (sub.status, sub.cancel_at_period_end) == ("active", True)
    assert staff_actions()[0].outcome == "confirmed"
    assert "ends with its period" in client.get(gifts["page"]).get_data(as_text=True)

    page = client.get(gifts["cancel"]).get_data(as_text=True)
    assert "At the end of the period already paid for" not in page  # only "now" is left
    data = {**confirmation(client, gifts["cancel"]), "when": "now"}
    assert client.post(gifts["cancel"], data=data).status_code == 303
    assert emulator.get(gifts["sub_id"])["status"] == "canceled"
    deliver_new(client, emulator, gifts["seen"])
    db.session.expire_all()
    assert db.session.get(Subscription, gifts["subscription"]).status == "canceled"
    assert [(a.action, a.outcome) for a in staff_actions()] == [
        ("cancel_at_period_end", "confirmed"),
        ("cancel_now", "confirmed"),
    ]
    audit = client.get("/staff/audit").get_data(as_text=True)
    assert audit.count(">confirmed by Stripe<") == 2 and ">requested<" not in audit
    assert "Cancel…" not in client.get(gifts["page"]).get_data(as_text=True)


def test_cancel_twice_and_cancel_what_has_ended(client, gifts, emulator):
    signed_in(client, "admin")
    data = {**confirmation(client, gifts["cancel"]), "when": "now"}
    client.post(gifts["cancel"], data=data)
    client.post(gifts["cancel"], data=data)  # a double submit
    assert len(staff_actions()) == 1
    deliver_new(client, emulator, gifts["seen"])
    assert "already ended" in client.get(gifts["cancel"]).get_data(as_text=True)  # no form
    stale = {**data, "token": actions.new_token()}  # a form left open in another tab
    ended = client.post(gifts["cancel"], data=stale)
    assert ended.status_code == 409
    assert "already ended" in ended.get_data(as_text=True)


def test_a_cancel_stripe_refuses_is_shown(client, gifts, emulator):
    emulator.cancel(gifts["sub_id"])  # canceled at Stripe; the webhook has not arrived yet
    signed_in(client, "admin")
    data = {**confirmation(client, gifts["cancel"]), "when": "period_end"}
    refused = client.post(gifts["cancel"], data=data)
    assert refused.status_code == 502
    assert "Stripe refused:" in refused.get_data(as_text=True)
    assert staff_actions()[0].outcome == "failed"


# Mail sent again


def test_resend_the_thank_you_mail(client, gifts, emulator, smtp_server):
    from tests.stripe_history import apply_due

    signed_in(client, "admin")
    first = db.session.scalar(
        sa.select(OutboundEmail).where(OutboundEmail.kind == "thank_you").order_by(OutboundEmail.id)
    )
    page = client.get(gifts["page"]).get_data(as_text=True)
    # Staff read what a mail is, never the outbox's internal key.
    assert "Send again…" in page and "Thank-you (receipt)" in page
    assert first.key not in page and "thanks:" not in page
    assert first.key not in client.get(f"{gifts['page']}/mails/{first.id}/resend").get_data(
        as_text=True
    )
    path = f"{gifts['page']}/mails/{first.id}/resend"
    data = confirmation(client, path)
    assert client.post(path, data=data).status_code == 303
    assert client.post(path, data=data).status_code == 303  # double submit: one mail
    assert "will be sent again to reader@example.org" in client.get(gifts["page"]).get_data(
        as_text=True
    )
    again = db.session.scalars(
        sa.select(OutboundEmail).where(OutboundEmail.key.like(first.key + ":again:%"))
    ).all()
    assert len(again) == 1
    assert (again[0].kind, again[0].lang, json.loads(again[0].context)) == (
        "thank_you", first.lang, json.loads(first.context))  # fmt: skip
    [action] = staff_actions()
    assert (action.action, action.target, action.outcome, action.detail) == (
        "resend_mail", first.key, "queued", again[0].key)  # fmt: skip
    smtp_server.clear()
    apply_due()  # the worker sends due mail
    [message] = smtp_server.wait_for(1)
    assert message["X-Support-Mail"] == f"thank_you; {again[0].key}"
    assert message["To"] == "reader@example.org"
    # The action now says the mail went, on the supporter's page and in the audit.
    for path in (gifts["page"], "/staff/audit"):
        shown = client.get(path).get_data(as_text=True)
        assert ">sent<" in shown and ">queued<" not in shown, path
        assert "thanks:" not in shown and first.key not in shown, path


def test_resend_is_refused_once_erased_and_only_for_thank_yous(client, gifts):
    signed_in(client, "admin")
    mail = db.session.scalar(sa.select(OutboundEmail))
    path = f"{gifts['page']}/mails/{mail.id}/resend"
    data = confirmation(client, path)
    reader = db.session.get(Supporter, gifts["supporter"])
    reader.email, reader.name = None, None
    from support.models import utcnow

    reader.erased_at = utcnow()
    other = OutboundEmail(key="manage:x", kind="manage_link", supporter_id=reader.id)
    db.session.add(other)
    db.session.commit()
    refused = client.post(path, data=data)
    assert refused.status_code == 409 and "no email address" in refused.get_data(as_text=True)
    assert client.get(f"{gifts['page']}/mails/{other.id}/resend").status_code == 404


# Links to Stripe's dashboard


def test_links_to_the_stripe_dashboard(client, gifts, app):
    signed_in(client, "viewer")
    app.config["STRIPE_API_BASE"] = None  # talking to Stripe itself
    page = client.get(gifts["page"]).get_data(as_text=True)
    reader = db.session.get(Supporter, gifts["supporter"])
    gift = db.session.get(Payment, gifts["payment"])
    base = "https://dashboard.stripe.com/test/"
    assert f'href="{base}customers/{reader.stripe_customer_id}"' in page
    assert f'href="{base}subscriptions/{gifts["sub_id"]}"' in page
    assert f'href="{base}payments/{gift.stripe_id}"' in page
    invoice = db.session.scalar(sa.select(Payment).where(Payment.kind == "subscription"))
    assert f'href="{base}invoices/{invoice.stripe_id}"' in page
    assert f'href="{base}payments/{invoice.stripe_charge_id}"' in page
    assert 'rel="noopener noreferrer"' in page
    app.config["STRIPE_LIVEMODE"] = True
    live = client.get(gifts["page"]).get_data(as_text=True)
    assert f'href="https://dashboard.stripe.com/customers/{reader.stripe_customer_id}"' in live


def test_under_the_emulator_links_open_its_own_view(client, gifts, app, emulator):
    signed_in(client, "viewer")
    page = client.get(gifts["page"]).get_data(as_text=True)
    assert "dashboard.stripe.com" not in page
    reader = db.session.get(Supporter, gifts["supporter"])
    gift = db.session.get(Payment, gifts["payment"])
    links = {
        reader.stripe_customer_id: ("Customer", "created"),
        gifts["sub_id"]: ("Subscription", "active"),
        gift.stripe_id: ("Payment intent", "10.00 USD"),
    }
    for object_id, (kind, shown) in links.items():
        url = f"{emulator.url}/dashboard/{object_id}"
        assert f'href="{url}"' in page, object_id
        answer = requests.get(url, timeout=5)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
        assert f"<h1>{kind} <code>{object_id}</code></h1>" in answer.text
        assert shown in answer.text and "Read only" in answer.text
    assert requests.get(f"{emulator.url}/dashboard/cus_nothing", timeout=5).status_code == 404
    hostile = requests.get(f"{emulator.url}/dashboard/%3Cscript%3E", timeout=5)
    assert hostile.status_code == 404 and "<script>" not in hostile.text
    assert requests.post(url, timeout=5).status_code == 405  # read only


# The dashboard follows


def test_the_dashboard_is_recomputed_once_the_refund_is_applied(client, gifts, emulator):
    signed_in(client, "admin")
    before = client.get("/staff/api/stats.json").json
    assert before["one_time_revenue_last_30_days"] == {"usd": 1000}
    client.post(gifts["refund"], data=refund_form(client, gifts, "4"))
    # Stripe has not confirmed yet: the figures (a fresh snapshot) are unchanged.
    assert client.get("/staff/api/stats.json").json["one_time_revenue_last_30_days"] == {
        "usd": 1000
    }
    deliver_new(client, emulator, gifts["seen"])  # the worker applies charge.refunded
    snapshot = db.session.get(StatsSnapshot, stats_cache.KEY)
    db.session.refresh(snapshot)
    assert snapshot.stale_since is not None
    after = client.get("/staff/api/stats.json").json
    assert after["one_time_revenue_last_30_days"] == {"usd": 600}
    db.session.refresh(snapshot)
    assert snapshot.stale_since is None


def test_lists_of_actions_and_mails_on_the_supporter_page(client, app):
    reader = supporter("sam@example.org")
    gift = payment(reader, 800, "usd", stripe_charge_id="ch_sam")
    subscription(reader, 500, "usd")
    db.session.add(StaffAction(key="staff-x", staff_email="boss@example.org",
                               supporter_id=reader.id, action="refund", target="ch_sam",
                               amount=250, currency="usd", outcome="failed",
                               detail="Stripe said no"))  # fmt: skip
    db.session.commit()
    signed_in(client, "admin")
    page = client.get(f"/staff/supporters/{reader.id}").get_data(as_text=True)
    assert "boss@example.org" in page and "Stripe said no" in page and "$2.50" in page
    assert "No mail." in page
    assert f"/payments/{gift.id}/refund" in page


def test_the_pages_speak_arabic(client, gifts):
    signed_in(client, "admin")
    arabic = {"Accept-Language": "ar"}
    detail = client.get(gifts["page"], headers=arabic).get_data(as_text=True)
    assert 'dir="rtl"' in detail and "إجراءات الموظفين" in detail and "ردّ مبلغ…" in detail
    refund = client.get(gifts["refund"], headers=arabic).get_data(as_text=True)
    assert "المبلغ المراد ردّه، بعملة USD" in refund
    data = refund_form(client, gifts, "0")
    refused = client.post(gifts["refund"], data=data, headers=arabic)
    assert "يجب أن يكون المبلغ أكبر من صفر." in refused.get_data(as_text=True)
    cancel = client.get(gifts["cancel"], headers=arabic).get_data(as_text=True)
    assert "في نهاية الفترة المدفوعة" in cancel


def test_two_presses_at_once_refund_once(live_server, client, emulator):
    """The same form sent twice at the same moment (two tabs, a proxy's retry)."""
    _, _, charge = give(client, emulator, frequency="once", amount="10")
    live_server.settle()
    staff("admin@example.org", "admin")
    reader = db.session.scalar(sa.select(Supporter.id))
    gift = db.session.scalar(sa.select(Payment.id))
    db.session.rollback()
    http = requests.Session()
    login = http.get(live_server.url + "/staff/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', login).group(1)
    credentials = {"email": "admin@example.org", "password": PASSWORD, "csrf_token": token}
    ask = http.post(live_server.url + "/staff/login", data=credentials, timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', ask).group(1)
    code = {"code": totp_code(), "csrf_token": token}
    assert http.post(live_server.url + "/staff/login/code", data=code, timeout=10).ok
    path = f"{live_server.url}/staff/supporters/{reader}/payments/{gift}/refund"
    html = http.get(path, timeout=10).text
    data = {
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html).group(1),
        "token": FORM_TOKEN.search(html).group(1),
        "confirm": "y",
        "amount": "5",
        "currency": "usd",
        "reason": "requested_by_customer",
    }
    emulator.latency = 0.3  # both presses arrive while Stripe is still answering the first
    statuses = []
    start = threading.Barrier(2)

    def press():
        start.wait()
        answer = http.post(path, data=data, allow_redirects=False, timeout=30)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=press) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        emulator.latency = 0.0
    assert statuses == [303, 303]
    assert emulator.get(charge)["amount_refunded"] == 500
    assert len(emulator.state()["objects"]["refund"]) == 1
    assert len(staff_actions()) == 1
