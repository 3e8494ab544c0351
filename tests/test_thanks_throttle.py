"""The thanks page costs Stripe at most one read per session per 10 s, and none once
the ledger knows the outcome; a flood of it never reaches readers' checkouts."""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support import create_app, stripe_budget
from support.appeal import confirmation
from support.extensions import db, limiter
from support.models import CheckoutAttempt, utcnow
from tests.conftest import REDIS_URL, RequestScopedClient, base_config, redis_server
from tests.stripe_history import apply_due, give, oldest_first, post_event, start_checkout

REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')


def thanks(client, session_id: str, lang: str = "en"):
    return client.get(f"/{lang}/thanks", query_string={"session_id": session_id})


def stripe_requests(emulator) -> int:
    return emulator.api_stats()["requests"]


def status_of(html: str) -> str:
    return re.search(r'data-status="(\w+)"', html).group(1)


def test_reloading_an_unpaid_session_reads_stripe_once_per_ten_seconds(client, emulator):
    session_id = start_checkout(client)
    emulator.reset_api_stats()
    first = thanks(client, session_id).get_data(as_text=True)
    assert status_of(first) == "pending" and not REFRESH.search(first)
    assert stripe_requests(emulator) == 1

    pages = [thanks(client, session_id) for _ in range(20)]
    assert stripe_requests(emulator) == 1
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and status_of(html) == "pending"
        # It looks again by itself once a read is due, within the 10 s.
        assert 1 <= int(REFRESH.search(html).group(1)) <= confirmation.READ_INTERVAL
        assert "This page will update by itself." in html
    limiter.storage.reset()  # as when the 10 s have passed
    thanks(client, session_id)
    assert stripe_requests(emulator) == 2


