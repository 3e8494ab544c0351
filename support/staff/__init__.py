"""Staff area: sign-in, dashboard, banner funnel, supporters, CSV, the webhook inbox,
campaigns, accounts, admins' actions on a supporter (refund, cancel, send a mail again),
and the audit page of every staff action."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from support.staff import (  # noqa: E402, F401
    access,
    account_routes,
    action_routes,
    audit_routes,
    campaign_actions,
    campaign_routes,
    password_routes,
    routes,
    supporter_routes,
    two_factor_routes,
)
