"""The regional benchmarking report's sections (``pipeline.report.regional`` chooses what they
show): the headline, the packs' links, the priorities, the first-period note and the method."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from pipeline.html.base import esc
from pipeline.html.group import group_links
from pipeline.html.sections import BAND_RULE, RANK_RULE, disclosure_item, items, lede_list

#: a priority's status -> (background, text colour), as the report's stylesheet shows them
RAG_COLOURS = {
    "green": ("#cce2d8", "#005a30"),
    "amber": ("#fff7bf", "#594d00"),
    "red": ("#f4cdc6", "#942514"),
    "no data": ("#ffffff", "#505a5f"),
}


class Chart(NamedTuple):
    """A chart as the report and its slide deck show it: its figure's id, its title, its SVG
    (as drawn), the description that says what it shows, and its figures as a table
    (markup)."""

    fig_id: str
    title: str
    svg: str
    desc: str
    table: str


class ThemeCharts(NamedTuple):
    """A theme's charts in a regional report: its trend chart (None in the first period
    held) and its ranking chart."""

    theme: str
    slug: str
    trend: Chart | None
    ranking: Chart


def headline(
    region_name: str,
    period_label: str,
    counts: tuple[int, int, int, int],
    rejected: Sequence[str],
    missing: Sequence[str],
    summary: list[str],
) -> str:
    """The title and lede; `counts`: LAs with a return accepted, LAs in the region, figures
    and indicators; `rejected` and `missing`: the names of LAs whose return was not accepted
    or not received; `summary`: the narrative's headline points."""
    parts = lede(period_label, counts, rejected, missing, esc)
    return (
        f"<h1>{esc(region_name)}: quarterly benchmarking, {esc(period_label)}</h1>"
        f'<p class="lede">{" ".join(parts)}</p>' + lede_list(summary) + _downloads()
    )


def lede(
    period_label: str,
    counts: tuple[int, int, int, int],
    rejected: Sequence[str],
    missing: Sequence[str],
    quote: Callable[[str], str] = str,
) -> list[str]:
    """The headline's sentences (see `headline`), names and the period written by `quote`
    (`esc` for the page; as they are for a slide)."""
    accepted, las, valued, indicators = counts
    parts = [
        f"{accepted} of {las} local authorities in the region had a return "
        f"accepted for {quote(period_label)}, giving {valued:,} figures across "
        f"{indicators} indicators."
    ]
    if len(rejected):
        names = ", ".join(quote(n) for n in rejected)
        parts.append(
            f"Return not accepted for this period: {names}. Their figures are shown as "
            "'not accepted' rather than using older or partial data."
        )
    if len(missing):
        parts.append(f"No return received from: {', '.join(quote(n) for n in missing)}.")
    return parts


def _downloads() -> str:
    """Links to the files published beside the report (``RegionalBenchmark.ARTEFACTS``)."""
    return (
        '<p class="downloads">Also for the meeting: '
        '<a href="regional-benchmark.xlsx">the rug as a workbook (Excel, XLSX)</a> and '
        '<a href="regional-benchmark.pptx">slides of the quarter (PowerPoint, PPTX)</a>.</p>'
    )


def packs(
    links: Sequence[tuple[str, str | None, str]], groups: Sequence[dict] = (), period_label=""
) -> str:
    """A link to each LA's self-assessment evidence pack: (name, href, words after the link),
    href None for a pack that failed; then the region's peer-challenge group packs built
    (``pipeline.html.group.group_links``); nothing when there are none."""
    lines = []
    for name, href, words in links:
        if href:
            lines.append(f'<li><a href="{esc(href)}">{esc(name)}</a>{esc(words)}</li>')
        else:
            lines.append(f"<li>{esc(name)}: not built (it failed; see the index)</li>")
    items = "".join(lines)
    if not items and not groups:
        return ""
    return (
        '<h2 id="packs">Self-assessment evidence packs</h2>'
        "<p>Each local authority's figures against its statistical neighbours, the region "
        "and England, with its strengths, areas for development and questions for peer "
        f'challenge.</p><ul class="packs">{items}</ul>' + group_links(groups, period_label)
    )


