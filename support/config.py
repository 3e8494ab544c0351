"""Settings: the one place each is read from the environment, defaulted and checked.

Everything the service needs is named in `.env.example` and the README's
Configuration table. `load_config()` turns the environment into a plain dict for
`app.config` and fails at start-up, with one message naming every problem, when a
required setting is missing or wrong. `load_env_file()` adds `.env` to the
environment; only the command-line and WSGI entry point (`wsgi.py`) calls it, so an
app built for tests sees the settings it is given and never a developer's `.env`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from support.article_hosts import parse_entry
from support.mail_url import parse_mail_url
from support.money import CURRENCY_EXPONENTS, MINIMUM_GIFT, AmountError, parse_amount, parse_number

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"
ENV_FILE = ROOT / ".env"

TRANSLATION_DOMAINS = ("messages", "banner", "staff", "manage")
# Translated copy sets a banner variant can use (their strings: support/banner/content.py).
BANNER_COPIES = ("monthly", "goal")
DEFAULT_BANNER_VARIANTS = [
    {"name": "monthly", "weight": 1, "copy": "monthly"},
    {"name": "goal", "weight": 1, "copy": "goal"},
]
# `.env.example`'s value, which `make run` replaces in the .env it writes.
PLACEHOLDER_SECRET_KEY = "change-me"
MIN_SECRET_KEY_BYTES = 32
# Stripe's requests per second for a whole account, and what the workers' and
# readers' shares must leave of it for staff actions (refunds, cancellations).
STRIPE_ACCOUNT_LIMITS = {False: 25, True: 100}  # by livemode
STAFF_HEADROOM = 5
CHECKOUT_UIS = ("elements", "hosted")
SAVE_OFFERS = ("pause", "lower", "none")
# Recurring gifts whose supporters can be reminded before a renewal (see _renewal_reminders).
REMINDER_FREQUENCIES = ("year", "month")

# Arabic amounts where space is short: "5 US$" (CLDR's Arabic symbol) or "5 $".
AMOUNT_STYLES = ("symbol", "narrow")
# Stripe.js of the release that matches the pinned API version (2026-10-28.endive).
DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/endive/stripe.js"
STRIPE_JS_HOST = "js.stripe.com"
# The newsroom's names until it sets its own (`make run` asks for them on first run).
DEFAULT_NEWSROOM_NAME = "The Newsroom"
DEFAULT_NEWSROOM_NAME_AR = "غرفة الأخبار"
# Below this many supporters the goal bar stays hidden: "12 of 1,000" at launch
# discourages more than it invites.
DEFAULT_GOAL_MIN_SHOWN = 100


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot run the service."""


def load_env_file() -> None:
    """Add the settings in `.env` to the environment; those already set there win.

    For the command line and the WSGI server (`wsgi.py`) only: `create_app` never
    reads `.env`, so tests and other embedders get exactly the settings they pass.
    """
    from dotenv import load_dotenv

    load_dotenv(ENV_FILE)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _allowed_hosts(value: str, problems: list[str]) -> list[str]:
    """Article sites, lowercased: `news.example.org`, or with the scheme it may use
    (`http://intranet.example`); what each allows is `support.article_hosts`'s rule."""
    entries = [entry.lower().rstrip("/") for entry in _split(value)]
    for entry in entries:
        try:
            parse_entry(entry)
        except ValueError:
            problems.append(
                f"SUPPORT_ALLOWED_HOSTS: {entry!r} must be a host such as news.example.org, "
                "optionally with http:// or https:// before it (no port or path: any port "
                "is allowed)"
            )
    return entries


def _number(name: str, value: str, problems: list[str]) -> Decimal:
    """A plain non-negative number, written as money.py reads amounts ("2.9", not "29e-1")."""
    try:
        return parse_number(value)
    except AmountError:
        problems.append(f"{name} must be a number such as 5 or 2.9, not {value!r}")
        return Decimal(0)


# Why money.py refused a configured amount → what the start-up message says.
AMOUNT_PROBLEMS = {
    "missing": "is empty",
    "invalid": "must be a number such as 5 or 7.50",
    "too_many_decimals": "has more decimals than {currency} has",
    "too_small": f"is below the minimum gift ({MINIMUM_GIFT})",
    "too_large": "is above SUPPORT_MAX_AMOUNT ({maximum})",
}


