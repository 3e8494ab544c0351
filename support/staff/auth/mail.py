"""Mails to staff: an invitation to the staff area, a password reset link, the daily digest.

The outbox (support/mail/outbox.py) sends them but knows nothing of staff
accounts: the staff blueprint hands it `STAFF_MAILS` when it is registered.

The link is made when the mail is built, so no credential waits in the outbox
table, and its lifetime starts when it is sent. A mail whose account has moved
on (the invitation accepted or withdrawn, the account deactivated) is skipped.
"""

from __future__ import annotations

from email.message import EmailMessage
from types import SimpleNamespace

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from support.choices import LANGUAGES
from support.i18n import direction, newsroom_name
from support.mail.messages import assemble
from support.models import OutboundEmail, StaffUser
from support.staff import bp
from support.staff.auth import digest_mail
from support.staff.auth.account_links import MAX_AGE, link_url
from support.urls import public_url

SUBJECTS = {
    # The name stands alone: "the %(newsroom)s staff area" read "the The Newsroom staff area".
    "staff_invite": _l("Your invitation to the staff area of %(newsroom)s"),
    "staff_reset": _l("Reset your staff password for %(newsroom)s"),
    "staff_digest": digest_mail.SUBJECT,
}
# The link purpose (support/staff/auth/account_links.py) and account status each kind needs.
PURPOSE = {"staff_invite": "invite", "staff_reset": "reset"}
STATUS = {"staff_invite": "invited", "staff_reset": "active"}


def skip_reason(row: OutboundEmail, user: StaffUser | None) -> str | None:
    """Why `row` must not be sent, or None."""
    if user is None:
        return "no staff account"
    if row.kind == "staff_digest":
        return digest_mail.skip_reason(user)
    if user.status != STATUS[row.kind]:
        return f"the account is {user.status} now"
    return None


def build_staff_message(row: OutboundEmail, user: StaffUser) -> EmailMessage:
    """The complete message for a staff mail `row`, to `user`."""
    if row.kind == "staff_digest":
        return digest_mail.build_digest(row, user)
    lang = row.lang if row.lang in LANGUAGES else "en"
    purpose = PURPOSE[row.kind]
    with force_locale(lang):
        newsroom = newsroom_name(lang)
        subject = str(SUBJECTS[row.kind]) % {"newsroom": newsroom}
        context = {
            "subject": subject,
            "newsroom": newsroom,
            "lang": lang,
            "text_dir": direction(lang),
            "link": link_url(user, purpose),
            "hours": MAX_AGE[purpose] // 3600,
            "role": user.role,
            "reset_page_url": public_url("staff.forgot_password"),
        }
        text = render_template(f"email/{row.kind}.txt", **context)
        html = render_template(f"email/{row.kind}.html", **context)
    return assemble(row, subject, text, html, user.email, lang)


STAFF_MAILS = SimpleNamespace(kinds=SUBJECTS, skip_reason=skip_reason, build=build_staff_message)


@bp.record_once
def _hand_to_the_outbox(state) -> None:
    state.app.extensions["staff_mails"] = STAFF_MAILS
