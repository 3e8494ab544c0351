"""The embeddable banner: `/embed/banner.js`, its JSON, an iframe page, beacons, a preview."""

from flask import Blueprint

bp = Blueprint("banner", __name__, url_prefix="/embed")

from support.banner import routes  # noqa: E402, F401