def _amounts(where: str, values: list, currencies: list[str], maximum: Decimal, problems) -> list:
    """Amounts in major units by money.py's rules, the ones readers' typed amounts obey:
    within the minimum and maximum gift, with no more decimals than each currency has."""
    from support.campaigns.document import MAX_PRESETS

    amounts = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            problems.append(f"{where}[{index}]: {value!r} must be a number such as 5 or 7.50")
            continue
        text = value if isinstance(value, str) else str(value)
        codes = set()
        for currency in currencies:
            try:
                parse_amount(text, currency, MINIMUM_GIFT, maximum)
            except AmountError as error:
                if error.code not in codes:
                    codes.add(error.code)
                    problem = AMOUNT_PROBLEMS[error.code].format(currency=currency, maximum=maximum)
                    problems.append(f"{where}[{index}]: {text!r} {problem}")
        if not codes:
            amounts.append(parse_number(text))
    if len(values) > MAX_PRESETS:
        problems.append(f"{where} must list at most {MAX_PRESETS} amounts")
    if len(set(amounts)) != len(amounts):
        problems.append(f"{where} lists an amount twice")
    return amounts


def _banner_variants(value: str, amounts: dict, problems: list[str]) -> list[dict]:
    """`SUPPORT_BANNER_VARIANTS`: inline JSON (starts with `[`) or the path of a JSON file.

    A list of `{"name", "weight", "copy", "amounts"?, "headline"/"text"/"cta"?: {"en", "ar"}}`.
    They are the default campaign's variants, so the campaign editor's validator checks
    them (support/campaigns/document.py): the same names, weights and text lengths, and
    the same message, prefixed with the setting, for each problem.
    """
    from support.campaigns.document import MAX_VARIANTS, Checker, check_variant

    if not value:
        return [dict(v) for v in DEFAULT_BANNER_VARIANTS]
    name = "SUPPORT_BANNER_VARIANTS"
    try:
        text = value if value.startswith("[") else Path(value).read_text(encoding="utf-8")
        # Numbers as written, so amounts meet money.py's rules ("1e1" is refused).
        variants = json.loads(text, parse_float=Decimal)
    except (OSError, ValueError) as error:
        problems.append(f"{name}: cannot read a JSON list of variants ({error})")
        return []
    if not isinstance(variants, list) or not 1 <= len(variants) <= MAX_VARIANTS:
        problems.append(f"{name} must be a JSON list of 1 to {MAX_VARIANTS} variants")
        return []
    check, seen, clean = Checker(), set(), []
    for index, variant in enumerate(variants):
        where = f"{name}[{index}]"
        entry = check_variant(
            variant,
            where,
            [],
            seen,
            check,
            extra_keys=frozenset({"copy", "amounts"}),
            own_words_optional=True,
        )
        if entry is None:
            continue
        entry["copy"] = variant.get("copy", BANNER_COPIES[0])
        if entry["copy"] not in BANNER_COPIES:
            problems.append(f"{where}.copy: must be one of {', '.join(BANNER_COPIES)}")
        given = variant.get("amounts", [])
        if not isinstance(given, list):
            problems.append(f"{where}.amounts: must be a list of amounts")
        elif given:  # none: the presets
            entry["amounts"] = _amounts(f"{where}.amounts", given, **amounts, problems=problems)
        clean.append(entry)
    problems += [str(problem) for problem in check.problems]
    return clean


def _campaign_settings(get, currencies: list[str], problems: list[str]) -> dict:
    """The default campaign: presets, goal and banner variants, by the editor's rules,
    and the largest gift, which bounds every amount."""
    from support.campaigns.document import MAX_GOAL

    maximum = _number("SUPPORT_MAX_AMOUNT", get("SUPPORT_MAX_AMOUNT", "10000"), problems)
    if maximum < MINIMUM_GIFT:
        problems.append(f"SUPPORT_MAX_AMOUNT must be at least the minimum gift ({MINIMUM_GIFT})")
    limits = {"currencies": [c for c in currencies if c in CURRENCY_EXPONENTS], "maximum": maximum}
    presets = _amounts(
        "SUPPORT_PRESETS", _split(get("SUPPORT_PRESETS", "1,5,10")), **limits, problems=problems
    )
    goal = get("SUPPORT_GOAL", "1000")
    if not (goal.isdigit() and int(goal) <= MAX_GOAL):
        problems.append(
            f"SUPPORT_GOAL must be a whole number of supporters up to {MAX_GOAL}, not {goal!r}"
        )
    return {
        "SUPPORT_MAX_AMOUNT": maximum,
        "SUPPORT_PRESETS": presets,
        "SUPPORT_GOAL": int(goal) if goal.isdigit() else 0,
        "SUPPORT_BANNER_VARIANTS": _banner_variants(
            get("SUPPORT_BANNER_VARIANTS"), limits, problems
        ),
    }


