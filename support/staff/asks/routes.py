"""`/staff/asks`: upgrade asks, written, previewed, counted and sent by editors and admins.

Writing an ask is one form: the group (the supporters list's filters in one
currency, plus language, months giving and "gift under"), the new amount, and the
mail in English and Arabic. "Preview" shows the mail in both languages and how
many supporters it goes to; "Send" records the ask (an audited staff action) and
queues its first batch of mails (support/asks/queueing.py); the worker does the
rest. The form's one-time token makes a double submit one ask. Viewers may look
at asks and their figures but get 403 for the form.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from support.asks import queueing, selection
from support.asks.mail import render
from support.extensions import db
from support.models import UpgradeAsk, UpgradeAskRecipient
from support.staff import bp
from support.staff.asks.form import AskForm
from support.staff.auth.access import editor_required, staff_required
from support.urls import public_url

# The asks the list shows, newest first.
PER_PAGE = 50


@bp.get("/asks")
@staff_required
def ask_list():
    """Every ask, newest first, with supporters queued, mails sent and acceptances."""
    query = sa.select(UpgradeAsk).order_by(UpgradeAsk.created_at.desc(), UpgradeAsk.id.desc())
    asks = list(db.session.scalars(query.limit(PER_PAGE)))
    return render_template(
        "staff/asks.html",
        asks=asks,
        counts=queueing.counts([a.id for a in asks]),
        can_send=current_user.can_edit_campaigns,
    )


def _example(form: AskForm, lang: str):
    """The mail in `lang` for the group's newest supporter (an example gift without one)."""
    draft = form.draft()
    row = selection.sample(draft.filters, draft.currency, draft.rule, draft.amount)
    old = row.old_amount if row else max(draft.amount - 100, 100)
    interval = row.interval if row else (draft.filters.interval or "month")
    recipient = UpgradeAskRecipient(
        old_amount=old,
        new_amount=selection.new_amount(draft.rule, draft.amount, old),
        currency=draft.currency,
        interval=interval,
    )
    ask = UpgradeAsk(**{k: getattr(draft, k) for k in ("subject_en", "body_en")})
    ask.subject_ar, ask.body_ar = draft.subject_ar, draft.body_ar
    accept = public_url("asks.accept", token="example")
    unsubscribe = public_url("asks.unsubscribe", token="example")
    return render(ask, recipient, None, lang, accept, unsubscribe)


def _page(form: AskForm, status: int = 200, preview: bool = False):
    count = previews = None
    if preview:
        draft = form.draft()
        count = selection.count(draft.filters, draft.currency, draft.rule, draft.amount)
        previews = {lang: _example(form, lang) for lang in ("en", "ar")}
    return render_template("staff/ask_new.html", form=form, count=count, previews=previews), status


@bp.get("/asks/new")
@editor_required
def ask_new():
    """The blank form; filters may come from the supporters list's query string."""
    form = AskForm(formdata=None)
    form.token.data = secrets.token_urlsafe(24)
    for name in ("q", "currency", "interval", "lang", "months", "under"):
        if request.args.get(name):
            getattr(form, name).data = request.args[name][:200]
    return _page(form)


@bp.post("/asks/new")
@editor_required
def ask_send():
    """Preview (the mails and the count) or send (record and queue): 400 with the
    form's messages when something is missing or wrong."""
    form = AskForm()
    if not form.validate():
        if form.csrf_token.errors or form.token.errors:
            abort(400)
        return _page(form, 400)
    if request.form.get("action") != "send":
        return _page(form, preview=True)
    ask, new = queueing.record(form.draft(), form.token.data, current_user.email)
    if new and ask.status == "queued":
        flash(_("The ask is on its way to %(count)s supporters.", count=ask.recipients))
    elif new:
        flash(_("The ask is on its way: its mails are being queued in batches."))
    else:
        flash(_("That ask was already sent; nothing was sent twice."))
    return redirect(url_for("staff.ask_detail", ask_id=ask.id), 303)


@bp.get("/asks/<int:ask_id>")
@staff_required
def ask_detail(ask_id: int):
    """One ask: its group, texts and figures."""
    ask = db.get_or_404(UpgradeAsk, ask_id)
    return render_template(
        "staff/ask.html",
        ask=ask,
        filters=queueing.filters_of(ask),
        counts=queueing.counts([ask.id])[ask.id],
    )
