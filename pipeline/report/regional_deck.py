"""The quarter's slide deck (regional-benchmark.pptx) from a regional report: what a
performance lead shows the assistant directors' meeting, the generated narrative in the
speaker notes. The deck is a plain model here (``pipeline.edges.slides`` makes the file); its
charts are the report's own, drawn once (``RegionalBenchmark.theme_charts``) and made PNG."""

from __future__ import annotations

from pipeline.core.vocabulary import OK
from pipeline.edges.chart_png import png
from pipeline.edges.slides import Deck, Picture, Slide, Table, build
from pipeline.html.regional import RAG_COLOURS, lede
from pipeline.html.rug import STATUS_TEXT
from pipeline.html.tracker import PROVISIONAL_MEANS

SUBJECT = "Quarterly benchmarking"


def deck(report, about: dict) -> bytes:
    """The deck for `report` (a ``RegionalBenchmark``); `about`: what its page says of itself
    (title, banners, provenance facts)."""
    banners = about.get("banners", [])
    marking = next((text for text, kind in banners if kind == "marking"), "")
    notices = [text for text, kind in banners if kind != "marking"]
    slides = [
        _cover(report, marking, notices),
        _headline(report),
        _priorities(report),
        *_themes(report),
        *_commentary(report.context.get("commentary")),
        _gaps(report),
        Slide(
            "About these figures",
            [f"{label}: {text}" for label, text in about.get("facts", [])],
            notes="How the figures are made is in the report's method section.",
        ),
    ]
    title = about.get("title") or f"{report.region_name}: {SUBJECT}, {report.period_label}"
    return build(Deck(title, SUBJECT, marking, notices, slides))


def _cover(report, marking: str, notices: list[str]) -> Slide:
    """The title slide; its notes: the method's key facts."""
    c = report.context
    facts = [
        f"Comparisons and tests are at the {report.level:g}% level.",
        "Comparators: " + "; ".join(words for _code, words in report._comparators()) + ".",
        f"Figures as returned by the LAs and accepted against the data contract {c['contract']};"
        f" indicator catalogue version {c['catalogue_version']}.",
    ]
    if c.get("disclosure"):
        facts.append(f"Disclosure control: {c['disclosure']}")
    subtitle = [f"{SUBJECT}, {report.period_label}", *filter(None, [marking]), *notices]
    return Slide(report.region_name, subtitle, notes="\n".join(facts), cover=True)


def _headline(report) -> Slide:
    """The headline figures and the narrative's summary; the whole narrative in its notes."""
    counts, rejected, missing, summary = report.headline_facts()
    text = lede(report.period_label, counts, rejected, missing)
    notes = narrative_text(report.context.get("narrative", []))
    return Slide(
        f"Headline, {report.period_label}", [*text, *(f"• {p}" for p in summary)], notes=notes
    )


def narrative_text(paragraphs: list[dict]) -> str:
    """The generated narrative as plain text: each paragraph's heading, lead and points."""
    out = []
    for para in paragraphs:
        out += [para["heading"], *filter(None, [para["lead"]])]
        out += [f"• {point}" for point in para["points"]]
        out.append("")
    return "\n".join(out).strip()


def _priorities(report) -> Slide:
    """The regional priorities as a red / amber / green table, each status in words too."""
    items = report.context.get("priorities", [])
    source = report.context.get("priorities_file", "priorities.yaml")
    title = f"Regional priorities, {report.period_label}"
    if not items:
        words = f"No priorities are set for {report.region_name} in {source}."
        return Slide(title, [words, "A region's benchmarking group adds its priorities there."])
    columns = ["Priority", "Status", f"Region, as at {report.period_label}", "Target"]
    columns += ["Trend (against 3 quarters earlier)", "LAs meeting the target", "Rule"]
    rows, fills = [], {}
    for r, it in enumerate(items):
        rows.append(
            [
                f"{it['title']}\n{it['indicator']}",
                it["status"].capitalize(),
                it["value_text"],
                it["target_text"],
                it["trend"] or "no trend yet",
                f"{it['las_meeting']} of {it['las_with_value']}",
                it["rule"],
            ]
        )
        fills[(r, 1)] = RAG_COLOURS.get(it["status"], RAG_COLOURS["no data"])
    intro = (
        f"Each priority judged on the region's own figure as at {report.period_label} (set in "
        f"{source}). The status is written as well as coloured."
    )
    table = Table(columns, rows, (3.0, 1.0, 1.2, 0.9, 1.6, 1.3, 3.4), fills)
    return Slide(title, [intro], table=table, notes=f"The priorities and their rules: {source}.")