def _banner_settings(get, problems: list[str]) -> dict:
    """The banner's content cache and its beacons' rate limit."""
    seconds = _number(
        "SUPPORT_BANNER_CACHE_SECONDS", get("SUPPORT_BANNER_CACHE_SECONDS", "30"), problems
    )
    return {
        # How long each process reuses the banner's content and the running campaigns.
        "SUPPORT_BANNER_CACHE_SECONDS": float(seconds),
        "SUPPORT_BANNER_EVENTS_LIMIT": _rate(
            get, "SUPPORT_BANNER_EVENTS_LIMIT", "120/minute", problems
        ),
    }


def _whole(get, name: str, default: str, problems: list[str]) -> int:
    """A whole number, 0 or more."""
    value = get(name, default)
    if not value.isdigit():
        problems.append(f"{name} must be a whole number, not {value!r}")
    return int(value) if value.isdigit() else int(default)


def _rate(get, name: str, default: str, problems: list[str]) -> str:
    """A rate-limit setting in Flask-Limiter's syntax; several rates are separated by `;`."""
    from limits import parse_many

    value = get(name, default)
    try:
        rates = parse_many(value)
    except ValueError:
        problems.append(f"{name} must be a rate like {default!r}, not {value!r}")
        return value
    if any(rate.amount < 1 for rate in rates):
        problems.append(f"{name} must allow at least one request, not {value!r}")
    return value


