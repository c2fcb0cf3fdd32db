"""Every demo page in a real browser (Debian's chromium), as a reviewer opens it from a folder.

For every page, with JavaScript on and off (then under the page's own Content-Security-Policy): no
request but the file itself, no console error and no script; every regional report's rug, its
significance rug, its charts and funnel plots, and every pack's scorecards and charts, laid out on
screen. For one page of each kind (the index, the validation report, an LA's feedback, a regional
report, a pack; the datapack's in test_datapack): no axe-core violation, and the rugs', charts'
and funnel plots' colours in a screenshot, with JavaScript on and off. The print layout keeps
the figures behind the charts and both rugs.
"""

from __future__ import annotations

import pytest

from pipeline.edges import demo
from pipeline.html.base import BAND_COLOURS as RUG_BANDS
from tests.browser import Screenshot, axe_violations, describe, visit, visits

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PERIODS = [demo.LATEST.shifted(-k).slug for k in range(demo.N_PERIODS)]
REGIONS = [code for code, _, _ in demo.REGIONS]
REPORTS = [f"{p}/{r}/regional-benchmark.html" for p in PERIODS for r in REGIONS]
#: `make report` builds the packs of the latest period: one per demo LA
LAS = [
    f"ZL{i}{k:02d}" for i, (_, _, n) in enumerate(demo.REGIONS, start=1) for k in range(1, n + 1)
]
PACKS = [
    f"{PERIODS[0]}/{r}/ZL{i}{k:02d}/self-assessment.html"
    for i, (r, _, n) in enumerate(demo.REGIONS, start=1)
    for k in range(1, n + 1)
]
FEEDBACK = [f"validation/feedback/{la}.html" for la in LAS]
SITE = ["index.html", "validation/index.html", *FEEDBACK]
FAULTY_PACK = next(p for p in PACKS if f"/{demo.FAULTY_LA}/" in p)
#: one page of each kind, and of each kind's variants: what axe-core checks
KINDS = {
    "index": "index.html",
    "validation report": "validation/index.html",
    "feedback, return not accepted": f"validation/feedback/{demo.FAULTY_LA}.html",
    "feedback, return accepted": FEEDBACK[0],
    "regional report": REPORTS[0],
    "regional report, first quarter held": REPORTS[-1],
    "pack": PACKS[0],
    "pack, return not accepted": FAULTY_PACK,
}
#: the reports and packs whose colours are checked in a screenshot
ON_SCREEN = ["regional report", "regional report, first quarter held", "pack"]
SN_PURPLE, THIS_LA, NEIGHBOUR_GREY = "#882255", "#0b0c0c", "#6f777b"
LA_GREY, LIMIT_BLACK = "#949494", "#0b0c0c"  # a funnel plot's other LAs and 99.8% limits
BAND_A, BAND_D = "#2166ac", "#b2182b"  # the rug's best and worst bands
BAND_COLOURS = [bg for bg, _ in RUG_BANDS.values()]  # the ranking charts' dots, as in the rug
REGION_BLUE = "#0072b2"  # the region's line in every trend chart, its LAs in a funnel plot
#: a funnel plot per indicator with a count model: all but the four workforce measures counted
#: in full-time equivalents or as a mean caseload
FUNNELS = 20
#: the significance rug's better and worse (the bands' blue and red), and its own purple
SIG_COLOURS = ["#2166ac", "#b2182b", "#6a3d9a"]
#: the quartile rug and the significance rug (against England: the first shown; the SN mean's
#: is folded away)
RUG, SIG_RUG = "table.rug:not(.sig)", "table.rug.sig >> nth=0"
#: each chart of a kind: its size and whether it is shown (display, visibility), in one call
CHARTS = """kind => Array.from(document.querySelectorAll(`figure[id^="${kind}-"] svg`)).map(e => {
    const r = e.getBoundingClientRect();
    return {width: r.width, height: r.height,
            visible: r.width > 0 && r.height > 0 && e.checkVisibility({visibilityProperty: true})};
})"""


