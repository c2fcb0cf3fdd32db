"""The quarter's slide deck (regional-benchmark.pptx): opened again with python-pptx, its slides
in order, one per theme with the report's own charts described as the report describes them,
the narrative in the notes, the priorities as a real red / amber / green table, the region's
commentary attributed and shown as text, the protective marking, and the same bytes on a
rebuild."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from pptx import Presentation

from pipeline.edges import charts, commentary
from pipeline.edges.chart_png import png
from pipeline.edges.slides import Deck, Slide, Table, build
from pipeline.html.base import esc
from pipeline.html.regional import RAG_COLOURS
from pipeline.orchestration.settings import Settings
from pipeline.report.regional_deck import deck
from tests.conftest import TINY_PERIODS
from tests.internals import prepare_plan
from tests.test_commentary import HOSTILE, _write
from tests.test_funnel import regional_report

MARKING = "OFFICIAL-SENSITIVE"
ABOUT = {
    "title": "North Vale: quarterly benchmarking, test",
    "banners": [(MARKING, "marking"), ("Demonstration data: fictional local authorities", "demo")],
    "facts": [("Period", "2026-27 Q2"), ("Input SHA-256", "0123abcd")],
}


@pytest.fixture(scope="module")
def plan(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("deck")
    return prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))


@pytest.fixture(scope="module")
def latest(plan, tmp_path_factory):
    """The tiny region's latest quarter, with hostile commentary, and its deck."""
    report = regional_report(plan, TINY_PERIODS[-1], "ZR1", "North Vale")
    folder = tmp_path_factory.mktemp("hostile")
    note = commentary.read(_write(folder, HOSTILE), folder).to_json()
    report.context = {**report.context, "commentary": note}
    report.themes()  # as the job's worker lays the page out first
    start = time.perf_counter()
    data = deck(report, ABOUT)
    print(f"one deck: {1000 * (time.perf_counter() - start):.0f} ms")
    return report, data


def _open(data: bytes):
    return Presentation(io.BytesIO(data))


def _titles(prs) -> list[str]:
    return [slide.shapes.title.text for slide in prs.slides]


def _text(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def _slide(prs, title: str):
    return next(s for s in prs.slides if s.shapes.title.text == title)


def test_the_slides_come_in_the_meetings_order_one_per_theme(latest):
    report, data = latest
    prs = _open(data)
    label = report.period_label
    assert _titles(prs) == [
        "North Vale",
        f"Headline, {label}",
        f"Regional priorities, {label}",
        *report.catalogue.themes,
        "Commentary from the region",
        f"Data gaps, {label}",
        "About these figures",
    ]
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000), "16:9"


def test_the_title_slide_names_region_quarter_marking_and_notices(latest):
    report, data = latest
    prs = _open(data)
    cover = _text(prs.slides[0])
    for words in ("North Vale", f"Quarterly benchmarking, {report.period_label}", MARKING):
        assert words in cover
    assert "Demonstration data: fictional local authorities" in cover
    for slide in prs.slides:  # the marking heads every slide
        marks = [s for s in slide.shapes if s.name == "Protective marking"]
        assert [m.text_frame.text for m in marks] == [MARKING]
    notes = prs.slides[0].notes_slide.notes_text_frame.text
    assert "Comparisons and tests are at the 95% level." in notes
    assert f"as at {report.period_label}" in notes and "Disclosure control: " in notes


def test_every_picture_is_a_report_chart_with_its_description_as_alt_text(latest):
    report, data = latest
    prs = _open(data)
    page = str(report.themes())
    for theme, _slug, trend, ranking in report.theme_charts:
        slide = _slide(prs, theme)
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        wanted = [c for c in (trend, ranking) if c]
        assert len(pictures) == len(wanted) == 2
        for pic, chart in zip(pictures, wanted, strict=True):
            props = pic._element.nvPicPr.cNvPr
            assert props.get("descr") == chart.desc and chart.desc
            assert props.get("title") == chart.title
            assert f"<p>{esc(chart.desc)}</p>" in page, "described as the report describes it"
            assert pic.image.content_type == "image/png"
        notes = slide.notes_slide.notes_text_frame.text
        assert trend.desc in notes and ranking.desc in notes
        assert "funnel plot" in notes, "the notes say where the funnel plots are"