def _staff_settings(get, problems: list[str]) -> dict:
    """Staff area: login and reset throttling, figures cache age, sign-in lifetime."""
    settings: dict = {
        "STAFF_LOGIN_LIMIT_ACCOUNT": _rate(
            get, "STAFF_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes", problems
        ),
        "STAFF_LOGIN_LIMIT_IP": _rate(get, "STAFF_LOGIN_LIMIT_IP", "20 per 15 minutes", problems),
        # Password reset requests (each owes a mail): per client address and per address asked for.
        "STAFF_RESET_LIMIT_PER_IP": _rate(get, "STAFF_RESET_LIMIT_PER_IP", "10 per hour", problems),
        "STAFF_RESET_LIMIT_PER_EMAIL": _rate(
            get, "STAFF_RESET_LIMIT_PER_EMAIL", "3 per hour", problems
        ),
    }
    for name, default in (("STAFF_STATS_MAX_AGE", "60"), ("STAFF_SESSION_HOURS", "12")):
        value = get(name, default)
        if not value.isdigit():
            problems.append(f"{name} must be a whole number, not {value!r}")
        settings[name] = int(value) if value.isdigit() else int(default)
    # A signed-in browser left alone this long must sign in again.
    idle = get("STAFF_SESSION_IDLE_MINUTES", "60")
    if not (idle.isdigit() and int(idle) >= 1):
        problems.append(f"STAFF_SESSION_IDLE_MINUTES must be a number of minutes, not {idle!r}")
    settings["STAFF_SESSION_IDLE_MINUTES"] = int(idle) if idle.isdigit() and int(idle) else 60
    settings["STAFF_TOTP_KEYS"] = _fernet_keys(get("STAFF_TOTP_KEYS"), problems)
    # How staff passwords are hashed (werkzeug's method string): never from the
    # environment, so no deployment can weaken it; only tests, through create_app's
    # config, choose a cheap one (a stored hash names its method, so old ones still check).
    settings["STAFF_PASSWORD_METHOD"] = "scrypt"
    return settings


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _alert_settings(get, problems: list[str]) -> dict:
    """Staff alerts: the Slack-compatible incoming webhook, its language, the digest's day.

    The webhook URL is a secret (whoever has it can post to the channel) and the
    alerts say who gave: https only, except to this machine (a local relay, tests).
    The digest counts whole days in `STAFF_DIGEST_TIMEZONE` (an IANA name).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    url = get("STAFF_ALERT_WEBHOOK_URL")
    if url:
        parts = urlsplit(url)
        local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
        if not parts.hostname or not (parts.scheme == "https" or local):
            problems.append(
                "STAFF_ALERT_WEBHOOK_URL must be an https URL (http only to 127.0.0.1 or localhost)"
            )
            url = ""
    lang = get("STAFF_ALERT_LANG", "en").lower()
    if lang not in ("en", "ar"):
        problems.append(f"STAFF_ALERT_LANG must be en or ar, not {lang!r}")
        lang = "en"
    zone = get("STAFF_DIGEST_TIMEZONE", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"STAFF_DIGEST_TIMEZONE must be a time zone such as Asia/Beirut, not {zone!r}"
        )
        zone = "UTC"
    return {
        "STAFF_ALERT_WEBHOOK_URL": url,
        "STAFF_ALERT_LANG": lang,
        "STAFF_DIGEST_TIMEZONE": zone,
    }


def _fernet_keys(value: str, problems: list[str]) -> list[str]:
    """`STAFF_TOTP_KEYS`: Fernet keys, comma-separated; the first encrypts, all decrypt.

    Empty means one key derived from SECRET_KEY (support/staff/totp_keys.py).
    """
    import base64
    import binascii

    keys = _split(value)
    for number, key in enumerate(keys, 1):
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            problems.append(
                f"STAFF_TOTP_KEYS: key {number} is not a Fernet key (32 bytes in url-safe "
                "base64; make one with `flask --app wsgi staff totp-key`)"
            )
    return keys


def _live_problems(get, public_url: str, storage_uri: str) -> list[str]:
    """What a live Stripe key refuses: settings that are fine for trying the service out,
    unsafe with real readers' money and addresses."""
    problems = []
    if not get("STRIPE_WEBHOOK_SECRET"):
        problems.append("STRIPE_WEBHOOK_SECRET is required with a live Stripe key")
    if not public_url.startswith("https://"):
        problems.append("SUPPORT_PUBLIC_URL must be https with a live Stripe key")
    if get("STRIPE_API_BASE"):
        problems.append("STRIPE_API_BASE must be unset with a live Stripe key")

    secret_key = get("SECRET_KEY")
    if secret_key == PLACEHOLDER_SECRET_KEY:
        problems.append(
            "SECRET_KEY is still the placeholder from .env.example: set a long random one "
            "with a live Stripe key"
        )
    elif len(secret_key.encode()) < MIN_SECRET_KEY_BYTES:
        # It signs sessions, CSRF tokens and manage links that open the Billing Portal.
        problems.append(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes with a live Stripe key"
        )

    if storage_uri.startswith("memory:"):
        problems.append(
            "RATELIMIT_STORAGE_URI must be shared storage such as redis://host:6379/0 with a "
            "live Stripe key: with memory:// each process counts alone, so the staff login "
            "and checkout throttles and the workers' and readers' Stripe shares multiply with "
            "the processes"
        )

    mail_url = get("MAIL_URL")
    if not mail_url:
        # Without it, thank-you mails and manage links would only reach the log.
        problems.append("MAIL_URL is required with a live Stripe key")
    else:
        try:
            mail = parse_mail_url(mail_url)
        except ValueError as error:
            problems.append(str(error))
        else:
            if mail and mail.username and not (mail.implicit_tls or mail.starttls):
                problems.append(
                    "MAIL_URL would send the SMTP password unencrypted: use smtps:// or add "
                    "?starttls=1 with a live Stripe key"
                )
    return problems


