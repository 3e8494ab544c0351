"""`/staff/account/digest`: each staff member turns their own daily digest mail on or off.

The digest is written in the language of the page where it was switched on.
Any role may have it: it holds counts and money only, no supporter.
"""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from support.extensions import db
from support.staff import bp
from support.staff.auth.access import staff_required
from support.staff.forms import DigestForm

log = logging.getLogger(__name__)


@bp.route("/account/digest", methods=["GET", "POST"], endpoint="digest_settings")
@staff_required
def digest_settings():
    """The switch, showing its state; a POST sets it and comes back here."""
    form = DigestForm(daily_digest=current_user.daily_digest)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("staff/digest.html", form=form), status
    wanted = bool(form.daily_digest.data)
    current_user.daily_digest = wanted
    if wanted:
        current_user.digest_lang = str(get_locale() or "en")
    db.session.commit()
    log.info("Staff user %s turned the daily digest %s", current_user.id, "on" if wanted else "off")
    flash(_("The daily digest is on.") if wanted else _("The daily digest is off."))
    return redirect(url_for("staff.digest_settings"), 303)
