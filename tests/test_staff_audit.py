"""`/staff/audit`: every staff action, who, when, on what, the outcome; admins only."""

from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa

from support import audit, stripe_api
from support.campaigns import store
from support.extensions import db
from support.models import StaffAction, Supporter
from support.staff.audit import PER_PAGE
from tests.factories import csrf, event, sign_in, signed_in, staff, supporter
from tests.helpers.campaigns import sample
from tests.helpers.staff_actions import confirmation, gifts, refund_form  # noqa: F401

READER_EMAIL = "layla.haddad@example.org"
READER_NAME = "Layla Haddad"


def rows() -> list[StaffAction]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(StaffAction).order_by(StaffAction.id)))


def audit_page(client, **params) -> str:
    response = client.get("/staff/audit", query_string=params)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def table_rows(page: str) -> list[str]:
    """The audit table's rows as text, top to bottom."""
    body = page.split('id="audit"', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in body.split("<tr>")[1:]]


# Who may see it


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/audit")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_viewers_and_editors_get_403_and_no_link(client, role):
    signed_in(client, role)
    assert client.get("/staff/audit").status_code == 403
    assert 'href="/staff/audit"' not in client.get("/staff/").get_data(as_text=True)


def test_admins_see_the_page_linked_from_the_header_in_both_languages(client):
    signed_in(client, "admin")
    assert 'href="/staff/audit"' in client.get("/staff/").get_data(as_text=True)
    english = audit_page(client)
    assert "<h1>Audit log</h1>" in english and "No staff action matches." in english
    arabic = client.get("/staff/audit", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "<h1>سجل التدقيق</h1>" in arabic


# A row for each kind of action


def test_refunds_cancellations_and_resends_are_listed(client, gifts, emulator):
    signed_in(client, "admin")
    assert client.post(gifts["refund"], data=refund_form(client, gifts, "4")).status_code == 303
    data = {**confirmation(client, gifts["cancel"]), "when": "period_end"}
    assert client.post(gifts["cancel"], data=data).status_code == 303
    mail = re.search(r"/mails/(\d+)/resend", client.get(gifts["page"]).get_data(as_text=True))
    path = f"{gifts['page']}/mails/{mail.group(1)}/resend"
    assert client.post(path, data=confirmation(client, path)).status_code == 303

    newest_first = table_rows(audit_page(client))
    assert len(newest_first) == 3
    assert "admin@example.org Mail sent again" in newest_first[0] and "queued" in newest_first[0]
    assert "Cancellation, at period end" in newest_first[1] and gifts["sub_id"] in newest_first[1]
    assert "Refund" in newest_first[2] and gifts["charge"] in newest_first[2]
    assert newest_first[2].endswith("$4") and "requested" in newest_first[2]
    page = client.get("/staff/audit").get_data(as_text=True)
    assert f'href="/staff/supporters/{gifts["supporter"]}"' in page


def erase_on_the_web(client, supporter_id: int, **extra):
    path = f"/staff/supporters/{supporter_id}"
    data = {"csrf_token": csrf(client, path), "confirm": "y", **extra}
    return client.post(path + "/erase", data=data)


def assert_names_no_one(row: StaffAction, page: str, reader: dict) -> None:
    """Neither the row nor the page says who was erased."""
    stored = " ".join(str(v) for v in vars(row).values()).lower()
    for secret in reader.values():
        assert secret.lower() not in stored and secret.lower() not in page.lower()


def a_reader() -> tuple[int, dict]:
    reader = supporter(READER_EMAIL, READER_NAME, stripe_customer_id="cus_AuditReader1")
    db.session.commit()
    return reader.id, {"email": READER_EMAIL, "name": READER_NAME, "customer": "cus_AuditReader1"}


def test_an_erasure_on_the_web_names_no_one(client):
    reader_id, reader = a_reader()
    signed_in(client, "admin")
    assert erase_on_the_web(client, reader_id).status_code == 303
    [row] = rows()
    assert (row.action, row.supporter_id, row.staff_email, row.outcome) == (
        "erase", reader_id, "admin@example.org", "done")  # fmt: skip
    assert row.target == "" and row.detail is None
    page = audit_page(client)
    assert f"1 supporter erased (#{reader_id})" in page and "Erasure" in page
    assert_names_no_one(row, page, reader)


def test_an_erasure_stripe_refused_is_a_failed_row(client, monkeypatch):
    def refuse(customer_id):
        raise stripe_api.StripeUnavailable("Stripe is down")

    monkeypatch.setattr(stripe_api, "delete_customer", refuse)
    reader_id, reader = a_reader()
    signed_in(client, "admin")
    erase_on_the_web(client, reader_id, delete_stripe_customer="y")
    [row] = rows()
    assert (row.action, row.outcome, row.detail) == ("erase", "failed", audit.STRIPE_UNAVAILABLE)
    assert db.session.get(Supporter, reader_id).email == READER_EMAIL  # nothing erased
    page = audit_page(client)
    assert "Stripe did not delete the customer, so nothing was erased." in page
    assert_names_no_one(row, page, reader)


def test_an_erasure_from_the_command_line_names_no_one(client, runner):
    reader_id, reader = a_reader()
    result = runner.invoke(args=["supporters", "erase", READER_EMAIL])
    assert result.exit_code == 0, result.output
    [row] = rows()
    assert (row.action, row.supporter_id, row.staff_email, row.staff_user_id) == (
        "erase", reader_id, None, None)  # fmt: skip
    signed_in(client, "admin")
    [line] = table_rows(audit_page(client))
    assert "command line Erasure done 1 supporter erased" in line
    assert_names_no_one(row, audit_page(client), reader)


def test_staff_account_changes_are_listed(client):
    signed_in(client, "admin")
    token = csrf(client, "/staff/accounts")
    invited = {"email": "new@example.org", "role": "editor", "csrf_token": token}
    assert client.post("/staff/accounts/invite", data=invited).status_code == 303
    other = staff("other@example.org", "viewer")
    path = f"/staff/accounts/{other.id}"
    client.post(path + "/role", data={"role": "editor", "csrf_token": token})
    client.post(path + "/deactivate", data={"csrf_token": token})
    client.post(path + "/reactivate", data={"csrf_token": token})
    assert [(r.action, r.target, r.detail, r.staff_email) for r in rows()] == [
        ("invite", "new@example.org", "editor", "admin@example.org"),
        ("role", "other@example.org", "viewer:editor", "admin@example.org"),
        ("deactivate", "other@example.org", None, "admin@example.org"),
        ("reactivate", "other@example.org", None, "admin@example.org"),
    ]
    lines = table_rows(audit_page(client))
    assert "Reactivation done other@example.org" in lines[0] and "Deactivation" in lines[1]
    assert "Role change done from Viewer to Editor other@example.org" in lines[2]
    assert "Invitation done as Editor new@example.org" in lines[3]


def test_refused_account_changes_leave_no_row(client):
    admin = staff("admin@example.org", "admin")
    assert sign_in(client, "admin@example.org").status_code == 302
    token = csrf(client, "/staff/accounts")
    # The last active admin cannot step down.
    client.post(f"/staff/accounts/{admin.id}/role", data={"role": "viewer", "csrf_token": token})
    assert rows() == []


def test_two_factor_resets_on_the_command_line_and_on_the_web(client, runner):
    staff("lost@example.org", "editor", totp=True)
    result = runner.invoke(args=["staff", "reset-2fa", "lost@example.org"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["staff", "create", "made@example.org", "--password-stdin"],
                           input="a long enough password\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    staff("self@example.org", "editor", totp=True)
    assert sign_in(client, "self@example.org").status_code == 302
    from tests.factories import totp_code

    form = {"code": totp_code(1), "csrf_token": csrf(client, "/staff/account/two-factor")}
    assert client.post("/staff/account/two-factor/off", data=form).status_code == 303
    assert [(r.action, r.target, r.staff_email) for r in rows()] == [
        ("two_factor_reset", "lost@example.org", None),
        ("create_account", "made@example.org", None),
        ("two_factor_off", "self@example.org", "self@example.org"),
    ]
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    signed_in(client, "admin")
    lines = table_rows(audit_page(client))
    assert "self@example.org Two-step sign-in turned off done self@example.org" in lines[0]
    assert "command line Account created done as Viewer made@example.org" in lines[1]
    assert "command line Two-step sign-in reset done lost@example.org" in lines[2]


def test_campaign_publish_end_and_revert_are_listed(client):
    signed_in(client, "admin")
    slug = sample()["slug"]
    campaign = store.create(sample(), "admin@example.org")
    store.save(campaign, {**sample(), "name": "Renamed"}, 1, "admin@example.org")  # version 2
    db.session.commit()
    token = csrf(client, f"/staff/campaigns/{slug}")
    for path, base in (("publish", "2"), ("end", "3"), ("revert/1", "4")):
        response = client.post(f"/staff/campaigns/{slug}/{path}",
                               data={"csrf_token": token, "base_version": base})  # fmt: skip
        assert response.status_code == 303, path
    assert [(r.action, r.target, r.detail) for r in rows()] == [
        ("campaign_publish", slug, "3"), ("campaign_end", slug, "4"),
        ("campaign_revert", slug, "1:5")]  # fmt: skip
    lines = table_rows(audit_page(client))
    assert "Campaign reverted" in lines[0] and "version 1 saved again as version 5" in lines[0]
    assert "Campaign ended" in lines[1] and "version 4" in lines[1]
    assert "Campaign published" in lines[2] and "version 3" in lines[2]
    assert f'href="/staff/campaigns/{slug}/history"' in audit_page(client)
    arabic = client.get("/staff/audit", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "حُفظت النسخة 1 من جديد بوصفها النسخة 5" in arabic and "نشر حملة" in arabic


def test_an_import_that_publishes_or_ends_is_listed_as_the_command_line(runner, tmp_path):
    path = tmp_path / "campaigns.json"
    slug = sample()["slug"]
    for status in ("draft", "live", "live", "ended"):
        path.write_text(json.dumps({**sample(), "status": status}))
        result = runner.invoke(args=["campaigns", "import", str(path)])
        assert result.exit_code == 0, result.output
    assert [(r.action, r.target, r.staff_email) for r in rows()] == [
        ("campaign_publish", slug, None), ("campaign_end", slug, None)]  # fmt: skip


def test_a_webhook_replay_is_listed(client):
    stored = event("invoice.paid", status="failed")
    db.session.commit()
    signed_in(client, "admin")
    client.post(
        f"/staff/events/{stored.id}/replay", data={"csrf_token": csrf(client, "/staff/events")}
    )
    [row] = rows()
    assert (row.action, row.target, row.staff_email) == ("replay", stored.id, "admin@example.org")
    assert "Webhook replayed" in audit_page(client)


# Filters, pages, escaping


def test_filters_by_kind_and_by_staff_member(client, runner):
    staff("lost@example.org", "editor", totp=True)
    runner.invoke(args=["staff", "reset-2fa", "lost@example.org"])
    signed_in(client, "admin")
    token = csrf(client, "/staff/accounts")
    for address in ("a@example.org", "b@example.org"):
        client.post(
            "/staff/accounts/invite", data={"email": address, "role": "viewer", "csrf_token": token}
        )
    invites = table_rows(audit_page(client, kind="invite"))
    assert len(invites) == 2 and all("Invitation" in line for line in invites)
    assert len(table_rows(audit_page(client, who="admin@example.org"))) == 2
    [cli] = table_rows(audit_page(client, who="command-line"))
    assert "Two-step sign-in reset" in cli
    assert "No staff action matches." in audit_page(client, who="nobody@example.org")
    assert "No staff action matches." in audit_page(client, kind="invite", who="command-line")
    page = audit_page(client, kind="not-a-kind", page="x")  # unknown values: no filter
    assert len(table_rows(page)) == 3
    choices = audit_page(client)
    assert (
        '<option value="admin@example.org"' in choices and '<option value="command-line"' in choices
    )


def test_pages_newest_first_and_escaped(client):
    signed_in(client, "admin")
    for number in range(PER_PAGE + 1):
        audit.record(audit.DEACTIVATE, f"user{number}@example.org")
    audit.record(audit.INVITE, "<script>alert(1)</script>@example.org")
    db.session.commit()
    raw = client.get("/staff/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    first = table_rows(audit_page(client))
    assert len(first) == PER_PAGE and "user50@example.org" in first[1]
    assert 'rel="next" href="/staff/audit?page=2"' in raw
    second = table_rows(audit_page(client, page=2))
    assert [line.split()[-1] for line in second] == ["user1@example.org", "user0@example.org"]
    filtered = client.get("/staff/audit?kind=deactivate").get_data(as_text=True)
    assert 'href="/staff/audit?kind=deactivate&amp;page=2"' in filtered


def test_the_supporter_page_lists_erasures_by_the_command_line(client, runner):
    reader_id, _ = a_reader()
    runner.invoke(args=["supporters", "erase", READER_EMAIL])
    signed_in(client, "viewer")
    page = client.get(f"/staff/supporters/{reader_id}").get_data(as_text=True)
    assert "command line" in page and "erasure" in page
