"""Drive Debian's chromium with Playwright: what a reviewer's browser loads, logs and shows.

No browser is downloaded: the tests use `$TARTAN_CHROMIUM`, else `chromium` on the PATH (which
`make test` installs from Debian's packages when it is missing).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Chromium's own background traffic (updates, sync, safe browsing) off: only the page may ask.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    wanted = os.environ.get("TARTAN_CHROMIUM")
    if wanted:
        return wanted
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Visit:
    """One page opened in a fresh browser context: what it asked for and what it logged."""

    page: object  # playwright Page
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # alert(), confirm(), prompt() opened

    @property
    def other_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]


def visit(browser, path: Path, javascript: bool = True, page_csp: bool = False) -> Visit:
    """Open `path` as a reviewer would (a file, double-clicked), refusing every other request.

    By default the page's own Content-Security-Policy is bypassed, so that a stray reference
    shows up here as a request, not only as a blocked-by-policy console message; `page_csp`
    keeps it, to show that the page breaks none of its own policy.
    """
    return next(visits(browser, [path], javascript, page_csp, close=False))


def visits(
    browser, paths: list[Path], javascript: bool = True, page_csp: bool = False, close=True
) -> Iterator[Visit]:
    """Open each of `paths` in turn in one browser context, as `visit` opens one: each Visit
    records what its own page asked for and logged. The context is closed after the last
    (unless `close` is false: then the caller closes ``visit.page.context``)."""
    context = browser.new_context(
        java_script_enabled=javascript, bypass_csp=not page_csp, viewport=VIEWPORT
    )
    page = context.new_page()
    now: list[Visit] = []  # the page being opened

    def route(r):
        if r.request.url == now[-1].url:
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda r: now[-1].requests.append(r.url))
    page.on(
        "console", lambda m: now[-1].console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: now[-1].console_errors.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: (now[-1].dialogs.append(d.message), d.dismiss()))
    try:
        for path in paths:
            now.append(Visit(page, path.resolve().as_uri()))
            page.goto(now[-1].url, wait_until="load")
            yield now[-1]
    finally:
        if close:
            context.close()


#: what axe-core checks: WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2's target size among them,
#: which axe leaves out unless asked), and its best practices
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page for AXE_TAGS, with every folded <details> opened
    first: axe skips hidden content, and the figures behind charts are folded."""
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes'][0]['target']}, "
        f"{len(v['nodes'])} node(s)"
        for v in violations
    )


def _capture(page, attempts: int = 3) -> bytes:
    """A full-page PNG. Headless Chromium now and then answers "Unable to capture screenshot"
    when its compositor is busy (seen once in CI, on a long pack page, under load): asked
    again a moment later, it takes it; a page that never can be captured still fails."""
    from playwright.sync_api import Error

    for _ in range(attempts - 1):
        try:
            return page.screenshot(full_page=True)
        except Error as exc:
            if "Unable to capture screenshot" not in str(exc):
                raise
            page.wait_for_timeout(500)
    return page.screenshot(full_page=True)


class Screenshot:
    """A full-page screenshot, read back as pixels, to ask what is on screen inside an element."""

    def __init__(self, page):
        import numpy as np
        from PIL import Image

        png = _capture(page)
        self.pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
        self._scroll = page.evaluate("[window.scrollX, window.scrollY]")

    def region(self, box: dict):
        """The pixels under a Playwright bounding box (viewport coordinates)."""
        x0 = max(0, int(box["x"] + self._scroll[0]))
        y0 = max(0, int(box["y"] + self._scroll[1]))
        return self.pixels[y0 : y0 + int(box["height"]), x0 : x0 + int(box["width"])]

    def pixels_of(self, box: dict, colour: str, tolerance: int = 10) -> int:
        """How many of the box's pixels are within `tolerance` of a #rrggbb colour."""
        import numpy as np

        want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        return int((np.abs(self.region(box) - want) <= tolerance).all(axis=-1).sum())