def test_the_confirming_page_speaks_the_readers_language(client, emulator):
    session_id = start_checkout(client, lang="ar")
    thanks(client, session_id, "ar")
    html = thanks(client, session_id, "ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "جارٍ تأكيد الدفع" in html and "ستتحدّث هذه الصفحة تلقائيًا." in html
    assert REFRESH.search(html)


def test_a_read_that_found_the_session_paid_is_remembered(client, emulator):
    session_id = start_checkout(client)
    emulator.pay(session_id)
    emulator.reset_api_stats()
    assert status_of(thanks(client, session_id).get_data(as_text=True)) == "confirmed"
    # The webhook has not been applied yet; reloading does not ask Stripe again.
    for _ in range(5):
        html = thanks(client, session_id).get_data(as_text=True)
        assert status_of(html) == "confirmed" and not REFRESH.search(html)
    assert stripe_requests(emulator) == 1


def test_no_stripe_read_once_the_ledger_has_the_outcome(client, emulator):
    session, _, _ = give(client, emulator)
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()
    limiter.storage.reset()  # nothing remembered from a read: only the ledger
    emulator.reset_api_stats()
    for _ in range(10):
        html = thanks(client, session["id"]).get_data(as_text=True)
        assert status_of(html) == "confirmed"
    assert stripe_requests(emulator) == 0


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_expired_session_answers_from_the_ledger_without_stripe(client, emulator, lang):
    session_id = start_checkout(client, lang=lang)
    attempt = db.session.scalar(sa.select(CheckoutAttempt))
    attempt.created_at = utcnow() - confirmation.SESSION_LIFETIME - timedelta(minutes=1)
    db.session.commit()
    emulator.reset_api_stats()
    page = thanks(client, session_id, lang)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and status_of(html) == "closed"
    assert not REFRESH.search(html)
    says = "no confirmation of a payment" if lang == "en" else "لم يصلنا ما يؤكّد دفعًا"
    assert says in html
    assert stripe_requests(emulator) == 0

    # Paid after all (the webhook was late): the ledger's word is enough.
    attempt.completed_at = utcnow()
    db.session.commit()
    assert status_of(thanks(client, session_id, lang).get_data(as_text=True)) == "confirmed"
    assert stripe_requests(emulator) == 0


def test_a_session_stripe_expired_says_closed(client, emulator):
    session_id = start_checkout(client)
    emulator.expire(session_id)
    html = thanks(client, session_id).get_data(as_text=True)
    assert status_of(html) == "closed"


def test_an_unknown_session_is_a_404_without_stripe(client, emulator):
    emulator.reset_api_stats()
    for session_id in ("cs_test_" + uuid.uuid4().hex, "cs_live_abc", "pi_123", ""):
        response = thanks(client, session_id)
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
    assert stripe_requests(emulator) == 0


def test_past_the_readers_share_the_page_waits_rather_than_asks(app, client, emulator):
    app.config["STRIPE_READER_REQUESTS_PER_SECOND"] = 3
    session_id = start_checkout(client)
    emulator.reset_api_stats()
    readers = stripe_budget.readers()
    while readers.try_spend() == 0.0:
        pass  # other readers used the share up
    page = thanks(client, session_id)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and status_of(html) == "pending"
    assert 1 <= int(REFRESH.search(html).group(1)) <= confirmation.READ_INTERVAL
    assert stripe_requests(emulator) == 0


def test_processes_share_the_one_read_through_redis(database, emulator):
    """Two web processes (gunicorn workers) with Redis: still one read per session."""
    redis_server()
    emulator.reset()
    config = {**base_config(database, emulator.url), "RATELIMIT_STORAGE_URI": REDIS_URL}
    first, second = create_app(config), create_app(config)
    for instance in (first, second):
        instance.test_client_class = RequestScopedClient
    with first.app_context():
        session_id = start_checkout(first.test_client())
    emulator.reset_api_stats()
    try:
        for instance in (first, second, first, second):
            with instance.app_context():
                assert thanks(instance.test_client(), session_id).status_code == 200
        assert stripe_requests(emulator) == 1
    finally:
        with first.app_context():
            db.session.execute(sa.delete(CheckoutAttempt))
            db.session.commit()
            db.engine.dispose()
        with second.app_context():
            db.engine.dispose()


def test_a_flood_of_thanks_pages_costs_one_read_and_spares_checkouts(app, emulator):
    """500 loads of one unpaid session and 500 of unknown ids, Stripe at 25 requests a
    second, readers starting checkouts meanwhile: one read, no 429, no 502."""
    emulator.max_requests_per_second = 25
    try:
        unpaid = start_checkout(app.test_client())
        emulator.reset_api_stats()
        local = threading.local()

        def get(session_id: str) -> int:
            if not hasattr(local, "client"):
                local.client = app.test_client()
            return thanks(local.client, session_id).status_code

        def checkout(n: int) -> tuple[str, float]:
            reader = app.test_client()
            reader.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
            # Fails unless the reader is sent on to pay (303): no 429, 502 or 503.
            return start_checkout(reader, amount=str(n + 2)), time.monotonic()

        ids = [unpaid if n % 2 else f"cs_test_{uuid.uuid4().hex}" for n in range(1000)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as flood, ThreadPoolExecutor(5) as readers:
            loads = [flood.submit(get, session_id) for session_id in ids]
            while sum(load.done() for load in loads) < 100:
                time.sleep(0.01)
            checkouts = [readers.submit(checkout, n) for n in range(5)]
            codes = [load.result() for load in loads]
            flood_over = time.monotonic()
            created = [started_checkout.result() for started_checkout in checkouts]
        elapsed = time.monotonic() - started
    finally:
        emulator.max_requests_per_second = None

    # The readers were sent to pay while the flood was still on.
    assert all(done < flood_over for _, done in created)
    assert codes.count(200) == 500 and codes.count(404) == 500
    stats = emulator.api_stats()
    # One read of the unpaid session per 10 s begun (one, unless a loaded machine
    # stretched the flood), one request per checkout, nothing refused.
    reads = stats["requests"] - len(created)
    assert 1 <= reads <= 1 + int(elapsed // 10), (reads, elapsed)
    assert stats["refused"] == 0 and "429" not in stats["statuses"]
    assert elapsed < 30
