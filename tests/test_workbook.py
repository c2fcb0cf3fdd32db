"""The rug as a workbook (regional-benchmark.xlsx), opened again with openpyxl as Excel would:
every LA and indicator with its number as the report shows it, its band letter in the number
format and the report's colour; withheld cells c and missing ones x; the neighbours', region's
and England's rows; the About sheet's rules, marking and provenance; the tidy Data sheet; text
that looks like a formula kept as text; the same bytes twice. Built from the tiny dataset's
slice in process (no notebook)."""

from __future__ import annotations

import copy
import io
import zipfile

import numpy as np
import openpyxl
import pytest

from pipeline.html.base import BAND_COLOURS
from pipeline.orchestration.settings import Settings
from pipeline.report.regional_workbook import ENGLAND_CODE, number_format, workbook
from tests.catalogues import catalogue
from tests.conftest import TINY_PERIODS
from tests.internals import prepare_plan
from tests.test_comparator_labels import _make_published as make_published
from tests.test_funnel import regional_report

HOSTILE = '=HYPERLINK("http://example.com/x","Aldermoor")'
MARKING = "OFFICIAL-SENSITIVE"
ABOUT = {
    "title": "North Vale: quarterly benchmarking, 2026-27 Q2",
    "banners": [(MARKING, "marking"), ("Demonstration data: every figure is made up.", "demo")],
    "facts": [
        ("Period", "2026-27 Q2"),
        ("Input SHA-256 (the files read)", "ab" * 32),
        ("Code", "tartan 0.1 (test)"),
    ],
}
#: the cells made withheld and missing in the report the tests read: (LA, indicator)
WITHHELD = ("ZL105", "rereferrals_pct")
ABSENT = ("ZL107", "cin_visits_pct")


def _tiny_report(tiny, out, published: bool = False):
    plan = prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))
    if published:
        make_published(plan)
    return regional_report(plan, TINY_PERIODS[-1], "ZR1", "North Vale")


@pytest.fixture(scope="module")
def report(tiny, tmp_path_factory):
    """The tiny dataset's regional report, with one figure withheld (c) and one missing."""
    r = copy.copy(_tiny_report(tiny, tmp_path_factory.mktemp("wb")))
    f = r.figures.copy()
    now = f["period"].eq(r.period)
    at = now & f["la_code"].eq(WITHHELD[0]) & f["indicator_id"].eq(WITHHELD[1])
    f.loc[at, ["value", "numerator", "band"]] = [np.nan, np.nan, None]
    f.loc[at, "status"] = "c"
    gone = now & f["la_code"].eq(ABSENT[0]) & f["indicator_id"].eq(ABSENT[1])
    r.figures = f[~gone]
    return r


@pytest.fixture(scope="module")
def book(report):
    return openpyxl.load_workbook(io.BytesIO(workbook(report, ABOUT)))


def _rug(book) -> tuple[dict[str, list], dict[str, int]]:
    """The Rug sheet's rows by their label (column A) and its columns by indicator short
    label."""
    ws = book["Rug"]
    rows = {str(r[0].value): list(r) for r in ws.iter_rows() if r[0].value is not None}
    heads = rows["Local authority"]
    cols = {str(c.value).split("\n")[0]: i for i, c in enumerate(heads) if i}
    return rows, cols


def _rgb(colour: str) -> str:
    return "FF" + colour.lstrip("#").upper()


def _now(report):
    return report.figures[report.figures["period"].eq(report.period)]


def test_every_la_and_indicator_has_its_number_band_letter_and_colour(report, book):
    rows, cols = _rug(book)
    themes = report.catalogue.themes
    assert list(cols) == [i.short_label for t in themes for i in report.catalogue.in_theme(t)]
    checked = 0
    for r in _now(report).itertuples():
        ind = report.catalogue[r.indicator_id]
        cell = rows[report.la_names[r.la_code]][cols[ind.short_label]]
        if r.status:
            continue
        assert cell.data_type == "n" and cell.value == round(r.value, ind.decimals)
        if ind.judged:
            bg, fg = BAND_COLOURS[r.band]
            unit = "%" if ind.unit == "percentage" else ""
            assert cell.number_format.endswith(f'"{unit} {r.band}"'), (r.la_code, ind.id)
            assert cell.fill.fgColor.rgb == _rgb(bg) and cell.font.color.rgb == _rgb(fg)
        else:  # no judgement: no band, no colour
            assert not any(b in cell.number_format for b in BAND_COLOURS)
            assert cell.fill.fill_type is None
        checked += 1
    assert checked == len(report.las) * len(report.catalogue) - 2


