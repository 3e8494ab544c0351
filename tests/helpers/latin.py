"""Finding English left on an Arabic reader's way: Latin-script words in what they see.

A page's visible text is the `innerText` of its document and of every frame in it
(Stripe's card form included), less the link to the other language, which names
that language in its own words (`<a hreflang lang>`: "English" on an Arabic page);
a mail's is its subject, its plain text and its HTML without tags. Web addresses
are not read as words (a mail's links are addresses, not sentences). What a reader
may legitimately see in Latin letters is passed as `allowed`: their own email
address, the card's brand and last 4, the newsroom's configured Latin name. The
compact amount on buttons ("5 US$", CLDR's Arabic symbol for the dollar, which the
newsroom may narrow to "5 $": SUPPORT_AMOUNT_STYLE) is a symbol, not a word.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from email import message_from_string, policy
from email.message import Message

LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'’.-]*")
ADDRESS = re.compile(r"(https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+)")
CURRENCY_SYMBOL = re.compile(r"(?<![A-Za-z])US\$")
TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def latin_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """The Latin-script words in `text` other than addresses and the `allowed` phrases."""
    for phrase in sorted(allowed, key=len, reverse=True):
        if phrase:
            text = re.sub(re.escape(phrase), " ", text, flags=re.I)
    text = CURRENCY_SYMBOL.sub(" ", ADDRESS.sub(" ", text))
    return [word.strip(".-'’") for word in LATIN_WORD.findall(text) if word.strip(".-'’")]


VISIBLE_TEXT = """() => {
  if (!document.body) return "";
  let text = document.body.innerText;
  for (const link of document.querySelectorAll("a[hreflang][lang]")) {
    text = text.replace(link.innerText, " ");
  }
  return text;
}"""


def page_text(page) -> str:
    """Everything a reader sees on a Playwright page, its frames included."""
    parts = []
    for frame in page.frames:
        try:
            parts.append(frame.evaluate(VISIBLE_TEXT))
        except Exception:  # a frame that navigated away while being read
            continue
    return "\n".join(parts)


def mail_text(mail: str | Message) -> str:
    """The subject and every text part of a mail (raw or parsed), HTML without its tags."""
    message = message_from_string(mail, policy=policy.default) if isinstance(mail, str) else mail
    parts = [str(message["Subject"] or "")]
    for part in message.walk() if message.is_multipart() else [message]:
        parts.append(_part_text(part))
    return "\n".join(parts)


def _part_text(part: Message) -> str:
    if part.get_content_maintype() != "text":
        return ""
    body = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    if part.get_content_subtype() == "html":
        body = html.unescape(TAG.sub(" ", body))
    return body
