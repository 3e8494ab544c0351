"""Staff sign-in and sign-out: the password form (the code step is two_factor_routes)."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from support.extensions import limiter
from support.staff import bp
from support.staff.auth import accounts, sign_in
from support.staff.auth.access import account_key, account_limit, ip_key, ip_limit, login_failed
from support.staff.auth.sign_in import next_url
from support.staff.forms import LoginForm

log = logging.getLogger(__name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(ip_limit, key_func=ip_key, methods=["POST"], deduct_when=login_failed)
@limiter.limit(account_limit, key_func=account_key, methods=["POST"], deduct_when=login_failed)
def login():
    """The sign-in form; failures are throttled per address and per account (429)."""
    if current_user.is_authenticated:
        return redirect(next_url())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None and user.totp_enabled:
            # Half signed in: the code page finishes (and keeps `next`).
            sign_in.begin_second_factor(user)
            return redirect(url_for("staff.login_code", next=request.args.get("next")))
        if user is not None:
            sign_in.complete(user)
            return redirect(next_url())
        log.warning("Failed staff sign-in from %s", request.remote_addr)
        error = _("That email and password do not match an account.")
    status = 401 if request.method == "POST" else 200
    return render_template("staff/login.html", form=form, error=error), status


# POST only, so the global CSRF check applies: another site cannot sign staff out
# with a link or an image, and GET answers 405.
@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server too, so a copy of the cookie is worthless."""
    sign_in.sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("staff.login"))
