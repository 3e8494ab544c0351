"""Sending one message over SMTP, configured by `MAIL_URL`.

    smtp://user:pass@host:port            plain SMTP (port 25 by default)
    smtp://host:587?starttls=1            upgrade with STARTTLS before logging in
    smtps://user:pass@host:465            TLS from the first byte
    ...&timeout=20                        seconds to wait for the server (default 10)

Unset, mails are written to the log instead, so a developer running the app
locally sees every message it would send.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# An address inside a server's or a library's message, e.g. "<reader@example.org>: rejected".
ADDRESS_IN_TEXT = re.compile(r"[\w.!#$%&*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
TRUE_VALUES = ("1", "true", "yes", "on")


class MailError(Exception):
    """A message could not be handed to the mail server."""


@dataclass(frozen=True)
class MailSettings:
    """Where and how to deliver mail, parsed from `MAIL_URL`."""

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        # Never let the password reach a log line or a traceback.
        return (
            f"MailSettings(host={self.host!r}, port={self.port}, "
            f"implicit_tls={self.implicit_tls}, starttls={self.starttls}, "
            f"username={self.username!r}, timeout={self.timeout})"
        )


def parse_mail_url(url: str) -> MailSettings | None:
    """`MAIL_URL` → settings; None when unset (log the mail). Raises ValueError if malformed."""
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("MAIL_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("MAIL_URL must name a host")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    implicit_tls = parts.scheme == "smtps"
    starttls = query.get("starttls", "").lower() in TRUE_VALUES
    if implicit_tls and starttls:
        raise ValueError("MAIL_URL: smtps:// is already encrypted; drop ?starttls=1")
    try:
        port = parts.port or (465 if implicit_tls else 587 if starttls else 25)
        timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
    except ValueError as error:
        raise ValueError(f"MAIL_URL: {error}") from None
    if timeout <= 0:
        raise ValueError("MAIL_URL: timeout must be a positive number of seconds")
    return MailSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


def _connect(settings: MailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.implicit_tls:
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.starttls:
        connection.starttls(context=context)
    return connection


def deliver(message: EmailMessage, settings: MailSettings) -> None:
    """Hand `message` to the SMTP server; raises MailError on any failure."""
    try:
        with _connect(settings) as connection:
            if settings.username:
                connection.login(settings.username, settings.password or "")
            connection.send_message(message)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        # The server's answer may quote the recipient ("<reader@...>: unknown user").
        raise MailError(mask_addresses(f"{type(error).__name__}: {error}")) from error


def mask_address(address: str | None) -> str:
    """ "reader@example.com" → "r***@example.com": enough to tell mails apart in a log."""
    local, _, domain = (address or "").rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def mask_addresses(text: str) -> str:
    """`text` with every address in it masked (`mask_address`)."""
    return ADDRESS_IN_TEXT.sub(lambda found: mask_address(found.group()), text)


def log_message(message: EmailMessage) -> None:
    """Write the text part of `message` to the log (no `MAIL_URL` in development)."""
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    log.info(
        "MAIL_URL is not set; this mail is logged, not sent.\nTo: %s\nSubject: %s\n\n%s",
        mask_address(message["To"].addresses[0].addr_spec if message["To"] else None),
        message["Subject"],
        text,
    )


def send(message: EmailMessage, mail_url: str) -> None:
    """Send through `mail_url`, or log when it is empty. Raises MailError."""
    try:
        settings = parse_mail_url(mail_url)
    except ValueError as error:
        raise MailError(str(error)) from None
    if settings is None:
        log_message(message)
        return
    deliver(message, settings)
