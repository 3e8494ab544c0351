"""`/embed/*`: the banner script, its content, an iframe page, beacons and a preview."""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_babel import force_locale

from support.banner import assets, beacons, bp, content
from support.errors import render_error
from support.extensions import csrf, db, limiter

SCRIPT_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
CONTENT_CACHE = "public, max-age=60, stale-while-revalidate=600"


def _cached(body: bytes, etag: str, mimetype: str, cache: str, **headers: str) -> Response:
    """A public, CORS-open response, or 304 when the client already has `etag`."""
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": cache,
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
        **headers,
    }
    if "If-None-Match" in request.headers and request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, mimetype=mimetype, headers=headers)


@bp.get("/banner.js")
def script():
    """The banner script, gzipped for clients that accept it."""
    asset = assets.script()
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return _cached(
            asset.gzipped,
            asset.gzip_etag,
            "text/javascript",
            SCRIPT_CACHE,
            **{"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return _cached(asset.body, asset.etag, "text/javascript", SCRIPT_CACHE, Vary="Accept-Encoding")


@bp.get("/banner.json")
def banner_json():
    """Copy, variants, goal and appeal links for `?lang=` (unknown → English)."""
    rendered = content.rendered(content.pick_lang(request.args.get("lang")))
    return _cached(rendered.body, rendered.etag, "application/json", CONTENT_CACHE)


def _frame_ancestors() -> str:
    """`frame-ancestors` for the allowed article hosts (and their subdomains)."""
    sources = ["'self'"]
    for host in current_app.config["SUPPORT_ALLOWED_HOSTS"]:
        sources += [
            f"{scheme}://{prefix}{host}" for prefix in ("", "*.") for scheme in ("https", "http")
        ]
    return "frame-ancestors " + " ".join(sources)


@bp.get("/banner.html")
def banner_html():
    """The banner without JavaScript, for an `<iframe>` on an allowed host."""
    lang = content.pick_lang(request.args.get("lang"))
    data = content.rendered(lang).content
    wanted = request.args.get("variant")
    variant = content.choose_variant(data["variants"], wanted)
    with force_locale(lang):
        html = render_template(
            "banner/banner.html",
            banner=data,
            variant=variant,
            lang=lang,
            source=request.args.get("source", ""),
        )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _frame_ancestors()
    # A named variant is the same for everyone; otherwise each view draws one.
    chosen = variant["name"] == wanted
    response.headers["Cache-Control"] = CONTENT_CACHE if chosen else "no-store"
    return response


@bp.post("/events")
@csrf.exempt
@limiter.limit(beacons.rate_limit, key_func=beacons.rate_limit_key)
def events():
    """Count one beacon; 204. Bad content type 415, too large 413, bad body 400."""
    try:
        beacon = beacons.parse(beacons.read_body())
    except beacons.BeaconError as error:
        response, status = render_error(error.status, error.message)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response, status
    beacons.record(beacon)
    db.session.commit()
    return Response(status=204, headers={"Access-Control-Allow-Origin": "*"})


@bp.get("/")
def preview():
    """A live preview in both languages and the snippet to paste into articles."""
    base = current_app.config["SUPPORT_PUBLIC_URL"]
    return render_template(
        "banner/preview.html",
        script_url=f"{base}/embed/banner.js",
        iframe_url=f"{base}/embed/banner.html",
        example_source="https://news.example.org/ar/article-123",
    )
