"""Staff pages: dashboard, stats API, banner funnel and webhook inbox."""

from __future__ import annotations

import logging

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from support import audit
from support.campaigns import optimise
from support.extensions import db
from support.form_values import page_number, search_text, whole_number
from support.json_input import is_plain_text
from support.models import StripeEvent, utcnow
from support.staff import bp
from support.staff.auth.access import (
    admin_required,
    staff_required,
)
from support.staff.forms import ActionForm
from support.staff.insights import dashboard, events, funnel, paying
from support.staff.supporters import changes
from support.stats import cancellations, retention
from support.stats import history as stats_history
from support.stats import snapshot as stats_cache

log = logging.getLogger(__name__)


@bp.get("/", endpoint="dashboard")
@staff_required
def dashboard_page():
    """Headline figures and a year of history on one page."""
    figures = stats_cache.figures(current_app.config["SUPPORT_GOAL"])
    points = stats_history.points_from_json(figures["history"])
    return render_template(
        "staff/dashboard.html",
        figures=figures,
        charts=dashboard.build_charts(points),
        # In the snapshot with the other figures; one kept from before they were, counted now.
        cancellations=cancellations.from_json(figures["cancellations"])
        if "cancellations" in figures
        else cancellations.breakdown(),
        change_labels=changes,
        # Kept in the snapshot since retention figures exist; one from before has none yet.
        retention=figures.get("retention") or retention.compute(),
        cohort_label=dashboard.cohort_label,
    )


@bp.get("/api/stats.json")
@staff_required
def stats_json():
    """The dashboard's figures as JSON (money in minor units per currency, `as_of` their age)."""
    return jsonify(stats_cache.figures(current_app.config["SUPPORT_GOAL"]))


@bp.get("/banner")
@staff_required
def banner():
    """Which variant pays, per campaign; the funnel per variant and language; top articles."""
    days = whole_number(request.args.get("days"), max(funnel.PERIODS))
    days = days if days in funnel.PERIODS else 30
    today = utcnow().date()
    rows = funnel.funnel(days, today)
    return render_template(
        "staff/banner.html",
        days=days,
        periods=funnel.PERIODS,
        first_day=funnel.period_bounds(days, today)[0],
        today=today,
        rows=rows,
        campaigns=paying.results(rows, days, today),
        min_impressions=optimise.MIN_IMPRESSIONS,
        sources=funnel.top_sources(days, today),
    )


@bp.get("/events", endpoint="events")
@staff_required
def events_page():
    """The webhook inbox: failed first, filters by type and status, newest first;
    ignored events only when asked for."""
    event_type = search_text(request.args.get("type"), 100) or None
    status = request.args.get("status")
    status = status if status in (*events.STATUSES, events.ALL) else None
    page = page_number(request.args.get("page"))
    return render_template(
        "staff/events.html",
        inbox=events.inbox(event_type, status, page),
        event_type=event_type or "",
        status=status or "",
        page=page,
        types=events_types(event_type),
        statuses=events.STATUSES,
        all_statuses=events.ALL,
        pretty=events.pretty_payload,
        form=ActionForm(),
    )


def events_types(current: str | None) -> list[str]:
    """The types offered in the filter: those we subscribe to, plus the current one."""
    from support.stripe_api import WEBHOOK_EVENTS

    return sorted({*WEBHOOK_EVENTS, *([current] if current else [])})


@bp.post("/events/<event_id>/replay")
@admin_required
def replay(event_id: str):
    """Apply a stored event again (admins only), then back to the inbox."""
    form = ActionForm()
    if not form.validate():
        abort(400)
    # Stored ids are plain text (inbox.check_event); PostgreSQL refuses a NUL in a lookup.
    if not is_plain_text(event_id, 255) or db.session.get(StripeEvent, event_id) is None:
        abort(404)
    try:
        status = events.replay(event_id)
    except Exception:  # the ledger records the error on the event itself
        log.exception("Replay of %s failed", event_id)
        db.session.rollback()
        audit.record(audit.REPLAY, event_id, outcome=audit.FAILED)
        db.session.commit()
        flash(_("Replaying %(event)s failed; see its error below.", event=event_id), "error")
    else:
        audit.record(audit.REPLAY, event_id, detail=status)
        db.session.commit()
        flash(_("Replayed %(event)s: now %(status)s.", event=event_id, status=status))
    back = request.referrer if _same_inbox(request.referrer) else url_for("staff.events")
    return redirect(back, 303)


def _same_inbox(referrer: str | None) -> bool:
    """Go back to the filtered inbox the button was pressed on, and nowhere else."""
    return bool(referrer) and referrer.startswith(request.host_url.rstrip("/") + "/staff/events")