def _stripe_shares(get, livemode: bool, api_base: str, problems: list[str]) -> dict:
    """The workers' and the readers' shares of Stripe's requests per second.

    Against Stripe itself (no `STRIPE_API_BASE`) the two together must leave
    `STAFF_HEADROOM` of the account's limit (25 test, 100 live) to staff actions.
    """
    shares = {}
    for name, default in (
        ("STRIPE_MAX_REQUESTS_PER_SECOND", "10"),
        ("STRIPE_READER_REQUESTS_PER_SECOND", "10"),
    ):
        value = get(name, default)
        if not value.isdigit() or int(value) < 1:
            problems.append(f"{name} must be a whole number above 0, not {value!r}")
        shares[name] = int(value) if value.isdigit() and int(value) >= 1 else int(default)
    limit = STRIPE_ACCOUNT_LIMITS[livemode]
    if not api_base and sum(shares.values()) > limit - STAFF_HEADROOM:
        problems.append(
            "STRIPE_MAX_REQUESTS_PER_SECOND + STRIPE_READER_REQUESTS_PER_SECOND must leave "
            f"{STAFF_HEADROOM} of Stripe's {limit} requests a second to staff actions "
            f"(at most {limit - STAFF_HEADROOM} together), not {sum(shares.values())}"
        )
    return shares


def _payment_page_settings(get, livemode: bool, api_base: str, problems: list[str]) -> dict:
    """Our own pay and supporter pages: Stripe.js, its key, and the cancellation offer.

    `elements` (the default) takes the card on our page with Stripe's Payment Element,
    in the reader's language; `hosted` sends everyone to Stripe's hosted Checkout.
    Stripe.js comes from Stripe (`js.stripe.com`), or, with `STRIPE_API_BASE` set, from
    wherever the setting says (the emulator's stand-in under `make run`).
    """
    key = get("STRIPE_PUBLISHABLE_KEY")
    # Unset, it is elements wherever Stripe.js can be given a key; a newsroom that
    # asks for elements outright must give one.
    ui = get("SUPPORT_CHECKOUT_UI", "elements" if key else "hosted").lower()
    if ui not in CHECKOUT_UIS:
        problems.append(f"SUPPORT_CHECKOUT_UI must be elements or hosted, not {ui!r}")
    elif ui == "elements" and not key:
        problems.append("SUPPORT_CHECKOUT_UI=elements needs STRIPE_PUBLISHABLE_KEY (pk_...)")
    if key and not key.startswith(("pk_test_", "pk_live_")):
        problems.append(
            "STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_test_... or pk_live_...)"
        )
    elif key and key.startswith("pk_live_") != livemode:
        problems.append(
            "STRIPE_PUBLISHABLE_KEY and STRIPE_SECRET_KEY must both be live or both be test keys"
        )
    js_url = get("STRIPE_JS_URL") or DEFAULT_STRIPE_JS_URL
    parts = urlsplit(js_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"STRIPE_JS_URL must be an http(s) URL, not {js_url!r}")
    elif not api_base and (parts.scheme != "https" or parts.hostname != STRIPE_JS_HOST):
        problems.append(f"STRIPE_JS_URL must load Stripe.js from https://{STRIPE_JS_HOST}")
    offer = get("SUPPORT_SAVE_OFFER", "pause").lower()
    if offer not in SAVE_OFFERS:
        problems.append(f"SUPPORT_SAVE_OFFER must be pause, lower or none, not {offer!r}")
    return {
        "SUPPORT_CHECKOUT_UI": ui if ui in CHECKOUT_UIS else "hosted",
        "STRIPE_PUBLISHABLE_KEY": key,
        "STRIPE_JS_URL": js_url,
        "SUPPORT_SAVE_OFFER": offer if offer in SAVE_OFFERS else "pause",
    }


def _renewal_reminders(get, problems: list[str]) -> tuple[str, ...]:
    """`SUPPORT_RENEWAL_REMINDERS`: the frequencies whose renewals are announced by mail
    (`year`, `year,month`, `month`), or `off`; an empty tuple when off."""
    value = get("SUPPORT_RENEWAL_REMINDERS", "year").lower()
    if value in ("off", "none", "no", "false", "0"):
        return ()
    chosen = [part.lower() for part in _split(value)]
    wrong = [part for part in chosen if part not in REMINDER_FREQUENCIES]
    if wrong or not chosen:
        problems.append(
            "SUPPORT_RENEWAL_REMINDERS must be off or a comma-separated list of year and "
            f"month (e.g. year or year,month), not {value!r}"
        )
        return ()
    return tuple(f for f in REMINDER_FREQUENCIES if f in chosen)


