"""The annual datapack's own sections (``pipeline.report.datapack`` chooses what they show; the
rug, narrative and themes are the regional report's): the headline, each LA's heading, the
published cross-check's summary and the method."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.core.crosscheck import AGREES, DIFFERS, INCOMPLETE
from pipeline.html.base import esc
from pipeline.html.sections import BAND_RULE, RANK_RULE, items, lede_list, significance_method


def headline(
    region_name: str,
    period_label: str,
    counts: tuple[int, int, int, int, int],
    years: tuple[str, str],
    summary: list[str],
    sections: Sequence[str],
) -> str:
    """The title, the lede, the narrative's headline points and links to the `sections`.

    `counts`: LAs, figures, indicators, files read and trend years; `years`: the first and
    last year the files hold."""
    las, valued, indicators, files, trend_years = counts
    first, last = years
    lede = (
        f"The {las} local authorities of {esc(region_name)} against their "
        f"statistical neighbours, the region and England in {esc(period_label)}: "
        f"{valued:,} figures across {indicators} indicators from DfE's published "
        f"statistics ({files} files, {first} to {last}), with {trend_years}-year trends."
    )
    return (
        f"<h1>{esc(region_name)}: annual datapack, {esc(period_label)}</h1>"
        f'<p class="lede">{lede}</p>'
        + lede_list(summary)
        + '<nav aria-label="Sections"><ul class="periods">'
        + "".join(f'<li><a href="#{esc(h.replace(" ", "-"))}">{esc(h)}</a></li>' for h in sections)
        + "</ul></nav>"
    )


def la_nav(las: Sequence[tuple[str, str]]) -> str:
    """Links to each LA's part of the section: (LA code, name)."""
    items = "".join(f'<li><a href="#la-{esc(code)}">{esc(name)}</a></li>' for code, name in las)
    return f'<nav aria-label="Local authorities"><ul class="packs">{items}</ul></nav>'


def la_heading(code: str, name: str) -> str:
    return f'<h3 id="la-{esc(code)}">{esc(name)} ({esc(code)})</h3>'


def crosscheck_summary(region_name: str, years: tuple[str, str], counts: Mapping[str, int]) -> str:
    """The published cross-check's counts in words, and what a difference means."""
    first, last = years
    total = sum(counts.values())
    text = (
        f"DfE publishes its own figures for {esc(region_name)} and England beside the "
        f"LA rows. Tartan added up the LA rows and compared, for {esc(first)} to "
        f"{esc(last)}: {total:,} comparisons, {counts[AGREES]:,} agree within the "
        f"publication's rounding, {counts[INCOMPLETE]:,} incomplete (some LAs' figures are "
        "withheld, so their sum falls short of DfE's total) and "
        f"<strong>{counts[DIFFERS]:,} differ</strong>."
    )
    if counts[DIFFERS]:
        text += (
            " A figure that differs means the published region or England figure does not "
            "add up from its LAs: check the file, and tell DfE if the file is as published."
        )
    return f"<p>{text}</p>"


def folded(summary: str, body: str) -> str:
    """`body` (markup) folded away under `summary`, printed all the same."""
    return f"<details><summary>{esc(summary)}</summary>{body}</details>"