def test_number_formats_follow_each_indicators_unit_and_decimals():
    cat = catalogue("rereferrals_pct", "cla_rate", "caseload")
    assert number_format(cat["rereferrals_pct"]) == '#,##0.0"%"'
    assert number_format(cat["rereferrals_pct"], " A") == '#,##0.0"% A"'
    assert number_format(cat["cla_rate"]) == "#,##0"
    assert number_format(cat["cla_rate"], " D") == '#,##0" D"'
    assert number_format(cat["caseload"], " B") == '#,##0.0" B"'


def test_a_withheld_figure_is_c_and_a_missing_one_x_explained_in_the_key(report, book):
    rows, cols = _rug(book)
    withheld = rows["Elmsworth"][cols["Re-referrals"]]
    missing = rows["Greyhollow"][cols["CIN visits in time"]]
    assert (withheld.value, withheld.data_type, withheld.fill.fill_type) == ("c", "s", None)
    assert (missing.value, missing.fill.fill_type) == ("x", None)
    key = [c.value for c in rows["Key"]]
    assert key[1:5] == ["A (best)", "B", "C", "D (worst)"]
    assert "c suppressed; x not available" in key[5]
    about = dict(_about(book))
    assert about["Symbol: c"] == "suppressed (confidential)"
    assert about["Symbol: x"].startswith("not available: no figure returned")


def test_each_la_has_its_neighbours_mean_then_the_region_and_england(report, book):
    ws = book["Rug"]
    labels = [c.value for c in ws["A"] if c.value]
    names = sorted(report.la_names.values())
    start = labels.index(names[0])
    expected = [x for n in names for x in (n, f"{n}: statistical neighbours' mean")]
    expected += [label for _, label in report._comparators()]
    assert labels[start:] == expected
    assert expected[-2:] == [
        "North Vale (region), as at 2026-27 Q2",
        "England (all demonstration LAs), as at 2026-27 Q2",
    ]
    rows, cols = _rug(book)
    for r in _now(report).itertuples():
        ind = report.catalogue[r.indicator_id]
        sn = rows[f"{report.la_names[r.la_code]}: statistical neighbours' mean"]
        assert sn[cols[ind.short_label]].value == round(r.sn_mean, ind.decimals)
        assert sn[cols[ind.short_label]].fill.fill_type is None
    areas = report.areas[report.areas["period"].eq(report.period)]
    for code, label in report._comparators():
        for a in areas[areas["area_code"].eq(code)].itertuples():
            ind = report.catalogue[a.indicator_id]
            assert rows[label][cols[ind.short_label]].value == round(a.value, ind.decimals)


def test_the_rug_freezes_its_headings_and_prints_a4_landscape_with_the_marking(report, book):
    ws = book["Rug"]
    heading = next(c.row for c in ws["A"] if c.value == "Local authority")
    assert ws.freeze_panes == f"B{heading + 1}"
    assert ws.print_title_rows == f"${heading - 1}:${heading}" and ws.print_title_cols == "$A:$A"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    # fitted to one page wide (Excel's default fitToWidth, 1), as many pages tall as it needs
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.page_setup.fitToWidth in (None, 1)
    assert MARKING in ws.oddHeader.center.text and MARKING in ws.oddFooter.center.text
    assert [ws.cell(r, 1).value for r in (1, 3)] == [ABOUT["title"], MARKING]
    merged = sorted(ws.merged_cells.ranges, key=lambda m: m.min_col)
    themes = [ws.cell(m.min_row, m.min_col).value for m in merged]
    assert themes == report.catalogue.themes and {m.min_row for m in merged} == {heading - 1}
    assert ws.cell(heading, 3).value == "Re-referrals\n%, lower is better"
    assert ws.column_dimensions["A"].width > 30 and ws.column_dimensions["B"].width >= 12


