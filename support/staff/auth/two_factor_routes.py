"""Second-factor pages: the code step of signing in, and setting up an authenticator app."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from support import audit
from support.address_keys import limiter_key
from support.extensions import db, limiter
from support.staff import bp
from support.staff.auth import sessions, sign_in, totp_keys, two_factor
from support.staff.auth.access import (
    account_limit,
    code_account_key,
    code_ip_key,
    ip_limit,
    login_failed,
    staff_required,
)
from support.staff.forms import CodeForm

log = logging.getLogger(__name__)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(ip_limit, key_func=code_ip_key, methods=["POST"], deduct_when=login_failed)
@limiter.limit(account_limit, key_func=code_account_key, methods=["POST"], deduct_when=login_failed)
def login_code():
    """After the password: a code from the app or a recovery code; throttled like passwords."""
    user = sign_in.pending_user()
    if user is None:
        flash(_("Please sign in again."), "error")
        return redirect(url_for("staff.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        found = two_factor.check(user, form.code.data)
        if found == two_factor.ACCEPTED:
            sign_in.complete(user)
            return redirect(sign_in.next_url())
        db.session.rollback()
        log.warning("%s second factor for staff user %s", found.capitalize(), user.id)
        error = _code_error(found)
    status = 401 if request.method == "POST" else 200
    return render_template("staff/login_code.html", form=form, error=error), status


def _setup_key() -> str | None:
    """The key being set up on this browser, kept (encrypted) on its server-side session.

    Never in the cookie: it ends with the session, so whoever signs in next on
    this browser gets a key of their own, not one someone else may have copied.
    """
    row = sessions.current()
    if row is None or row.totp_setup is None:
        return None
    try:
        return totp_keys.decrypt(row.totp_setup)
    except totp_keys.SecretUnreadable:
        return None


def _setup_page(form: CodeForm, error: str | None = None, status: int = 200):
    """The set-up page for this session's key (a new one if there is none)."""
    secret = _setup_key()
    if secret is None:
        secret = two_factor.new_secret()
        sessions.current().totp_setup = totp_keys.encrypt(secret)
        db.session.commit()
    uri = two_factor.provisioning_uri(secret, current_user.email)
    page = render_template(
        "staff/two_factor_setup.html",
        form=form,
        error=error,
        secret=secret,
        qr=two_factor.qr_data_uri(uri),
    )
    return page, status


def _on_page(error: str | None = None, status: int = 200):
    """The page of an account whose two-step sign-in is on."""
    page = render_template(
        "staff/two_factor_on.html",
        form=CodeForm(formdata=None),
        error=error,
        left=two_factor.recovery_codes_left(current_user),
    )
    return page, status


def _signed_in_key() -> str:
    """The throttling key for codes typed by a signed-in account."""
    return limiter_key("staff-2fa-user", str(current_user.id))


def _refused(response) -> bool:
    """Only a wrong code (400) counts against the limit."""
    return response.status_code == 400


@bp.route("/account/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@staff_required
def two_factor_page():
    """Set up two-step sign-in, or see it is on (and how many recovery codes are left)."""
    if current_user.totp_enabled:
        return _on_page()
    form = CodeForm()
    if request.method == "GET":
        return _setup_page(form)
    if not form.validate_on_submit():
        return _setup_page(form, status=400)
    secret = _setup_key()
    if secret is None:  # posted without the page having made a key for this session
        error = _("Scan this code with your authenticator app first, then type the code it shows.")
        return _setup_page(form, error, 400)
    codes = two_factor.enable(current_user, secret, form.code.data)
    if codes is None:
        error = _("That code is not right. Check the time on your phone and try the current code.")
        return _setup_page(form, error, 400)
    sessions.current().totp_setup = None
    db.session.commit()
    log.info("Staff user %s turned on two-step sign-in", current_user.id)
    return render_template("staff/recovery_codes.html", codes=codes)


def _code_error(found: str, nothing_changed: bool = False) -> str:
    """Why a code was refused: used already (a right code, seen once: wait for the
    next one) or not right."""
    if found == two_factor.USED_RECOVERY:
        return _("That recovery code has already been used. Each one works once: use another.")
    if found == two_factor.USED:
        if nothing_changed:
            return _(
                "That code has already been used; nothing was changed. "
                "Wait for the next code in your app (codes change every 30 seconds)."
            )
        return _(
            "That code has already been used. "
            "Wait for the next code in your app (codes change every 30 seconds) and enter it."
        )
    if nothing_changed:
        return _("That code is not right; nothing was changed.")
    return _("That code is not right. Codes change every 30 seconds; try the current one.")


def _current_code_refused() -> str | None:
    """None when the form carries a right, current code (the check before any change
    here), else what to say."""
    form = CodeForm()
    found = two_factor.check(current_user, form.code.data) if form.validate() else None
    if found == two_factor.ACCEPTED:
        return None
    db.session.rollback()
    return _code_error(found or two_factor.WRONG, nothing_changed=True)


@bp.post("/account/two-factor/recovery-codes")
@staff_required
@limiter.limit(account_limit, key_func=_signed_in_key, deduct_when=_refused)
def new_recovery_codes():
    """New recovery codes (the old ones stop working), after a current code."""
    if not current_user.totp_enabled:
        abort(404)
    refused = _current_code_refused()
    if refused:
        return _on_page(refused, 400)
    codes = two_factor.replace_recovery_codes(current_user)
    db.session.commit()
    return render_template("staff/recovery_codes.html", codes=codes)


@bp.post("/account/two-factor/off")
@staff_required
@limiter.limit(account_limit, key_func=_signed_in_key, deduct_when=_refused)
def two_factor_off():
    """Turn two-step sign-in off, after a current code; admins must keep it."""
    if not current_user.totp_enabled:
        abort(404)
    if current_user.is_admin:
        flash(_("Admins must keep two-step sign-in on."), "error")
        return redirect(url_for("staff.two_factor"), 303)
    refused = _current_code_refused()
    if refused:
        return _on_page(refused, 400)
    two_factor.disable(current_user)
    audit.record(audit.TWO_FACTOR_OFF, current_user.email)
    db.session.commit()
    flash(_("Two-step sign-in is off."))
    return redirect(url_for("staff.two_factor"), 303)