def priorities(region_name: str, source: str, period_label: str, items: list[dict]) -> str:
    """Each regional priority as red / amber / green, with its rule stated beside it.

    `items`: the priorities' records (``pipeline.core.priorities``); `source`: their file."""
    source = esc(source)
    if not items:
        return (
            f"<p>No priorities are set for {esc(region_name)} in {source}. "
            "A region's benchmarking group adds its priorities there.</p>"
        )
    rows = [_priority_row(it) for it in items]
    head = "".join(
        f'<th scope="col">{esc(h)}</th>'
        for h in (
            "Priority",
            "Status",
            f"Region, as at {period_label}",
            "Target",
            "Trend (against 3 quarters earlier)",
            "LAs meeting the target",
            "Rule",
        )
    )
    return (
        f"<p>The priorities agreed for {esc(region_name)} (set in {source}), each "
        "judged on the region's own figure (sum of numerators over sum of denominators) "
        f"as at {esc(period_label)}. The status is written as well as coloured.</p>"
        f'<table class="tartan-table priorities"><caption>Regional priorities, '
        f"{esc(period_label)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _priority_row(it: dict) -> str:
    status = it["status"]
    trend = it["trend"] or "no trend yet"
    return (
        "<tr>"
        f'<th scope="row">{esc(it["title"])}<br><small>{esc(it["indicator"])}</small></th>'
        f'<td><span class="rag rag-{esc(status.replace(" ", "-"))}">'
        f"{esc(status.capitalize())}</span></td>"
        f'<td class="num">{esc(it["value_text"])}</td>'
        f'<td class="num">{esc(it["target_text"])}</td>'
        f"<td>{esc(trend)}</td>"
        f'<td class="num">{it["las_meeting"]} of {it["las_with_value"]}</td>'
        f"<td>{esc(it['rule'])}</td>"
        "</tr>"
    )


def significance(level: str, benchmark: str, table: str, key: str, sn_table: str) -> str:
    """The significance rug under its own heading: its table against `benchmark` (e.g.
    'England') at `level` (e.g. '95%') and its key, then the same against each LA's SN mean,
    folded away."""
    return (
        f'<h3 id="significance-rug">Better, similar or worse than {esc(benchmark)}</h3>'
        f"<p>The rug again, each figure judged by its {esc(level)} confidence interval: "
        f"better or worse than {esc(benchmark)} only when the interval lies wholly on one "
        "side of its figure, otherwise similar: the difference could be chance. A small LA's "
        "figure can differ by several points and still be similar; a large LA's by less and "
        "be better or worse. The word is in every cell; the colours follow it.</p>"
        + table
        + key
        + "<details><summary>Compared with each LA's statistical neighbours' mean</summary>"
        "<p>The same test against the mean of each LA's statistical neighbours (under each "
        "LA in the quartile rug): <strong>no SN mean</strong> none of its neighbours has a "
        f"figure.</p>{sn_table}</details>"
    )


def funnels_heading(theme: str, slug: str, links: Sequence[tuple[str, str]]) -> str:
    """The heading of a theme's funnel plots and a sentence linking to each (id, title)."""
    refs = ", ".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t in links)
    return f'<h4 id="funnels-{esc(slug)}">{esc(theme)}: funnel plots against England</h4>' + (
        f"<p>Each LA against England's control limits: {refs}.</p>" if links else ""
    )


def first_period(label: str, noun: str) -> str:
    """Where a theme's trend chart would be, when the period is the first held."""
    return (
        f'<p class="no-chart">No trend chart: {esc(label)} is the first '
        f"{noun} held, so there is nothing yet to compare it with. The "
        f"{noun}'s figures are in the rug and the ranking chart.</p>"
    )


def method(
    period_label: str,
    contract: str,
    england: str,
    disclosure: str | None,
    catalogue_version: str,
    published: Sequence[str] = (),
    significance: Sequence[str] = (),
    level: str = "95%",
    untested: Sequence[str] = (),
) -> str:
    """How the figures are made, for a regional report from LA returns; `published`: the
    items on DfE's published comparators (``sections.published_method``), when it has them;
    `significance`: the items on intervals, comparisons and tests
    (``sections.significance_method``) at `level`; `untested`: the indicators without a count
    model, whose trend is still judged by the size of the change."""
    comparators = (
        items(published)
        + "<li>Statistical neighbours: each LA's 10 most similar LAs (DfE's model), wherever "
        "they are. The rug shows the <strong>mean</strong> of their published figures; the "
        "median is in the figures CSV. Neighbours without a published figure are left out.</li>"
        if published
        else f"<li>The region and {esc(england)} are as at {esc(period_label)}, "
        "computed as the sum of numerators over the sum of denominators of the LAs with "
        "figures (not an average of rates).</li>"
        "<li>Statistical neighbours: each LA's 10 most similar LAs (DfE's model). The rug "
        "shows the <strong>mean</strong> of the neighbours' figures for the same period; the "
        "median is in the figures CSV. Neighbours without a figure (suppressed, missing or "
        "not accepted) are left out.</li>"
    )
    return (
        "<ul>"
        f"<li>Local authority figures are as returned for {esc(period_label)} and "
        "accepted by validation against the data contract "
        f"{esc(contract)}.</li>" + comparators + f"<li>{esc(BAND_RULE)}</li>"
        f"<li>{esc(RANK_RULE)}</li>"
        f"<li>Significance level used in this report: {esc(level)}. Better, similar or "
        "worse, and improving or worsening, are judged at this level; the funnel plots show "
        "both the 95% and the 99.8% limits.</li>"
        + items(significance)
        + "<li>Trend compares the latest figure with the figure three quarters earlier (four "
        "quarters in all): for an indicator with a count model, by the chi-squared test of "
        "the change, as above"
        + (
            f"; for one without ({esc(', '.join(untested))}), by size: a change of less "
            "than 5% of the earlier figure is stable, otherwise improving or worsening by "
            "polarity (rising or falling where there is no judgement)"
            if untested
            else ""
        )
        + ".</li>"
        "<li>Biggest improvements and deteriorations: LA figures whose change since the "
        f"previous quarter is significant at {esc(level)} by the chi-squared test (a figure "
        "that cannot be tested: a change of 5% or more of its previous value), the largest "
        "first measured against the national spread (the interquartile range of all LAs that "
        "quarter), so that different units compare.</li>"
        + disclosure_item(disclosure)
        + f"<li>Indicator catalogue version {esc(catalogue_version)}.</li>"
        "</ul>"
    )


def commentary(note: Mapping | None) -> str:
    """The region's own commentary on the quarter, attributed, below the generated narrative
    (`note`: ``edges.commentary.Commentary.to_json``, its body already safe HTML); '' without."""
    if not note:
        return ""
    return (
        '<section class="commentary" aria-labelledby="commentary">'
        '<h3 id="commentary">Commentary from the region</h3>'
        f'<p class="attribution">Written by {esc(note["author"])}, {esc(note["date"])}, and '
        "shown as written: these words are the authors' own, not generated from the figures "
        f"({esc(note['file'])}).</p>"
        f'<div class="commentary-body">{note["html"]}</div></section>'
    )