def _offline_error_free_script_free(v, name):
    assert v.other_requests == [], f"{name} asked the network for {v.other_requests}"
    assert v.console_errors == [], f"{name} logged errors: {v.console_errors}"
    assert v.page.locator("script").count() == 0, f"{name} has a script"


def _regional_laid_out(v, name, first_period: bool):
    """The rug shown, and per theme a trend chart and a ranking chart, each shown at a readable
    size; the first quarter held has no trend to draw."""
    page = v.page
    assert page.locator(RUG).is_visible(), f"{name}: the rug is not visible"
    assert page.locator(SIG_RUG).is_visible(), f"{name}: the significance rug is not visible"
    assert not page.locator("table.rug.sig >> nth=1").is_visible(), "against the SN mean: folded"
    expected = {"trend": 0 if first_period else 6, "rank": 6, "funnel": FUNNELS}
    for kind, n in expected.items():
        charts = page.evaluate(CHARTS, kind)
        assert len(charts) == n, f"{name}: {n} {kind} charts"
        for i, box in enumerate(charts, start=1):
            assert box["visible"] and box["width"] > 200 and box["height"] > 100, (
                f"{name}: {kind} chart {i} is not visible"
            )


def _pack_laid_out(v, name):
    """Per theme, a scorecard, a trend chart and a ranking among neighbours, each at a readable
    size; a pack whose return was not accepted says so and shows no figures."""
    page = v.page
    if f"/{demo.FAULTY_LA}/" in name:  # its return was not accepted
        assert page.locator("p.notice").is_visible()
        assert (
            page.locator("figure svg").count() == 0 and page.locator("table.scorecard").count() == 0
        )
        return
    assert page.locator("table.scorecard").count() == 6
    for kind in ("trend", "rank"):
        charts = page.evaluate(CHARTS, kind)
        assert len(charts) == 6, f"{name}: 6 {kind} charts"
        for i, box in enumerate(charts, start=1):
            assert box["width"] > 200 and box["height"] > 100, f"{name}: {kind} chart {i}"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
@pytest.mark.parametrize(
    "pages", [SITE, REPORTS, PACKS], ids=["index and validation", "regional reports", "packs"]
)
def test_every_page_is_offline_error_free_and_script_free(browser, demo_site, pages, javascript):
    """Every page, one after another: nothing but the file itself is asked for, nothing logged,
    no script; the reports' and packs' figures laid out. JavaScript off, the page's own
    Content-Security-Policy applies: nothing may break it."""
    paths = [demo_site / name for name in pages]
    for name, v in zip(
        pages, visits(browser, paths, javascript, page_csp=not javascript), strict=True
    ):
        label = f"{name} (JavaScript {'on' if javascript else 'off'})"
        _offline_error_free_script_free(v, label)
        if name in REPORTS:
            _regional_laid_out(v, label, first_period=name.startswith(PERIODS[-1]))
        elif name in PACKS:
            _pack_laid_out(v, label)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_page_is_accessible(browser, demo_site, kind):
    """No axe-core violation of any impact, on one page of each kind."""
    name = KINDS[kind]
    v = visit(browser, demo_site / name)
    try:
        _offline_error_free_script_free(v, name)
        found = axe_violations(v.page)
        assert found == [], f"axe-core on {name}:\n{describe(found)}"
    finally:
        v.page.context.close()


def _rug_and_charts_on_screen(v, name):
    page = v.page
    rug = page.locator(RUG)
    shot = Screenshot(page)
    box = rug.bounding_box()
    assert shot.pixels_of(box, BAND_A) > 100 and shot.pixels_of(box, BAND_D) > 100, (
        f"{name}: the rug's band colours are not on screen"
    )
    box = page.locator(SIG_RUG).bounding_box()
    for colour in SIG_COLOURS:
        assert shot.pixels_of(box, colour) > 100, f"{name}: the significance rug lacks {colour}"
    # Per theme, a trend chart (the region's blue line) and a ranking chart (dots by band); the
    # first quarter held has no trend to draw. Each funnel plot: the region's LAs as blue
    # diamonds among grey dots (the other LAs), and its black 99.8% limits.
    kinds = {
        "trend": [REGION_BLUE],
        "rank": BAND_COLOURS,
        "funnel": [REGION_BLUE, LA_GREY, LIMIT_BLACK],
    }
    for kind, colours in kinds.items():
        charts = page.locator(f'figure[id^="{kind}-"] svg')
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert sum(shot.pixels_of(box, c) for c in colours) > 20, (
                f"{name}: {kind} chart {i + 1} shows none of its colours {colours}"
            )
            if kind == "funnel":  # every one of them
                for c in colours:
                    assert shot.pixels_of(box, c) > 20, f"{name}: funnel plot {i + 1} lacks {c}"


