"""Helpers for tests that read the staff mails the outbox sends."""

from __future__ import annotations

import re

from support.mail.outbox import send_due

_LINK = re.compile(r"https?://\S+/staff/(?:invitation|password-reset)/\S+")


def sent_link(smtp_server, count: int = 1) -> str:
    """Send what is due, then the path of the link in the `count`-th staff mail received."""
    send_due()
    mails = smtp_server.wait_for(count)
    assert len(mails) >= count, "the mail did not arrive"
    text = mails[count - 1].get_body(("plain",)).get_content()
    match = _LINK.search(text)
    assert match, text
    return "/staff/" + match.group(0).split("/staff/", 1)[1]
