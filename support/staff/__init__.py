"""Staff area: sign-in, dashboard, banner funnel, supporters, CSV, the webhook inbox
and campaigns."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from support.staff import (  # noqa: E402, F401
    access,
    campaign_actions,
    campaign_routes,
    routes,
    supporter_routes,
)
