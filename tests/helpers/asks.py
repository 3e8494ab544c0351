"""What the upgrade-ask tests share: many supporters seeded in bulk, the ask form as
staff fill it in, and reading the links out of a sent ask mail."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, Subscription, Supporter, UpgradeAsk, utcnow
from tests.conftest import form_tokens

TEXTS = {
    "subject_en": "Would you give a little more?",
    "body_en": "Dear friend,\n\nOur reporting depends on you.\nA little more goes far.",
    "subject_ar": "هل تزيد دعمك قليلاً؟",
    "body_ar": "صديقنا العزيز،\n\nصحافتنا تعتمد عليك.",
}


def seed(count: int, *, start: int = 0, amount: int = 300, currency: str = "usd", **values):
    """`count` supporters, each with one subscription, inserted in two statements;
    their ids. `values` set supporter (lang, asks_opted_out_at, erased_at, email=None)
    and subscription (interval, status, started_days_ago) columns."""
    now = utcnow()
    started = now - timedelta(days=values.pop("started_days_ago", 400))
    interval = values.pop("interval", "month")
    status = values.pop("status", "active")
    lang = values.pop("lang", None)
    people = [
        {
            "email": f"seed{start + n}@example.org",
            "name": f"Reader {start + n}",
            "stripe_customer_id": f"cus_seed{start + n}",
            "lang": lang or ("ar" if n % 3 == 0 else "en"),
            "first_supported_at": started,
            "stripe_updated": 0,
            "created_at": now,
            "updated_at": now,
            **values,
        }
        for n in range(count)
    ]
    db.session.execute(sa.insert(Supporter), people)
    ids = list(
        db.session.scalars(
            sa.select(Supporter.id)
            .where(Supporter.stripe_customer_id.in_([p["stripe_customer_id"] for p in people]))
            .order_by(Supporter.id)
        )
    )
    gifts = [
        {
            "stripe_id": f"sub_seed{start + n}",
            "supporter_id": supporter_id,
            "status": status,
            "amount": amount,
            "currency": currency,
            "interval": interval,
            "started_at": started,
            "stripe_updated": 0,
            "created_at": now,
            "updated_at": now,
        }
        for n, supporter_id in enumerate(ids)
    ]
    db.session.execute(sa.insert(Subscription), gifts)
    db.session.commit()
    return ids


def ask_fields(client, **values) -> dict:
    """The new-ask form filled in: the group (`values`), the amount and both texts."""
    page = client.get("/staff/asks/new")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    hidden = form_tokens(page.get_data(as_text=True))
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    fields = {
        "csrf_token": hidden["csrf_token"],
        "token": token.group(1),
        "currency": "usd",
        "interval": "",
        "lang": "",
        "months": "",
        "under": "",
        "q": "",
        "rule": "set",
        "amount": "5",
        **TEXTS,
    }
    fields.update(values)
    return fields


def send_ask(client, **values):
    """Fill in the form, preview it, then press "Send": (preview response, send response)."""
    fields = ask_fields(client, **values)
    preview = client.post("/staff/asks/new", data={**fields, "action": "preview"})
    sent = client.post("/staff/asks/new", data={**fields, "action": "send"})
    return preview, sent, fields


def asks() -> list[UpgradeAsk]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(UpgradeAsk).order_by(UpgradeAsk.id)))


def ask_mails() -> list[OutboundEmail]:
    db.session.expire_all()
    query = sa.select(OutboundEmail).where(OutboundEmail.kind == "upgrade_ask")
    return list(db.session.scalars(query.order_by(OutboundEmail.id)))


def link(message, path: str) -> str:
    """The first `/asks/...` or `/unsubscribe/...` address in the mail's text."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://\S+" + re.escape(path) + r"[^\s]+", text)
    assert found, text
    return found.group(0)
