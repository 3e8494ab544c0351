"""Error texts kept for staff carry no address, name or PostgreSQL detail."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy.exc import IntegrityError

from support.extensions import db
from support.mail import transport
from support.models import Supporter
from support.privacy import error_texts
from support.privacy.redaction import REDACTED

NAME = "ليلى حداد"
EMAIL = "Layla.Haddad@Example.ORG"


def test_error_texts_keep_no_address_detail_or_name():
    error = RuntimeError(
        'duplicate key value violates unique constraint "uq_supporter_email"\n'
        f"DETAIL:  Key (email)=({EMAIL.lower()}) already exists.\n"
        f"HINT:  Failing row contains ({NAME}).\n"
        "[SQL parameters hidden due to hide_parameters=True]"
    )
    text = error_texts.describe(error)
    assert text.startswith("RuntimeError: duplicate key value")
    assert "DETAIL" not in text and EMAIL.lower() not in text and NAME not in text
    assert "hide_parameters" in text
    quoted = error_texts.clean(f"Customer {NAME} <{EMAIL}> refused", NAME)
    assert quoted == f"Customer {REDACTED} <L***@Example.ORG> refused"


def test_smtp_refusals_are_masked_by_the_transport(monkeypatch):
    class Refusing:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            answer = (550, f"5.1.1 <{EMAIL}>: Recipient address rejected".encode())
            raise smtplib.SMTPRecipientsRefused({EMAIL: answer})

    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    settings = transport.parse_mail_url("smtp://127.0.0.1:2525")
    with pytest.raises(transport.MailError) as refused:
        transport.deliver(transport.EmailMessage(), settings)
    text = str(refused.value)
    assert "SMTPRecipientsRefused" in text and "L***@Example.ORG" in text
    assert EMAIL.lower() not in text.lower()


def test_database_errors_quote_no_values_and_their_texts_no_detail(app):
    assert db.engine.hide_parameters  # set in support/config.py
    # One Stripe customer twice: the unique key clashes (an address may repeat).
    for _ in range(2):
        db.session.add(Supporter(email=EMAIL.lower(), name=NAME, stripe_customer_id="cus_a"))
        try:
            db.session.commit()
        except IntegrityError as error:
            clash = error
            db.session.rollback()
    text = str(clash)
    assert "SQL parameters hidden" in text and NAME not in text and EMAIL.lower() not in text
    # PostgreSQL's DETAIL still quotes the clashing value: kept texts leave it out.
    described = error_texts.describe(clash)
    assert described.startswith("IntegrityError: ") and "supporter" in described
    assert EMAIL.lower() not in described and NAME not in described and "cus_a" not in described
