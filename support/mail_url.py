"""`MAIL_URL` read into settings: where and how to deliver mail.

Settings validation (support/config.py) and the SMTP transport
(support/mail/transport.py) both read it, so it stands below both.

    smtp://user:pass@host:port            plain SMTP (port 25 by default)
    smtp://host:587?starttls=1            upgrade with STARTTLS before logging in
    smtps://user:pass@host:465            TLS from the first byte
    ...&timeout=20                        seconds to wait for the server (default 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_TIMEOUT = 10.0
TRUE_VALUES = ("1", "true", "yes", "on")


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
