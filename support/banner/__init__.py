"""The embeddable banner: `/embed/banner.js`, its JSON, an iframe page, beacons, a preview."""

from flask import Blueprint

from support.banner import cookieless

bp = Blueprint("banner", __name__, url_prefix="/embed")
bp.record_once(lambda state: cookieless.install(state.app))

from support.banner import routes  # noqa: E402, F401
