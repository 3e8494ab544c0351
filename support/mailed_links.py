"""Asking for a link by mail (a supporter's manage link, a staff password reset).

Both pages work alike, so one module says how: each POST is counted per client
address and per email typed (keyed digests, limits from the settings), and the
answer is the same page whether or not the address is known. Looking the address
up and queueing the mail is the caller's `record`; the worker sends the mail, so
neither the answer nor its timing says whether an account exists. Pages whose
address carries a credential are not stored by browsers or proxies (`no_store`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, render_template, request
from flask_wtf import FlaskForm

from support.address_keys import address_key, email_key
from support.extensions import limiter


def setting(name: str) -> Callable[[], str]:
    """A limit read from the settings (support/config.py) at request time."""
    return lambda: current_app.config[name]


def throttled(kind: str, per_address: str, per_email: str):
    """Count the view's POSTs per client address (`kind-ip`) and per email typed
    (`kind-email`) under the limits named by the settings `per_address`, `per_email`."""
    by_address = limiter.limit(
        setting(per_address), key_func=lambda: address_key(f"{kind}-ip"), methods=["POST"]
    )
    by_email = limiter.limit(
        setting(per_email),
        key_func=lambda: email_key(f"{kind}-email", request.form.get("email")),
        methods=["POST"],
    )
    return lambda view: by_address(by_email(view))


def answer(form: FlaskForm, page: str, sent: str, record: Callable[[str], object]):
    """GET: the form. An invalid POST: the form again (400). A valid one: `record` the
    address typed, then the `sent` page, the same whether or not the address is known."""
    if request.method == "GET":
        return render_template(page, form=form)
    if not form.validate():
        return render_template(page, form=form), 400
    record(form.email.data)
    return render_template(sent)


def no_store(response):
    """`response`, kept by no browser or proxy (its page's address carries a credential)."""
    response.headers["Cache-Control"] = "no-store"
    return response