def test_the_charts_are_drawn_once_for_the_page_and_the_deck(latest, monkeypatch):
    report, _data = latest
    drawn = []
    monkeypatch.setattr(charts, "_render", lambda *a, **k: drawn.append(a) or "<svg/>")
    assert report.theme_charts is report.theme_charts
    deck(report, ABOUT)
    assert drawn == [], "the deck reuses the SVGs the page drew"


def test_the_first_quarter_held_has_no_trend_chart_and_says_so(plan):
    report = regional_report(plan, TINY_PERIODS[0], "ZR1", "North Vale")
    prs = _open(deck(report, {"title": "t", "banners": [], "facts": []}))
    theme = report.catalogue.themes[0]
    slide = _slide(prs, theme)
    assert [s.shape_type for s in slide.shapes].count(13) == 1, "the ranking chart alone"
    assert "No trend chart" in slide.notes_slide.notes_text_frame.text
    assert "Commentary from the region" not in _titles(prs), "no commentary, no slide"
    assert not any(s.name == "Protective marking" for s in prs.slides[0].shapes)


def test_the_headline_shows_the_figures_and_the_notes_hold_the_whole_narrative(latest):
    report, data = latest
    slide = _open(data).slides[1]
    counts, _rejected, _missing, summary = report.headline_facts()
    text = _text(slide)
    assert f"{counts[0]} of {counts[1]} local authorities in the region had a return" in text
    assert summary and all(point in text for point in summary)
    notes = slide.notes_slide.notes_text_frame.text
    for para in report.context["narrative"]:
        assert para["heading"] in notes and para["lead"] in notes
        assert all(f"• {point}" in notes for point in para["points"])


def test_the_priorities_are_a_table_each_status_in_words_and_colour(latest):
    report, data = latest
    title = f"Regional priorities, {report.period_label}"
    grids = [
        shape.table
        for slide in _open(data).slides
        if slide.shapes.title.text.startswith(title)
        for shape in slide.shapes
        if shape.has_table
    ]
    assert grids and all(g.cell(0, 0).text == "Priority" for g in grids)
    rows = [row.cells for grid in grids for row in list(grid.rows)[1:]]
    items = report.context["priorities"]
    assert items and len(rows) == len(items)
    for cells, item in zip(rows, items, strict=True):
        status = cells[1]
        assert status.text == item["status"].capitalize() in ("Red", "Amber", "Green", "No data")
        assert str(status.fill.fore_color.rgb) == RAG_COLOURS[item["status"]][0][1:].upper()
        assert item["title"] in cells[0].text and cells[6].text == item["rule"]


def test_what_does_not_fit_one_slide_continues_on_the_next():
    fills = {(r, 1): ("#f4cdc6", "#942514") for r in range(7)}
    table = Table(["A", "B"], [[f"row {r}", "Red"] for r in range(7)], (1, 1), fills)
    words = [f"Paragraph {i}: " + "word " * 60 for i in range(30)]
    prs = _open(
        build(Deck("t", "s", "", [], [Slide("T", ["intro"], table=table), Slide("W", words)]))
    )
    titles = _titles(prs)
    assert titles[:3] == ["T", "T (continued)", "T (continued)"]
    assert titles[3] == "W" and set(titles[4:]) == {"W (continued)"}
    grids = [s.table for slide in prs.slides for s in slide.shapes if s.has_table]
    assert [[row.cells[0].text for row in list(g.rows)[1:]] for g in grids] == [
        ["row 0", "row 1", "row 2"],
        ["row 3", "row 4", "row 5"],
        ["row 6"],
    ]
    assert all(str(g.cell(1, 1).fill.fore_color.rgb) == "F4CDC6" for g in grids)
    shown = [p for slide in list(prs.slides)[3:] for p in _text(slide).split("\n")]
    assert [p for p in shown if p.startswith("Paragraph")] == words


