"""A reader who came from a newsletter link carrying their address: the address is kept
in no copy of the source (checkout attempts, subscriptions, payments, Stripe metadata
read back, stored events, staff pages, the CSV), erasure reaches rows written before
sources were reduced, and `flask supporters clean-sources` cleans such rows in place.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from support.extensions import db
from support.models import CheckoutAttempt, Payment, StripeEvent, Subscription
from support.privacy import erasure
from support.privacy.stored_sources import clean_payload
from tests import factories
from tests.factories import signed_in
from tests.helpers.erasure import logical_dump, spellings
from tests.stripe_history import deliver, oldest_first, start_checkout

ADDRESS = "them@example.org"
TYPED = "Them@Example.org"
RAW = f"https://news.example.org/a?utm_email={ADDRESS}&utm_source=nl"
CLEAN = "https://news.example.org/a?utm_source=nl"


def leaks(text: str, value: str = ADDRESS) -> list[str]:
    """Every spelling of `value` found in `text`, ignoring case."""
    folded = text.casefold()
    return sorted(s for s in spellings(value) if s.casefold() in folded)


def deliver_new(client, emulator, seen: set[str]) -> set[str]:
    """Deliver and apply every event not delivered yet; their statuses."""
    statuses = set()
    for event in oldest_first(emulator):
        if event["id"] not in seen:
            seen.add(event["id"])
            statuses.add(deliver(client, event))
    return statuses


def as_before(emulator, session_id: str, intent_data: str) -> None:
    """Put the whole source back where the previous version put it: the attempt row and
    the session's metadata at Stripe (and so the subscription's or payment's)."""
    attempt = db.session.scalar(sa.select(CheckoutAttempt).filter_by(session_id=session_id))
    assert attempt.source == CLEAN  # what this version stores
    attempt.source = RAW
    db.session.commit()
    with emulator.store.lock:
        session = emulator.store.get(session_id)
        assert session["metadata"]["source"] == CLEAN
        session["metadata"]["source"] = RAW
        emulator.store.extra[session_id][intent_data]["metadata"]["source"] = RAW


def sources() -> set[str | None]:
    """Every source the ledger holds."""
    found: set[str | None] = set()
    for table in (CheckoutAttempt, Subscription, Payment):
        found.update(db.session.scalars(sa.select(table.source)))
    return found


def test_erasing_a_reader_from_a_newsletter_link_leaves_their_address_nowhere(
    client, emulator, runner
):
    seen: set[str] = set()
    session_id = start_checkout(client, "month", source=RAW, campaign="spring")
    as_before(emulator, session_id, "subscription_data")
    # The same reader also opened the appeal once more and left: a row linked to nobody.
    abandoned = start_checkout(client, "once", source=RAW)
    db.session.execute(
        sa.update(CheckoutAttempt).filter_by(session_id=abandoned).values(source=RAW)
    )
    db.session.commit()
    session = emulator.pay(session_id, email=TYPED, name="Reader")
    assert deliver_new(client, emulator, seen) <= {"processed", "ignored"}
    # The ledger and the inbox reduce what Stripe's metadata still carries.
    subscription = db.session.scalar(sa.select(Subscription))
    assert subscription.source == CLEAN
    assert {p.source for p in db.session.scalars(sa.select(Payment))} == {CLEAN}
    payloads = " ".join(db.session.scalars(sa.select(StripeEvent.payload)))
    assert "utm_email" not in payloads and CLEAN in payloads

    # An event the previous version stored with the whole source (and the contact).
    completed = emulator.events("checkout.session.completed")[0]
    assert completed["data"]["object"]["metadata"]["source"] == RAW
    factories.event("checkout.session.completed", id="evt_before", payload=json.dumps(completed))
    db.session.commit()
    emulator.renew(session["subscription"])
    deliver_new(client, emulator, seen)
    assert "utm_email" in logical_dump()  # the test has something to find

    result = runner.invoke(args=["supporters", "erase", ADDRESS])
    assert result.exit_code == 0, result.output
    dump = logical_dump()
    assert leaks(dump) == [] and "utm_email" not in dump
    # Reduced, not blanked: the article and its campaign still count.
    assert sources() == {CLEAN}
    assert len(db.session.scalars(sa.select(Payment)).all()) == 2

    signed_in(client)
    supporter_id = subscription.supporter_id
    for path in ("/staff/banner?days=30", f"/staff/supporters/{supporter_id}",
                 "/staff/supporters.csv"):  # fmt: skip
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert CLEAN in page and leaks(page) == [] and "utm_email" not in page, path
    banner = client.get("/staff/banner?days=30").get_data(as_text=True)
    row = banner[banner.index(CLEAN) :].split("</tr>", 1)[0]
    assert "<td>2</td><td>1</td>" in row  # two checkouts from the article, one paid

    # A renewal after erasure brings the old metadata again; it is stored reduced.
    emulator.renew(session["subscription"])
    assert deliver_new(client, emulator, seen) <= {"processed", "ignored"}
    dump = logical_dump()
    assert leaks(dump) == [] and "utm_email" not in dump
    assert sources() == {CLEAN}


