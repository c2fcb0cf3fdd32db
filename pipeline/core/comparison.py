"""The narrative's region against England: the regional report's paragraph on where the region
differs from England, and the datapack's indicator-by-indicator profile of the region.

The rules, stated in the reports (``pipeline.core.wording`` has the words):

- **Region against England**: the region is *better* or *worse* than England on an indicator
  only when its ``vs_england`` (``pipeline.core.significance.judge``) says so: its confidence
  interval at the chosen level lies wholly above or below England's figure. Otherwise it is
  *similar to England (the difference could be chance)*. Where the region's figure has no
  interval (no count model, or a published figure without counts) the difference is described
  by size and said not to be tested. The largest differences are listed, significant ones
  first, each relative to England's figure.
- **Profile**: every indicator of the region against England by the same rule, and against its
  own figure ``trend_steps`` periods earlier by its ``trend``: improving or worsening (rising
  or falling for a neutral indicator) only where the chi-squared test (for trend, over several
  years) finds the change significant, else *no significant change*; a figure without a test
  keeps the rule by size (within 5% of the earlier figure: stable) and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import pandas as pd

from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.periods import parse_slug
from pipeline.core.significance import BETTER, DEFAULT_LEVEL, SIMILAR, WORSE, level_name
from pipeline.core.wording import (
    CHANCE,
    better_phrase,
    by_the_test,
    cell,
    compared_word,
    england_of,
    moved,
    trend_words,
)

TOP = 3
#: how the paragraph on England introduces its points (the summary leaves it out)
LARGEST = " The largest differences, significant ones first:"


@dataclass
class Paragraph:
    """One part of the narrative: a heading, an opening sentence and the points under it."""

    key: str
    heading: str
    lead: str
    points: list[str] = field(default_factory=list)
    count: int = 0  # how many things the part found (figures moved, LAs in band D, ...)
    #: how many more changes of 5% or more it left out as not significant (could be chance)
    chance: int = 0
    #: how many of `count` were judged by size, without a test (no count model or no counts)
    untested: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def _why(inds: list[Indicator]) -> str:
    """Why a region's figures could not be tested against England."""
    kinds = {i.count_model == "none" for i in inds}
    words = {True: "no count model", False: "no interval for the region's figure"}
    return ", or ".join(words[k] for k in sorted(kinds, reverse=True))


def _rows(areas: pd.DataFrame, catalogue: Catalogue, period: str, region_code: str) -> list:
    """(indicator, region, England, relative difference, word, tested) for each judged
    indicator with both figures; word is 'better', 'worse', 'similar' or (by size, untested)
    'better', 'worse' or 'level'."""
    a = areas[(areas["period"] == period) & areas["value"].notna()]
    region = a[a["area_code"] == region_code].set_index("indicator_id")
    england = a[a["area_code"] == "england"].set_index("indicator_id")["value"]
    rows = []
    for ind in catalogue:
        if not ind.judged or ind.id not in region.index or ind.id not in england.index:
            continue
        r, e = float(region.at[ind.id, "value"]), float(england[ind.id])
        vs = cell(region.at[ind.id, "vs_england"]) if "vs_england" in region.columns else ""
        word, tested = compared_word(ind, vs, r - e)
        if r == e and not tested:
            word = "level"
        rel = (r - e) / abs(e) if e else math.inf if r != e else 0.0
        rows.append((ind, r, e, rel, word, tested))
    return rows


def _england_lead(rows: list, label: str, region_name: str, against: str, level: float) -> str:
    """'As at Q2, Northmoor was significantly better than England on 2 and significantly worse
    on 1 of the 6 indicators ...; similar on 3 ...; 1 could not be tested ...'."""

    def n(word: str, tested: bool) -> int:
        return sum(1 for t in rows if t[4] == word and t[5] is tested)

    untested = [t[0] for t in rows if not t[5]]
    tested = len(rows) - len(untested)
    by_size = f"better on {n(BETTER, False)} and worse on {n(WORSE, False)}" + (
        f", and level on {same}" if (same := n("level", False)) else ""
    )
    if not tested:
        return (
            f"As at {label}, none of the {len(rows)} indicators where higher or lower is better "
            f"could be tested against {against} ({_why(untested)}): by size, {region_name} was "
            f"{by_size}."
        )
    lead = (
        f"As at {label}, {region_name} was significantly better than {against} on "
        f"{n(BETTER, True)} and significantly worse on {n(WORSE, True)} of the {tested} "
        "indicators where higher or lower is better"
        + (" that could be tested" if untested else "")
        + " (at "
        f"{level_name(level)}%: the region's confidence interval excludes England's figure)"
    )
    if similar := n(SIMILAR, True):
        lead += f", and similar on {similar} ({CHANCE})"
    if untested:
        lead += f"; {len(untested)} could not be tested ({_why(untested)}): by size, {by_size}"
    return lead + "."


