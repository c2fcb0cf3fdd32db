"""The significance rug: every LA x indicator, each cell its value and whether it is better,
similar or worse than England (higher, similar or lower without judgement) at the report's
level, in a word as well as a colour; cells without a comparison say why. And the regional
report's method: the level, the methods and the test-based trend."""

from __future__ import annotations

import copy
import html as html_lib
import re

import pandas as pd
import pytest

from pipeline.html.rug import (
    NO_COUNTS,
    NOT_TESTED,
    SIG_STYLES,
    significance_key,
    significance_table,
)
from pipeline.html.sections import significance_method
from tests.catalogues import catalogue
from tests.test_funnel import _text, national_report, published_report

CAT = catalogue("rereferrals_pct", "visits_pct", "cla_rate", "caseload")
COLUMNS = ["key", "indicator_id", "value", "status", "word", "benchmark"]
#: a hand-made rug: A better on re-referrals, worse on visits, higher on CLA, caseload untested;
#: B withheld (c) on re-referrals, no England figure for visits, no counts for CLA; C's return
#: not accepted; then the region and England
ROWS = [
    ("A", "rereferrals_pct", 10.0, "", "better", 20.0),
    ("A", "visits_pct", 50.0, "", "worse", 80.0),
    ("A", "cla_rate", 90.0, "", "higher", 70.0),
    ("A", "caseload", 18.0, "", "", 16.0),
    ("B", "rereferrals_pct", None, "c", "", 20.0),
    ("B", "visits_pct", 81.0, "", "", None),
    ("B", "cla_rate", 71.0, "", "", 70.0),
    ("B", "caseload", 15.0, "", "", 16.0),
    ("C", "rereferrals_pct", None, "not accepted", "", 20.0),
    ("R", "rereferrals_pct", 19.0, "", "similar", 20.0),
    ("england", "rereferrals_pct", 20.0, "", "", 20.0),
]
LAYOUT = [
    ("A", "Aldermoor", "la"),
    ("B", "Brackenford", "la"),
    ("C", "Carrowdale", "la"),
    ("R", "North Vale (region)", "comparator"),
    ("england", "England", "benchmark"),
]


def _table() -> str:
    figures = pd.DataFrame(ROWS, columns=COLUMNS)
    caption = "Significance rug, Q2: better, similar or worse than England at 95%"
    notes = {"caseload": "no count model"}
    return significance_table(LAYOUT, figures, CAT, caption, "no England figure", notes)


def _cells(markup: str) -> dict[str, list[str]]:
    """Each row's cells as a reader reads them, by row header."""
    rows = re.findall(r'<tr[^>]*><th scope="row">(.*?)</th>(.*?)</tr>', markup, re.S)
    return {
        _text(h).strip(): [_text(c).strip() for c in re.findall(r"<td.*?</td>", r)] for h, r in rows
    }


def test_each_cell_says_its_value_and_its_comparison_or_why_it_has_none():
    cells = _cells(_table())
    # the catalogue's order: Front door (re-referrals), Children in need (visits), Looked-after
    # children (CLA rate), Workforce (caseload)
    assert cells["Aldermoor"] == ["10.0% better", "50.0% worse", "90 higher", f"18.0 {NOT_TESTED}"]
    assert cells["Brackenford"] == [
        "c",
        "81.0% no England figure",
        f"71 {NO_COUNTS}",
        "15.0 not tested",
    ]
    assert cells["Carrowdale"] == ["not accepted", "–", "–", "–"]
    assert cells["North Vale (region)"][0] == "19.0% similar"
    assert cells["England: the benchmark"][0] == "20.0%"


def test_colour_is_never_the_only_signal():
    """Every coloured cell holds its word, in the colours of the key's entry for that word."""
    markup = _table()
    coloured = re.findall(r'<td style="background:(#\w+);color:(#\w+)[^"]*">(.*?)</td>', markup)
    assert len(coloured) == 4
    for bg, fg, inner in coloured:
        word = _text(inner).split()[-1]
        assert SIG_STYLES[word] == (bg, fg), word
    plain = re.findall(r'<td style="white-space:normal">.*?</td>', markup)
    assert len(plain) == 4 and "background" not in "".join(plain), "no comparison, no colour"


