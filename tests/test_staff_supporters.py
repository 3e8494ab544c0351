"""Supporters list, detail page, CSV export and erasure in the staff area."""

from __future__ import annotations

import csv
import io
import json

import pytest

from support import stripe_api
from support.extensions import db
from support.models import OutboundEmail, Payment, Subscription, Supporter
from support.privacy import erasure
from support.staff.supporters import csv_export
from support.staff.supporters.queries import PER_PAGE
from tests.factories import ago, csrf, event, payment, signed_in, subscription, supporter


def read_csv(client) -> list[dict]:
    response = client.get("/staff/supporters.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def people(app):
    """Supporters covering every status rule of the CSV."""
    amal = supporter("amal@example.org", "Amal Haddad", lang="ar")
    subscription(amal, 500, "usd", status="canceled", started_at=ago(300), canceled_at=ago(200))
    subscription(amal, 1000, "usd", started_at=ago(100), source="https://news.example.org/a")
    ben = supporter("ben@example.org", "Ben Jones")
    subscription(ben, 300, "eur", status="canceled", started_at=ago(400), canceled_at=ago(300))
    subscription(ben, 700, "eur", status="past_due", started_at=ago(50), interval="year")
    clara = supporter("clara@example.org", "Clara Weber")
    subscription(clara, 500, "usd", status="canceled", started_at=ago(90), canceled_at=ago(10))
    dina = supporter("dina@example.org", "Dina Saleh", first_supported_at=ago(20))
    payment(dina, 2500, "eur", source="https://news.example.org/b")
    db.session.commit()
    return {"amal": amal.id, "ben": ben.id, "clara": clara.id, "dina": dina.id}


def test_csv_columns_and_status_rule(client, people):
    signed_in(client)
    rows = {row["email"]: row for row in read_csv(client)}
    assert list(next(iter(rows.values()))) == list(csv_export.COLUMNS)
    amal = rows["amal@example.org"]
    assert amal["status"] == "active"  # any active subscription wins
    assert (amal["amount"], amal["currency"], amal["interval"]) == ("10.00", "usd", "month")
    assert amal["source"] == "https://news.example.org/a" and amal["lang"] == "ar"
    assert amal["canceled_at"] == ""
    assert rows["ben@example.org"]["status"] == "past_due"  # the latest subscription's status
    assert rows["ben@example.org"]["interval"] == "year"
    assert rows["clara@example.org"]["status"] == "canceled"
    assert rows["clara@example.org"]["canceled_at"].startswith(ago(10).strftime("%Y-%m-%dT"))
    dina = rows["dina@example.org"]
    assert (dina["status"], dina["amount"], dina["currency"]) == ("one_time", "25.00", "eur")
    assert dina["source"] == "https://news.example.org/b"


@pytest.mark.parametrize("danger", ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_neutralises_formulas(client, app, danger):
    supporter("formula@example.org", danger)
    db.session.commit()
    signed_in(client)
    row = next(r for r in read_csv(client) if r["email"] == "formula@example.org")
    assert row["name"] == "'" + danger


def test_csv_cells_that_are_safe_stay_as_they_are():
    assert csv_export.safe_cell("Amal Haddad") == "Amal Haddad"
    assert csv_export.safe_cell("  =1+1") == "'  =1+1"
    assert csv_export.safe_cell(None) == ""


def test_csv_streams_every_supporter_in_batches(client, app, monkeypatch):
    monkeypatch.setattr(csv_export, "BATCH", 3)
    for number in range(8):
        subscription(supporter(f"batch{number}@example.org"), 500, "usd")
    db.session.commit()
    signed_in(client)
    assert sorted(r["email"] for r in read_csv(client)) == sorted(
        f"batch{n}@example.org" for n in range(8)
    )


def emails(client, query: str) -> list[str]:
    page = client.get("/staff/supporters" + query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return [e for e in ("amal", "ben", "clara", "dina") if f"{e}@example.org" in html]


def test_search_by_email_or_name(client, people):
    signed_in(client)
    assert emails(client, "?q=AMAL@") == ["amal"]
    assert emails(client, "?q=Amal@Example.org") == ["amal"]  # a whole email: exact lookup
    assert emails(client, "?q=mal@example.org") == []  # ... so not a substring
    customer = db.session.get(Supporter, people["ben"]).stripe_customer_id
    assert emails(client, f"?q={customer}") == ["ben"]
    assert emails(client, "?q=weber") == ["clara"]
    assert emails(client, "?q=%25") == []  # a wildcard typed is searched for literally
    assert emails(client, "?q=nobody") == []
    assert "No supporter matches" in client.get("/staff/supporters?q=nobody").get_data(as_text=True)


def test_filters_by_status_currency_and_interval(client, people):
    signed_in(client)
    assert emails(client, "?status=active") == ["amal"]
    assert emails(client, "?status=past_due") == ["ben"]
    assert emails(client, "?status=canceled") == ["clara"]
    assert emails(client, "?status=one_time") == ["dina"]
    assert emails(client, "?currency=eur") == ["ben", "dina"]
    assert emails(client, "?interval=year") == ["ben"]
    assert emails(client, "?currency=eur&status=past_due&q=ben") == ["ben"]
    # Nonsense filters are ignored, never an error.
    assert len(emails(client, "?status=bogus&currency=xxx&interval=week&page=-3")) == 4


def test_pagination(client, app):
    for number in range(PER_PAGE + 2):
        supporter(f"page{number:02d}@example.org")
    db.session.commit()
    signed_in(client)
    first = client.get("/staff/supporters").get_data(as_text=True)
    second = client.get("/staff/supporters?page=2").get_data(as_text=True)
    assert "page26@example.org" in first and "page00@example.org" not in first
    assert 'rel="next"' in first and "page=2" in first
    assert "page00@example.org" in second and "page01@example.org" in second
    assert 'rel="next"' not in second and 'rel="prev"' in second
    assert "page26" not in client.get("/staff/supporters?page=3").get_data(as_text=True)


def test_detail_lists_subscriptions_payments_and_events(client, people):
    amal = db.session.get(Supporter, people["amal"])
    payment(amal, 1000, "usd", kind="subscription", stripe_id="in_amal1")
    event("customer.updated", data={"object": {"id": amal.stripe_customer_id,
                                               "name": "<script>alert(1)</script>"}})  # fmt: skip
    event("invoice.paid", data={"object": {"customer": "cus_someone_else"}})
    db.session.commit()
    signed_in(client)
    page = client.get(f"/staff/supporters/{people['amal']}").get_data(as_text=True)
    assert "Amal Haddad" in page and "in_amal1" in page and "customer.updated" in page
    assert "invoice.paid" not in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert client.get("/staff/supporters/999999").status_code == 404


def test_admin_erases_personal_data_and_keeps_amounts(client, people):
    amal = db.session.get(Supporter, people["amal"])
    stored = event("customer.updated", data={"object": {"id": amal.stripe_customer_id,
                   "email": "amal@example.org", "name": "Amal Haddad"}})  # fmt: skip
    db.session.add(OutboundEmail(key="thanks:x", kind="thanks", supporter_id=amal.id,
                                 context=json.dumps({"email": "amal@example.org"})))  # fmt: skip
    db.session.commit()
    signed_in(client, "admin")
    path = f"/staff/supporters/{people['amal']}"
    token = csrf(client, path)

    unconfirmed = client.post(path + "/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert client.post(path + "/erase", data={"confirm": "y"}).status_code == 400  # no CSRF

    done = client.post(path + "/erase", data={"csrf_token": token, "confirm": "y"})
    assert done.status_code == 303
    db.session.expire_all()
    amal = db.session.get(Supporter, people["amal"])
    assert amal.email is None and amal.name is None and amal.erased_at is not None
    amounts = db.session.scalars(db.select(Subscription.amount).filter_by(supporter_id=amal.id))
    assert sorted(amounts) == [500, 1000]
    assert "amal@example.org" not in db.session.get(type(stored), stored.id).payload
    mail = db.session.scalar(db.select(OutboundEmail).filter_by(key="thanks:x"))
    assert mail.context == "{}" and mail.status == "canceled"
    page = client.get(path).get_data(as_text=True)
    assert "amal@example.org" not in page and "Personal data erased" in page
    row = next(r for r in read_csv(client) if r["lang"] == "ar")
    assert (row["email"], row["name"], row["amount"]) == ("", "", "10.00")


def test_erase_can_delete_the_stripe_customer(app, people, monkeypatch):
    deleted = []
    monkeypatch.setattr(stripe_api, "delete_customer", deleted.append)
    ben = db.session.get(Supporter, people["ben"])
    erasure.erase_supporter(ben, delete_stripe_customer=True)
    assert deleted == [ben.stripe_customer_id] and ben.email is None


def test_stripe_failure_erases_nothing(client, people, monkeypatch):
    def refuse(customer_id):
        raise stripe_api.StripeUnavailable("down")

    monkeypatch.setattr(stripe_api, "delete_customer", refuse)
    signed_in(client, "admin")
    path = f"/staff/supporters/{people['ben']}"
    data = {"csrf_token": csrf(client, path), "confirm": "y", "delete_stripe_customer": "y"}
    response = client.post(path + "/erase", data=data, follow_redirects=True)
    assert "nothing was erased" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Supporter, people["ben"]).email == "ben@example.org"


def test_erasing_twice_is_harmless(app, people):
    clara = db.session.get(Supporter, people["clara"])
    erasure.erase_supporter(clara)
    first = clara.erased_at
    erasure.erase_supporter(clara)
    assert clara.erased_at == first
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1


def csv_rows(client, query: str = "") -> list[dict]:
    response = client.get("/staff/supporters.csv" + query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_follows_the_lists_filters(client, people):
    signed_in(client)
    assert [r["email"] for r in csv_rows(client, "?status=active")] == ["amal@example.org"]
    assert [r["email"] for r in csv_rows(client, "?currency=eur")] == [
        "ben@example.org",
        "dina@example.org",
    ]
    assert [r["email"] for r in csv_rows(client, "?interval=year")] == ["ben@example.org"]
    assert [r["email"] for r in csv_rows(client, "?q=weber")] == ["clara@example.org"]
    assert [r["email"] for r in csv_rows(client, "?status=one_time")] == ["dina@example.org"]
    assert csv_rows(client, "?q=nobody") == []
    # The page is not a filter: the export holds every page of what the list matches.
    assert len(csv_rows(client, "?page=2")) == 4
    assert len(csv_rows(client, "?status=bogus")) == 4


def test_csv_filters_hold_across_batches(client, app, monkeypatch):
    monkeypatch.setattr(csv_export, "BATCH", 2)
    for number in range(7):
        currency = "eur" if number % 2 else "usd"
        subscription(supporter(f"b{number}@example.org"), 500, currency)
    db.session.commit()
    signed_in(client)
    emails = [r["email"] for r in csv_rows(client, "?currency=eur")]
    assert emails == ["b1@example.org", "b3@example.org", "b5@example.org"]


def test_the_list_links_to_the_csv_of_what_it_shows(client, people):
    signed_in(client)
    page = client.get("/staff/supporters?status=canceled&currency=usd&page=2").get_data(
        as_text=True
    )
    assert "Download the supporters matching these filters" in page
    assert 'href="/staff/supporters.csv?status=canceled&amp;currency=usd"' in page
    assert 'href="/staff/supporters.csv?excel=1&amp;status=canceled&amp;currency=usd"' in page
    unfiltered = client.get("/staff/supporters").get_data(as_text=True)
    assert "Download all supporters" in unfiltered
    assert 'href="/staff/supporters.csv"' in unfiltered
    assert 'href="/staff/supporters.csv?excel=1"' in unfiltered


def test_excel_download_starts_with_a_byte_order_mark(client, people):
    supporter("arabic@example.org", "ليلى حداد")
    db.session.commit()
    signed_in(client)
    plain = client.get("/staff/supporters.csv?currency=eur")
    plain_bytes = plain.data  # a streamed answer: read it before the next request
    excel = client.get("/staff/supporters.csv?currency=eur&excel=1")
    assert (
        plain.headers["Content-Type"]
        == excel.headers["Content-Type"]
        == ("text/csv; charset=utf-8")
    )
    assert not plain_bytes.startswith(b"\xef\xbb\xbf")
    assert excel.data.startswith(b"\xef\xbb\xbf") and excel.data[3:] == plain_bytes
    assert "-excel.csv" in excel.headers["Content-Disposition"]
    everyone = client.get("/staff/supporters.csv?excel=1").data.decode("utf-8-sig")
    assert "ليلى حداد" in everyone


def test_the_list_shows_one_time_gifts(client, people):
    signed_in(client)
    page = client.get("/staff/supporters?q=dina").get_data(as_text=True)
    row = page[page.index("dina@example.org") :]
    row = row[: row.index("</tr>")]
    assert "€25" in row and "once" in row and "—" not in row.split("</th>")[1].split("</td>")[1]


def test_one_address_under_several_customers_is_shown_together_unverified(client, people):
    """One row per Stripe customer; rows sharing an address are linked, never merged."""
    again = supporter("amal@example.org", "Amal H.", first_supported_at=ago(5))
    subscription(again, 100, "usd", started_at=ago(5))
    db.session.commit()
    signed_in(client)
    page = " ".join(client.get("/staff/supporters").get_data(as_text=True).split())
    marker = "2 Stripe customers with this address (address not verified)"
    assert page.count(marker) == 2  # both rows, and no other
    assert 'href="/staff/supporters?q=amal@example.org"' in page
    together = client.get("/staff/supporters?q=amal@example.org").get_data(as_text=True)
    assert together.count('href="/staff/supporters/') == 2
    detail = client.get(f"/staff/supporters/{people['amal']}").get_data(as_text=True)
    assert "Other Stripe customers with this address" in detail
    assert f'href="/staff/supporters/{again.id}"' in detail and again.stripe_customer_id in detail
    assert "Address not verified" in detail
    alone = client.get(f"/staff/supporters/{people['ben']}").get_data(as_text=True)
    assert "data-same-address" not in alone and "address not verified" not in alone


def test_erasing_one_record_erases_every_record_with_its_address(client, people, runner):
    again = supporter("AMAL@example.org".lower(), "Amal H.")
    db.session.commit()
    signed_in(client, "admin")
    path = f"/staff/supporters/{again.id}"
    assert "are erased too" in client.get(path).get_data(as_text=True)
    done = client.post(path + "/erase", data={"csrf_token": csrf(client, path), "confirm": "y"})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The personal data of 2 supporter records with this address was erased." in page
    db.session.expire_all()
    for supporter_id in (people["amal"], again.id):
        row = db.session.get(Supporter, supporter_id)
        assert (row.email, row.name) == (None, None) and row.erased_at is not None
    assert db.session.get(Supporter, people["ben"]).email == "ben@example.org"


def test_the_command_erases_every_record_with_the_address(app, people, runner):
    again = supporter("ben@example.org", "Ben J.")
    db.session.commit()
    result = runner.invoke(args=["supporters", "erase", "Ben@Example.org"])
    assert result.exit_code == 0, result.output
    assert f"#{people['ben']}, #{again.id}" in result.output
    db.session.expire_all()
    assert db.session.get(Supporter, people["ben"]).erased_at is not None
    assert db.session.get(Supporter, again.id).erased_at is not None
    assert db.session.get(Supporter, people["amal"]).erased_at is None
    assert runner.invoke(args=["supporters", "erase", "ben@example.org"]).exit_code == 1


def test_every_kind_of_mail_has_a_name_staff_can_read():
    """Staff pages name mails by kind, never by outbox key: a new kind of mail needs a
    label, or staff would see "Mail" for it."""
    from support.alerts import digest
    from support.mail.messages import SUBJECTS
    from support.staff.auth.mail import SUBJECTS as STAFF_SUBJECTS
    from support.staff.mail_labels import KIND_LABELS

    kinds = {*SUBJECTS, *STAFF_SUBJECTS, digest.KIND}
    assert kinds - set(KIND_LABELS) == set()
