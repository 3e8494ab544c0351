"""Upgrade asks, staff side: choosing the group with the supporters list's filters,
the preview in both languages with its count, sending (one bulk insert, fast for
1,000 supporters), double submits, who may send, and the figures per ask."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support.asks import queueing
from support.extensions import db
from support.mail.outbox import send_due
from support.models import StaffAction, Supporter, UpgradeAskRecipient, utcnow
from tests.factories import csrf, signed_in
from tests.helpers.asks import TEXTS, ask_fields, ask_mails, asks, seed, send_ask


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


@pytest.mark.slow
def test_an_ask_to_a_filtered_group_of_1000_is_queued_at_once_and_counted(client):
    # The group: monthly USD gifts under $5, giving for 6+ months.
    group = seed(1000, amount=300)
    outside = [
        *seed(40, start=2000, amount=300, currency="eur"),
        *seed(40, start=3000, amount=300, interval="year"),
        *seed(40, start=4000, amount=800),  # not under $5
        *seed(40, start=5000, amount=300, started_days_ago=60),  # under 6 months
        *seed(40, start=6000, amount=300, status="canceled"),
        *seed(20, start=7000, amount=300, asks_opted_out_at=utcnow()),
        *seed(20, start=8000, amount=300, email=None, name=None, erased_at=utcnow()),
    ]
    signed_in(client, "editor")
    filters = {"interval": "month", "months": "6", "under": "5"}
    preview, sent, _ = send_ask(client, amount="5", **filters)

    assert preview.status_code == 200
    page = text(preview)
    assert "This ask goes to 1000 supporters now." in page
    assert "Would you give a little more?" in page and "هل تزيد دعمك قليلاً؟" in page
    assert "Send to 1000 supporters" in page

    assert sent.status_code == 303
    [ask] = asks()
    assert (ask.status, ask.recipients) == ("queued", 1000)
    mails = ask_mails()
    assert len(mails) == 1000
    assert {m.supporter_id for m in mails} == set(group)
    assert not {m.supporter_id for m in mails} & set(outside)
    # Each in its supporter's language.
    langs = dict(db.session.execute(sa.select(Supporter.id, Supporter.lang)).all())
    assert all(m.lang == langs[m.supporter_id] for m in mails)
    # The ask is an audited staff action.
    [row] = db.session.scalars(sa.select(StaffAction).where(StaffAction.action == "upgrade_ask"))
    assert (row.staff_email, row.detail) == ("editor@example.org", str(ask.id))

    # Sending them: every mail goes out once, and the ask counts them. (The rows read
    # above leave the session first: each mail's commit would expire all 1,000 again.)
    db.session.expunge_all()
    assert send_due(limit=2000).sent == 1000
    figures = client.get(f"/staff/asks/{ask.id}").get_data(as_text=True)
    assert 'data-count="sent">1000<' in figures and 'data-count="accepted">0<' in figures
    listing = client.get("/staff/asks")
    assert 'data-count="sent">1000<' in listing.get_data(as_text=True)


def test_queueing_1000_is_one_bulk_insert_not_a_statement_per_supporter(client, app):
    seed(1000, amount=300)
    signed_in(client, "editor")
    fields = ask_fields(client, amount="5")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    started = time.perf_counter()
    try:
        sent = client.post("/staff/asks/new", data={**fields, "action": "send"})
    finally:
        took = time.perf_counter() - started
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert sent.status_code == 303
    assert len(ask_mails()) == 1000
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # The ask, its audit row, the recipients, the mails: no insert per supporter.
    assert len(inserts) <= 5, inserts
    assert len(statements) < 60
    print(f"queued 1000 ask mails in {took * 1000:.0f} ms")
    assert took < 5


def test_a_double_submit_sends_once(client):
    seed(5, amount=300)
    signed_in(client, "editor")
    fields = ask_fields(client)
    first = client.post("/staff/asks/new", data={**fields, "action": "send"})
    second = client.post("/staff/asks/new", data={**fields, "action": "send"})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(asks()) == 1 and len(ask_mails()) == 5
    page = text(client.get(second.headers["Location"]))
    assert "That ask was already sent; nothing was sent twice." in page
    # A batch done again queues nothing twice.
    [ask] = asks()
    ask.status, ask.through_id = "queuing", 0
    db.session.commit()
    assert queueing.continue_due()
    assert len(ask_mails()) == 5


def test_the_worker_queues_a_large_group_in_batches(client, monkeypatch):
    monkeypatch.setattr(queueing, "BATCH", 4)
    ids = seed(10, amount=300)
    signed_in(client, "editor")
    _, sent, _ = send_ask(client)
    [ask] = asks()
    # The request queued the first batch only.
    assert (ask.status, ask.recipients, ask.through_id) == ("queuing", 4, ids[3])
    assert "still being queued" in text(client.get(sent.headers["Location"]))
    while queueing.continue_due():
        pass
    [ask] = asks()
    assert (ask.status, ask.recipients) == ("queued", 10)
    assert sorted(m.supporter_id for m in ask_mails()) == ids


def test_unsubscribed_supporters_get_no_ask_even_by_another_row_or_after_queueing(client):
    ids = seed(4, amount=300)
    # A second Stripe customer with the address of a supporter who unsubscribed.
    [twin] = seed(1, start=100, amount=300, email="seed1@example.org")
    db.session.get(Supporter, ids[1]).asks_opted_out_at = utcnow()
    db.session.commit()
    signed_in(client, "editor")
    preview, _, _ = send_ask(client)
    assert "This ask goes to 3 supporters now." in text(preview)
    assert twin not in {m.supporter_id for m in ask_mails()}
    assert {m.supporter_id for m in ask_mails()} == {ids[0], ids[2], ids[3]}
    # One unsubscribes after the ask was queued: their mail is not sent.
    db.session.get(Supporter, ids[2]).asks_opted_out_at = utcnow()
    db.session.commit()
    report = send_due(limit=10)
    assert (report.sent, report.skipped) == (2, 1)
    skipped = [m for m in ask_mails() if m.status == "skipped"]
    assert [(m.supporter_id, m.last_error) for m in skipped] == [(ids[2], "unsubscribed from asks")]
    [ask] = asks()
    page = client.get(f"/staff/asks/{ask.id}").get_data(as_text=True)
    assert 'data-count="skipped">1<' in page


def test_plus_rule_and_filters_on_language_and_amount(client):
    en = seed(3, amount=300, lang="en")
    seed(3, start=10, amount=300, lang="ar")
    rich = seed(2, start=20, amount=2000, lang="en")
    signed_in(client, "editor")
    _, sent, _ = send_ask(client, lang="en", rule="plus", amount="2")
    assert sent.status_code == 303
    recipients = db.session.scalars(sa.select(UpgradeAskRecipient)).all()
    assert {(r.supporter_id, r.old_amount, r.new_amount) for r in recipients} == {
        *((i, 300, 500) for i in en),
        *((i, 2000, 2200) for i in rich),
    }
    # A set amount below a gift leaves that gift out.
    preview, _, _ = send_ask(client, lang="en", amount="10")
    assert "This ask goes to 3 supporters now." in text(preview)


def test_the_form_says_what_is_wrong(client):
    seed(2, amount=300)
    signed_in(client, "editor")
    cases = [
        ({"subject_ar": ""}, "Write the subject in Arabic."),
        ({"body_en": "  "}, "Write the mail in English."),
        ({"amount": "abc"}, "Enter the amount in digits, like 5 or 2.50."),
        ({"amount": "0.5"}, "At least $1."),
        ({"amount": "99999999"}, "At most"),
        ({"amount": "5.123"}, "Too many decimals for this currency."),
        ({"months": "six"}, "Enter a whole number of months"),
        ({"under": "-3"}, "Enter the amount in digits"),
        ({"subject_en": "Line one\nline two"}, "Write the subject on one line."),
        ({"body_en": "x" * 5001}, "At most 5000 characters."),
        ({"currency": "xyz"}, "Not a valid choice"),
    ]
    for values, message in cases:
        fields = ask_fields(client, **values)
        response = client.post("/staff/asks/new", data={**fields, "action": "send"})
        assert response.status_code == 400, values
        assert message in text(response), (values, text(response)[:2000])
    assert asks() == [] and ask_mails() == []
    # Without the form's tokens: 400, nothing sent.
    fields = ask_fields(client)
    fields.pop("token")
    assert client.post("/staff/asks/new", data={**fields, "action": "send"}).status_code == 400
    assert asks() == []


def test_the_arabic_staff_pages(client):
    seed(2, amount=300)
    signed_in(client, "editor")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ar"
    page = text(client.get("/staff/asks/new"))
    assert "اكتب طلب زيادة" in page
    preview, sent, _ = send_ask(client)
    assert "يصل هذا الطلب الآن إلى 2 من الداعمين." in text(preview)
    assert "الرسائل المرسلة" in text(client.get(sent.headers["Location"]))


def test_a_viewer_cannot_send_an_ask(client):
    seed(3, amount=300)
    signed_in(client, "viewer")
    assert client.get("/staff/asks/new").status_code == 403
    fields = {
        "csrf_token": csrf(client, "/staff/asks"),
        "action": "send",
        "currency": "usd",
        "amount": "5",
        "token": "x" * 20,
        **TEXTS,
    }
    assert client.post("/staff/asks/new", data=fields).status_code == 403
    listing = client.get("/staff/asks")
    assert listing.status_code == 200 and "Write an ask" not in text(listing)
    assert asks() == [] and ask_mails() == []


def test_signed_out_staff_are_sent_to_sign_in(client):
    assert client.get("/staff/asks").status_code == 302
    assert client.post("/staff/asks/new", data={}).status_code in (302, 400)
    assert asks() == []


def test_the_supporters_list_filters_by_language_months_and_amount(client):
    seed(2, amount=300, lang="ar")
    seed(2, start=10, amount=300, lang="en", started_days_ago=30)
    seed(2, start=20, amount=900, lang="en")
    signed_in(client, "viewer")

    def shown(query: str) -> set[str]:
        page = client.get(f"/staff/supporters?{query}").get_data(as_text=True)
        return set(__import__("re").findall(r"seed\d+@example.org", page))

    assert shown("lang=ar") == {"seed0@example.org", "seed1@example.org"}
    assert shown("lang=en&months=6") == {"seed20@example.org", "seed21@example.org"}
    assert shown("currency=usd&under=5") == {f"seed{n}@example.org" for n in (0, 1, 10, 11)}
    # Odd values are dropped, never a 500.
    assert client.get("/staff/supporters?months=٣٣٣&under=1e9&lang=fr").status_code == 200


def test_expired_started_filter_uses_thirty_day_months():
    from support.staff.supporters.queries import Filters

    filters = Filters(months=6)
    assert abs((utcnow() - filters.started_by()) - timedelta(days=180)) < timedelta(seconds=5)


def test_the_worker_and_the_mail_command_finish_queueing(app, client, runner, monkeypatch):
    from support.webhooks.worker import Worker

    monkeypatch.setattr(queueing, "BATCH", 3)
    ids = seed(8, amount=300)
    signed_in(client, "editor")
    send_ask(client)
    worker = Worker(app, threads=1, poll=0.05)
    assert worker._step() == (True, False)  # one batch more
    [ask] = asks()
    assert (ask.status, ask.recipients) == ("queuing", 6)
    # Where cron runs `flask mail send` instead of a worker, it queues the rest and sends.
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "sent 8" in result.output
    [ask] = asks()
    assert (ask.status, ask.recipients) == ("queued", 8)
    assert sorted(m.supporter_id for m in ask_mails()) == ids


def test_an_admin_may_send_and_the_audit_log_names_the_ask(client):
    seed(2, amount=300)
    signed_in(client, "admin")
    _, sent, _ = send_ask(client)
    assert sent.status_code == 303
    [ask] = asks()
    log = client.get("/staff/audit?kind=upgrade_ask").get_data(as_text=True)
    assert "Upgrade ask sent" in log and f'href="/staff/asks/{ask.id}"' in log
    assert "admin@example.org" in log


def test_the_group_is_found_by_index_not_by_scanning_every_pair(app):
    """The group's query joins each supporter to their own subscriptions by index
    before choosing the main one: a join on that choice alone made SQLite pair every
    supporter with every subscription (minutes at 50,000)."""
    from support import dialect
    from support.asks import selection
    from support.staff.supporters.queries import Filters

    if dialect.is_postgres():
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by its statistics")
    filters = Filters(currency="usd", interval="month", lang="ar", months=6, under="5")
    query = selection.group(filters, "usd", "plus", 200)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = [row[3] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}"))]
    assert not [step for step in plan if step.startswith("SCAN")], plan