def method(
    region_name: str,
    mapping: Mapping[str, str],
    sources: Sequence[Mapping],
    years: int,
    disclosure: str,
    other_dates: Sequence[tuple[str, list[str], bool]] = (),
    level: float = 95.0,
) -> str:
    """How the datapack's figures are made: `mapping` (file, version) and the `sources` read
    (file, indicators, sha256); `years`: the trend's years; `other_dates`: (date, indicators,
    earlier) for the figures as at another date than the datapack's year; `level`: the
    confidence level of the comparisons and tests."""
    files = "".join(
        f"<li><code>{esc(s['file'])}</code> ({esc(', '.join(s['indicators']))}), SHA-256 "
        f"<code>{esc(s['sha256'][:12])}</code></li>"
        for s in sources
    )
    return (
        "<ul>"
        "<li>Every figure is from DfE's published statistics, read as downloaded from "
        "Explore Education Statistics through the mapping "
        f"<code>{esc(mapping['file'])}</code> version {esc(mapping['version'])}. "
        f"Files read:<ul>{files}</ul></li>"
        "<li>Local authority figures are as DfE publishes them (LAs under their current "
        "codes; an LA's figures under an earlier code count as its own).</li>"
        f"<li>{esc(region_name)} and England are DfE's own published figures; where "
        "DfE publishes the counts but not the rate, the rate is worked out from DfE's "
        "counts; only where DfE publishes neither is it the sum of the LAs' numerators over "
        "the sum of their denominators. The areas CSV says which for each figure.</li>"
        "<li>Statistical neighbours: each LA's 10 most similar LAs in DfE's 2025 model. "
        "The mean and median are of the neighbours with a figure for the year.</li>"
        f"<li>{esc(BAND_RULE)} Polarity is LAIT's, from its dictionary.</li>"
        f"<li>{esc(RANK_RULE)}</li>"
        "<li>A jointly run service (one row in DfE's file with the codes of two LAs that run "
        "their service together): each LA of the pair shows the joint figure, marked joint. "
        "It counts once: in bands and ranks (as one LA), in the region's and England's sums "
        "(as DfE's own totals do) and among an LA's neighbours; it is not a neighbour's "
        "figure for the pair's own LAs."
        "</li>"
        + _dates_item(other_dates)
        + _significance_items(level, years)
        + "<li>Biggest improvements and deteriorations: LA figures that changed by 5% or more "
        "since the year before, the largest first measured against the national spread "
        "(the interquartile range of all LAs that year).</li>"
        f"<li>Disclosure control: {esc(disclosure)}</li>"
        "<li>Published cross-check: a rate or percentage agrees when Tartan's unrounded "
        "figure is within half a unit of DfE's last published decimal, or within the "
        "tolerance the mapping sets for the indicator (the workforce rates: 0.1, since DfE "
        "works them out from FTEs it publishes rounded); a count when it is within 5 for each "
        "published count it adds up (DfE rounds regional and national counts to the nearest "
        "10).</li>"
        "</ul>"
    )


def _significance_items(level: float, years: int) -> str:
    """The method's items on the level, intervals, comparisons and the tested trend."""
    return (
        f"<li>Confidence level: {level:g}%. Each LA's table says whether its figure is "
        "better, similar or worse than England at that level; the figures CSV has every "
        "figure's interval at 95% and 99.8%, and its comparison with England, the region and "
        "the SN mean.</li>"
        + items(significance_method(level, yearly=True))
        + f"<li>Trend is over the {years} years to the year shown, from the figure "
        f"{years - 1} years earlier. A figure without counts or a count model keeps the rule "
        "by size: a change of less than 5% of the earlier figure is stable; otherwise "
        "improving or worsening by polarity (rising or falling where there is no "
        "judgement).</li>"
    )


def other_dates(period_label: str, dates: Sequence[tuple[str, list[str], bool]]) -> str:
    """What the page says of figures as at another date than the datapack's year (nothing
    when there are none): each date and its indicators."""
    if not dates:
        return ""
    return f"<p>{_dates_text(period_label, dates)}</p>"


def _dates_item(dates: Sequence[tuple[str, list[str], bool]]) -> str:
    if not dates:
        return ""
    return f"<li>{_dates_text('the year', dates)}</li>"


def _dates_text(period_label: str, dates: Sequence[tuple[str, list[str], bool]]) -> str:
    parts = []
    for date, labels, earlier in dates:
        why = (
            " (the latest DfE has published: its file ends earlier)"
            if earlier
            else " (its own collection's date)"
        )
        parts.append(f"{esc(', '.join(labels))} as at {esc(date)}{why}")
    return (
        f"Figures are for {esc(period_label)} (the year to 31 March, or at 31 March), except: "
        + "; ".join(parts)
        + ". Each is shown as at its own date, marked in the rug and the tables; its trend and "
        "comparators are of that date."
    )
