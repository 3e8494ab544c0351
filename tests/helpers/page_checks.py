"""What every reader page in a browser test is held to: it fits the window without
sideways scrolling, and (with `SCREENSHOTS=DIR` in the environment) it is saved as a
full-page PNG there, to be looked at; nothing is written anywhere otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def overflow(page) -> int:
    """How many pixels the page is wider than its window (0 when it fits)."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
    )


def screenshot(page, name: str) -> None:
    """Save the page as `SCREENSHOTS/<name>-<width>.png` when SCREENSHOTS is set."""
    shots = os.environ.get("SCREENSHOTS")
    if not shots:
        return
    Path(shots).mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)


def at_widths(page, name: str, widths=(390, 1280)) -> list[str]:
    """Look at the page at each width (saved when asked); what did not fit. The window
    is left at the first width."""
    problems = []
    height = page.viewport_size["height"] if page.viewport_size else 900
    for width in (*widths[1:], widths[0]):
        page.set_viewport_size({"width": width, "height": height})
        wider = overflow(page)
        if wider:
            problems.append(f"{name}: {wider} px wider than the {width} px window")
        screenshot(page, name)
    return problems
