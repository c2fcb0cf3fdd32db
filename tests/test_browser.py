"""Every demo page in a real browser (Debian's chromium), as a reviewer opens it from a folder.

For every page: no request but the file itself, no console error, and no axe-core violation. For
every regional report: the rug and every chart are on screen (their colours are in a screenshot),
with JavaScript on and off; and the print layout keeps the figures behind the charts.
"""

from __future__ import annotations

import pytest

from pipeline.edges import demo
from pipeline.html.base import BAND_COLOURS as RUG_BANDS
from tests.browser import Screenshot, axe_violations, describe, visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PERIODS = [demo.LATEST.shifted(-k).slug for k in range(demo.N_PERIODS)]
REGIONS = [code for code, _, _ in demo.REGIONS]
REPORTS = [f"{p}/{r}/regional-benchmark.html" for p in PERIODS for r in REGIONS]
#: `make report` builds the packs of the latest period: one per demo LA
PACKS = [
    f"{PERIODS[0]}/{r}/ZL{i}{k:02d}/self-assessment.html"
    for i, (r, _, n) in enumerate(demo.REGIONS, start=1)
    for k in range(1, n + 1)
]
SN_PURPLE, THIS_LA, NEIGHBOUR_GREY = "#882255", "#0b0c0c", "#6f777b"
BAND_A, BAND_D = "#2166ac", "#b2182b"  # the rug's best and worst bands
BAND_COLOURS = [bg for bg, _ in RUG_BANDS.values()]  # the ranking charts' dots, as in the rug
REGION_BLUE = "#0072b2"  # the region's line in every trend chart


def _offline_error_free_accessible(v, name):
    assert v.other_requests == [], f"{name} asked the network for {v.other_requests}"
    assert v.console_errors == [], f"{name} logged errors: {v.console_errors}"
    found = axe_violations(v.page)
    assert found == [], f"axe-core on {name}:\n{describe(found)}"


def _rug_and_charts_on_screen(v, name, first_period: bool):
    page = v.page
    rug = page.locator("table.rug")
    assert rug.is_visible(), f"{name}: the rug is not visible"
    shot = Screenshot(page)
    box = rug.bounding_box()
    assert shot.pixels_of(box, BAND_A) > 100 and shot.pixels_of(box, BAND_D) > 100, (
        f"{name}: the rug's band colours are not on screen"
    )
    # Per theme, a trend chart (the region's blue line) and a ranking chart (dots by band); the
    # first quarter held has no trend to draw.
    kinds = {"trend": [REGION_BLUE], "rank": BAND_COLOURS}
    expected = {"trend": 0 if first_period else 6, "rank": 6}
    for kind, colours in kinds.items():
        charts = page.locator(f'figure[id^="{kind}-"] svg')
        assert charts.count() == expected[kind], f"{name}: {expected[kind]} {kind} charts"
        for i in range(charts.count()):
            chart = charts.nth(i)
            box = chart.bounding_box()
            assert chart.is_visible() and box["width"] > 200 and box["height"] > 100, (
                f"{name}: {kind} chart {i + 1} is not visible"
            )
            assert sum(shot.pixels_of(box, c) for c in colours) > 20, (
                f"{name}: {kind} chart {i + 1} shows none of its colours {colours}"
            )


@pytest.mark.parametrize("name", REPORTS)
def test_regional_report_in_the_browser(browser, demo_site, name):
    """Offline, error-free and accessible; the rug and charts on screen, JavaScript on and off."""
    for javascript in (True, False):
        # JavaScript off, the page's own Content-Security-Policy applies: nothing may break it
        v = visit(browser, demo_site / name, javascript=javascript, page_csp=not javascript)
        try:
            if javascript:  # axe-core is itself a script
                _offline_error_free_accessible(v, name)
            else:
                assert v.other_requests == [] and v.console_errors == []
            _rug_and_charts_on_screen(
                v,
                f"{name} (JavaScript {'on' if javascript else 'off'})",
                first_period=name.startswith(PERIODS[-1]),
            )
        finally:
            v.page.context.close()


