"""`/favicon.ico`: browsers ask for it on every page, whatever the page links."""

from __future__ import annotations

from flask import Flask, current_app, send_from_directory

# A day: the icon changes with a redesign, not a deploy.
MAX_AGE = 24 * 3600


def favicon():
    """The icon as ICO, for browsers that ignore `<link rel="icon">`."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=MAX_AGE
    )


def init_app(app: Flask) -> None:
    """Answer `/favicon.ico` from the static folder (it would 404 under `/<lang>/`)."""
    app.add_url_rule("/favicon.ico", "favicon", favicon)
