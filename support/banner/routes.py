"""`/embed/*`: the banner script, its content, an iframe page and its stylesheet, beacons
and a preview."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import force_locale

from support.article_hosts import frame_sources
from support.attribution import clean_source
from support.banner import beacons, bp, caching, content
from support.errors import render_error
from support.extensions import csrf, db, limiter
from support.security import page_policy
from support.urls import public_url


def _cached(body: bytes, etag: str, headers: caching.Headers) -> Response:
    """200 with `body`, or an empty 304 with the same headers when the client has it already."""
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, headers=headers)


# A CDN fetches these for every reader, so a limit per address would count its
# edge servers, and a 429 it kept would hide the banner from many readers; the
# answer is prepared bytes, so there is nothing to protect either.
@bp.get("/banner.js")
@limiter.exempt
def script():
    """The banner script, gzipped for clients that accept it."""
    return _cached(*caching.script_variant(request.headers.get("Accept-Encoding", "")))


@bp.get("/banner.css")
@limiter.exempt
def stylesheet():
    """The iframe page's stylesheet (its CSP allows no inline style), gzipped when accepted."""
    return _cached(*caching.stylesheet_variant(request.headers.get("Accept-Encoding", "")))


@bp.get("/banner.json")
@limiter.exempt
def banner_json():
    """Copy, variants, goal and appeal links for `?lang=` (unknown → English)."""
    rendered = content.rendered(content.pick_lang(request.args.get("lang")))
    headers = caching.cached_headers(rendered.etag, caching.CONTENT_CACHE, caching.JSON)
    return _cached(rendered.body, rendered.etag, headers)


EXEMPT = frozenset({"banner.script", "banner.stylesheet", "banner.banner_json"})


@limiter.request_filter
def _exempt_route() -> bool:
    """Whether the request is for one of the exempt routes above.

    `limiter.exempt` alone still resolves the route's limits and exemption
    scopes on each request before finding none apply, a good part of what such
    a request costs; the limiter asks its request filters first.
    """
    return request.endpoint in EXEMPT


def _frame_ancestors() -> str:
    """The sources of `frame-ancestors`: the article sites, on any port, as attribution
    accepts them (`support.article_hosts`)."""
    return " ".join(["'self'", *frame_sources()])


@bp.get("/banner.html")
def banner_html():
    """The banner without JavaScript, for an `<iframe>` on an allowed host."""
    lang = content.pick_lang(request.args.get("lang"))
    data = content.rendered(lang).content
    source = request.args.get("source", "")
    campaign = content.choose_campaign(data, source)
    wanted = request.args.get("variant")
    variant = content.choose_variant(campaign["variants"], wanted)
    with force_locale(lang):
        html = render_template(
            "banner/banner.html",
            banner=data,
            goal=campaign["goal"],
            variant=variant,
            lang=lang,
            # Only the article and its campaign travel on to the appeal.
            source=clean_source(source) or "",
        )
    response = Response(html, mimetype="text/html")
    # The pages' policy, except that the article hosts may frame this one.
    response.headers["Content-Security-Policy"] = page_policy(_frame_ancestors())
    # A named variant is the same for everyone; otherwise each view draws one.
    chosen = variant["name"] == wanted
    response.headers["Cache-Control"] = caching.CONTENT_CACHE if chosen else "no-store"
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


# The snippet's frame: a fixed height, as the frame cannot follow its content
# without JavaScript; banner.css lays the banner out to fit it at any width.
IFRAME_STYLE = "border:0;width:100%;height:20rem"


@bp.get("/")
def preview():
    """A live preview in both languages and the snippet to paste into articles."""
    return render_template(
        "banner/preview.html",
        script_url=public_url("banner.script"),
        iframe_url=public_url("banner.banner_html"),
        iframe_style=IFRAME_STYLE,
        example_source="https://news.example.org/ar/article-123",
    )
