"""Which article pages may use this service: one rule for attribution and for framing.

`SUPPORT_ALLOWED_HOSTS` names the newsroom's article sites. A source URL is kept
(`support.attribution.clean_source`) and the iframe banner may be framed
(`frame-ancestors`) on exactly the same pages:

- an entry covers the host and its subdomains, on any port (a newsroom's staging
  site at `http://127.0.0.1:5201` is as much "the host" as its port-80 site);
- a bare entry (`news.example.org`) means https only once this service is served
  over https (`SUPPORT_PUBLIC_URL`), where a plain-http page would be a downgrade;
  before that, and always for local hosts (`localhost`, `127.0.0.1`), http too;
- an entry that names its scheme says so itself: `http://intranet.example` allows
  http (and https), `https://news.example.org` https only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from flask import current_app

from support import urls

# A host name as a browser sends it: lowercase ASCII labels (IDN as punycode), no
# userinfo, percent signs or trailing dot, so what we check is where the link goes.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_ENTRY = re.compile(rf"(?:(https?)://)?({HOST.pattern})/?")


@dataclass(frozen=True)
class AllowedHost:
    """One article site: its host (subdomains included) and the schemes it may use."""

    host: str
    schemes: tuple[str, ...]

    def covers(self, scheme: str, host: str) -> bool:
        """Whether a page at `scheme://host[:any port]` is on this site."""
        on_host = host == self.host or host.endswith("." + self.host)
        return on_host and scheme in self.schemes


def parse_entry(entry: str) -> tuple[str | None, str]:
    """`(scheme or None, host)` of a `SUPPORT_ALLOWED_HOSTS` entry; ValueError if it is
    not a plain host, optionally with `http://` or `https://` before it."""
    match = _ENTRY.fullmatch(entry.strip().lower())
    if match is None or len(match.group(2)) > 253:
        raise ValueError(entry)
    return match.group(1), match.group(2)


def is_local(host: str) -> bool:
    """`localhost`, a name under `.localhost`, or a loopback address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_hosts(entries: list[str], secure: bool) -> list[AllowedHost]:
    """The sites `entries` name; `secure` when this service is served over https."""
    hosts = []
    for entry in entries:
        try:
            scheme, host = parse_entry(entry)
        except ValueError:
            continue  # config.py refuses these at start-up; an app built by hand may not
        if scheme == "https" or (scheme is None and secure and not is_local(host)):
            hosts.append(AllowedHost(host, ("https",)))
        else:
            hosts.append(AllowedHost(host, ("https", "http")))
    return hosts


def configured() -> list[AllowedHost]:
    """The current app's article sites."""
    return allowed_hosts(current_app.config["SUPPORT_ALLOWED_HOSTS"], urls.served_over_https())


def is_allowed(scheme: str, host: str) -> bool:
    """Whether a page at `scheme://host` (any port) is one of the newsroom's articles."""
    return any(site.covers(scheme, host) for site in configured())


def frame_sources() -> list[str]:
    """`frame-ancestors` sources for the article sites: each scheme, any port,
    the host and (for names, not addresses) its subdomains."""
    sources = []
    for site in configured():
        prefixes = ("",) if is_ip(site.host) else ("", "*.")
        sources += [
            f"{scheme}://{prefix}{site.host}:*" for prefix in prefixes for scheme in site.schemes
        ]
    return sources
