"""The self-assessment evidence pack's sections (``pipeline.report.pack`` chooses what they
show): the headline, the evidence statements, the questions, the scorecard, the returns in the
annex and the method."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.html.base import esc
from pipeline.html.sections import BAND_RULE, RANK_RULE, disclosure_item, items

#: a scorecard row: the indicator's label, its nine figures as shown (value, previous quarter,
#: same quarter last year, SN mean, SN median, region, England, rank in England, rank in
#: region), its band, what stands in an unbanded cell, its trend in words, and a note under
#: its label (what its comparators are as at, when not the quarter; "" for none)
ScorecardRow = tuple[str, Sequence[str], str, str, str, str]


def _title(la_name: str, period_label: str) -> str:
    return f"<h1>{esc(la_name)}: self-assessment evidence pack, {esc(period_label)}</h1>"


def _back(href: str, region_name: str, period_label: str) -> str:
    """The link back to the region's report."""
    return (
        f'<p>Part of <a href="{esc(href)}">{esc(region_name)}: quarterly '
        f"benchmarking, {esc(period_label)}</a>.</p>"
    )


def headline(
    la_name: str,
    period_label: str,
    region: tuple[str, str],
    england: str,
    neighbours: bool,
    points: list[str],
    published: bool = False,
) -> str:
    """The title, the lede and its points; `region`: the region's name and its report's href;
    `neighbours`: whether the LA has statistical neighbours to compare with; `published`:
    whether England, the neighbours and the bands are DfE's published figures."""
    region_name, href = region
    when = (
        f", {esc(la_name)}'s and the region's figures as at {esc(period_label)}; England, "
        "the neighbours' mean and median and the bands are DfE's published figures of each "
        "indicator's latest year, dated beside each"
        if published
        else f", every figure as at {esc(period_label)}"
    )
    return (
        f"{_title(la_name, period_label)}"
        f'<p class="lede">{esc(la_name)} against '
        f"{'its statistical neighbours, ' if neighbours else ''}"
        f"{esc(region_name)} and {esc(england)}{when}.</p>"
        f'<ul class="lede">{items(points)}</ul>{_back(href, region_name, period_label)}'
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


def questions(texts: list[str]) -> str:
    """The questions for peer challenge, one per area for development."""
    if not texts:
        return (
            "<p>No area for development meets the rules, so no question is generated. The "
            "moderator may still ask how the LA knows its strengths will last.</p>"
        )
    return (
        f"<p>For the moderating LA: one question for each area for development, with the "
        f'figures it rests on.</p><ol class="questions">{items(texts)}</ol>'
    )


def scorecard(theme: str, period_label: str, head: list[str], rows: list[ScorecardRow]) -> str:
    """A theme's scorecard: each indicator against every comparator, with its ranks, band and
    trend; `head`: the twelve column headings."""
    body = []
    for label, figures, band, unbanded, trend, note in rows:
        small = f"<br><small>{esc(note)}</small>" if note else ""
        cells = [
            f'<th scope="row">{esc(label)}{small}</th>',
            *(f'<td class="num">{esc(x)}</td>' for x in figures),
            f'<td class="band-{esc(band)}"><strong>{esc(band)}</strong></td>'
            if band
            else f"<td>{unbanded}</td>",
            f"<td>{esc(trend)}</td>",
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    numeric = [False, *[True] * 9, False, False]
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
    rules: tuple[int, int],
    disclosure: str | None,
    catalogue_version: str,
    published: Sequence[str] = (),
) -> str:
    """How the figures are made. `la`: the LA's name, the period and the data contract;
    `why`: why the LA has no figures (None when its return was accepted); `rules`: the
    quarters of worsening that make an area for development, and the small count;
    `published`: the items on DfE's published comparators, when it has them."""
    worsening_periods, min_count = rules
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
        "<li>Trend compares the latest figure with the figure three quarters earlier: a "
        "change of less than 5% of the earlier figure is stable.</li>"
        "<li><strong>Strength</strong>: an indicator where higher or lower is better that is "
        "in band A, or is improving and better than the SN mean, and is not an area for "
        "development.</li>"
        "<li><strong>Area for development</strong>: an indicator in band D, or one that got "
        f"worse in each of the last {worsening_periods} quarters or more, by at least 5% of "
        "its figure at the start in all.</li>"
        "<li><strong>Changes since the previous quarter</strong>: figures that moved by 5% "
        "or more of the previous figure, changed band, or gained or lost their figure. "
        f"Figures resting on a count under {min_count} (children, or staff for workforce "
        "measures) say so.</li>"
        "<li><strong>Questions</strong>: one for each area for development, quoting its "
        "figures.</li>"
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
