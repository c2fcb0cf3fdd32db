"""The self-assessment evidence pack's sections (``pipeline.report.pack`` chooses what they
show): the headline, the evidence statements, the questions, the scorecard, the returns in the
annex and the method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from pipeline.html.base import esc
from pipeline.html.rug import NO_COUNTS, NOT_TESTED, SIG_STYLES
from pipeline.html.sections import (
    BAND_RULE,
    RANK_RULE,
    disclosure_item,
    items,
    significance_method,
)


class ScorecardRow(NamedTuple):
    """A scorecard row, each cell as shown."""

    label: str
    #: value, its interval, previous quarter, same quarter last year, SN mean, SN median,
    #: region, England
    figures: Sequence[str]
    #: against England, the region and the SN mean: better, similar, worse, higher, lower,
    #: not compared (blank: no figure)
    versus: Sequence[str]
    #: rank in England, rank in region
    ranks: Sequence[str]
    band: str
    unbanded: str  # what stands in an unbanded cell
    trend: str  # in words
    note: str  # under the label: what its comparators are as at, when not the quarter


#: the comparisons' words and what each means, in the key (the colours are the significance
#: rug's, and the word is always in the cell)
COMPARISON_WORDS = {
    "better": "the interval lies wholly on the better side of the benchmark's figure: a "
    "difference unlikely to be chance",
    "similar": "the interval includes the benchmark's figure: the difference could be chance",
    "worse": "the interval lies wholly on the worse side",
    "higher": "no judgement: the interval lies wholly above",
    "lower": "no judgement: the interval lies wholly below",
}
#: what a comparison's cell says when its benchmark has no figure
NO_ENGLAND, NO_REGION, NO_SN = "no England figure", "no region figure", "no SN mean"
#: a figure without a comparison, and why
UNCOMPARED = {
    NOT_TESTED: "the indicator has no count model (a mean caseload, or staff counted in "
    "full-time equivalents), so no interval: compare it by size",
    NO_COUNTS: "the figure came without its numerator and denominator",
}


def _title(la_name: str, period_label: str) -> str:
    return f"<h1>{esc(la_name)}: self-assessment evidence pack, {esc(period_label)}</h1>"


#: the member briefing beside every pack (``pipeline.report.briefing``)
BRIEFING = "member-briefing.html"


def _back(href: str, region_name: str, period_label: str) -> str:
    """The link back to the region's report, and to the pack's member briefing."""
    return (
        f'<p>Part of <a href="{esc(href)}">{esc(region_name)}: quarterly '
        f"benchmarking, {esc(period_label)}</a>. For lead members and scrutiny chairs: the "
        f'<a href="{BRIEFING}">member briefing</a>, in plain English on two pages.</p>'
    )


def headline(
    la_name: str,
    period_label: str,
    region: tuple[str, str],
    england: str,
    neighbours: bool,
    points: list[str],
    published: bool = False,
    provisional: bool = False,
) -> str:
    """The title, the lede and its points; `region`: the region's name and its report's href;
    `neighbours`: whether the LA has statistical neighbours to compare with; `published`:
    whether England, the neighbours and the bands are DfE's published figures; `provisional`:
    whether the LA marked its figures provisional (a notice under the title says so)."""
    region_name, href = region
    when = (
        f", {esc(la_name)}'s and the region's figures as at {esc(period_label)}; England, "
        "the neighbours' mean and median and the bands are DfE's published figures of each "
        "indicator's latest year, dated beside each"
        if published
        else f", every figure as at {esc(period_label)}"
    )
    return (
        f"{_title(la_name, period_label)}{provisional_notice(la_name) if provisional else ''}"
        f'<p class="lede">{esc(la_name)} against '
        f"{'its statistical neighbours, ' if neighbours else ''}"
        f"{esc(region_name)} and {esc(england)}{when}.</p>"
        f'<ul class="lede">{items(points)}</ul>{_back(href, region_name, period_label)}'
    )


def provisional_notice(la_name: str) -> str:
    """The notice at the top of a pack whose figures the LA marked provisional."""
    return (
        '<p class="lede notice" role="note"><strong>These figures are provisional: '
        f"{esc(la_name)} may revise them.</strong> The reports use them until its final "
        "return replaces them.</p>"
    )


def headline_without_figures(
    la_name: str, period_label: str, region: tuple[str, str], why: str, feedback: str | None
) -> str:
    """The title and why there are no figures; `feedback`: the LA's validation page, if any."""
    region_name, href = region
    link = (
        f' <a href="{esc(feedback)}">Read what validation found in {esc(la_name)}\'s return</a>.'
        if feedback
        else ""
    )
    return (
        f'{_title(la_name, period_label)}<p class="lede notice">{esc(why)}{link}</p>'
        f"{_back(href, region_name, period_label)}"
    )