def test_commentary_is_attributed_and_shown_as_text(latest):
    _report, data = latest
    slide = _slide(_open(data), "Commentary from the region")
    text = _text(slide)
    assert "Written by Test network, 2026-11-20" in text
    assert '<script>alert("x")</script> and <b>bold</b>' in text, "literally, as written"
    assert '=HYPERLINK("http://evil.example","click")' in text
    assert "the guidance (https://www.gov.uk/x)" in text
    xml = zipfile.ZipFile(io.BytesIO(data)).read(slide.part.partname.lstrip("/")).decode()
    assert "<script" not in xml and "&lt;script&gt;" in xml
    assert "hlinkClick" not in xml, "no link to follow"


def test_commentary_is_read_from_its_markdown_as_plain_paragraphs():
    markdown = (
        "#### Our view\n\n<script>x</script> and **bold**\nwords\n\n"
        "- One\n- [Two](https://x.example)\n"
    )
    assert list(commentary.plain(markdown)) == [
        "Our view",
        "<script>x</script> and bold words",
        "• One",
        "• Two (https://x.example)",
    ]


def test_the_data_gaps_and_the_figures_provenance(latest):
    report, data = latest
    prs = _open(data)
    gaps = _text(_slide(prs, f"Data gaps, {report.period_label}"))
    now = report.figures[report.figures["period"] == report.period]
    if now["status"].eq("").all():
        assert "has a figure for every indicator" in gaps
    else:
        assert "LA figures not shown" in gaps
    assert "had a return accepted" in gaps or "No return received" in gaps
    about = _text(_slide(prs, "About these figures"))
    assert "Period: 2026-27 Q2" in about and "Input SHA-256: 0123abcd" in about


def test_provisional_figures_are_named_on_the_data_gaps_slide(latest):
    report, data = latest
    gaps = _text(_slide(_open(data), f"Data gaps, {report.period_label}"))
    assert "Provisional figures" not in gaps, "no LA of the tiny region is provisional"
    context = report.context
    first = context["las"][0]
    report.context = {
        **context,
        "las": [{**la, "provisional": la is first} for la in context["las"]],
    }
    try:
        gaps = _text(_slide(_open(deck(report, ABOUT)), f"Data gaps, {report.period_label}"))
    finally:
        report.context = context
    assert f"Provisional figures for {report.period_label}: {first['la_name']}." in gaps
    assert "may revise them" in gaps


def test_the_same_report_gives_the_same_bytes(latest, plan):
    report, data = latest
    assert deck(report, ABOUT) == data
    again = regional_report(plan, TINY_PERIODS[-1], "ZR1", "North Vale")
    again.context = report.context
    assert deck(again, ABOUT) == data, "a fresh report, drawing its charts again"
    entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert entries[0].filename == "[Content_Types].xml"
    assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}
    props = _open(data).core_properties
    assert (props.author, props.title, props.revision) == ("Tartan", ABOUT["title"], 1)
    assert props.created == props.modified and props.created.year == 1980


def test_the_report_links_its_workbook_and_slides(latest):
    report, _data = latest
    headline = str(report.headline())
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', headline))
    assert "Excel" in links["regional-benchmark.xlsx"]
    assert "PowerPoint" in links["regional-benchmark.pptx"]


def test_a_chart_picture_is_the_charts_svg_rasterised_on_white(latest):
    import vl_convert as vlc
    from PIL import Image

    chart = latest[0].theme_charts[0].trend
    ours = Image.open(io.BytesIO(png(chart.svg)))
    whole = Image.open(io.BytesIO(vlc.svg_to_png(chart.svg, scale=1.5))).convert("RGBA")
    theirs = Image.alpha_composite(Image.new("RGBA", whole.size, "white"), whole).convert("RGB")
    assert ours.mode == "RGB" and ours.size == theirs.size
    assert ours.tobytes() == theirs.tobytes(), "the page's chart, pixel for pixel, on white"
    assert png(chart.svg) == png(chart.svg)
