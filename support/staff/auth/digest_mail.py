"""The daily digest mail (figures owed by support/alerts/digest.py), rendered for one account.

Numbers and money are formatted in the mail's language here, when it is sent;
the row holds the figures as counted.
"""

from __future__ import annotations

import json
from datetime import date
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l

from support.alerts import labels
from support.choices import LANGUAGES
from support.formatting import format_money, format_number
from support.i18n import direction, newsroom_name
from support.mail.messages import assemble
from support.models import OutboundEmail, StaffUser
from support.urls import public_url

SUBJECT = _l("%(newsroom)s supporters on %(day)s")


def skip_reason(user: StaffUser) -> str | None:
    """Why the digest must not go to `user` now (opted out, or not active)."""
    if user.status != "active":
        return f"the account is {user.status} now"
    if not user.daily_digest:
        return "the account no longer wants the daily digest"
    return None


def _money(amounts: dict) -> str:
    if not amounts:
        return format_money(0, current_app.config["SUPPORT_CURRENCIES"][0])
    return ", ".join(format_money(total, currency) for currency, total in sorted(amounts.items()))


def _signed(value: int) -> str:
    """+3, 0, −2 (a true minus sign), in the language's digits."""
    if value > 0:
        return "+" + format_number(value)
    if value < 0:
        return "\u2212" + format_number(-value)
    return format_number(0)


def build_digest(row: OutboundEmail, user: StaffUser) -> EmailMessage:
    """The digest message for `row`, to `user`, in the row's language."""
    lang = row.lang if row.lang in LANGUAGES else "en"
    figures = json.loads(row.context)
    with force_locale(lang):
        newsroom = newsroom_name(lang)
        day = format_date(date.fromisoformat(figures["day"]), "long")
        subject = str(SUBJECT) % {"newsroom": newsroom, "day": day}
        context = {
            "subject": subject,
            "newsroom": newsroom,
            "lang": lang,
            "text_dir": direction(lang),
            "day": day,
            "timezone": figures["timezone"],
            "rows": [
                (_l("New recurring supporters"), format_number(figures["new"])),
                (_l("One-time gifts"), format_number(figures["one_time"])),
                (_l("Cancellations"), format_number(figures["cancelled_total"])),
                (_l("Failed payments"), format_number(figures["failed"])),
                (_l("Recovered payments"), format_number(figures["recovered"])),
                (_l("Recovered revenue"), _money(figures["recovered_money"])),
                (_l("Pauses"), format_number(figures["paused"])),
                (_l("Net change"), _signed(figures["net"])),
                (_l("Monthly recurring revenue now"), _money(figures["mrr"])),
            ],
            "reasons": [
                (labels.reason(reason), format_number(count))
                for reason, count in figures["cancelled"]
            ],
            "dashboard_url": public_url("staff.dashboard"),
            "settings_url": public_url("staff.digest_settings"),
        }
        text = render_template("email/staff_digest.txt", **context)
        html = render_template("email/staff_digest.html", **context)
    return assemble(row, subject, text, html, user.email, lang)
