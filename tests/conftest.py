"""Shared fixtures: the app on SQLite and PostgreSQL, the Stripe emulator, a live server.

Every test that takes `app` (or `client`) runs twice: on a SQLite file and on
PostgreSQL (`TEST_DATABASE_URL`, default the local `test` database's server),
except tests marked `one_database` (they touch no database, or nothing one
database does differently) and browser tests, which run on SQLite only;
`--databases sqlite` runs everything on SQLite alone (`make test-fast`).
When PostgreSQL cannot be reached those runs are skipped, saying why, as are
the tests needing Redis or Chromium without them; under `CI=true` each of
these fails instead (`unavailable`). Each database is built once per run (and
per xdist worker) with the real migrations, then emptied between tests; one
app per database serves its tests, put back before each (`SharedApp`).
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from werkzeug.serving import make_server

from devtools.stripe_emulator import Emulator
from support import create_app
from support.extensions import db, limiter
from support.models import OutboundEmail, StripeEvent
from support.webhooks.worker import Worker

WEBHOOK_SECRET = "whsec_test_secret"
ARTICLE_HOST = "news.example.org"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")
BROWSER_FIXTURES = {"page", "browser"}
SHARED_MEMORY = "/dev/shm"


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--databases",
        choices=("both", "sqlite"),
        default="both",
        help="run database tests on SQLite and PostgreSQL (both, the default) or SQLite only",
    )


def _sqlite_only(metafunc) -> bool:
    """Whether a test needs one run only: it asked for it (`one_database`), it drives
    the browser (whose value is in the browser, not the database), or the run is
    SQLite-only (`--databases sqlite`)."""
    definition = metafunc.definition
    return (
        metafunc.config.getoption("databases") == "sqlite"
        or definition.get_closest_marker("one_database") is not None
        or definition.get_closest_marker("browser") is not None
        or bool(BROWSER_FIXTURES & set(metafunc.fixturenames))
    )


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc) -> None:
    # A direct parametrisation of `database` takes precedence over the fixture's own
    # params (both databases), and keeps the `[sqlite]` test id.
    if "database" in metafunc.fixturenames and _sqlite_only(metafunc):
        metafunc.definition.add_marker(
            pytest.mark.parametrize("database", ["sqlite"], indirect=True)
        )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test driving Chromium `browser`, so `-m "not browser"` leaves it out
    however it was written; and every test through a live server (HTTP, the worker's
    threads, webhooks) `slow`, so the quick loop leaves those out too."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if BROWSER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.browser)
        if "live_server" in fixtures:
            item.add_marker(pytest.mark.slow)


def base_config(database_url: str, emulator_url: str) -> dict:
    """Settings every test app shares; tests override what they exercise."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STRIPE_SECRET_KEY": "sk_test_emulator",
        "STRIPE_API_BASE": emulator_url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_LIVEMODE": False,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_emulator",
        "STRIPE_JS_URL": f"{emulator_url}/v3/stripe.js",
        "SUPPORT_ALLOWED_HOSTS": [ARTICLE_HOST],
        "SUPPORT_PUBLIC_URL": "http://support.test",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Many tests give several gifts from one address; test_checkout_throttle sets its own.
        "CHECKOUT_LIMIT_PER_IP": "1000 per minute",
        "MAIL_URL": "",
        # The goal shows from the first supporter, so tests of the goal need no crowd;
        # the tests of the threshold set it (or the default) themselves.
        "SUPPORT_GOAL_MIN_SHOWN": 0,
        # One PBKDF2 round instead of scrypt: staff sign in in many tests, and what a
        # password check decides does not depend on what it costs.
        "STAFF_PASSWORD_METHOD": "pbkdf2:sha256:1",
        # A request failing on the network fails at once rather than half a second later,
        # once more; tests of the retry itself set 1, as production has it.
        "STRIPE_NETWORK_RETRIES": 0,
    }


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose service or tool is missing, saying why; fail it under `CI=true`.

    A developer without PostgreSQL, Redis or Chromium still gets the rest of the
    run, but CI (`CI=true bash .ci/run`) must not pass without those tests.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, so failing rather than skipping: {reason}", pytrace=False)
    pytest.skip(reason)


def require_cluster_tools() -> None:
    """Debian's PostgreSQL cluster tools, as root, for `pgcluster` tests; else `unavailable`."""
    if shutil.which("pg_createcluster") is None:
        unavailable("needs pg_createcluster (Debian's postgresql-common) for a cluster of its own")
    if os.geteuid() != 0:
        unavailable("needs root to create, stop and drop a PostgreSQL cluster of its own")


def _postgres_database(base_url: str) -> Iterator[str]:
    """Create a private database next to TEST_DATABASE_URL's; drop it afterwards."""
    import psycopg

    parts = urlsplit(base_url.replace("postgresql+psycopg://", "postgresql://"))
    name = f"support_test_{os.getpid()}"
    admin_dsn = urlunsplit(parts)
    try:
        conn = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        unavailable(f"PostgreSQL tests need {admin_dsn}, which does not answer ({error})")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
        # A throw-away database need not wait for each commit to reach the disk; what
        # a transaction sees and when it commits stay the same.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}")).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One Stripe emulator for the run, reset before each test that uses it."""
    emu = Emulator(webhook_url=None, webhook_secret=WEBHOOK_SECRET)
    emu.start()
    yield emu
    emu.stop()