def test_erasure_reduces_the_readers_sources_and_no_one_elses(app):
    other = "other@example.net"
    reader = factories.supporter(email="reader@example.org", name="Khoury")
    someone = factories.supporter(email="someone@example.org", name="Someone")
    mine = factories.subscription(reader, source=f"https://news.example.org/a?email={other}")
    named = factories.payment(reader, source="https://news.example.org/a?utm_content=khoury")
    theirs = factories.payment(someone, source=f"https://news.example.org/b?e={other}")
    # An attempt linked to no one, whose source holds the reader's own address.
    unlinked = CheckoutAttempt(
        session_id="cs_t_unlinked", amount=500, currency="usd", frequency="once", lang="en",
        source="https://news.example.org/c?email=reader%40example.org",
    )  # fmt: skip
    db.session.add(unlinked)
    event = factories.event(
        "customer.subscription.updated",
        data={"object": {"id": mine.stripe_id, "object": "subscription",
                         "customer": reader.stripe_customer_id,
                         "metadata": {"source": mine.source, "lang": "en"}}},
    )  # fmt: skip
    db.session.commit()

    erasure.erase_supporter(reader)
    db.session.commit()
    db.session.expire_all()
    assert mine.source == "https://news.example.org/a"
    # Reduced, it would still name the reader: gone.
    assert named.source is None
    assert unlinked.source == "https://news.example.org/c"
    # Someone else's row is theirs (`clean-sources` reduces it).
    assert theirs.source == f"https://news.example.org/b?e={other}"
    stored = json.loads(event.payload)["data"]["object"]["metadata"]
    assert stored == {"source": "https://news.example.org/a", "lang": "en"}


def test_clean_payload_reduces_every_metadata_source():
    session = {
        "id": "cs_1", "object": "checkout.session",
        "metadata": {"source": RAW, "campaign": "spring"},
        "subscription_details": {"metadata": {"source": f"https://x.test/u/{ADDRESS}"}},
        "lines": {"data": [{"metadata": {"source": CLEAN}}]},
    }  # fmt: skip
    event = {"id": "evt_1", "data": {"object": session,
             "previous_attributes": {"metadata": {"source": RAW}}}}  # fmt: skip
    cleaned = json.loads(clean_payload(json.dumps(event, indent=2)))
    obj = cleaned["data"]["object"]
    assert obj["metadata"] == {"source": CLEAN, "campaign": "spring"}
    assert obj["subscription_details"]["metadata"] == {}
    assert obj["lines"]["data"][0]["metadata"] == {"source": CLEAN}
    assert cleaned["data"]["previous_attributes"]["metadata"] == {"source": CLEAN}
    assert clean_payload(json.dumps(cleaned)) is None  # nothing left to do
    assert clean_payload("not json " + RAW) is None
    assert clean_payload(json.dumps({"source": RAW})) is None  # only metadata is ours


def test_clean_sources_reduces_rows_written_before(app, runner):
    owner = factories.supporter()
    elsewhere = f"https://old.example.net/a?email={ADDRESS}&utm_campaign=may"
    rows = [
        factories.subscription(owner, source=RAW),
        factories.subscription(owner, source=CLEAN),
        factories.subscription(owner, source=None),
        factories.payment(owner, source=f"https://news.example.org/u/{ADDRESS}"),
        factories.payment(owner, source=elsewhere),
        factories.payment(None, source=f"{CLEAN}#{ADDRESS}"),
    ]
    for number, source in enumerate([RAW, RAW, CLEAN, "not a url " + ADDRESS]):
        db.session.add(CheckoutAttempt(session_id=f"cs_t_{number}", amount=500, currency="usd",
                                       frequency="once", lang="en", source=source))  # fmt: skip
    parent = {"subscription_details": {"metadata": {"source": RAW}}}
    whole = {"object": {"object": "invoice", "customer_email": None, "parent": parent}}
    events = [
        factories.event("checkout.session.completed",
                        data={"object": {"object": "checkout.session",
                                         "metadata": {"source": RAW, "lang": "ar"}}}),
        factories.event("invoice.paid", payload=json.dumps({"data": whole}, indent=1)),
        factories.event("charge.refunded", data={"object": {"metadata": {"source": CLEAN}}}),
        factories.event("charge.refunded", payload="not json " + RAW),
    ]  # fmt: skip
    db.session.commit()
    assert leaks(logical_dump())

    result = runner.invoke(args=["supporters", "clean-sources", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "Cleaned 9 stored sources." in result.output
    db.session.expire_all()
    assert [row.source for row in rows] == [
        CLEAN, CLEAN, None, None, "https://old.example.net/a?utm_campaign=may", CLEAN
    ]  # fmt: skip
    attempts = db.session.scalars(sa.select(CheckoutAttempt).order_by(CheckoutAttempt.id))
    assert [a.source for a in attempts] == [CLEAN, CLEAN, CLEAN, None]
    first = json.loads(events[0].payload)["data"]["object"]["metadata"]
    assert first == {"source": CLEAN, "lang": "ar"}
    second = json.loads(events[1].payload)["data"]["object"]["parent"]
    assert second["subscription_details"]["metadata"] == {"source": CLEAN}
    # Text that is not JSON is not an event's metadata; the reduced payloads are as they were.
    assert events[3].payload == "not json " + RAW
    assert leaks(" ".join(str(r.source) for r in rows)) == []

    again = runner.invoke(args=["supporters", "clean-sources"])
    assert again.exit_code == 0 and "Cleaned 0 stored sources." in again.output


def test_clean_sources_refuses_a_bad_batch(app, runner):
    result = runner.invoke(args=["supporters", "clean-sources", "--batch", "0"])
    assert result.exit_code == 2 and "--batch" in result.output