def evidence(groups: Sequence[tuple[str, str, list[str], str]]) -> str:
    """The evidence statements: per group (anchor, heading with its count, statements, what
    to say when there are none)."""
    parts = []
    for key, heading, texts, none in groups:
        body = f"<ul>{items(texts)}</ul>" if texts else f"<p>{esc(none)}</p>"
        parts.append(f'<h3 id="{key}">{esc(heading)}</h3>{body}')
    return f'<div class="narrative">{"".join(parts)}</div>'


def questions(development: list[str], strengths: list[str]) -> str:
    """The questions for peer challenge, about areas for development and about strengths, each
    group under a heading of its own."""
    if not development and not strengths:
        return (
            "<p>No indicator meets the rules for an area for development or a strength, so no "
            "question is generated. The moderator may still ask how the LA knows its figures "
            "will hold.</p>"
        )
    groups = []
    for key, heading, texts, none in (
        ("development", "About areas for development", development, "No area for development"),
        ("strengths", "About strengths", strengths, "No strength"),
    ):
        body = (
            f'<ol class="questions">{items(texts)}</ol>'
            if texts
            else f"<p>{none} meets the rules, so there is no question about one.</p>"
        )
        groups.append(f'<h3 id="questions-{key}">{heading} ({len(texts)})</h3>{body}')
    return (
        "<p>For the moderating LA: a question about each area for development and each "
        "strength, and about related figures read together, each quoting the figures it rests "
        f"on.</p>{''.join(groups)}"
    )


def comparison_key(
    level: float,
    against: str = "England, the region and the SN mean",
    missing: Sequence[str] = (NO_ENGLAND, NO_REGION, NO_SN),
) -> str:
    """What 'better', 'similar' and 'worse' than a benchmark mean, at `level` (95 or 99.8),
    and why a figure has no comparison; `against`: the benchmarks the table compares with,
    `missing`: what its cells say when one has no figure."""
    words = "".join(
        f"<li{_sig_style(w)}><strong>{esc(w)}</strong> {esc(t)}</li>"
        for w, t in COMPARISON_WORDS.items()
    )
    none = {" or ".join(missing): "there is nothing to compare with"}
    why = "; ".join(f"<strong>{esc(w)}</strong> {esc(t)}" for w, t in (UNCOMPARED | none).items())
    return (
        f'<p id="comparison-key">Compared with {esc(against)}: whether the local authority\'s '
        f"{level:g}% confidence interval lies above or below the benchmark's figure (see How "
        f'the figures are made).</p><ul class="key" aria-label="Comparison key">{words}</ul>'
        f"<p>Cells without a comparison say why: {why}.</p>"
    )


def _sig_style(word: str) -> str:
    """A comparison's colours, as the significance rug gives them (none for other words)."""
    if word not in SIG_STYLES:
        return ""
    bg, fg = SIG_STYLES[word]
    return f' style="background:{bg};color:{fg};print-color-adjust:exact"'