def _sqlite_database() -> Iterator[str]:
    """A SQLite file in memory-backed storage where there is some (/dev/shm).

    The app syncs every commit to disk (`synchronous = FULL`, support/sqlite_pragmas.py),
    which on a busy disk costs milliseconds a commit; on tmpfs the same pragmas and the
    same code run, and a sync costs nothing. Elsewhere, the system's temporary directory.
    """
    directory = tempfile.mkdtemp(
        prefix="support-test-", dir=SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
    )
    try:
        yield f"sqlite:///{os.path.join(directory, 'support.db')}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# The tables the migrations made, by database: what `_empty_tables` empties.
_MIGRATED_TABLES: dict[str, frozenset[str]] = {}


def _address(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=DATABASES)
def database(request, emulator) -> Iterator[str]:
    """A migrated database URL, once per run and kind."""
    if request.param == "sqlite":
        urls = _sqlite_database()
    else:
        urls = _postgres_database(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    url = next(urls)
    app = create_app(base_config(url, emulator.url))
    with app.app_context():
        upgrade()
        _MIGRATED_TABLES[_address(db.engine)] = frozenset(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    yield url
    for _ in urls:  # run the generator's clean-up
        pass


def _empty_tables() -> None:
    # Only tables the migrations made: a model without a migration is caught by
    # test_migrations, not by every test's clean-up.
    existing = _MIGRATED_TABLES[_address(db.engine)]
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name in existing]
    if db.engine.dialect.name == "postgresql":
        # Children first, in one round trip; then ids start at 1 again, as on SQLite.
        # (`TRUNCATE ... RESTART IDENTITY` did both at once, but makes new files for
        # every table: half a second a test.)
        deletes = [f'DELETE FROM "{table.name}"' for table in tables]
        db.session.execute(sa.text(";\n".join([*deletes, _RESTART_SEQUENCES.text])))
    else:
        for table in tables:  # children first
            db.session.execute(table.delete())
    db.session.commit()


# Every sequence of the schema that handed out a value, back to its start.
_RESTART_SEQUENCES = sa.text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


class RequestScopedClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    Tests hold one app context (for `db.session`), and Flask reuses it for the
    requests they make, so `g` (where the language, Flask-Babel's locale and the
    signed-in user are kept) would otherwise leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            vars(g._get_current_object()).clear()
        return super().open(*args, **kwargs)


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the whole process, shared by every test app.

    Each app has a Jinja environment of its own, which would compile every template
    it renders again: that was most of a typical page test's time. Jinja checks each
    entry against its template's source, so an edited template is compiled afresh.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


def make_app(config: dict) -> Flask:
    """`create_app(config)` as the tests use it: requests with an empty `g` each
    (`RequestScopedClient`) and templates compiled once per process."""
    app = create_app(config)
    app.test_client_class = RequestScopedClient
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    return app


@contextmanager
def statements_run(engine: sa.Engine) -> Iterator[list[str]]:
    """Every SQL statement `engine` runs inside the block."""
    seen: list[str] = []

    def record(*args) -> None:
        seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


class SharedApp:
    """One app per database and process, as each test first finds it.

    Building an app costs 40-100 ms, most of it Werkzeug compiling its 76 URL
    rules; the same app serves every test on its database instead, put back
    before each one: its settings as built (a test changes them freely), none of
    the values it kept meanwhile (`app.extensions` entries added since: the
    process caches, the Stripe client), and rate limits counted from zero with
    its own settings (the limiter is one object that the last app built set up).
    A test that adds routes needs an app that has served no request: it is
    marked `own_app` and gets one of its own.
    """

    def __init__(self, config: dict) -> None:
        self.app = make_app(config)
        self._config = copy.deepcopy(dict(self.app.config))
        self._extensions = frozenset(self.app.extensions)
        self._routes = _route_count(self.app)

    def restored(self) -> Flask:
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self._config))
        for name in set(app.extensions) - self._extensions:
            del app.extensions[name]
        limiter.init_app(app)
        return app

    def routes_added(self) -> bool:
        return _route_count(self.app) != self._routes


def _route_count(app: Flask) -> int:
    return sum(1 for _ in app.url_map.iter_rules())


_SHARED_APPS: dict[str, SharedApp] = {}


def _test_app(request, database: str, emulator_url: str) -> tuple[Flask, SharedApp | None]:
    """The app a test gets: its own (`own_app`), else the shared one, restored."""
    config = base_config(database, emulator_url)
    if request.node.get_closest_marker("own_app") is not None:
        return make_app(config), None
    if database not in _SHARED_APPS:
        _SHARED_APPS[database] = SharedApp(config)
    shared = _SHARED_APPS[database]
    return shared.restored(), shared


