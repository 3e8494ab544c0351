"""`/staff/audit`: every staff action, newest first (admins only)."""

from __future__ import annotations

from flask import render_template, request

from support import audit as kinds
from support.staff import audit, bp
from support.staff.auth.access import admin_required

MAX_PAGE = 100_000


@bp.get("/audit")
@admin_required
def audit_page():
    """Who did what, when, on what, and how it went; filters by kind and by staff member."""
    kind = request.args.get("kind") or None
    kind = kind if kind in kinds.KINDS else None
    who = (request.args.get("who") or "").strip()[:320] or None
    number = request.args.get("page", "1")
    number = min(int(number), MAX_PAGE) if number.isdigit() and int(number) > 0 else 1
    return render_template(
        "staff/audit.html",
        result=audit.page(kind, who, number),
        kind=kind or "",
        who=who or "",
        page=number,
        kinds=audit.kind_choices(),
        members=audit.staff_members(),
        command_line=audit.COMMAND_LINE,
    )
