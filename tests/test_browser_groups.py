"""The demo's peer-challenge group packs in a real browser (Debian's chromium), as a moderator
opens them from a folder: offline, error-free and script-free with JavaScript on and off; no
axe-core violation (WCAG 2.2 AA) on a group pack, nor on one with an LA whose return was not
accepted (shown as such, without figures); every band cell's colour with its letter; and
printed, a ruled box for each LA's moderation notes."""

from __future__ import annotations

import re

import pytest

from pipeline.edges import demo
from pipeline.edges.demo_cycle import GROUPS
from pipeline.html.base import BAND_COLOURS
from pipeline.html.group import NOTE_LINES
from tests.browser import axe_violations, describe, visit, visits

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PERIOD = demo.LATEST.slug
#: every group pack of the latest quarter (the one `make report` builds packs for)
PAGES = {gid: f"{PERIOD}/ZR{las[0][2]}/peer-challenge-{gid}.html" for gid, _, las in GROUPS}
SIZES = {gid: len(las) for gid, _, las in GROUPS}
#: the group with the deliberately faulty return
FAULTY = next(gid for gid, _, las in GROUPS if demo.FAULTY_LA in las)


def _offline_error_free_script_free(v, name):
    assert v.other_requests == [], f"{name} asked the network for {v.other_requests}"
    assert v.console_errors == [], f"{name} logged errors: {v.console_errors}"
    assert v.page.locator("script").count() == 0, f"{name} has a script"


def test_the_demo_has_a_group_pack_per_group(demo_site):
    assert len(PAGES) == 9
    for name in PAGES.values():
        assert (demo_site / name).is_file(), name
        assert (demo_site / name.replace(".html", ".csv")).is_file()
    index = (demo_site / "index.html").read_text(encoding="utf-8")
    assert index.count("peer-challenge group pack, 2026-27 Q2") == len(PAGES)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_every_group_pack_is_offline_error_free_and_script_free(browser, demo_site, javascript):
    names = list(PAGES.values())
    paths = [demo_site / name for name in names]
    for gid, v in zip(PAGES, visits(browser, paths, javascript, not javascript), strict=True):
        label = f"{PAGES[gid]} (JavaScript {'on' if javascript else 'off'})"
        _offline_error_free_script_free(v, label)
        page = v.page
        assert page.locator("table.rug.group").is_visible(), label
        heads = page.locator("table.rug.group thead th").count()
        assert heads == 1 + 2 * SIZES[gid] + 2, f"{label}: each LA and its SN mean, then 2"
        assert page.locator(".notes-box").count() == SIZES[gid], label


@pytest.mark.parametrize("gid", ["north-a", FAULTY])
def test_a_group_pack_is_accessible(browser, demo_site, gid):
    """No axe-core violation of any impact, with every LA's figures, and with one LA's return
    not accepted."""
    v = visit(browser, demo_site / PAGES[gid])
    try:
        _offline_error_free_script_free(v, PAGES[gid])
        found = axe_violations(v.page)
        assert found == [], f"axe-core on {PAGES[gid]}:\n{describe(found)}"
    finally:
        v.page.context.close()


def test_an_la_whose_return_was_not_accepted_is_shown_without_figures(browser, demo_site):
    v = visit(browser, demo_site / PAGES[FAULTY])
    try:
        page = v.page
        cells = page.locator("table.rug.group td.na")
        assert cells.count() > 0 and cells.first.inner_text() == "return not accepted"
        text = page.locator("main").inner_text()
        assert "Marrowgate's return for 2026-27 Q2 was not accepted" in text
        assert "Marrowgate: no evidence pack built" not in text, "its pack says why, linked"
    finally:
        v.page.context.close()


def test_every_band_cell_shows_its_letter_on_its_colour(browser, demo_site):
    v = visit(browser, demo_site / PAGES["north-c"])
    try:
        cells = v.page.locator("table.rug.group td[class^=band-]")
        assert cells.count() > 10
        for i in range(cells.count()):
            cell = cells.nth(i)
            band = cell.get_attribute("class").removeprefix("band-")
            assert cell.locator(".b").inner_text() == f"band {band}"
            background = cell.evaluate("e => getComputedStyle(e).backgroundColor")
            r, g, b = (int(x) for x in background[4:-1].split(","))
            assert f"#{r:02x}{g:02x}{b:02x}" == BAND_COLOURS[band][0]
    finally:
        v.page.context.close()


def test_printing_keeps_a_ruled_box_per_la_for_the_notes(browser, demo_site):
    v = visit(browser, demo_site / PAGES["north-c"])
    try:
        page = v.page
        page.emulate_media(media="print")
        boxes = page.locator(".notes-box")
        assert boxes.count() == SIZES["north-c"]
        for i in range(boxes.count()):
            box = boxes.nth(i)
            assert box.is_visible()
            assert box.bounding_box()["height"] > 300, "room to write, printed"
            assert box.locator(".rule").count() == NOTE_LINES
            border = box.locator(".rule").first.evaluate(
                "e => getComputedStyle(e).borderBottomStyle"
            )
            assert border == "solid", "its ruled lines print"
        assert not page.locator(".breadcrumbs").is_visible()
        pdf = page.pdf(prefer_css_page_size=True)
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pages > SIZES["north-c"], "each LA's notes on a page of its own"
    finally:
        v.page.context.close()


def test_provisional_figures_are_shown_as_such(demo_site):
    """ZL207 (Quarrington Moor) marked its latest return provisional: its column says so, and
    a note under the table says its figures may be revised."""
    page = (demo_site / PAGES["midvale-b"]).read_text(encoding="utf-8")
    assert '<th scope="col">Quarrington Moor (provisional)</th>' in page
    assert "Provisional: Quarrington Moor marked its return for 2026-27 Q2 provisional" in page
    assert "(provisional)" not in (demo_site / PAGES["midvale-a"]).read_text(encoding="utf-8")
