"""The member briefing: a plain-English page for lead members and scrutiny chairs, made beside
an LA's self-assessment evidence pack from the pack's own slice (its figures, its region's and
England's, its assessment and the briefing's configuration), in the pack job's worker: no
notebook of its own. Words from ``pipeline.core.briefing``, markup from
``pipeline.html.briefing``."""

from __future__ import annotations

from pipeline.core import briefing as words
from pipeline.core.briefing import Measure, MeasureWords
from pipeline.core.periods import parse_slug
from pipeline.core.scorecard import value_table
from pipeline.html import briefing as markup
from pipeline.html.base import footer

#: the briefing's file, in the pack's folder (``SelfAssessmentPack.ARTEFACTS``)
FILE = "member-briefing.html"


def title(pack) -> str:
    return f"{pack.la_name}: member briefing, {pack.period_label}"


def measures(pack) -> list[MeasureWords]:
    """The briefing's measures for the pack's LA and quarter, in the configured order."""
    config = pack.context["briefing"]
    ordinal = parse_slug(pack.period).ordinal
    figures = pack.figures
    values = value_table(figures)
    now = figures[figures["period"] == pack.period]
    rows = {r["indicator_id"]: r for r in now.to_dict("records")}
    areas = pack.areas
    england = areas[(areas["area_code"] == "england") & (areas["period"] == pack.period)]
    england = dict(zip(england["indicator_id"], england["value"], strict=True))
    out = []
    for m in config["measures"]:
        measure = Measure(m["id"], m["name"], m["why"])
        ind = pack.catalogue[measure.id]
        row = rows.get(measure.id, {})
        out.append(
            words.measure_words(
                ind, measure, row, values.get(measure.id, {}), ordinal, england.get(measure.id)
            )
        )
    return out


def questions(pack) -> tuple[list[str], str]:
    """The questions a member might ask (from the pack's areas for development), and a line
    on how many more the evidence pack has ('' for none)."""
    if not pack.has_figures:
        return list(words.NO_FIGURES_QUESTIONS), ""
    development = pack.context["assessment"]["development"]
    config = pack.context["briefing"]
    # the briefing's measures first, then every other indicator (the slice's keys are sorted)
    names = {m["id"]: m["name"] for m in config["measures"]} | config["names"]
    asked, more = words.member_questions(development, names)
    if not more:
        return asked, ""
    other = "area" if more == 1 else "areas"
    return asked, f"The evidence pack lists {more} more {other} that need work."


def content(pack) -> str:
    """The briefing's main content, as the page shows it."""
    c = pack.context
    config = c["briefing"]
    glossary = [tuple(g) for g in config["glossary"]]
    links = ("self-assessment.html", "self-assessment evidence pack")
    if not pack.has_figures:
        intro = [words.no_figures(pack.la_name, pack.period_label, pack.return_status)]
        return markup.body(title(pack), intro, [], [], questions(pack), glossary, links)
    shown = measures(pack)
    rules = list(words.RULES) + ([words.PUBLISHED_NOTE] if pack.published else [])
    intro = words.intro(pack.la_name, parse_slug(pack.period), len(shown))
    if c["la"].get("provisional") is True:  # the LA marked its return provisional
        intro.append(words.PROVISIONAL)
    return markup.body(title(pack), intro, shown, rules, questions(pack), glossary, links)


def page(pack, about: dict) -> bytes:
    """The whole briefing page: the site's shell, the pack's banners and its data's facts
    (`about`: what the pack's page says of itself)."""
    from pipeline.edges.render import stylesheet

    crumbs = [
        ("All reports", "../../../index.html"),
        (f"{pack.la_name}: evidence pack, {pack.period_label}", "self-assessment.html"),
    ]
    html = markup.briefing_page(
        title(pack),
        content(pack),
        stylesheet(),
        about["banners"],
        footer(about["facts"]),
        crumbs,
    )
    return html.encode("utf-8")
