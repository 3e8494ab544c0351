"""Odd values in every field of the checkout form: a 400 with the form, never a 500.

Each case posts the appeal form with one field replaced (a list posts the field
several times) in both languages, then checks the answer: a refused form comes
back with its message in the page's language and nothing asked of Stripe; an
accepted one reaches Stripe without the odd value.
"""

import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from support.extensions import db
from support.models import CheckoutAttempt
from tests.conftest import form_tokens

MESSAGES = {
    "currency": ("We cannot accept gifts in that currency.", "لا يمكننا قبول الدعم بهذه العملة."),
    "frequency": (
        "Please choose monthly, yearly or once.",
        "يُرجى الاختيار بين شهريًا أو سنويًا أو مرة واحدة.",
    ),
    "missing": ("Please choose or enter an amount.", "يُرجى اختيار مبلغ أو كتابته."),
    "invalid": (
        "Please enter the amount as a number, for example 5 or 7.50.",
        "يُرجى كتابة المبلغ بالأرقام، مثل 5 أو 7.50.",
    ),
    "too_large": (
        "The largest gift we can accept online is",
        "أكبر مبلغ يمكننا قبوله عبر الإنترنت هو",
    ),
    "too_long": ("Please enter a shorter amount.", "يُرجى كتابة مبلغ أقصر."),
    "email": (
        "Please enter a valid email address, or leave it empty.",
        "يُرجى كتابة بريد إلكتروني صحيح، أو ترك الحقل فارغًا.",
    ),
    "email_long": ("That email address is too long.", "عنوان البريد الإلكتروني هذا طويل جدًا."),
    "expired": (
        "This form has expired. Please check your choice and press the button again.",
        "انتهت صلاحية هذا النموذج. يُرجى مراجعة اختيارك والضغط على الزر مرة أخرى.",
    ),
}
LONG = "x" * 5000
# The valid token is put in place of this marker, for duplicates of a good and a bad one.
REAL = "(the real token)"

# (field, value, the message key when the form must be refused, else None)
CASES = [
    ("currency", "xxx", "currency"),
    ("currency", "XXX", "currency"),
    ("currency", "USD", "currency"),
    ("currency", "eur", "currency"),
    ("currency", " ", "currency"),
    ("currency", "usd ", "currency"),
    ("currency", "usd\x00", "currency"),
    ("currency", LONG, "currency"),
    ("currency", "دولار", "currency"),
    ("currency", "€", "currency"),
    ("currency", ["xxx", "usd"], "currency"),
    ("currency", ["usd", "xxx"], None),
    ("currency", "", None),  # a form without a currency means the default one
    ("frequency", "weekly", "frequency"),
    ("frequency", "MONTH", "frequency"),
    ("frequency", "", "frequency"),
    ("frequency", LONG, "frequency"),
    ("frequency", "شهريًا", "frequency"),
    ("frequency", ["xxx", "month"], "frequency"),
    ("frequency", ["once", "xxx"], None),
    ("amount", "", "missing"),
    ("amount", "abc", "invalid"),
    ("amount", "-5", "invalid"),
    ("amount", "Infinity", "invalid"),
    ("amount", "5\x00", "invalid"),
    ("amount", LONG, "invalid"),
    ("amount", "9" * 4000, "too_large"),
    ("amount", "٥", None),
    ("amount", ["abc", "5"], "invalid"),
    ("amount", ["5", "abc"], None),
    ("amount_other", "x" * 33, "too_long"),
    ("amount_other", "١٢", None),
    ("cover_fees", "yes", None),
    ("cover_fees", LONG, None),
    ("cover_fees", ["y", "n"], None),
    ("email", "not-an-email", "email"),
    ("email", "a@b", "email"),
    ("email", "reader\x00@example.org", "email"),
    ("email", "x" * 250 + "@example.org", "email_long"),
    ("email", ["reader@example.org", "nope"], None),
    ("email", "   ", None),
    ("source", "https://evil.example\\.news.example.org/", None),
    ("source", LONG, None),
    ("source", "مقال", None),
    ("source", ["https://evil.example/", "https://news.example.org/a"], None),
    ("campaign", "<script>alert(1)</script>", None),
    ("campaign", LONG, None),
    ("campaign", "حملة", None),
    ("variant", "a b", None),
    ("variant", ["", "b"], None),
    ("form_token", "", None),
    ("form_token", "short", None),
    ("form_token", LONG, None),
    ("form_token", "ü" * 20, None),
    ("csrf_token", "", "expired"),
    ("csrf_token", "bogus", "expired"),
    ("csrf_token", LONG, "expired"),
    ("csrf_token", "رمز", "expired"),
    ("csrf_token", ["bogus", REAL], "expired"),
]


def _post(client, lang, field, value):
    tokens = form_tokens(client.get(f"/{lang}/").get_data(as_text=True))
    data = MultiDict({"amount": "5", "frequency": "month", "currency": "usd", **tokens})
    values = value if isinstance(value, list) else [value]
    data.setlist(field, [tokens[field] if v is REAL else v for v in values])
    return client.post(f"/{lang}/checkout", data=data)


def _sessions(emulator):
    return emulator.state()["objects"].get("checkout.session", [])


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize(
    ("field", "value", "refused"),
    CASES,
    ids=[f"{f}={str(v)[:24]!r}" for f, v, _ in CASES],
)
def test_odd_checkout_input(client, emulator, lang, field, value, refused):
    response = _post(client, lang, field, value)
    html = response.get_data(as_text=True)
    if refused is None:
        assert response.status_code == 303, html[:2000]
        [session] = _sessions(emulator)
        metadata = session["metadata"]
        # Odd attribution is dropped on the way: only plain values reach Stripe.
        assert metadata.get("source") in (None, "https://news.example.org/a")
        for key in ("campaign", "variant"):
            assert metadata.get(key) is None or re.fullmatch(r"[a-z]", metadata[key])
        return

    assert response.status_code == 400
    # The form again, in the page's language, with the message and a fresh token.
    assert f'<html lang="{lang}"' in html
    assert f'action="/{lang}/checkout"' in html
    assert 'role="alert"' in html
    english, arabic = MESSAGES[refused]
    assert (arabic if lang == "ar" else english) in html
    if lang == "ar":
        assert english not in html
    assert form_tokens(html).keys() == {"csrf_token", "form_token"}
    # Nothing was asked of Stripe or recorded.
    assert _sessions(emulator) == []
    assert db.session.scalars(sa.select(CheckoutAttempt)).all() == []


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_refused_currency_is_drawn_in_the_default_and_can_be_sent_again(client, lang):
    response = _post(client, lang, "currency", "xxx")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<input type="hidden" name="currency" value="usd">' in html
    resent = client.post(
        f"/{lang}/checkout",
        data={"amount": "5", "frequency": "month", "currency": "usd", **form_tokens(html)},
    )
    assert resent.status_code == 303


def test_an_expired_form_keeps_the_choice_and_works_again(client, emulator):
    response = _post(client, "ar", "csrf_token", "bogus")
    html = response.get_data(as_text=True)
    assert re.search(r'name="amount" value="5"\s*checked', html)
    resent = client.post(
        "/ar/checkout",
        data={"amount": "5", "frequency": "month", "currency": "usd", **form_tokens(html)},
    )
    assert resent.status_code == 303
    assert len(_sessions(emulator)) == 1