def _pack_on_screen(v, name):
    """The trend charts show the neighbours' purple mean and the region's blue; the ranking
    among neighbours the LA's black diamond and the neighbours' grey dots."""
    page = v.page
    shot = Screenshot(page)
    for kind, colours in {
        "trend": [SN_PURPLE, REGION_BLUE],
        "rank": [THIS_LA, NEIGHBOUR_GREY],
    }.items():
        charts = page.locator(f'figure[id^="{kind}-"] svg')
        for i in range(6):
            box = charts.nth(i).bounding_box()
            for c in colours:
                assert shot.pixels_of(box, c) > 10, f"{name}: {kind} chart {i + 1} lacks {c}"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
@pytest.mark.parametrize("kind", ON_SCREEN)
def test_the_figures_colours_are_on_screen(browser, demo_site, kind, javascript):
    """The rug's bands and every chart's colours in a screenshot of a regional report (of the
    latest quarter, and of the first held) and of a pack, with JavaScript on and off (then under
    the page's own Content-Security-Policy, which must not block the styles)."""
    name = KINDS[kind]
    v = visit(browser, demo_site / name, javascript=javascript, page_csp=not javascript)
    label = f"{name} (JavaScript {'on' if javascript else 'off'})"
    try:
        if name in REPORTS:
            first = name.startswith(PERIODS[-1])
            _regional_laid_out(v, label, first_period=first)
            _rug_and_charts_on_screen(v, label)
        else:
            _pack_laid_out(v, label)
            _pack_on_screen(v, label)
    finally:
        v.page.context.close()


def test_print_layout_keeps_the_figures_and_drops_navigation(browser, demo_site):
    v = visit(browser, demo_site / REPORTS[0])
    page = v.page
    try:
        tables = page.locator("figure details table")
        n = 12 + FUNNELS  # a trend and a ranking chart per theme, and the funnel plots
        assert tables.count() == n and not tables.first.is_visible(), (
            "on screen the figures behind each chart are folded away"
        )
        page.emulate_media(media="print")
        # A4 landscape less 10 mm margins (the stylesheet's @page) is 277 mm: 1047 CSS pixels.
        page.set_viewport_size({"width": 1047, "height": 740})
        assert all(tables.nth(i).is_visible() for i in range(n)), "printed, they are shown"
        assert not page.locator("nav.breadcrumbs").is_visible()
        for which in (RUG, SIG_RUG, "table.rug.sig >> nth=1"):
            rug = page.locator(which)
            box = rug.bounding_box()
            assert rug.is_visible() and box["x"] + box["width"] <= 1047, (
                f"the whole of {which}, every indicator column, fits the printed page's width"
            )
        pdf = page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    finally:
        page.context.close()


def test_the_checks_catch_a_page_that_phones_home_or_fails_axe(browser, tmp_path):
    """The checks above can fail: a page with a CDN script, a web font, an unlabelled image and
    two links too small and too close to tell apart by touch (WCAG 2.2's target size)."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title>"
        '<link rel="stylesheet" href="https://fonts.example.invalid/font.css">'
        '<script src="https://cdn.example.invalid/vega.js"></script></head>'
        '<body><img src="chart.png"><script>undefinedFunction()</script>'
        '<p style="font-size:8px;line-height:8px"><a href="a.html">A</a><a href="b.html">B</a>'
        "</p></body></html>",
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
        assert v.page.locator("script").count() == 2, "and its scripts are seen"
        ids = {x["id"] for x in axe_violations(v.page)}
        assert {"image-alt", "html-has-lang", "target-size"} <= ids
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
