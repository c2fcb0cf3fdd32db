"""The packs' and the datapack's intervals, comparisons and funnel plots in a real browser (Debian's
chromium), as tests/test_browser.py opens every page: offline, error-free, script-free, no
axe-core violation, laid out on screen, and colour never the only signal. A pack of the tiny
dataset; the North East's datapack from DfE's files (the small source folder of test_ees when
they are absent)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.edges.charts import LA_COLOUR, NAMED_COLOUR
from pipeline.html.rug import SIG_STYLES
from tests.browser import axe_violations, describe, visit
from tests.conftest import PUBLIC_DATA, ROOT, TINY_PERIODS, TINY_REGION, tartan
from tests.test_browser import CHARTS
from tests.test_datapack import _count, _pixels
from tests.test_ees import small_source

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("browser-sig")]
PACK = f"{TINY_PERIODS[-1]}/{TINY_REGION}/ZL101/self-assessment.html"
WORDS = {"better", "similar", "worse", "higher", "lower"}


def _clean(v, name: str) -> None:
    assert v.other_requests == [], f"{name} asked the network for {v.other_requests}"
    assert v.console_errors == [], f"{name} logged errors: {v.console_errors}"
    assert v.page.locator("script").count() == 0, f"{name} has a script"


def _accessible(v, name: str) -> None:
    found = axe_violations(v.page)
    assert found == [], f"axe-core on {name}:\n{describe(found)}"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_a_packs_intervals_and_comparisons_on_screen(browser, tiny_site, javascript):
    """Six scorecards with the interval and three comparison columns, the key above them; every
    comparison's word is in its cell and its colour shows (JavaScript off, under the page's own
    Content-Security-Policy too)."""
    v = visit(browser, tiny_site / PACK, javascript, page_csp=not javascript)
    try:
        _clean(v, PACK)
        page = v.page
        cards = page.locator("table.scorecard")
        assert cards.count() == 6
        heads = cards.first.locator("thead th").all_inner_texts()
        assert heads[2] == "95% interval" and heads[9] == "Compared with England"
        key = page.locator("#comparison-key + ul.key")
        assert key.is_visible()
        shot = _pixels(key.screenshot())
        for word in ("better", "worse"):
            assert _count(shot, SIG_STYLES[word][0]) > 100, f"the key's {word} colour"
        cells = page.evaluate(
            """() => Array.from(document.querySelectorAll('table.scorecard td.vs')).map(
                td => [td.textContent, getComputedStyle(td).backgroundColor])"""
        )
        assert {w for w, _ in cells} >= {"better", "similar", "worse", "not tested"}
        for word, background in cells:
            if word in WORDS:  # the colour the cell asks for is the one shown
                bg = SIG_STYLES[word][0]
                rgb = f"rgb({int(bg[1:3], 16)}, {int(bg[3:5], 16)}, {int(bg[5:7], 16)})"
                assert background == rgb, (word, background)
        if javascript:
            _accessible(v, PACK)
    finally:
        v.page.context.close()


@pytest.fixture(scope="module")
def datapack_page(tmp_path_factory):
    """The North East's datapack from DfE's files; the small source's Yorkshire without them."""
    root = tmp_path_factory.mktemp("dp-browser")
    if (PUBLIC_DATA / "reference").is_dir():
        args, region = ["--source", PUBLIC_DATA, "--region", "E12000001"], "E12000001"
    else:
        source = small_source(root / "source")
        contracts = root / "contracts"
        shutil.copytree(ROOT / "data_contracts", contracts)
        shutil.copy(source / "datapack.yaml", contracts / "datapack.yaml")
        args, region = ["--source", source, "--contracts", contracts], "E12000003"
    r = tartan("datapack", *args, "--out", root / "out", "--no-progress", timeout=1200)
    assert r.returncode == 0, r.stdout + r.stderr
    return root / "out" / "datapack" / "2025" / region / "datapack.html"


def test_the_datapacks_comparisons_and_funnel_plots_on_screen(browser, datapack_page):
    """Offline and accessible; each LA's table compares with England in words; a funnel plot
    of every indicator with a count model under its theme, each drawn at a readable size with
    the region's LAs (blue diamonds) among the others (grey dots)."""
    v = visit(browser, datapack_page)
    try:
        _clean(v, datapack_page.name)
        _accessible(v, str(datapack_page))
        page = v.page
        assert page.locator("#comparison-key").is_visible()
        heads = page.locator("h3[id^=la-] ~ table thead").first.inner_text()
        assert "Compared with England" in heads
        funnels = page.evaluate(CHARTS, "funnel")
        real = (PUBLIC_DATA / "reference").is_dir()
        assert len(funnels) == (13 if real else 2)
        for i, box in enumerate(funnels, start=1):
            assert box["visible"] and box["width"] > 200 and box["height"] > 100, f"funnel {i}"
        first = page.locator('figure[id^="funnel-"] svg').first
        first.scroll_into_view_if_needed()
        shot = _pixels(first.screenshot())
        assert _count(shot, NAMED_COLOUR) > 20, "the region's LAs"
        if real:
            assert _count(shot, LA_COLOUR) > 20, "the other LAs"
    finally:
        v.page.context.close()
