"""An admin refunds and cancels from the staff page in Chromium; staff download the
filtered CSV. Through the running app and worker: the ledger changes when the
emulator's webhooks have been applied, never before."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from support.extensions import db
from support.models import Payment, StaffAction, StatsSnapshot, Subscription, Supporter
from support.stats import snapshot as stats_cache
from tests.factories import PASSWORD, ago, payment, staff, subscription, supporter, totp_code
from tests.helpers.network import quiet
from tests.stripe_history import give

pytestmark = pytest.mark.browser


def sign_in(page, base_url: str, email: str) -> None:
    """Sign in; admins then give their authenticator code."""
    page.goto(base_url + "/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if email.startswith("admin"):
        page.wait_for_url("**/staff/login/code**")
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/staff/")


def row_of(page, table: str, text: str):
    return page.locator(f"table#{table} tbody tr", has_text=text)


@pytest.fixture
def reader(live_server, client, emulator, monkeypatch):
    """A reader with a $10 one-time gift and a $5 monthly gift, applied by the worker."""
    monkeypatch.setattr(stats_cache, "STALE_REFRESH_GAP", timedelta(0))
    _, _, charge = give(client, emulator, frequency="once", amount="10")
    _, sub_id, _ = give(client, emulator, frequency="month", amount="5")
    live_server.settle()
    staff("admin@example.org", "admin")
    gift = db.session.scalar(sa.select(Payment).where(Payment.kind == "one_time"))
    reader = db.session.get(Supporter, db.session.scalar(sa.select(Subscription.supporter_id)))
    # Each Checkout makes a Stripe customer (a supporter row) of its own: the actions are
    # tried on one row holding both kinds of gift.
    db.session.execute(
        sa.update(Payment).where(Payment.id == gift.id).values(supporter_id=reader.id)
    )
    db.session.commit()
    return {"id": reader.id, "charge": charge, "sub_id": sub_id, "intent": gift.stripe_id}


def test_refund_and_cancel_from_the_staff_page(live_server, page, emulator, reader):
    base = live_server.url
    sign_in(page, base, "admin@example.org")
    dashboard = page.locator(".figures div", has_text="One-time gifts")
    assert dashboard.locator("dd").first.inner_text() == "$10"

    page.goto(f"{base}/staff/supporters/{reader['id']}")
    stripe_link = row_of(page, "payments", reader["intent"]).get_by_role(
        "link", name="Open in Stripe"
    )
    # Under the emulator, the link opens the emulator's own view of the payment.
    assert stripe_link.get_attribute("href") == f"{emulator.url}/dashboard/{reader['intent']}"
    view = page.context.new_page()
    view.goto(stripe_link.get_attribute("href"))
    assert reader["intent"] in view.locator("h1").inner_text()
    view.close()
    row_of(page, "payments", reader["intent"]).get_by_role("link", name="Refund…").click()
    page.wait_for_url("**/refund")
    assert page.get_by_text("Left to refund").is_visible()
    page.get_by_label("Amount to refund, in USD").fill("4")
    page.get_by_label("The supporter asked for it").check()
    page.get_by_label("I confirm: refund this amount").check()
    page.get_by_role("button", name="Refund", exact=True).click()
    page.wait_for_url(f"**/staff/supporters/{reader['id']}")
    notice = page.locator(".notice")
    assert notice.inner_text() == (
        "Refund of $4 requested; the ledger and the dashboard update when Stripe confirms it, "
        "usually within seconds."
    )
    actions = row_of(page, "staff-actions", reader["charge"])
    assert "admin@example.org" in actions.inner_text() and "$4" in actions.inner_text()
    # Requested, or already confirmed if the worker was quicker than this page.
    assert re.search("requested|confirmed by Stripe", actions.inner_text())

    live_server.settle()  # charge.refunded applied by the worker
    page.reload()
    refunded = row_of(page, "payments", reader["intent"])
    assert "$4" in refunded.inner_text() and "partly refunded" in refunded.inner_text()
    # The action shows the outcome Stripe gave, not "requested" for ever.
    assert "confirmed by Stripe" in row_of(page, "staff-actions", reader["charge"]).inner_text()

    row_of(page, "subscriptions", reader["sub_id"]).get_by_role("link", name="Cancel…").click()
    page.wait_for_url("**/cancel")
    page.get_by_label("Now").check()
    page.get_by_label("I confirm: stop this supporter's subscription").check()
    page.get_by_role("button", name="Cancel the subscription").click()
    page.wait_for_url(f"**/staff/supporters/{reader['id']}")
    assert "effective now, requested" in page.locator(".notice").inner_text()
    live_server.settle()  # customer.subscription.deleted applied
    page.reload()
    assert "canceled" in row_of(page, "subscriptions", reader["sub_id"]).inner_text()
    assert "confirmed by Stripe" in row_of(page, "staff-actions", reader["sub_id"]).inner_text()
    db.session.expire_all()
    assert db.session.scalar(sa.select(Subscription.status)) == "canceled"
    assert db.session.scalar(sa.select(Payment.refunded_amount).where(
        Payment.kind == "one_time")) == 400  # fmt: skip

    # The worker recomputed the figures once it had applied the webhooks, before
    # anyone asked for them.
    snapshot = db.session.get(StatsSnapshot, stats_cache.KEY)
    for _ in range(100):
        db.session.refresh(snapshot)
        body = json.loads(snapshot.body)
        if snapshot.stale_since is None and body["churned_last_30_days"] == 1:
            break
        page.wait_for_timeout(100)
    assert body["one_time_revenue_last_30_days"] == {"usd": 600}
    db.session.rollback()
    page.get_by_role("link", name="Dashboard").click()
    assert dashboard.locator("dd").first.inner_text() == "$6"
    stopped = page.locator(".figures div", has_text="Stopped supporting")
    assert stopped.locator("dd").first.inner_text() == "1"


def test_over_refund_stripe_error_and_double_click(live_server, page, emulator, reader):
    base = live_server.url
    sign_in(page, base, "admin@example.org")
    refund_page = f"{base}/staff/supporters/{reader['id']}/payments/"
    gift = db.session.scalar(sa.select(Payment.id).where(Payment.kind == "one_time"))
    db.session.rollback()
    page.goto(f"{refund_page}{gift}/refund")

    page.get_by_label("Amount to refund, in USD").fill("12")
    page.get_by_label("I confirm: refund this amount").check()
    page.get_by_role("button", name="Refund", exact=True).click()
    assert page.get_by_text("That is more than the $10 left to refund").is_visible()

    emulator.fail_next(status=400, type="invalid_request_error", code="charge_disputed",
                       message="Charge has been charged back; cannot issue a refund.")  # fmt: skip
    page.get_by_label("Amount to refund, in USD").fill("3")
    page.get_by_label("I confirm: refund this amount").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Refund", exact=True).click()
    assert answer.value.status == 502
    assert page.get_by_role("alert").inner_text() == (
        "Stripe refused: Charge has been charged back; cannot issue a refund."
    )

    # The same form again, pressed twice in a row: one refund.
    page.get_by_label("I confirm: refund this amount").check()
    page.get_by_role("button", name="Refund", exact=True).dblclick()
    # The second press submits again and cancels the first submission's page load (the
    # server may still get both): wait for where the page ends up and for its requests to
    # finish, not for one load.
    expect(page).to_have_url(re.compile(rf"/staff/supporters/{reader['id']}$"))
    quiet(page)
    live_server.settle()
    assert emulator.get(reader["charge"])["amount_refunded"] == 300
    assert len(emulator.state()["objects"]["refund"]) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffAction)) == 1
    db.session.rollback()


def test_a_viewer_has_no_actions(live_server, page, reader):
    staff("viewer@example.org", "viewer")
    sign_in(page, live_server.url, "viewer@example.org")
    page.goto(f"{live_server.url}/staff/supporters/{reader['id']}")
    assert page.get_by_role("link", name="Refund…").count() == 0
    assert page.get_by_role("link", name="Cancel…").count() == 0
    response = page.goto(f"{live_server.url}/staff/supporters/{reader['id']}/payments/1/refund")
    assert response.status == 403


def test_the_csv_follows_the_filters(live_server, page, app):
    app.config["SUPPORT_CURRENCIES"] = ["usd", "eur"]
    staff("viewer@example.org", "viewer")
    amal = supporter("amal@example.org", "أمل حداد")
    subscription(amal, 1000, "usd")
    ben = supporter("ben@example.org", "Ben Jones")
    subscription(ben, 700, "eur", status="canceled", started_at=ago(90), canceled_at=ago(10))
    dina = supporter("dina@example.org", "Dina Saleh")
    payment(dina, 2500, "eur")
    db.session.commit()

    sign_in(page, live_server.url, "viewer@example.org")
    page.goto(live_server.url + "/staff/supporters")
    assert "€25" in page.locator("tr", has_text="dina@example.org").inner_text()
    page.get_by_label("Currency", exact=True).select_option("eur")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**currency=eur**")
    assert page.locator("table.data tbody tr").count() == 2

    with page.expect_download() as plain:
        page.get_by_role("link", name="CSV", exact=True).click()
    body = plain.value.path().read_bytes()
    assert not body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert [r["email"] for r in rows] == ["ben@example.org", "dina@example.org"]
    assert rows[1]["amount"] == "25.00" and rows[1]["status"] == "one_time"

    with page.expect_download() as excel:
        page.get_by_role("link", name="CSV for Excel").click()
    body = excel.value.path().read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["email"] for r in rows] == ["ben@example.org", "dina@example.org"]
    assert excel.value.suggested_filename.endswith("-excel.csv")
