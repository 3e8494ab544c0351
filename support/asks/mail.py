"""An ask's mail: the staff's words in the supporter's language, the gift as it is
and as asked, the button to raise it, and the unsubscribe link (also in the
List-Unsubscribe headers, added by `support.mail.messages.assemble`).

The same rendering serves the staff preview, with an example recipient.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale

from support.asks.links import accept_url, unsubscribe_url
from support.extensions import db
from support.i18n import direction, newsroom_name
from support.mail.messages import assemble, gift_line, greeting, mail_language, money_text
from support.models import OutboundEmail, Supporter, UpgradeAsk, UpgradeAskRecipient


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def texts(ask: UpgradeAsk, lang: str) -> tuple[str, str]:
    """The staff's subject and body in `lang` (English for a language they did not write)."""
    if lang == "ar":
        return ask.subject_ar, ask.body_ar
    return ask.subject_en, ask.body_en


def paragraphs(body: str) -> list[str]:
    """The staff's body split at blank lines (line breaks inside a paragraph kept)."""
    parts = body.replace("\r\n", "\n").split("\n\n")
    return [part.strip() for part in parts if part.strip()]


def render(
    ask: UpgradeAsk,
    recipient: UpgradeAskRecipient,
    name: str | None,
    lang: str,
    accept: str,
    unsubscribe: str,
) -> Rendered:
    """The mail's subject, text and HTML in `lang`."""
    subject, body = texts(ask, lang)
    with force_locale(lang):
        context = {
            "greeting": greeting(name),
            "paragraphs": paragraphs(body),
            "gift": gift_line(recipient.old_amount, recipient.currency, recipient.interval),
            "new_gift": gift_line(recipient.new_amount, recipient.currency, recipient.interval),
            "new_money": money_text(recipient.new_amount, recipient.currency),
            "newsroom": newsroom_name(lang),
            "lang": lang,
            "text_dir": direction(lang),
            "accept_url": accept,
            "unsubscribe_url": unsubscribe,
            "subject": subject,
        }
        text = render_template("email/upgrade_ask.txt", **context)
        html = render_template("email/upgrade_ask.html", **context)
    return Rendered(subject, text, html)


def build(row: OutboundEmail, supporter: Supporter) -> EmailMessage:
    """The message for an `upgrade_ask` outbox row. Raises KeyError if its ask is gone."""
    data = json.loads(row.context or "{}")
    recipient = db.session.get(UpgradeAskRecipient, data.get("recipient"))
    if recipient is None:
        raise KeyError("no recipient row for this ask mail")
    ask = db.session.get(UpgradeAsk, recipient.ask_id)
    lang = mail_language(row, supporter)
    unsubscribe = unsubscribe_url(supporter.id, lang)
    done = render(ask, recipient, supporter.name, lang, accept_url(recipient.id, lang), unsubscribe)
    return assemble(
        row, done.subject, done.text, done.html, supporter.email or "", lang, unsubscribe
    )
