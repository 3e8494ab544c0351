"""What the staff chat is told: a new gift, a cancellation, a payment given up on.

Called by the webhook handlers as they apply an event, with what the ledger
holds. Each alert is one short line, in `STAFF_ALERT_LANG`, and says only
what staff need to act or cheer: the amount and frequency, the supporter's
language, the article and campaign a gift came from, the reason for a
cancellation, and a link to the supporter's page in the staff area (behind
sign-in). Never a name or an address: a chat channel is read by more people,
on more devices, and kept longer than the staff area, and some readers are at
risk if seen supporting.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from support.alerts import labels
from support.alerts.queue import owe_alert
from support.formatting import format_money
from support.ledger.fields import timestamp
from support.urls import public_url

# How long a source link may be in an alert (host and path only).
SOURCE_LENGTH = 120


def _escape(text: str) -> str:
    """Slack's three control characters, escaped as it asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _source(url: str | None) -> str | None:
    """The article a gift came from, as host and path (no query: utm tags are noise)."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return (parts.hostname + parts.path)[:SOURCE_LENGTH]


def _staff_link(supporter_id: int | None) -> str | None:
    if supporter_id is None:
        return None
    return public_url("staff.supporter_detail", supporter_id=supporter_id)


def _line(parts: list[str | None]) -> str:
    return _escape(" · ".join(part for part in parts if part))


def _in_alert_language(build):
    with force_locale(current_app.config["STAFF_ALERT_LANG"]):
        return build()


def new_gift(
    session_id: str,
    supporter_id: int | None,
    amount: int | None,
    currency: str | None,
    frequency: str,
    lang: str | None,
    source: str | None,
    campaign: str | None,
    happened_at: datetime | None,
) -> None:
    """A Checkout Session paid: a new gift (monthly, yearly or one-time)."""

    def build() -> str:
        where = _source(source)
        return _line(
            [
                _("New %(frequency)s gift: %(amount)s", frequency=labels.frequency(frequency),
                  amount=format_money(amount or 0, currency or "usd")),
                _("reads in %(language)s", language=labels.language(lang)),
                _("from %(source)s", source=where) if where else None,
                _("campaign %(campaign)s", campaign=campaign) if campaign else None,
                _staff_link(supporter_id),
            ]
        )  # fmt: skip

    owe_alert(f"new:{session_id}", "new", _in_alert_language(build), happened_at)


def _months(started: datetime | None, ended: datetime | None) -> int | None:
    if started is None or ended is None:
        return None
    return max(0, (ended.year - started.year) * 12 + ended.month - started.month)


def _latest_invoice(sub: dict) -> str | None:
    invoice = sub.get("latest_invoice")
    return invoice if isinstance(invoice, str) else (invoice or {}).get("id")


def subscription_ended(sub: dict, row: sa.Row) -> None:
    """A subscription Stripe shows as canceled: a cancellation, or a final payment
    failure when Stripe ended it for non-payment (`cancellation_details.reason`)."""
    if sub.get("status") != "canceled":
        return
    ended_at = timestamp(sub.get("ended_at") or sub.get("canceled_at"))
    if (sub.get("cancellation_details") or {}).get("reason") == "payment_failed":
        _given_up(_latest_invoice(sub) or sub["id"], row, ended_at, ended=True)
        return

    def build() -> str:
        months = _months(row.started_at, ended_at)
        amount, frequency = format_money(row.amount, row.currency), labels.frequency(row.interval)
        return _line(
            [
                _("Cancelled: %(amount)s %(frequency)s", amount=amount, frequency=frequency),
                _("after %(months)s months", months=months) if months is not None else None,
                _("reason: %(reason)s", reason=labels.reason(row.cancel_reason)),
                _staff_link(row.supporter_id),
            ]
        )

    owe_alert(f"cancelled:{sub['id']}", "cancelled", _in_alert_language(build), ended_at)


def invoice_given_up(invoice: dict, row: sa.Row) -> None:
    """A renewal whose last attempt failed: Stripe will not try it again."""
    if invoice.get("status") in ("paid", "void", "draft") or not invoice.get("attempted"):
        return
    if invoice.get("next_payment_attempt") is not None:
        return
    if invoice.get("collection_method") == "send_invoice":
        return  # a bill the supporter pays by hand, not a charge that failed
    _given_up(invoice["id"], row, timestamp(invoice.get("created")), ended=False)


def _given_up(invoice_id: str, row: sa.Row, happened_at: datetime | None, ended: bool) -> None:
    """One alert per failed renewal, whether Stripe's last failure or the ending it
    led to is applied first (both are keyed by the invoice)."""

    def build() -> str:
        amount, frequency = format_money(row.amount, row.currency), labels.frequency(row.interval)
        if ended:
            what = _(
                "Ended for non-payment: %(amount)s %(frequency)s",
                amount=amount,
                frequency=frequency,
            )
        else:
            what = _(
                "Last payment attempt failed: %(amount)s %(frequency)s",
                amount=amount,
                frequency=frequency,
            )
        return _line([what, _staff_link(row.supporter_id)])

    owe_alert(f"given_up:{invoice_id}", "given_up", _in_alert_language(build), happened_at)