def scorecard(theme: str, period_label: str, head: list[str], rows: list[ScorecardRow]) -> str:
    """A theme's scorecard: each indicator against every comparator, with its interval, the
    comparisons, its ranks, band and trend; `head`: the sixteen column headings."""
    body = []
    for r in rows:
        small = f"<br><small>{esc(r.note)}</small>" if r.note else ""
        cells = [
            f'<th scope="row">{esc(r.label)}{small}</th>',
            *(f'<td class="num">{esc(x)}</td>' for x in r.figures),
            *(_versus_cell(x) for x in r.versus),
            *(f'<td class="num">{esc(x)}</td>' for x in r.ranks),
            f'<td class="band-{esc(r.band)}"><strong>{esc(r.band)}</strong></td>'
            if r.band
            else f"<td>{r.unbanded}</td>",
            f"<td>{esc(r.trend)}</td>",
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    numeric = [False, *[True] * 8, *[False] * 3, True, True, False, False]
    heads = "".join(
        f'<th scope="col"{" class=num" if n else ""}>{esc(h)}</th>'
        for h, n in zip(head, numeric, strict=True)
    )
    return (
        '<div class="table-wrap" role="region" tabindex="0" '
        f'aria-label="{esc(theme)} scorecard">'
        f'<table class="tartan-table scorecard"><caption>{esc(theme)}: scorecard, '
        f"{esc(period_label)} (blank: no figure)</caption><thead><tr>{heads}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _versus_cell(word: str) -> str:
    """A comparison's cell: its word, coloured as the significance rug colours it."""
    return f'<td class="vs"{_sig_style(word)}>{esc(word)}</td>'


def annex_returns(
    period_label: str, la_name: str, returns: list[dict], feedback: str | None
) -> str:
    """The LA's returns for the period in the annex: each file, its outcome, what validation
    found and the LA's own notes; `returns`: dicts with file, state, counts (in words),
    findings and notes (each a line of text)."""
    heading = f"<h3>Returns for {esc(period_label)}</h3>"
    if not returns:
        return f"{heading}<p>No return was received from {esc(la_name)}.</p>"
    lines = []
    for r in returns:
        found, notes = items(r["findings"]), items(r["notes"])
        lines.append(
            f"<li><code>{esc(r['file'])}</code>: {esc(r['state'])}, {esc(r['counts'])}"
            + (f"<ul>{found}</ul>" if found else "")
            + (
                f"<p>Notes from {esc(la_name)} on this return, as written:</p><ul>{notes}</ul>"
                if notes
                else ""
            )
            + "</li>"
        )
    return f"{heading}<ul>{''.join(lines)}</ul>" + (
        f'<p><a href="{esc(feedback)}">Validation feedback for {esc(la_name)}, '
        f"{esc(period_label)}</a></p>"
        if feedback
        else ""
    )


def method(
    la: tuple[str, str, str],
    why: str | None,
    england: str,
    worsening_periods: int,
    disclosure: str | None,
    catalogue_version: str,
    published: Sequence[str] = (),
    level: float = 95.0,
) -> str:
    """How the figures are made. `la`: the LA's name, the period and the data contract;
    `why`: why the LA has no figures (None when its return was accepted);
    `worsening_periods`: the quarters of worsening that make an area for development;
    `published`: the items on DfE's published comparators, when it has them; `level`: the
    confidence level of the intervals shown, the comparisons and the tests."""
    comparators = (
        items(published) + "<li>SN mean and median: of the published figures of the LA's "
        "statistical neighbours (DfE's model, listed in the profile), wherever they are; "
        "neighbours without a published figure are left out.</li>"
        if published
        else "<li>SN mean and median: of the figures of the LA's statistical neighbours (DfE's "
        "model, listed in the profile) for the same quarter; neighbours without a figure are "
        f"left out (see the annex). The region and {esc(england)} are the sum of "
        "numerators over the sum of denominators of their LAs with figures.</li>"
    )
    return (
        "<ul>"
        + _method_data(*la, why)
        + comparators
        + f"<li>{esc(BAND_RULE)} {esc(RANK_RULE)}</li>"
        + f"<li>Confidence level: {level:g}%. The scorecards show each figure's {level:g}% "
        "interval and whether it is better, similar or worse than England, the region and the "
        "SN mean at that level; the figures CSV has every figure's interval at 95% and "
        "99.8%.</li>"
        + items(significance_method(level, funnels=False))
        + "<li>A figure without a count model keeps the rule by size: its trend (the latest "
        "figure against the figure three quarters earlier) is stable when it changed by less "
        "than 5% of the earlier figure, else improving or worsening.</li>"
        "<li><strong>Strength</strong>: an indicator where higher or lower is better that is "
        "in band A, or is improving (significantly, by the chi-squared test over four "
        "quarters) and significantly better than the SN mean, and is not an area for "
        "development. A figure that cannot be tested is judged by size, and says so.</li>"
        "<li><strong>Area for development</strong>: an indicator in band D, or one that got "
        f"worse in each of the last {worsening_periods} quarters or more, and significantly "
        "worse in all than at the start of that run (the chi-squared test of the change; by at "
        "least 5% of its figure at the start for a figure that cannot be tested).</li>"
        "<li><strong>Changes since the previous quarter</strong>: figures whose change is "
        "significant by the chi-squared test (an improvement or a deterioration; a rise or "
        "fall where there is no judgement), or of 5% or more of the previous figure (a rise "
        "or fall that could be chance, or by size for a figure that cannot be tested); and "
        "figures that changed band, or gained or lost their figure. A figure on a handful of "
        "children has a wide interval, so it is rarely significantly different: the test "
        "takes the place of a note on small counts.</li>"
        "<li><strong>Questions</strong>: one for each area for development and each strength, "
        "and one for each pair of related figures the questions bank reads together; each "
        "quotes its figures and closes with a question from the bank, none twice.</li>"
        + disclosure_item(disclosure)
        + f"<li>Indicator catalogue version {esc(catalogue_version)}.</li>"
        "</ul>"
    )


def _method_data(la_name: str, period_label: str, contract: str, why: str | None) -> str:
    """The method's first line: where the LA's figures come from, or why it has none."""
    if why is None:
        return (
            f"<li>{esc(la_name)}'s figures are as returned for "
            f"{esc(period_label)} and accepted by validation against the data contract "
            f"{esc(contract)}.</li>"
        )
    return f"<li>{esc(why)} Returns are checked against the data contract {esc(contract)}.</li>"
