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
import smtplib
import ssl
from email.message import EmailMessage

from support.addresses import mask_address, mask_addresses
from support.mail_url import MailSettings, parse_mail_url

log = logging.getLogger(__name__)


class MailError(Exception):
    """A message could not be handed to the mail server."""


def _connect(settings: MailSettings) -> smtplib.SMTP:
    # A TLS context (it reads the system's certificates: a tenth of a second) only
    # for a connection that uses TLS.
    if settings.implicit_tls:
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.starttls:
        connection.starttls(context=ssl.create_default_context())
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
