"""Building the message for an outbox row: subject, plain text and HTML.

Each kind has `templates/email/<kind>.txt` and `<kind>.html`, rendered in the
supporter's language with `flask_babel.force_locale`; the HTML of an Arabic
mail is `dir="rtl"`, `lang="ar"`. Links are absolute, on SUPPORT_PUBLIC_URL.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from support.account.cards import Card
from support.choices import LANGUAGES
from support.formatting import format_money
from support.gift_links import mail_link
from support.i18n import direction, newsroom_name
from support.models import OutboundEmail, Supporter
from support.portal_links import portal_url
from support.urls import public_url

SUBJECTS = {
    "thank_you": _l("Thank you for supporting %(newsroom)s"),
    "payment_failed": _l("Your payment to %(newsroom)s did not go through"),
    "payment_last_attempt": _l("Last notice: your payment to %(newsroom)s did not go through"),
    "support_stopped": _l("Your support for %(newsroom)s has stopped"),
    "manage_link": _l("Your link to manage your support"),
    # Confirmations of the changes supporters make on their account page.
    "gift_changed": _l("Your gift to %(newsroom)s has changed"),
    "gift_paused": _l("Your gift to %(newsroom)s is paused"),
    "gift_resumed": _l("Your gift to %(newsroom)s has resumed"),
    "gift_cancelled": _l("Your gift to %(newsroom)s is cancelled"),
    "gift_kept": _l("Your gift to %(newsroom)s continues"),
    "card_updated": _l("Your card for %(newsroom)s is updated"),
    # Reminders before a renewal, and before a card stops working (support/reminders).
    "renewal_reminder": _l("Your gift to %(newsroom)s renews soon"),
    "card_expiring": _l("Your card for %(newsroom)s expires before your next payment"),
}
# Which portal link each kind carries (see support.portal_links.MAX_AGE).
LINK_PURPOSE = {
    "thank_you": "mail",
    "payment_failed": "mail",
    "payment_last_attempt": "mail",
    "support_stopped": "mail",
    "manage_link": "request",
    "gift_changed": "mail",
    "gift_paused": "mail",
    "gift_resumed": "mail",
    "gift_cancelled": "mail",
    "gift_kept": "mail",
    "card_updated": "mail",
    "renewal_reminder": "mail",
    "card_expiring": "mail",
}


def mail_language(row: OutboundEmail, supporter: Supporter) -> str:
    """The row's language if we speak it, else the supporter's, else English."""
    for lang in (row.lang, supporter.lang):
        if lang in LANGUAGES:
            return lang
    return "en"


def greeting(name: str | None) -> str:
    """ "Dear Layla," or "Hello," in the current locale."""
    return _("Dear %(name)s,", name=name) if name else _("Hello,")


def money_text(amount: object, currency: object) -> str:
    """The amount formatted for the current locale; empty if missing or unknown."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        return ""
    try:
        return format_money(amount, currency)
    except KeyError:  # a currency we do not know how to format
        return ""


def gift_line(amount: object, currency: object, frequency: object) -> str:
    """ "Your gift: $5 every month." in the current locale; empty without an amount."""
    money = money_text(amount, currency)
    if not money:
        return ""
    if frequency == "month":
        return _("Your gift: %(amount)s every month.", amount=money)
    if frequency == "year":
        return _("Your gift: %(amount)s every year.", amount=money)
    return _("Your gift: %(amount)s, once.", amount=money)


def date_text(value: object) -> str:
    """An ISO date-time from a mail's context as a date in the current locale; empty if none."""
    if not isinstance(value, str):
        return ""
    try:
        return format_date(datetime.fromisoformat(value))
    except ValueError:
        return ""


def mailed_card(data: dict) -> Card | None:
    """The card a mail's context names (brand, last 4, expiry), or None."""
    last4, brand = data.get("card_last4"), data.get("card_brand")
    if not isinstance(last4, str) or not last4:
        return None
    month, year = data.get("card_exp_month"), data.get("card_exp_year")
    return Card(
        brand if isinstance(brand, str) else "",
        last4,
        month if isinstance(month, int) else None,
        year if isinstance(year, int) else None,
    )


def card_lapses(card: Card | None, when: object) -> bool:
    """Whether `card` will have expired by `when` (an ISO date-time from a mail's context)."""
    if card is None or not isinstance(when, str):
        return False
    try:
        return card.state(datetime.fromisoformat(when)) == "expired"
    except ValueError:
        return False


def template_context(row: OutboundEmail, supporter: Supporter, lang: str) -> dict:
    """What the templates of `row.kind` may use (call under `force_locale(lang)`)."""
    try:
        data = json.loads(row.context or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    newsroom = newsroom_name(lang)
    return {
        "data": data,
        "money": money_text(data.get("amount"), data.get("currency")),
        "frequency": data.get("frequency"),
        "greeting": greeting(supporter.name),
        "gift": gift_line(data.get("amount"), data.get("currency"), data.get("frequency")),
        "date": date_text(data.get("date")),
        "card": mailed_card(data),
        "card_lapses": card_lapses(mailed_card(data), data.get("date")),
        "newsroom": newsroom,
        "lang": lang,
        "text_dir": direction(lang),
        "portal_url": portal_url(supporter.id, lang, LINK_PURPOSE[row.kind]),
        "manage_page_url": public_url("manage.request_link", lang=lang),
        "appeal_url": public_url("appeal.appeal", lang=lang),
        # A stopped gift's restart, a one-time receipt's monthly offer (single-use links).
        "gift_link_url": mail_link(row.kind, data, supporter.id, lang),
        "monthly_money": money_text(data.get("monthly"), data.get("currency")),
    }


def build_message(row: OutboundEmail, supporter: Supporter) -> EmailMessage:
    """The complete message for `row`, to `supporter`. Raises KeyError for unknown kinds."""
    if row.kind == "upgrade_ask":
        # Staff write an ask's words (support/asks/mail.py), not a template of ours.
        from support.asks.mail import build

        return build(row, supporter)
    if row.kind not in SUBJECTS:
        raise KeyError(f"no templates for mail kind {row.kind!r}")
    lang = mail_language(row, supporter)
    with force_locale(lang):
        context = template_context(row, supporter, lang)
        subject = str(SUBJECTS[row.kind]) % {"newsroom": context["newsroom"]}
        text = render_template(f"email/{row.kind}.txt", subject=subject, **context)
        html = render_template(f"email/{row.kind}.html", subject=subject, **context)
    return assemble(row, subject, text, html, supporter.email or "", lang)


def assemble(
    row: OutboundEmail,
    subject: str,
    text: str,
    html: str,
    to: str,
    lang: str,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """The message for `row` from its rendered parts, addressed to `to`.

    Marketing mail names its `unsubscribe_url`: the `List-Unsubscribe` and
    `List-Unsubscribe-Post` headers then let a mail program unsubscribe with one
    click (RFC 8058: a POST to that address, no confirmation asked). Service mail
    (receipts, failures, confirmations) has none."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = Address(addr_spec=to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    # Lets a mail server or a test tell our mails apart without parsing bodies.
    message["X-Support-Mail"] = f"{row.kind}; {row.key}"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the body: making it multipart moves Content-* headers into the first part.
    message["Content-Language"] = lang
    return message


def _sender_domain() -> str:
    sender = current_app.config["MAIL_FROM"]
    domain = sender.rpartition("@")[2].strip(" >")
    return domain or "localhost"
