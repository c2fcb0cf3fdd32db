"""Pieces every report's sections share: figures with their tables, lede lists, the narrative,
theme headings and the note that stands where a chart or figure cannot be shown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.core.catalogue import Indicator
from pipeline.core.narrative import published_when, snapshot
from pipeline.html.base import esc


def figure(fig_id: str, title: str, image: str, desc: str, tbl: str) -> str:
    """A chart with its caption, a text description and its figures as a table.

    `image`: the chart's SVG, already labelled for assistive technology
    (``pipeline.edges.charts.labelled``); `tbl`: the figures' table."""
    return (
        f'<figure id="{esc(fig_id)}"><figcaption>{esc(title)}</figcaption>'
        f"{image}"
        f"<p>{esc(desc)}</p>"
        f"<details><summary>Show the figures: {esc(title)}</summary>{tbl}</details>"
        "</figure>"
    )


def items(texts: Iterable[str]) -> str:
    """List items, one per text."""
    return "".join(f"<li>{esc(x)}</li>" for x in texts)


def lede_list(points: list[str]) -> str:
    """A report's headline points under its lede; nothing when there are none."""
    return f'<ul class="lede">{items(points)}</ul>' if points else ""


def note(text: str) -> str:
    """What stands where a chart or figures cannot be shown, and why."""
    return f'<p class="no-chart">{esc(text)}</p>'