def _monthly_offer_share(get, problems: list[str]) -> Decimal | None:
    """`SUPPORT_MONTHLY_OFFER_SHARE`: after a one-time gift, the monthly amount offered
    instead, as a share of the gift (0.25: the preset nearest a quarter); `off` (or 0)
    offers nothing."""
    value = get("SUPPORT_MONTHLY_OFFER_SHARE", "0.25").lower()
    if value in ("off", "0", ""):
        return None
    try:
        share = parse_number(value)
    except AmountError:
        share = None
    if share == 0:
        return None
    if share is None or share > 1:
        problems.append(
            "SUPPORT_MONTHLY_OFFER_SHARE must be a share above 0 and at most 1 "
            f"(such as 0.25) or off, not {value!r}"
        )
        return None
    return share


def _reader_settings(get, problems: list[str]) -> dict:
    """What readers see around the appeal: names, links, digits, when the goal shows."""
    digits = get("SUPPORT_ARABIC_DIGITS", "latn").lower()
    if digits not in ("latn", "arab"):
        problems.append(f"SUPPORT_ARABIC_DIGITS must be latn or arab, not {digits!r}")
    # Where space is short (amount buttons), Arabic writes a symbol, not the name.
    amount_style = get("SUPPORT_AMOUNT_STYLE", "symbol").lower()
    if amount_style not in AMOUNT_STYLES:
        problems.append(f"SUPPORT_AMOUNT_STYLE must be symbol or narrow, not {amount_style!r}")
    goal_min = get("SUPPORT_GOAL_MIN_SHOWN", str(DEFAULT_GOAL_MIN_SHOWN))
    if not goal_min.isdigit():
        problems.append(f"SUPPORT_GOAL_MIN_SHOWN must be a whole number, not {goal_min!r}")
    privacy = get("SUPPORT_PRIVACY_URL")
    if privacy and urlsplit(privacy).scheme not in ("http", "https"):
        problems.append("SUPPORT_PRIVACY_URL must be an http(s) URL")
    contact = get("SUPPORT_CONTACT_EMAIL")
    if contact and "@" not in contact:
        problems.append(f"SUPPORT_CONTACT_EMAIL must be an email address, not {contact!r}")
    english_name = get("SUPPORT_NEWSROOM_NAME")
    # Unset, Arabic readers get an Arabic placeholder rather than "The Newsroom" in
    # their sentences; a newsroom that names itself in English only keeps its name.
    arabic_name = get("SUPPORT_NEWSROOM_NAME_AR") or english_name or DEFAULT_NEWSROOM_NAME_AR
    return {
        "SUPPORT_NEWSROOM_NAME": english_name or DEFAULT_NEWSROOM_NAME,
        "SUPPORT_NEWSROOM_NAME_AR": arabic_name,
        "SUPPORT_ARABIC_DIGITS": digits if digits in ("latn", "arab") else "latn",
        "SUPPORT_AMOUNT_STYLE": amount_style if amount_style in AMOUNT_STYLES else "symbol",
        "SUPPORT_GOAL_MIN_SHOWN": int(goal_min) if goal_min.isdigit() else 0,
        "SUPPORT_PRIVACY_URL": privacy,
        "SUPPORT_CONTACT_EMAIL": contact,
    }


