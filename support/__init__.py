"""Reader support: appeal, Stripe Checkout, webhooks, banner and staff pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from support.catalogs import ensure_compiled
from support.config import check_required, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by `config`.

    It never reads `.env`: `wsgi.py`, the entry point of `flask --app wsgi` and
    gunicorn, adds it to the environment first (`config.load_env_file`).
    """
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    # A path with `//` in it is no address of ours: it answers 404, not a redirect to
    # whatever the merged path happens to match (`/manage//x` would become `/manage/x`).
    app.url_map.merge_slashes = False
    app.config.update(load_config())
    if config:
        app.config.update(config)
    check_required(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Without compiled catalogs Flask-Babel serves English on /ar/: compile or refuse.
    ensure_compiled(app.config, Path(app.root_path))

    if app.config["SUPPORT_PROXY_COUNT"]:
        # Behind a reverse proxy: take the reader's address and scheme from it,
        # so rate limits count readers rather than the proxy.
        hops = app.config["SUPPORT_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extensions created in `support.extensions`."""
    import support.sqlite_pragmas  # noqa: F401 (WAL and a busy timeout on SQLite)
    from support import cookieless, favicon, formatting, i18n, security
    from support.extensions import babel, csrf, db, limiter, migrate
    from support.staff.auth.access import init_login

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    init_login(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    formatting.init_app(app)
    security.init_app(app)
    favicon.init_app(app)
    cookieless.install(app)


def register_blueprints(app: Flask) -> None:
    """Mount every blueprint at its place in the URL contract."""
    from support.account import bp as account_bp
    from support.appeal import bp as appeal_bp
    from support.asks.routes import bp as asks_bp
    from support.banner import bp as banner_bp
    from support.health import bp as health_bp
    from support.manage import bp as manage_bp
    from support.staff import bp as staff_bp
    from support.webhooks import bp as webhooks_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(appeal_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(banner_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(asks_bp)


def register_errorhandlers(app: Flask) -> None:
    """HTML error pages for readers, JSON for APIs."""
    from support import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    """Add the `flask` CLI commands."""
    from support import cli

    cli.init_app(app)
