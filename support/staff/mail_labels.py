"""Mails as staff name them: by what they are, never by the outbox's internal key.

An outbox key (`thanks:cs_test_…:again:…`) is how a mail is owed once; it means
nothing to a person, so staff pages show the kind of mail instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from support.extensions import db
from support.models import OutboundEmail

KIND_LABELS = {
    "thank_you": _l("Thank-you (receipt)"),
    "payment_failed": _l("Payment failed"),
    "payment_last_attempt": _l("Payment failed, last attempt"),
    "support_stopped": _l("Support stopped (restart link)"),
    "renewal_reminder": _l("Renewal reminder"),
    "card_expiring": _l("Card expiring"),
    "manage_link": _l("Manage link"),
    "gift_changed": _l("Gift changed"),
    "gift_paused": _l("Gift paused"),
    "gift_resumed": _l("Gift resumed"),
    "gift_cancelled": _l("Gift cancelled"),
    "gift_kept": _l("Gift kept"),
    "card_updated": _l("Card updated"),
    "upgrade_ask": _l("Upgrade ask"),
    "staff_invite": _l("Staff invitation"),
    "staff_reset": _l("Staff password reset"),
    "staff_digest": _l("Daily digest"),
}


def mail_label(kind: str | None) -> str:
    """The kind of mail in words (an unknown kind: "Mail")."""
    return str(KIND_LABELS.get(kind or "", _l("Mail")))


def by_key(keys: list[str]) -> dict[str, OutboundEmail]:
    """The outbox rows with these keys, by key."""
    keys = [k for k in keys if k]
    if not keys:
        return {}
    rows = db.session.scalars(sa.select(OutboundEmail).where(OutboundEmail.key.in_(keys)))
    return {row.key: row for row in rows}