def _about(book) -> list[tuple[str, str]]:
    return [(r[0].value, r[1].value) for r in book["About"].iter_rows(max_col=2) if r[1].value]


def test_the_about_sheet_states_period_comparators_rules_marking_and_provenance(report, book):
    about = _about(book)
    said = dict(about)
    assert said["Period"] == "2026-27 Q2" and said["Region"] == "North Vale (ZR1)"
    assert said["Region row"] == "North Vale (region), as at 2026-27 Q2"
    assert said["England row"] == "England (all demonstration LAs), as at 2026-27 Q2"
    assert "as at 2026-27 Q2" in said["Statistical neighbours' mean"]
    assert "quartiles of all LAs with a figure" in said["Bands"]
    assert said["Disclosure rule"] == report.context["disclosure"]
    assert said["Significance level"].startswith("95%")
    assert said["Protective marking"] == MARKING
    assert said["Notice"] == "Demonstration data: every figure is made up."
    for fact in ABOUT["facts"]:
        assert fact in about, fact
    assert said["Re-referrals"].startswith("Re-referrals within 12 months")


def test_the_data_sheet_has_every_figure_the_rug_shows_as_numbers(report, book):
    ws = book["Data"]
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == (len(report.las) + 2) * len(report.catalogue)
    last = ws.cell(len(rows) + 1, len(head)).coordinate
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == f"A1:{last}"
    by = {(r["Area code"], r["Indicator ID"]): r for r in rows}
    for r in _now(report).itertuples():
        row = by[(r.la_code, r.indicator_id)]
        ind = report.catalogue[r.indicator_id]
        assert row["Area name"] == report.la_names[r.la_code]
        assert row["Indicator"] == ind.label and row["Period"] == "2026-27 Q2"
        if not r.status:
            assert row["Value"] == round(r.value, ind.decimals)
            assert row["Band"] == (r.band if ind.judged else None)
            assert row["Rank in region"] == r.rank_region
            assert row["Compared with England"] == (r.vs_england or None)
    assert by[WITHHELD]["Value"] is None and by[WITHHELD]["Status"] == "c"
    assert by[ABSENT]["Status"] == "x"
    england = by[(ENGLAND_CODE, "rereferrals_pct")]
    assert (england["Area type"], england["Area name"]) == (
        "England",
        "England (all demonstration LAs)",
    )
    assert isinstance(england["Value"], float)


def test_text_that_looks_like_a_formula_is_kept_as_text(report):
    hostile = copy.copy(report)
    las = [dict(la) for la in report.context["las"]]
    las[0]["la_name"] = HOSTILE
    hostile.context = {**report.context, "las": las}
    about = {**ABOUT, "banners": [(HOSTILE, "marking")], "facts": [("Code", "@SUM(A1:A9)")]}
    data = workbook(hostile, about)
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = []
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    texts.append(cell.value)
    assert "'" + HOSTILE in texts  # shown as typed, after the apostrophe (as in the CSVs)
    assert all(t.startswith("'=") or not t.startswith("=") for t in texts), texts
    assert ("Code", "'@SUM(A1:A9)") in _about(book)
    assert book["Rug"].oddHeader.center.text.endswith("'" + HOSTILE.replace("&", "&&"))
    assert book.properties.description == "'" + HOSTILE


def test_the_same_report_makes_the_same_bytes(report):
    first, second = workbook(report, ABOUT), workbook(copy.copy(report), ABOUT)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "<dcterms:created" in core and "2026-09-30T00:00:00Z" in core


def test_published_comparators_put_their_dates_in_a_notes_row(tiny, tmp_path_factory):
    report = _tiny_report(tiny, tmp_path_factory.mktemp("wbp"), published=True)
    book = openpyxl.load_workbook(io.BytesIO(workbook(report, ABOUT)))
    rows, cols = _rug(book)
    notes = report._rug_notes()
    assert notes and "Note" in rows
    for ind in report.catalogue:
        assert rows["Note"][cols[ind.short_label]].value == notes[ind.id]
    assert rows["Note"][cols["Re-referrals"]].value.startswith("England, SN, band: ")
    assert "England, DfE published (latest year: see each column)" in rows
    assert book["Rug"].freeze_panes == f"B{rows['Note'][0].row + 1}"
