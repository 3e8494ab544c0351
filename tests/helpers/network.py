"""Waiting until a page in a browser test has loaded what it asked for.

Playwright's `networkidle` waits for 500 ms without a request after the last
one, on every page: half a second a page, most of the every-page run. Here the
test watches the page's requests (every frame's) from its creation and goes on
once none has been in flight for a short while and the fonts have loaded.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

# How long no request may be in flight before the page counts as loaded: long enough
# for a script's next request after one ends (the banner reads its JSON, then fonts).
CALM_MS = 100
STEP_MS = 25


class Requests:
    """The requests one page has in flight."""

    def __init__(self, page) -> None:
        self.in_flight: set = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request) -> None:
        self.in_flight.add(request)

    def _ended(self, request) -> None:
        self.in_flight.discard(request)


_WATCHED: WeakKeyDictionary = WeakKeyDictionary()


def watch(page):
    """Count `page`'s requests from now on (call it before the page's first `goto`)."""
    _WATCHED[page] = Requests(page)
    return page


def quiet(page, timeout_ms: int = 10_000) -> None:
    """Wait until no request of `page` has been in flight for CALM_MS, then for its fonts."""
    requests = _WATCHED.get(page)
    if requests is None:
        raise AssertionError("call watch(page) when the page is made, before quiet(page)")
    calm = waited = 0
    while calm < CALM_MS:
        if waited > timeout_ms:
            urls = sorted(request.url for request in requests.in_flight)
            raise AssertionError(f"requests still in flight after {timeout_ms} ms: {urls}")
        page.wait_for_timeout(STEP_MS)
        waited += STEP_MS
        calm = 0 if requests.in_flight else calm + STEP_MS
    page.evaluate("document.fonts.ready.then(() => true)")


def goto(page, url: str):
    """Open `url` in a watched page and wait until it is quiet; the response."""
    response = page.goto(url)
    quiet(page)
    return response
