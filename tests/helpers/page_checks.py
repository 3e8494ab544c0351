"""What every page in a browser test is held to: it fits the window without
sideways scrolling and axe-core finds no serious or critical accessibility problem
in it; with `SCREENSHOTS=DIR` in the environment it is also saved as a full-page PNG
there, to be looked at (nothing is written anywhere otherwise)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from axe_playwright_python.base import AXE_SCRIPT

# Only these impacts fail a test; "moderate" and "minor" are axe-core's advice.
BLOCKING = ("serious", "critical")

_RUN_AXE = f"""() => axe.run({{resultTypes: ["violations"]}}).then(results =>
  results.violations
    .filter(v => {json.dumps(BLOCKING)}.includes(v.impact))
    .map(v => ({{id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target)}})))"""


def resize(page, width: int, height: int = 900) -> None:
    """Make the window `width` wide and wait for the page to be drawn at that size:
    media-query listeners (the staff menu folding) and `resize` handlers run first."""
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def overflow(page) -> int:
    """How many pixels the page is wider than its window (0 when it fits)."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
    )


def widest(page) -> str:
    """The last element reaching past the window's right edge, as tag.class."""
    return page.evaluate(
        """() => [...document.querySelectorAll("body *")]
          .filter(e => e.getBoundingClientRect().right > innerWidth + 1
                    && e.getBoundingClientRect().left < innerWidth)
          .slice(-1).map(e => e.tagName + "." + e.className)[0]"""
    )


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is drawn now.

    axe-core is put into the page once per document (a navigation clears it), so a
    page looked at in several window sizes is checked again without loading it again.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return [f"axe {v['id']} ({v['impact']}) at {v['targets']}" for v in page.evaluate(_RUN_AXE)]


def screenshot(page, name: str) -> None:
    """Save the page as `SCREENSHOTS/<name>-<width>.png` when SCREENSHOTS is set."""
    shots = os.environ.get("SCREENSHOTS")
    if not shots:
        return
    Path(shots).mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)


def fits_at(page, name: str, width: int, height: int = 900) -> list[str]:
    """Narrow or widen the window to `width`, save the page when asked; what did not fit
    (with the element reaching furthest past the edge)."""
    resize(page, width, height)
    screenshot(page, name)
    wider = overflow(page)
    return (
        [f"{name}: {wider} px wider than the {width} px window ({widest(page)})"] if wider else []
    )


def at_widths(page, name: str, widths=(390, 1280)) -> list[str]:
    """Look at the page at each width (saved when asked); what did not fit. The window
    is left at the first width."""
    height = page.viewport_size["height"] if page.viewport_size else 900
    return [p for width in (*widths[1:], widths[0]) for p in fits_at(page, name, width, height)]
