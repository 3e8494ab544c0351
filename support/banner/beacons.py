"""Banner beacons: `{type, campaign, variant, lang}` from `navigator.sendBeacon`, counted per day.

Nothing about the reader is kept: no address, user agent, page or time of day,
only one counter per (day, campaign, variant, language); a beacon without a
campaign (from a script cached before campaigns) counts for the default one.
The counter is bumped with a single `INSERT ... ON CONFLICT DO UPDATE`, so
concurrent beacons from many workers never lose a count nor collide on the unique key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, request
from flask_babel import gettext as _

from support import dialect, json_input
from support.address_keys import address_key
from support.banner.content import CAMPAIGN, known_variant
from support.choices import LANGUAGES
from support.extensions import db
from support.models import BannerDailyStat, utcnow

# sendBeacon sends a string as text/plain (no CORS preflight); JSON is for curl and tests.
CONTENT_TYPES = ("text/plain", "application/json")
MAX_BODY = 512
COUNTERS = {"impression": "impressions", "click": "clicks", "dismiss": "dismissals"}
# Campaign slugs and variant names are shorter (see campaigns.document).
MAX_NAME = 64


class BeaconError(ValueError):
    """A beacon we refuse; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Beacon:
    type: str
    variant: str
    lang: str
    campaign: str = CAMPAIGN


def rate_limit() -> str:
    """Beacons one address may send (Flask-Limiter syntax), `SUPPORT_BANNER_EVENTS_LIMIT`."""
    return current_app.config["SUPPORT_BANNER_EVENTS_LIMIT"]


def rate_limit_key() -> str:
    """The client address, keyed-hashed: the limiter's store never holds a reader's IP."""
    return address_key("banner")


def read_body() -> bytes:
    """The request body, refusing a wrong content type or more than MAX_BODY bytes."""
    if request.mimetype not in CONTENT_TYPES:
        raise BeaconError(415, _("Send the event as text/plain or application/json."))
    if (request.content_length or 0) > MAX_BODY:
        raise BeaconError(413, _("The event is larger than we accept."))
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise BeaconError(413, _("The event is larger than we accept."))
    return body


def parse(body: bytes) -> Beacon:
    """Validate `{type, campaign?, variant, lang}`; anything else is a 400 with a reason.

    Every value is checked for its type before it is used (`json_input`), so a list,
    an object or a number where a name belongs is refused like an unknown name.
    """
    try:
        data = json_input.loads_object(body)
    except json_input.JSONInputError:
        raise BeaconError(400, _("The event must be a JSON object.")) from None
    kind = json_input.choice(data.get("type"), COUNTERS)
    if kind is None:
        raise BeaconError(400, _("The event type must be impression, click or dismiss."))
    campaign, variant = data.get("campaign", CAMPAIGN), data.get("variant")
    if not (
        json_input.is_plain_text(campaign, MAX_NAME)
        and json_input.is_plain_text(variant, MAX_NAME)
        and known_variant(campaign, variant)
    ):
        raise BeaconError(400, _("Unknown banner variant."))
    lang = json_input.choice(data.get("lang"), LANGUAGES)
    if lang is None:
        raise BeaconError(400, _("Unknown language."))
    return Beacon(type=kind, variant=variant, lang=lang, campaign=campaign)


def record(beacon: Beacon, day: date | None = None) -> None:
    """Add one to the beacon's counter for `day` (default: today, UTC)."""
    table = BannerDailyStat.__table__
    column = COUNTERS[beacon.type]
    values = {"impressions": 0, "clicks": 0, "dismissals": 0, column: 1}
    statement = dialect.insert(table).values(
        day=day or utcnow().date(),
        campaign=beacon.campaign,
        variant=beacon.variant,
        lang=beacon.lang,
        **values,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.campaign, table.c.variant, table.c.lang],
        set_={column: table.c[column] + 1},
    )
    db.session.execute(statement)
