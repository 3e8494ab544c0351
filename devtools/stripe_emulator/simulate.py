"""JSON routes under ``/_emulator/`` mirroring the Emulator's simulation helpers."""

from .router import Router


def _flag(value) -> bool:
    return value in (True, "true", "1", 1)


def build_router() -> Router:
    """Routes whose handlers take (emulator, json_body, **path) and return JSON data."""
    r = Router()
    r.add(
        "POST",
        "/_emulator/checkout/sessions/{id}/pay",
        lambda emu, b, id: emu.pay(
            id,
            b.get("email", "reader@example.com"),
            b.get("name", "Reader"),
            _flag(b.get("decline")),
        ),
    )
    r.add("POST", "/_emulator/checkout/sessions/{id}/expire", lambda emu, b, id: emu.expire(id))
    r.add(
        "POST",
        "/_emulator/checkout/sessions/{id}/confirm",
        lambda emu, b, id: emu.confirm_checkout(
            id,
            card=b.get("card") or "4242424242424242",
            three_d_secure=b.get("three_d_secure"),
            email=b.get("email"),
            name=b.get("name"),
        ),
    )
    r.add(
        "POST",
        "/_emulator/setup_intents/{id}/confirm",
        lambda emu, b, id: emu.confirm_setup(
            id,
            b.get("card") or "4242424242424242",
            b.get("three_d_secure"),
            b.get("exp_month"),
            b.get("exp_year"),
        ),
    )
    r.add("POST", "/_emulator/subscriptions/{id}/renew", lambda emu, b, id: emu.renew(id))
    r.add(
        "POST",
        "/_emulator/subscriptions/{id}/fail_renewal",
        lambda emu, b, id: emu.fail_renewal(id),
    )
    r.add(
        "POST",
        "/_emulator/subscriptions/{id}/upcoming",
        lambda emu, b, id: emu.upcoming(id, b.get("days", 7)),
    )
    r.add(
        "POST",
        "/_emulator/subscriptions/{id}/retry_failed",
        lambda emu, b, id: emu.retry_failed(id, _flag(b.get("final")), _flag(b.get("mark_unpaid"))),
    )
    r.add(
        "POST",
        "/_emulator/subscriptions/{id}/end_unpaid",
        lambda emu, b, id: emu.end_unpaid(id, _flag(b.get("void_invoice"))),
    )
    r.add("POST", "/_emulator/subscriptions/{id}/recover", lambda emu, b, id: emu.recover(id))
    r.add(
        "POST",
        "/_emulator/subscriptions/{id}/cancel",
        lambda emu, b, id: emu.cancel(id, _flag(b.get("at_period_end"))),
    )
    r.add(
        "POST",
        "/_emulator/charges/{id}/refund",
        lambda emu, b, id: emu.refund(id, b.get("amount"), b.get("reason")),
    )
    r.add(
        "POST",
        "/_emulator/charges/{id}/dispute",
        lambda emu, b, id: emu.dispute(id, b.get("reason", "fraudulent")),
    )
    r.add(
        "POST",
        "/_emulator/customers/{id}/update",
        lambda emu, b, id: emu.update_customer(id, **b),
    )
    r.add("POST", "/_emulator/fail_next", _fail_next)
    r.add(
        "POST",
        "/_emulator/stall_next",
        lambda emu, b: emu.stall_next(b.get("seconds"), int(b.get("count", 1))) or {"ok": True},
    )
    r.add(
        "GET",
        "/_emulator/api_stats",
        lambda emu, b: emu.api_stats(_flag(b.get("timestamps"))),
    )
    r.add(
        "POST",
        "/_emulator/api_stats/reset",
        lambda emu, b: emu.reset_api_stats() or {"ok": True},
    )
    r.add("POST", "/_emulator/reset", lambda emu, b: emu.reset() or {"ok": True})
    r.add("GET", "/_emulator/state", lambda emu, b: emu.state())
    r.add("GET", "/_emulator/events", lambda emu, b: {"data": emu.events(b.get("type"))})
    r.add(
        "POST",
        "/_emulator/events/{id}/redeliver",
        lambda emu, b, id: {"statuses": emu.redeliver(id)},
    )
    r.add(
        "GET", "/_emulator/deliveries", lambda emu, b: {"data": [list(d) for d in emu.deliveries]}
    )
    r.add("GET", "/_emulator/held", lambda emu, b: {"data": emu.held_events()})
    r.add("POST", "/_emulator/held/release", lambda emu, b: emu.release_held() or {"ok": True})
    r.add("POST", "/_emulator/advance", lambda emu, b: {"now": emu.advance(b.get("seconds", 0))})
    r.add("GET", "/_emulator/now", lambda emu, b: {"now": emu.now()})
    r.add("POST", "/_emulator/config", _configure)
    return r


def _fail_next(emu, body: dict) -> dict:
    """Queue injected failures; ``should_retry`` may come as JSON or as a query string."""
    if body.get("should_retry") is not None:
        body = {**body, "should_retry": _flag(body["should_retry"])}
    if "count" in body:
        body = {**body, "count": int(body["count"])}
    emu.fail_next(**body)
    return {"ok": True}


def _configure(emu, body: dict) -> dict:
    """Change webhook and /v1 limit settings of a running emulator; returns them all."""
    for key in ("webhook_url", "webhook_secret", "latency", "max_requests_per_second"):
        if key in body:
            setattr(emu, key, body[key])
    if "hold_events" in body:
        emu.hold_events = _flag(body["hold_events"])
    return {
        "webhook_url": emu.webhook_url,
        "hold_events": emu.hold_events,
        "latency": emu.latency,
        "max_requests_per_second": emu.max_requests_per_second,
    }