def _pack_on_screen(v, name):
    """Per theme, a scorecard, a trend chart (the neighbours' purple mean, the region's blue)
    and a ranking among neighbours (the LA's black diamond, the neighbours' grey dots)."""
    page = v.page
    shot = Screenshot(page)
    if f"/{demo.FAULTY_LA}/" in name:  # its return was not accepted
        assert page.locator("p.notice").is_visible()
        assert (
            page.locator("figure svg").count() == 0 and page.locator("table.scorecard").count() == 0
        )
        return
    assert page.locator("table.scorecard").count() == 6
    for kind, colours in {
        "trend": [SN_PURPLE, REGION_BLUE],
        "rank": [THIS_LA, NEIGHBOUR_GREY],
    }.items():
        charts = page.locator(f'figure[id^="{kind}-"] svg')
        assert charts.count() == 6, f"{name}: 6 {kind} charts"
        for i in range(6):
            box = charts.nth(i).bounding_box()
            assert box["width"] > 200 and box["height"] > 100, f"{name}: {kind} chart {i + 1}"
            for c in colours:
                assert shot.pixels_of(box, c) > 10, f"{name}: {kind} chart {i + 1} lacks {c}"


@pytest.mark.parametrize("name", PACKS)
def test_self_assessment_pack_in_the_browser(browser, demo_site, name):
    """Offline, error-free and accessible; scorecards and charts shown, JavaScript on and off."""
    for javascript in (True, False):
        v = visit(browser, demo_site / name, javascript=javascript, page_csp=not javascript)
        try:
            if javascript:
                _offline_error_free_accessible(v, name)
            else:
                assert v.other_requests == [] and v.console_errors == []
            _pack_on_screen(v, f"{name} (JavaScript {'on' if javascript else 'off'})")
        finally:
            v.page.context.close()


def test_site_pages_in_the_browser(browser, demo_site):
    """The index, the validation report and every LA's feedback page."""
    feedback = sorted((demo_site / "validation" / "feedback").glob("*.html"))
    assert len(feedback) == sum(n for _, _, n in demo.REGIONS), "a feedback page per demo LA"
    for path in [demo_site / "index.html", demo_site / "validation" / "index.html", *feedback]:
        v = visit(browser, path)
        try:
            _offline_error_free_accessible(v, path.relative_to(demo_site).as_posix())
        finally:
            v.page.context.close()


def test_print_layout_keeps_the_figures_and_drops_navigation(browser, demo_site):
    v = visit(browser, demo_site / REPORTS[0])
    page = v.page
    try:
        tables = page.locator("figure details table")
        assert tables.count() == 12 and not tables.first.is_visible(), (
            "on screen the figures behind each chart are folded away"
        )
        page.emulate_media(media="print")
        # A4 landscape less 10 mm margins (the stylesheet's @page) is 277 mm: 1047 CSS pixels.
        page.set_viewport_size({"width": 1047, "height": 740})
        assert all(tables.nth(i).is_visible() for i in range(12)), "printed, they are shown"
        assert not page.locator("nav.breadcrumbs").is_visible()
        rug = page.locator("table.rug")
        box = rug.bounding_box()
        assert rug.is_visible() and box["x"] + box["width"] <= 1047, (
            "the whole rug, every indicator column, fits the printed page's width"
        )
        pdf = page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    finally:
        page.context.close()


def test_the_checks_catch_a_page_that_phones_home_or_fails_axe(browser, tmp_path):
    """The checks above can fail: a page with a CDN script, a web font and an unlabelled image."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title>"
        '<link rel="stylesheet" href="https://fonts.example.invalid/font.css">'
        '<script src="https://cdn.example.invalid/vega.js"></script></head>'
        '<body><img src="chart.png"><script>undefinedFunction()</script></body></html>',
        encoding="utf-8",
    )
    v = visit(browser, page)
    try:
        assert {u.split("/")[2] for u in v.other_requests if "//" in u} >= {
            "fonts.example.invalid",
            "cdn.example.invalid",
        }
        assert any("chart.png" in u for u in v.other_requests), "a relative file is a request too"
        assert any("undefinedFunction" in e for e in v.console_errors)
        ids = {x["id"] for x in axe_violations(v.page)}
        assert {"image-alt", "html-has-lang"} <= ids
    finally:
        v.page.context.close()


def test_keyboard_first_tab_reaches_the_skip_link_and_it_jumps_to_the_content(browser, demo_site):
    v = visit(browser, demo_site / "index.html", javascript=False)
    page = v.page
    try:
        skip = page.locator("a.skip-link")
        assert not skip.is_visible() or skip.bounding_box()["x"] < 0, "hidden until focused"
        page.keyboard.press("Tab")
        assert skip.evaluate("a => a === document.activeElement")
        box = skip.bounding_box()
        assert box["x"] >= 0 and box["width"] > 50, "shown when focused"
        page.keyboard.press("Enter")
        assert page.url.endswith("#main")
    finally:
        page.context.close()