@pytest.fixture
def app(request, database, emulator):
    """The app on one database, with the emulator as Stripe; emptied afterwards.

    A test marked `one_database` runs on SQLite only, so it must not query the
    database at all: were it to, it would lose its PostgreSQL run unseen. It fails.
    """
    emulator.reset()
    emulator.webhook_url = None
    app, shared = _test_app(request, database, emulator.url)
    with app.app_context():
        one_database = request.node.get_closest_marker("one_database") is not None
        with statements_run(db.engine) if one_database else nullcontext([]) as ran:
            yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
        if shared is not None and shared.routes_added():
            del _SHARED_APPS[database]
            pytest.fail("added routes to the app the tests share: mark the test own_app")
        if ran:
            pytest.fail(
                f"marked one_database, yet ran SQL (so it needs both databases): {ran[0]}",
                pytrace=False,
            )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class LiveServer:
    """The app as it runs in production, in threads: served over real HTTP on
    127.0.0.1, with the webhook worker beside it."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # Shut down within 50 ms of being asked (the default looks every 0.5 s).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        # Every commit in this process but the worker's own (a stored webhook, a
        # queued mail, a test's own rows) rings the worker at once, as NOTIFY does on
        # PostgreSQL, so it need not look every 50 ms: that idle polling cost a fifth
        # of a CPU per live-server test. Its half-second poll finds what only time
        # makes due (a retry's wait).
        self.worker = Worker(app, threads=2, poll=0.5)
        self._engine = db.engine
        self._worker_thread = threading.Thread(
            target=self.worker.run, kwargs={"handle_signals": False}, daemon=True
        )

    def _committed(self, _connection) -> None:
        # Not the worker's own commits: it would wake itself for ever.
        thread = threading.current_thread()
        if thread is not self._worker_thread and not thread.name.startswith("worker-"):
            self.worker.wakeup.ring()

    def start(self) -> None:
        sa.event.listen(self._engine, "commit", self._committed)
        self._thread.start()
        self._worker_thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self.worker.stop()
        self._worker_thread.join(30)
        sa.event.remove(self._engine, "commit", self._committed)

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until the worker has applied every stored event and sent due mail."""
        waiting = sa.select(sa.func.count()).where(
            StripeEvent.status.in_(("pending", "processing"))
        )
        unsent = sa.select(sa.func.count()).where(OutboundEmail.status.in_(("pending", "sending")))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = db.session.scalar(waiting) + db.session.scalar(unsent)
            db.session.rollback()
            if busy == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the worker did not apply every event in time")


@pytest.fixture
def live_server(app, emulator) -> Iterator[LiveServer]:
    """Serve `app` over HTTP; the emulator delivers webhooks to it and redirects to it."""
    server = LiveServer(app)
    app.config["SUPPORT_PUBLIC_URL"] = server.url
    emulator.webhook_url = server.url + "/stripe/webhook"
    server.start()
    yield server
    server.stop()
    emulator.webhook_url = None


_HIDDEN = re.compile(r'<input[^>]*name="(csrf_token|form_token)"[^>]*value="([^"]*)"')


def form_tokens(html: str) -> dict[str, str]:
    """The hidden csrf_token and form_token of a rendered appeal form."""
    return dict(_HIDDEN.findall(html))


REDIS_URL = "redis://127.0.0.1:6379"


def redis_server():
    """A client of the local Redis; `unavailable` when it does not answer."""
    import redis

    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        server.ping()
    except redis.RedisError as error:
        unavailable(f"Redis tests need {REDIS_URL}, which does not answer ({error})")
    return server


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium; `unavailable` when it is not installed."""
    if not os.path.exists(CHROMIUM):
        unavailable(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies, no storage) and page."""
    from tests.helpers.network import watch

    context = browser.new_context()
    page = watch(context.new_page())
    page.set_default_timeout(10_000)
    yield page
    context.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    """An aiosmtpd handler keeping every message a real SMTP server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.messages: list = []
        self.url = ""
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        """The messages once at least `count` arrived (or what arrived by `timeout`): for
        mail a thread still running sends (the live server's worker)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def received(self) -> list:
        """Every message received so far. Once the code that sent has returned, that is
        everything it sent: the server answers 250 only after `handle_DATA` kept the
        message, so what has not arrived by then will not arrive."""
        with self._changed:
            return list(self.messages)

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()


@pytest.fixture(scope="session")
def _smtp_sink() -> Iterator[MailSink]:
    from aiosmtpd.controller import Controller

    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.url = f"smtp://127.0.0.1:{controller.port}?timeout=5"
    yield sink
    controller.stop()


@pytest.fixture
def smtp_server(_smtp_sink, app) -> MailSink:
    """A real SMTP server on 127.0.0.1, emptied for this test; `app` sends mail to it."""
    _smtp_sink.clear()
    app.config["MAIL_URL"] = _smtp_sink.url
    return _smtp_sink