def paragraph(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def theme_heading(theme: str, slug: str) -> str:
    return f'<h3 id="theme-{esc(slug)}">{esc(theme)}</h3>'


def narrative(paragraphs: Iterable[Mapping]) -> str:
    """The generated narrative: each paragraph's heading, lead and points
    (``pipeline.core.narrative.Paragraph`` as a record)."""
    out = []
    for para in paragraphs:
        points = items(para["points"])
        out.append(
            f"<h3>{esc(para['heading'])}</h3><p>{esc(para['lead'])}</p>"
            + (f"<ul>{points}</ul>" if points else "")
        )
    return f'<div class="narrative">{"".join(out)}</div>'


def disclosure_item(disclosure: str | None) -> str:
    """The method's line on disclosure control, when the report states one."""
    return f"<li>Disclosure control: {esc(disclosure)}</li>" if disclosure else ""


def subsection(heading: str, body: str) -> str:
    """A section's part: its heading, then its body (markup already)."""
    return f"<h3>{esc(heading)}</h3>{body}"


#: how every report bands and ranks (``pipeline.core.benchmark``), stated in each method
BAND_RULE = (
    "Bands and ranks are worked out on each figure as published and shown, rounded to the "
    "indicator's decimals, so two LAs showing the same figure share a band and a rank. Bands "
    "are quartiles of all LAs with a figure, by R's default (type 7) quantile, as DfE's LAIT "
    "does: A is the best quarter given the indicator's polarity, D the worst; each quarter "
    "includes its upper boundary, so a figure equal to a quartile falls in the quarter below "
    "it. Indicators with no polarity are not banded."
)
RANK_RULE = (
    "Ranks: 1 is best by polarity (highest first where there is no judgement); tied figures "
    "share the lowest rank; LAs without a figure are not ranked."
)


def significance_method(level: float, yearly: bool = False, funnels: bool = True) -> list[str]:
    """The method's items on intervals, comparisons and tests (plain text), at `level` (95 or
    99.8); `yearly`: a report over years (the datapack), whose trends are tested over every
    year, not between two quarters; `funnels`: whether the report has funnel plots."""
    lv = f"{level:g}%"
    trend = (
        "Trend over the years shown: the chi-squared test for trend (Cochran 1954; Armitage "
        "1955; for rates, the Poisson score test for a linear trend), improving or worsening "
        f"only when significant at {lv}, else 'no significant change'. A change since the "
        "previous year: the chi-squared test of the change in counts, likewise."
        if yearly
        else "Trend (the latest quarter against three quarters earlier) and changes since the "
        "previous quarter or the same quarter a year earlier: the chi-squared test of the "
        f"change in counts, called an improvement or a deterioration only when significant at "
        f"{lv}, else 'no significant change'. Quarterly figures over the rolling 12 months "
        "share months, which makes the test conservative: a change it finds is larger than "
        "chance alone would make."
    )
    funnel = (
        "Funnel plots (Spiegelhalter 2005): each LA's figure against its denominator, with "
        "control limits at 95% and 99.8% around England's figure, exact binomial or Poisson "
        "limits with interpolation between counts. A point outside the 99.8% limits is "
        "unlikely to differ from England by chance. Where many LAs lie outside the limits "
        "(often for rates over whole child populations), LAs differ by more than chance alone "
        "(over-dispersion); the limits are not widened for it."
    )
    return [
        "Confidence intervals, at 95% and 99.8%: for a percentage of children, the Wilson "
        "score interval (Wilson 1927); for a rate per 10,000, the exact Poisson interval "
        "(Garwood 1936), which Byar's method (Breslow and Day 1987) approximates. Measures "
        "with no count model (average caseload, and workforce percentages counted in "
        "full-time equivalents) have no interval and are compared by size alone. Intervals "
        "for every figure are in the figures CSV.",
        f"Better, similar or worse than a benchmark (England, the region, the SN mean), at "
        f"{lv}: better or worse when the LA's {lv} interval lies wholly above or below the "
        "benchmark's figure, by polarity (higher or lower where there is no judgement); "
        "similar when the interval includes it, so the difference could be chance. The "
        "benchmark's own uncertainty is not counted, as in OHID's Fingertips.",
        trend,
        *([funnel] if funnels else []),
    ]


# --------------------------------------------------------------------------- published comparators
#: an indicator without a published counterpart, in a published-mode report
NO_PUBLISHED = "no published comparator"


def la_figure(ind: Indicator) -> str:
    """What an LA's quarterly figure of `ind` covers: 'at the quarter end' or 'over the 12
    months to the quarter end'."""
    return "at the quarter end" if snapshot(ind) else "over the 12 months to the quarter end"


def published_dates(inds: Iterable[Indicator], as_at: Mapping[str, str]) -> str:
    """Each date of the indicators' published comparators with their short labels, those
    without one last: 'year to 31 March 2025: Referrals rate, Re-referrals; no published
    comparator: Assessments in 45 days'."""
    by: dict[str, list[str]] = {}
    for ind in sorted(inds, key=lambda i: i.id not in as_at):
        when = published_when(ind, as_at[ind.id]) if ind.id in as_at else NO_PUBLISHED
        by.setdefault(when, []).append(ind.short_label)
    return "; ".join(f"{when}: {', '.join(labels)}" for when, labels in by.items())


def published_method(inds: list[Indicator], as_at: Mapping[str, str], period: str) -> list[str]:
    """The method's items on DfE's published comparators (plain text): what they are, the
    indicators without one, and where the LAs' and DfE's definitions differ."""
    out = [
        "Comparators: DfE's published statistics. England, the statistical neighbours' mean "
        "and median, and national bands and ranks are DfE's published figures of the latest "
        "year, as at each indicator's date (under each rug column and beside each figure); "
        f"bands place each LA's figure for {period}, as shown, among all LAs' published "
        "figures of that date (LAIT's quartiles), and the rank in England is its place among "
        "them. The region is the sum of numerators over the sum of denominators of its LAs' "
        f"accepted returns for {period}."
    ]
    without = [i.short_label for i in inds if i.id not in as_at]
    if without:
        out.append(
            f"No published comparator for {', '.join(without)}: no England figure; band and "
            "rank among the region's LAs with an accepted return, and the mean of the "
            "neighbours among them."
        )
    kinds: dict[tuple[str, str], list[str]] = {}
    for ind in inds:
        if ind.id in as_at:
            date = as_at[ind.id]
            dfe = f"at {date}" if snapshot(ind) else f"for the year to {date}"
            kinds.setdefault((la_figure(ind), dfe), []).append(ind.short_label)
    if kinds:
        out.append(
            "Definitions: "
            + " ".join(
                f"{', '.join(labels)}: the LAs' figures are {la}, DfE's {dfe}."
                for (la, dfe), labels in kinds.items()
            )
        )
    return out