def _themes(report) -> list[Slide]:
    """A slide per theme: its trend chart (from the second period held) and ranking chart, as
    pictures described as the report describes them; the notes say what they show."""
    out = []
    for theme, _slug, trend, ranking in report.theme_charts:
        charts = [c for c in (trend, ranking) if c]
        notes = [f"{c.title}: {c.desc}" for c in charts]
        if trend is None:
            notes.append(f"No trend chart: {report.period_label} is the first {report.noun} held.")
        notes.append(
            f"The report also has a funnel plot of each of {theme}'s indicators with a count "
            "model (every LA against England's control limits), and the figures behind every "
            "chart as tables."
        )
        notes += _points_about(report, theme)
        pictures = [Picture(png(c.svg), c.title, c.desc, _caption(c.title, theme)) for c in charts]
        out.append(Slide(theme, pictures=pictures, notes="\n".join(notes)))
    return out


def _caption(title: str, theme: str) -> str:
    """A chart's title without its theme's name, which the slide's title says."""
    words = title.removeprefix(f"{theme}: ")
    return words[:1].upper() + words[1:]


def _points_about(report, theme: str) -> list[str]:
    """The narrative's points that name one of the theme's indicators."""
    labels = [ind.label for ind in report.catalogue.in_theme(theme)]
    points = [
        point
        for para in report.context.get("narrative", [])
        if para["key"] != "summary"
        for point in para["points"]
        if any(label in point for label in labels)
    ]
    return ["From the narrative:", *(f"• {p}" for p in points)] if points else []


def _commentary(note: dict | None) -> list[Slide]:
    """The region's own commentary, attributed, shown as its text (never as markup)."""
    if not note:
        return []
    paragraphs = note["paragraphs"]  # read from its Markdown by edges.commentary.plain
    by = (
        f"Written by {note['author']}, {note['date']}: the authors' own words, not generated "
        "from the figures."
    )
    notes = (
        f"Shown as written, from {note['file']}. The generated narrative is in the notes of "
        "the headline slide."
    )
    return [Slide("Commentary from the region", [by, *paragraphs], notes=notes)]


def _gaps(report) -> Slide:
    """Who sent no return or had it not accepted, and per indicator how many LA figures are
    withheld or missing this quarter, in words."""
    counts, rejected, missing, _summary = report.headline_facts()
    label = report.period_label
    text = []
    if rejected:
        text.append(f"Return not accepted for {label}: {', '.join(rejected)}.")
    if missing:
        text.append(f"No return received for {label} from: {', '.join(missing)}.")
    if not rejected and not missing:
        text.append(f"Every local authority in the region had a return accepted for {label}.")
    las = report.las
    if "provisional" in las.columns and las["provisional"].eq(True).any():
        names = ", ".join(las.loc[las["provisional"].eq(True), "la_name"])
        text.append(f"Provisional figures for {label}: {names}. {PROVISIONAL_MEANS}")
    text += _figures_missing(report, counts[0])
    story = {p["key"]: p for p in report.context.get("narrative", [])}
    notes = narrative_text([story["gaps"]]) if "gaps" in story else ""
    return Slide(f"Data gaps, {label}", text, notes=notes)


def _figures_missing(report, accepted: int) -> list[str]:
    """Per indicator, the LA figures of accepted returns not shown this quarter, by why."""
    las = report.las[report.las["return_status"] == "accepted"]["la_code"]
    now = report.figures[report.figures["period"] == report.period]
    gaps = now[now["la_code"].isin(las) & (now["status"] != OK)]
    if gaps.empty:
        return ["Every LA with an accepted return has a figure for every indicator."]
    names, out = report.la_names, []
    for ind in report.catalogue:
        mine = gaps[gaps["indicator_id"] == ind.id]
        if mine.empty:
            continue
        why = "; ".join(
            f"{STATUS_TEXT.get(status, status)}: {', '.join(sorted(names[c] for c in codes))}"
            for status, codes in mine.groupby("status", sort=True)["la_code"]
        )
        out.append(f"• {ind.label}: {len(mine)} of {accepted} LA figures not shown; {why}.")
    return out