def test_a_withheld_figure_shows_no_number_and_no_comparison():
    markup = _table()
    cell = re.findall(r'<tr><th scope="row">Brackenford</th>(<td.*?</td>)', markup)[0]
    assert cell == '<td class="st">c</td>'


def test_the_table_is_a_captioned_labelled_region_with_headers_and_notes():
    markup = _table()
    assert markup.startswith('<div class="rug-wrap" role="region" aria-label="Significance rug"')
    assert '<table class="rug sig"><caption>Significance rug, Q2: better, similar' in markup
    assert '<th scope="col">Local authority</th>' in markup
    assert "Average caseload <small>(no count model)</small>" in markup
    assert '<tr class="comparator"><th scope="row">England: the benchmark</th>' in markup


def test_the_key_gives_each_word_its_colour_and_meaning_and_the_cells_without_one():
    key = significance_key("95%", "England", "no England figure")
    entries = re.findall(
        r'<li style="background:(#\w+);color:(#\w+)[^"]*"><strong>(\w+)</strong>', key
    )
    assert [(w, (bg, fg)) for bg, fg, w in entries] == list(SIG_STYLES.items())
    text = _text(key)
    assert "better the LA's 95% confidence interval lies wholly on the better side of " in text
    assert "similar the interval includes England's figure: the difference could be chance" in text
    for words in (
        NOT_TESTED,
        "no England figure",
        NO_COUNTS,
        "marked the benchmark",
        "c suppressed",
    ):
        assert words in text


# --------------------------------------------------------------------------- in the report


@pytest.fixture(scope="module")
def national(demo_data, tmp_path_factory):
    return national_report(demo_data, tmp_path_factory.mktemp("national"))


@pytest.fixture(scope="module")
def published(tiny, tmp_path_factory):
    return published_report(tiny, tmp_path_factory.mktemp("published"))


def test_the_regional_rug_has_its_significance_view_against_england_and_the_sn_mean(national):
    plan, report = national
    rug = str(report.rug())
    assert rug.count('<table class="rug sig">') == 2 and rug.count('<table class="rug">') == 1
    assert '<h3 id="significance-rug">Better, similar or worse than England</h3>' in rug
    assert "<details><summary>Compared with each LA's statistical neighbours' mean" in rug
    sig = rug[rug.index('<table class="rug sig">') :]
    cells = _cells(sig[: sig.index("</table>")])
    las = plan.bench["las"]
    now = las[las["period"].eq(report.period) & las["la_code"].isin(list(report.la_names))]
    for r in now.itertuples():
        if r.vs_england:
            name = report.la_names[r.la_code]
            ind = report.catalogue[r.indicator_id]
            assert f"{ind.format(r.value)} {r.vs_england}" in cells[name], (name, ind.id)
    england = cells["England (all demonstration LAs), as at 2026-27 Q2: the benchmark"]
    assert all(re.fullmatch(r"[\d.,]+%?", c) for c in england), "England's figures, untested"


def test_published_mode_says_the_rug_compares_with_dfes_published_england(published):
    _plan, report = published
    rug = _text(report.rug())
    assert "Better, similar or worse than England (DfE published)" in rug
    assert "better, similar or worse than England (DfE published) at 95%" in rug
    assert "Re-referrals (England: year to 31 March 2026)" in rug
    assert "(SN: year to 31 March 2026)" in rug
    assert "no England figure" in rug, "indicators without a published England say so"


# --------------------------------------------------------------------------- the method


def test_the_method_states_the_level_the_methods_and_the_test_based_trend(national):
    _plan, report = national
    markup = str(report.method())
    text = _text(markup)
    assert "Significance level used in this report: 95%." in text
    for item in significance_method(95.0):
        assert html_lib.escape(item) in markup, item[:40]
    assert "Wilson 1927" in text and "Spiegelhalter 2005" in text
    assert (
        "for an indicator with a count model, by the chi-squared test of the change, as above; "
        "for one without (SW vacancies, Agency SWs, SW turnover, Average caseload), by size: a "
        "change of less than 5% of the earlier figure is stable" in text
    )


@pytest.mark.parametrize("level", [95.0, 99.8])
def test_the_method_speaks_the_slices_level(national, level):
    report = copy.copy(national[1])
    report.context = {**report.context, "level": level}
    text = _text(report.method())
    assert f"Significance level used in this report: {level:g}%." in text
    assert f"better or worse when the LA's {level:g}% interval lies" in text
