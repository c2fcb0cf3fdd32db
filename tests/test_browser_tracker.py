"""The returns tracker and provisional figures in a real browser, with axe-core (WCAG 2.2 AA):
first on pages written here from hand-made tracker entries (quick: no demo build), then on the
demo site, whose latest quarter has two resubmissions (ZL102 changing two figures, ZL304 one),
a late return (ZL310) and a provisional one (ZL207): the validation report's tracker, ZL102's
feedback with its versions, the index's returns table, and ZL207's pack and regional report."""

from __future__ import annotations

import re

import pytest

from pipeline.edges import demo
from pipeline.edges.render import stylesheet
from pipeline.html.validation import feedback_html, validation_html
from tests.browser import axe_violations, describe, visit
from tests.test_tracker_pages import HOSTILE, entry, not_received, resubmitted

pytestmark = pytest.mark.browser

LATEST = demo.LATEST.slug
LABEL = demo.LATEST.label
RESUBMITTED, PROVISIONAL, LATE = "ZL102", "ZL207", "ZL310"


def _accessible(browser, path, check=None) -> None:
    """No axe-core violation on the page (folded parts opened), nothing asked of the network,
    no console error; then `check(page)`."""
    v = visit(browser, path)
    try:
        assert v.other_requests == [] and v.console_errors == [], path
        if check:
            check(v.page)
        found = axe_violations(v.page)
        assert found == [], f"axe-core on {path}:\n{describe(found)}"
    finally:
        v.page.context.close()


def _validation(entries: list[dict]) -> dict:
    returns = [
        {"file": x["file"], "la_code": e["la_code"], "period": e["period"], "status": x["status"]}
        | {"errors": 0, "warnings": 0}
        for e in entries
        for x in e["versions"]
    ]
    n = len(returns)
    return {
        "summary": {"returns": n, "accepted": n, "quarantined": 0, "errors": 0, "warnings": 0},
        "contract": "la_return 1.0",
        "reporting_window": "2026-27 Q1 to 2026-27 Q2",
        "returns": returns,
        "findings": [],
        "checks": [],
    }


def test_hand_made_tracker_pages_are_accessible(browser, tmp_path):
    """The validation report's tracker and an LA's version history, from hand-made entries (a
    hostile file name among them): no violation, the tables shown, the file name as text."""
    odd = resubmitted()
    odd["versions"][1]["file"] = odd["used"] = HOSTILE
    entries = [odd, not_received(), entry("ZL107", "Cinderford", "2026-27-Q1")]
    v = _validation(entries)
    names = {"ZL101": "Aldermoor", "ZL105": "Brackenfold", "ZL107": "Cinderford"}
    (tmp_path / "feedback").mkdir()
    index = tmp_path / "index.html"
    index.write_text(validation_html(stylesheet(), [], v, "", names, tracker=entries), "utf-8")
    feedback = tmp_path / "feedback" / "ZL101.html"
    feedback.write_text(
        feedback_html(stylesheet(), [], "ZL101", "Aldermoor", v, "", tracker=entries), "utf-8"
    )

    def tracker_shown(page):
        assert page.get_by_role(
            "table", name=re.compile("Returns tracker, 2026-27 Q2")
        ).is_visible()

    def history_shown(page):
        caption = "What changed from version 1 to version 2"
        assert page.get_by_role("table", name=re.compile(caption)).is_visible()
        assert page.get_by_text(HOSTILE).first.is_visible(), "the file's name, shown as text"
        assert page.evaluate("document.querySelectorAll('script').length") == 0

    _accessible(browser, index, tracker_shown)
    _accessible(browser, feedback, history_shown)


# --------------------------------------------------------------------------- the demo site
@pytest.mark.e2e
def test_the_validation_reports_tracker_is_accessible_and_says_each_state(browser, demo_site):
    def check(page):
        table = page.get_by_role("table", name=re.compile(f"Returns tracker, {LABEL}"))
        assert table.is_visible()
        said = table.inner_text()
        for words in ("resubmitted once", "Received late", "provisional", "final"):
            assert words in said, words

    _accessible(browser, demo_site / "validation" / "index.html", check)


@pytest.mark.e2e
def test_a_resubmitting_las_feedback_shows_its_versions_and_the_two_changed_figures(
    browser, demo_site
):
    def check(page):
        versions = page.get_by_role("table", name=re.compile(f"Versions of the return for {LABEL}"))
        assert versions.is_visible()
        assert versions.locator("tbody tr").count() == 2
        changed = page.get_by_role("table", name=re.compile(r"\(2 figures changed\)"))
        assert changed.locator("tbody tr").count() == 2

    _accessible(browser, demo_site / "validation" / "feedback" / f"{RESUBMITTED}.html", check)


@pytest.mark.e2e
def test_the_index_says_each_las_state_with_one_link_a_cell(browser, demo_site):
    def check(page):
        returns = page.get_by_role("table", name=f"Local authority returns, {LABEL}")
        text = returns.inner_text()
        assert "resubmitted once (2 figures changed)" in text
        assert "Received late" in text and "provisional figures" in text
        most = page.evaluate(
            "Math.max(...Array.from(document.querySelectorAll('td')).map("
            "td => td.querySelectorAll('a').length))"
        )
        assert most <= 1, "one link a cell (WCAG 2.2 target size)"

    _accessible(browser, demo_site / "index.html", check)


@pytest.mark.e2e
def test_provisional_figures_are_marked_in_the_pack_and_the_regional_report(browser, demo_site):
    region = demo.REGIONS[1][0]  # ZL207's

    def pack(page):
        assert page.get_by_text("These figures are provisional").is_visible()

    def regional(page):
        rug = page.locator("table.rug:not(.sig)")
        assert "(provisional)" in rug.inner_text()
        assert page.get_by_text("after a name: the LA has marked its figures").is_visible()

    folder = demo_site / LATEST / region
    _accessible(browser, folder / PROVISIONAL / "self-assessment.html", pack)
    _accessible(browser, folder / "regional-benchmark.html", regional)