def region_against_england(
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    region_name: str,
    england_name: str = "England",
    top: int = TOP,
    as_at: Mapping[str, str] | None = None,
    level: float = DEFAULT_LEVEL,
) -> Paragraph:
    """Where the region's figure differs from England's (judged indicators only): better or
    worse only where significant at `level`, else similar.

    `areas` has area_code ('england' for England), period, indicator_id, value and (the
    region's rows) vs_england; `as_at`: indicator id -> the date of England's published figure
    (published comparators), said beside each.
    """
    as_at = as_at or {}
    rows = _rows(areas, catalogue, period, region_code)
    against = (
        "England's published figures (DfE, each indicator's latest year; dates in the rug)"
        if as_at
        else england_name
    )
    lead = _england_lead(rows, parse_slug(period).label, region_name, against, level)
    significant = (BETTER, WORSE)
    biggest = sorted(
        (t for t in rows if t[1] != t[2]),
        key=lambda t: (not (t[5] and t[4] in significant), -abs(t[3]), t[0].label),
    )[:top]
    points = []
    for ind, r, e, rel, word, tested in biggest:
        rel_text = "" if math.isinf(rel) else f" ({abs(rel) * 100:.0f}%)"
        text = (
            f"{ind.label}: {ind.with_unit(r)} in the region against {ind.with_unit(e)} in "
            f"{england_of(ind, as_at, england_name)}, {ind.difference(r - e)}{rel_text} "
            f"{'higher' if r > e else 'lower'}: "
        )
        if not tested:
            text += f"{word} by size, not tested ({_why([ind])}; {better_phrase(ind)})."
        elif word == SIMILAR:
            text += f"similar to {england_name} ({CHANCE})."
        else:
            text += f"significantly {word} ({better_phrase(ind)})."
        points.append(text)
    if points:
        lead += LARGEST
    return Paragraph("england", f"{region_name} against {england_name}", lead, points)


def _against_england(ind: Indicator, r: float, e: float, vs: str, england_name: str) -> str:
    """', 2.0 percentage points higher than England (20.0%), significantly worse' (or ':
    similar (the difference could be chance)', or by size and not tested)."""
    if r == e:
        return f", the same as {england_name}"
    text = (
        f", {ind.difference(r - e)} {'higher' if r > e else 'lower'} than "
        f"{england_name} ({ind.with_unit(e)})"
    )
    word, tested = compared_word(ind, vs, r - e)
    if not tested:
        judged = f", {word} by size" if ind.judged else ""
        return text + f"{judged}; {_why([ind])}, so not tested"
    if word == SIMILAR:
        return text + f": similar ({CHANCE})"
    return text + (f", significantly {word}" if ind.judged else ", a significant difference")


def region_profile(
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    region_name: str,
    england_name: str,
    trend_steps: int,
    level: float = DEFAULT_LEVEL,
) -> Paragraph:
    """Every indicator of the region against England, and against its own figure `trend_steps`
    periods earlier: described for every indicator, judged only where the polarity says and
    the test at `level` finds a difference.

    `areas` has area_code, period, indicator_id, value, vs_england (regions), trend_from (the
    figure `trend_steps` periods earlier), trend and change_*_sig (``pipeline.core.trends``).
    """
    p = parse_slug(period)
    then = p.shifted(-trend_steps)
    over = not p.is_quarter and trend_steps > 1  # the test for trend over several years
    now = areas[(areas["period"] == period) & areas["value"].notna()]
    region = now[now["area_code"] == region_code].set_index("indicator_id")
    england = now[now["area_code"] == "england"].set_index("indicator_id")["value"]
    points = []
    for ind in catalogue:
        if ind.id not in region.index:
            points.append(f"{ind.label}: no figure for {region_name} in {p.label}.")
            continue
        row = region.loc[ind.id].to_dict()
        r = float(row["value"])
        text = f"{ind.label}: {ind.with_unit(r)}"
        if ind.id in england.index:
            vs = cell(row.get("vs_england"))
            text += _against_england(ind, r, float(england[ind.id]), vs, england_name)
        earlier = row.get("trend_from", math.nan)
        if pd.notna(earlier):
            earlier = float(earlier)
            if earlier == r:
                text += f"; unchanged since {then.label}"
            else:
                words = trend_words(ind, row, level, over)
                text += f"; {moved(r - earlier)} from {ind.format(earlier)} in {then.label}" + (
                    f" ({words})" if words else ""
                )
        points.append(text + ".")
    lead = (
        f"Each indicator for {region_name} as at {p.label}, against {england_name} and against "
        f"{then.label}. Better or worse is said only where a higher or lower value is better "
        f"and the difference is significant at {level_name(level)}% (the region's confidence "
        "interval excludes England's figure); improving or worsening only where the change is "
        f"significant {by_the_test(level, over)}. Otherwise the figures are similar, or show "
        f"no significant change: {CHANCE}. Figures that cannot be tested (no count model, or "
        "no counts) are described by size, and say so:"
    )
    return Paragraph("profile", f"{region_name}, indicator by indicator", lead, points)