def load_config(env: Mapping[str, str] | None = None) -> dict:
    """Build the Flask config from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    problems: list[str] = []

    def get(name: str, default: str = "") -> str:
        return env.get(name, default).strip()

    currencies = [c.lower() for c in _split(get("SUPPORT_CURRENCIES", "usd"))]
    for code in currencies:
        if code not in CURRENCY_EXPONENTS:
            problems.append(f"SUPPORT_CURRENCIES: unknown currency {code!r}")
    if not currencies:
        problems.append("SUPPORT_CURRENCIES must name at least one currency")

    proxies = get("SUPPORT_PROXY_COUNT", "0")
    if not proxies.isdigit():
        problems.append(f"SUPPORT_PROXY_COUNT must be a whole number, not {proxies!r}")

    public_url = get("SUPPORT_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    if urlsplit(public_url).scheme not in ("http", "https"):
        problems.append("SUPPORT_PUBLIC_URL must be an http(s) URL")

    # Unset or empty, Flask-Limiter counts in each process's memory.
    storage_uri = get("RATELIMIT_STORAGE_URI") or "memory://"

    stripe_key = get("STRIPE_SECRET_KEY")
    api_base = get("STRIPE_API_BASE")
    livemode = stripe_key.startswith(("sk_live_", "rk_live_"))
    if livemode:
        problems += _live_problems(get, public_url, storage_uri)

    shares = _stripe_shares(get, livemode, api_base, problems)

    stripe_timeout = get("STRIPE_TIMEOUT", "20")
    if not stripe_timeout.isdigit() or not 1 <= int(stripe_timeout) <= 120:
        problems.append(
            f"STRIPE_TIMEOUT must be whole seconds from 1 to 120, not {stripe_timeout!r}"
        )

    database_url = get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'support.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    config = {
        "SECRET_KEY": get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A connection the database dropped (restart, failover) is replaced, not
        # handed to a request or the worker; errors never print their parameters.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_WEBHOOK_SECRET": get("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": api_base,
        "STRIPE_PRODUCT_ID": get("STRIPE_PRODUCT_ID"),
        "STRIPE_LIVEMODE": livemode,
        **shares,
        **_payment_page_settings(get, livemode, api_base, problems),
        "STRIPE_TIMEOUT": int(stripe_timeout) if stripe_timeout.isdigit() else 20,
        # A request that failed on the network is sent once more (stripe-python waits
        # about half a second first). Not from the environment; the tests that take
        # Stripe down set 0 through create_app's config, so they do not wait.
        "STRIPE_NETWORK_RETRIES": 1,
        "SUPPORT_PUBLIC_URL": public_url,
        "SUPPORT_ALLOWED_HOSTS": _allowed_hosts(get("SUPPORT_ALLOWED_HOSTS"), problems),
        "SUPPORT_CURRENCIES": currencies,
        "SUPPORT_PROXY_COUNT": int(proxies) if proxies.isdigit() else 0,
        **_campaign_settings(get, currencies, problems),
        **_banner_settings(get, problems),
        "SUPPORT_FEE_PERCENT": _number(
            "SUPPORT_FEE_PERCENT", get("SUPPORT_FEE_PERCENT", "2.9"), problems
        ),
        "SUPPORT_FEE_FIXED": _whole(get, "SUPPORT_FEE_FIXED", "30", problems),
        **_reader_settings(get, problems),
        # Renewals announced a few days ahead, by frequency (`invoice.upcoming`).
        "SUPPORT_RENEWAL_REMINDERS": _renewal_reminders(get, problems),
        "SUPPORT_MONTHLY_OFFER_SHARE": _monthly_offer_share(get, problems),
        "MAIL_URL": get("MAIL_URL"),
        "MAIL_FROM": get("MAIL_FROM", "Reader Support <support@example.org>"),
        "RATELIMIT_STORAGE_URI": storage_uri,
        # Each new choice costs a request to Stripe, whose budget the whole account shares.
        "CHECKOUT_LIMIT_PER_IP": _rate(
            get, "CHECKOUT_LIMIT_PER_IP", "5 per minute;30 per hour", problems
        ),
        # Manage-link requests (each owes a mail) per client address and per address
        # asked for, and Billing Portal sessions (each asks Stripe) per client address.
        "MANAGE_LIMIT_PER_IP": _rate(get, "MANAGE_LIMIT_PER_IP", "10 per hour", problems),
        "MANAGE_LIMIT_PER_EMAIL": _rate(get, "MANAGE_LIMIT_PER_EMAIL", "3 per hour", problems),
        "MANAGE_LIMIT_PORTAL": _rate(get, "MANAGE_LIMIT_PORTAL", "30 per hour", problems),
        **_staff_settings(get, problems),
        **_alert_settings(get, problems),
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": public_url.startswith("https://"),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        # One gettext domain per part of the app, all in support/translations.
        "BABEL_DOMAIN": ";".join(TRANSLATION_DOMAINS),
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(
            [str(Path(__file__).parent / "translations")] * len(TRANSLATION_DOMAINS)
        ),
    }
    if problems:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems))
    return config


def check_required(config: Mapping) -> None:
    """Refuse to start without the settings every request depends on."""
    missing = [name for name in ("SECRET_KEY", "STRIPE_SECRET_KEY") if not config.get(name)]
    if missing:
        raise ConfigError(
            "Missing required settings: " + ", ".join(missing) + " (see .env.example)"
        )
