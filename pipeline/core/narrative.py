"""The benchmarking narrative: deterministic, polarity-aware sentences about a region's period.

Every sentence states its figures, and its direction of judgement comes from the indicator's
polarity (``high``: higher is better; ``low``: lower is better). Neutral indicators are described
("rose", "fell") but never called better or worse. The rules, stated in the report:

- **Movers**: the LA figures that changed most since the previous period, among changes of at
  least ``MOVE_THRESHOLD`` (5%) of the earlier value; percentages and rates whose numerator is
  under ``MIN_COUNT`` (10) at either end are left out. Changes in different units are made
  comparable by dividing by the indicator's national interquartile range that period (the spread
  between the quarter-boundaries of all LAs), so "most" means "furthest relative to how much LAs
  differ". Ties are broken by LA name then indicator, so the wording never depends on row order.
- **Persistently in band D**: LAs in the worst quartile band for ``PERSISTENT_PERIODS`` (3) or
  more consecutive periods up to this one.
- **Region against England**: the judged indicators where the region's figure differs most from
  England's, relative to England's figure.
- **Data gaps**: LAs with no return or a return not accepted, and figures left without a value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import pandas as pd

from pipeline.core.benchmark import quartiles
from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, OK, STATUS_SYMBOLS, owner

MOVE_THRESHOLD = 0.05
#: movers resting on fewer children than this at either end are left out (a handful of children
#: can swing a small LA's percentage)
MIN_COUNT = 10
PERSISTENT_PERIODS = 3
TOP = 3


@dataclass
class Paragraph:
    """One part of the narrative: a heading, an opening sentence and the points under it."""

    key: str
    heading: str
    lead: str
    points: list[str] = field(default_factory=list)
    count: int = 0  # how many things the part found (figures moved, LAs in band D, ...)

    def to_json(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- wording


def better_phrase(ind: Indicator) -> str:
    return {"high": "a higher value is better", "low": "a lower value is better"}.get(
        ind.polarity, "no judgement is made on this measure"
    )


def is_better(ind: Indicator, difference: float) -> bool | None:
    """Whether a positive-or-negative `difference` (new minus old, or us minus them) is better;
    None for neutral indicators or no difference."""
    if not ind.judged or difference == 0 or math.isnan(difference):
        return None
    return (difference > 0) == (ind.polarity == "high")


def _verdict(ind: Indicator, difference: float) -> str:
    """'better' or 'worse' for a difference (new minus old, or us minus them); '' when no
    judgement is made."""
    good = is_better(ind, difference)
    return "" if good is None else "better" if good else "worse"


def _moved(difference: float) -> str:
    return "rose" if difference > 0 else "fell"


def _change(ind: Indicator, old: float, new: float) -> str:
    """'fell from 24.1% to 19.0%'."""
    return f"{_moved(new - old)} from {ind.format(old)} to {ind.with_unit(new)}"


def snapshot(ind: Indicator) -> bool:
    """Whether the LAs' quarterly figure is at the quarter end (its description says so), not
    over the 12 months to it (the catalogue's rule for every other indicator)."""
    return "quarter end" in ind.description and "12 months to the" not in ind.description


def published_when(ind: Indicator, date: str) -> str:
    """When DfE's published figure of `ind` is of: 'at 31 March 2025' for a snapshot, else
    'year to 31 March 2025'."""
    return f"{'at' if snapshot(ind) else 'year to'} {date}"


def published(ind: Indicator, as_at: Mapping[str, str]) -> str:
    """'DfE published, year to 31 March 2025': what a comparator of `ind` is and when (`as_at`:
    indicator id -> the date of its published comparators); '' for one without."""
    return f"DfE published, {published_when(ind, as_at[ind.id])}" if ind.id in as_at else ""


def england_of(ind: Indicator, as_at: Mapping[str, str], name: str = "England") -> str:
    """England as a sentence about `ind` names it: 'England (DfE published, year to 31 March
    2025)' for a published comparator, else `name`."""
    return f"England ({published(ind, as_at)})" if ind.id in as_at else name


# --------------------------------------------------------------------------- the parts


def movers(
    las: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    names: Mapping[str, str],
    spread: Mapping[str, float],
    top: int = TOP,
) -> tuple[Paragraph, Paragraph]:
    """The biggest improvements and deteriorations since the previous period.

    `las` has la_code, period, indicator_id, value, previous_value (from the benchmark core);
    `spread` maps indicator_id to its national interquartile range this period.
    """
    now = las[(las["period"] == period) & las["value"].notna() & las["previous_value"].notna()]
    prev_slug = parse_slug(period).previous().slug
    prev_label = parse_slug(prev_slug).label
    scored, small = _scored_moves(now, catalogue, names, spread, _counts_in(las, prev_slug))
    return (
        _movers_paragraph(True, scored, small[True], top, prev_label),
        _movers_paragraph(False, scored, small[False], top, prev_label),
    )


def _counts_in(las: pd.DataFrame, period: str) -> dict[tuple[str, str], float]:
    """Each (la_code, indicator_id)'s numerator in `period` (none without a numerator column)."""
    if "numerator" not in las.columns:
        return {}
    before = las[las["period"] == period]
    return dict(
        zip(
            zip(before["la_code"], before["indicator_id"], strict=True),
            before["numerator"],
            strict=True,
        )
    )


def _scored_moves(
    now: pd.DataFrame,
    catalogue: Catalogue,
    names: Mapping[str, str],
    spread: Mapping[str, float],
    earlier_count: Mapping[tuple[str, str], float],
) -> tuple[list[tuple], dict[bool, int]]:
    """The judged moves of at least MOVE_THRESHOLD, largest first relative to the national
    spread, as (better, -size, LA name, label, indicator, row); and how many better and worse
    moves were left out for resting on fewer than MIN_COUNT children at either end."""
    scored = []
    small = {True: 0, False: 0}
    for r in now.itertuples():
        if r.indicator_id not in catalogue:
            continue
        ind = catalogue[r.indicator_id]
        diff = r.value - r.previous_value
        better = is_better(ind, diff)
        base = abs(r.previous_value)
        if better is None or (base and abs(diff) / base < MOVE_THRESHOLD):
            continue
        counts = (
            getattr(r, "numerator", math.nan),
            earlier_count.get((r.la_code, ind.id), math.nan),
        )
        if ind.unit != "ratio" and any(c < MIN_COUNT for c in counts if not math.isnan(c)):
            small[better] += 1
            continue
        iqr = spread.get(ind.id, math.nan)
        size = abs(diff) / iqr if iqr and not math.isnan(iqr) else abs(diff) / (base or 1.0)
        scored.append((better, -size, names.get(r.la_code, r.la_code), ind.label, ind, r))
    scored.sort(key=lambda t: (t[1], t[2], t[3]))
    return scored, small


def _movers_paragraph(
    better: bool, scored: list[tuple], small: int, top: int, prev_label: str
) -> Paragraph:
    """The biggest improvements (`better`) or deteriorations: the `top` of `scored`, and a note
    of the `small` ones left out."""
    word = "improvement" if better else "deterioration"
    picked = [t for t in scored if t[0] is better][:top]
    points = [
        f"{name}: {ind.label} {_change(ind, r.previous_value, r.value)}, "
        f"{'an' if word[0] in 'aeiou' else 'a'} {word} ({better_phrase(ind)})."
        for _, _, name, _, ind, r in picked
    ]
    n = sum(1 for t in scored if t[0] is better)
    heading = "Biggest improvements" if better else "Biggest deteriorations"
    if n:
        lead = (
            f"{n} LA figure{'s' if n != 1 else ''} {'improved' if better else 'deteriorated'} "
            f"by at least 5% of the previous figure since {prev_label}"
            + (
                f"; the {min(top, n)} largest, relative to how much LAs differ nationally:"
                if n > 1
                else ":"
            )
        )
    else:
        lead = (
            f"No LA figure {'improved' if better else 'deteriorated'} by at least 5% of the "
            f"previous figure since {prev_label}."
        )
    key = "improvements" if better else "deteriorations"
    para = Paragraph(key, heading, lead, points, n)
    if small:
        para.points.append(
            f"Left out: {small} further change{'s' if small != 1 else ''} resting on fewer than "
            f"{MIN_COUNT} children at either end, where a handful of children can swing the "
            "figure."
        )
    return para


def persistent_worst_band(
    las: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    names: Mapping[str, str],
    periods: int = PERSISTENT_PERIODS,
    first_period: str | None = None,
) -> Paragraph:
    """LAs in band D for `periods` or more consecutive periods up to `period`, one point per LA.

    `las` has la_code, period, indicator_id, value, worst_band_run. `first_period`: the first
    period any data is held for; a run that starts there may be longer, and is said to be.
    """
    first = parse_slug(first_period) if first_period else None
    now = las[(las["period"] == period) & (las["worst_band_run"] >= periods)]
    p = parse_slug(period)
    by_la: dict[str, list[tuple[int, Indicator, float]]] = {}
    for r in now.itertuples():
        if r.indicator_id in catalogue:
            by_la.setdefault(r.la_code, []).append(
                (int(r.worst_band_run), catalogue[r.indicator_id], r.value)
            )
    points = []
    for code in sorted(by_la, key=lambda c: (names.get(c, c), c)):
        items = sorted(by_la[code], key=lambda t: (-t[0], t[1].label))
        points.append(
            f"{names.get(code, code)}: "
            + "; ".join(
                f"{ind.label}, {ind.with_unit(value)}, "
                + (
                    f"in every {p.noun} held, since {first.label} ({run} {p.noun}s)"
                    if first is not None and p.shifted(1 - run) == first
                    else f"for {run} {p.noun}s, since {p.shifted(1 - run).label}"
                )
                for run, ind, value in items
            )
            + "."
        )
    n = sum(len(v) for v in by_la.values())
    lead = (
        f"{len(by_la)} LA{'s' if len(by_la) != 1 else ''} {'have' if len(by_la) != 1 else 'has'} "
        f"{n} figure{'s' if n != 1 else ''} that {'have' if n != 1 else 'has'} been in the worst "
        f"quarter of all LAs (band D) for {periods} or more consecutive {p.noun}s up to "
        f"{p.label}:"
        if points
        else f"No LA figure has been in the worst quarter of all LAs (band D) for {periods} or "
        f"more consecutive {p.noun}s up to {p.label}."
    )
    heading = f"In band D for {periods} {p.noun}s or more"
    return Paragraph("persistent", heading, lead, points, n)


def region_against_england(
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    region_name: str,
    england_name: str = "England",
    top: int = TOP,
    as_at: Mapping[str, str] | None = None,
) -> Paragraph:
    """Where the region's figure differs most from England's (judged indicators only).

    `areas` has area_code ('england' for England), period, indicator_id, value; `as_at`:
    indicator id -> the date of England's published figure (published comparators), said
    beside each.
    """
    as_at = as_at or {}
    a = areas[(areas["period"] == period) & areas["value"].notna()]
    region = a[a["area_code"] == region_code].set_index("indicator_id")["value"]
    england = a[a["area_code"] == "england"].set_index("indicator_id")["value"]
    label = parse_slug(period).label
    rows = []
    for ind in catalogue:
        if not ind.judged or ind.id not in region.index or ind.id not in england.index:
            continue
        r, e = float(region[ind.id]), float(england[ind.id])
        rel = (r - e) / abs(e) if e else math.inf if r != e else 0.0
        rows.append((ind, r, e, rel, is_better(ind, r - e)))
    better = sum(1 for t in rows if t[4] is True)
    worse = sum(1 for t in rows if t[4] is False)
    level = len(rows) - better - worse
    against = (
        "England's published figures (DfE, each indicator's latest year; dates in the rug)"
        if as_at
        else england_name
    )
    lead = (
        f"As at {label}, {region_name} was better than {against} on {better} and worse on "
        f"{worse} of the {len(rows)} indicators where higher or lower is better"
        + (f", and level on {level}" if level else "")
        + "."
    )
    biggest = sorted((t for t in rows if t[4] is not None), key=lambda t: (-abs(t[3]), t[0].label))[
        :top
    ]
    points = []
    for ind, r, e, rel, good in biggest:
        gap = ind.difference(r - e)
        rel_text = "" if math.isinf(rel) else f" ({abs(rel) * 100:.0f}%)"
        points.append(
            f"{ind.label}: {ind.with_unit(r)} in the region against {ind.with_unit(e)} in "
            f"{england_of(ind, as_at, england_name)}, {gap}{rel_text} "
            f"{'higher' if r > e else 'lower'}: "
            f"{'better' if good else 'worse'} ({better_phrase(ind)})."
        )
    if points:
        lead += " The largest differences:"
    return Paragraph("england", f"{region_name} against {england_name}", lead, points)


def region_profile(
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    region_name: str,
    england_name: str,
    trend_steps: int,
) -> Paragraph:
    """Every indicator of the region against England, and against its own figure `trend_steps`
    periods earlier: described for every indicator, judged only where the polarity says.

    `areas` has area_code, period, indicator_id, value and trend_from (the figure `trend_steps`
    periods earlier, from ``pipeline.core.trends``).
    """
    p = parse_slug(period)
    then = p.shifted(-trend_steps)
    now = areas[(areas["period"] == period) & areas["value"].notna()]
    region = now[now["area_code"] == region_code].set_index("indicator_id")
    england = now[now["area_code"] == "england"].set_index("indicator_id")["value"]
    points = []
    for ind in catalogue:
        if ind.id not in region.index:
            points.append(f"{ind.label}: no figure for {region_name} in {p.label}.")
            continue
        r = float(region.at[ind.id, "value"])
        text = f"{ind.label}: {ind.with_unit(r)}"
        if ind.id in england.index:
            e = float(england[ind.id])
            if r == e:
                text += f", the same as {england_name}"
            else:
                judged = _verdict(ind, r - e)
                text += (
                    f", {ind.difference(r - e)} {'higher' if r > e else 'lower'} than "
                    f"{england_name} ({ind.with_unit(e)})" + (f", {judged}" if judged else "")
                )
        earlier = region.at[ind.id, "trend_from"] if "trend_from" in region else math.nan
        if pd.notna(earlier):
            earlier = float(earlier)
            if earlier == r:
                text += f"; unchanged since {then.label}"
            else:
                judged = _verdict(ind, r - earlier)
                text += f"; {_moved(r - earlier)} from {ind.format(earlier)} in {then.label}" + (
                    f" ({judged})" if judged else ""
                )
        points.append(text + ".")
    lead = (
        f"Each indicator for {region_name} as at {p.label}, against {england_name} and against "
        f"{then.label}. Better or worse is said only where a higher or lower value is better; "
        "the others are described, not judged:"
    )
    return Paragraph("profile", f"{region_name}, indicator by indicator", lead, points)


def data_gaps(
    las: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    names: Mapping[str, str],
    return_status: Mapping[str, str],
    returns: bool = True,
) -> Paragraph:
    """LAs with no return or a return not accepted, and the figures left without a value.

    `return_status` maps each of the region's LAs to 'accepted', 'not accepted' or 'missing'.
    `returns`: False for published statistics, where there are no returns, only figures.
    """
    label = parse_slug(period).label
    accepted = [c for c, s in return_status.items() if s == "accepted"]
    now = las[(las["period"] == period) & las["la_code"].isin(accepted)]
    gaps = now[now["status"].ne(OK) | now["value"].isna()]
    points = []
    for code in sorted(return_status, key=lambda c: (names.get(c, c), c)):
        status, name = return_status[code], names.get(code, code)
        if status == "missing":
            points.append(f"{name}: no return received for {label}.")
        elif status == NOT_ACCEPTED:
            points.append(
                f"{name}: the return for {label} was not accepted by validation, so none of its "
                "figures are used (see the validation report)."
            )
        items = [
            f"{catalogue[r.indicator_id].label} ({_why(r.status)})"
            for r in gaps[gaps["la_code"] == code].sort_values("indicator_id").itertuples()
            if r.indicator_id in catalogue
        ]
        if items:
            n = len(items)
            points.append(
                f"{name}: {n} indicator{'s' if n != 1 else ''} without a figure: "
                + "; ".join(items)
                + "."
            )
    complete = sum(1 for s in return_status.values() if s == "accepted") - gaps["la_code"].nunique()
    has = "an accepted return with a figure" if returns else "a published figure"
    lead = f"{complete} of {len(return_status)} LAs have {has} for every indicator in {label}." + (
        " The gaps:" if points else ""
    )
    return Paragraph("gaps", "Data gaps", lead, points)


def _why(status: str) -> str:
    """Why a figure is missing, in words."""
    return STATUS_SYMBOLS.get(status, "no figure" if status in (MISSING, OK) else status)


def regional_narrative(
    las: pd.DataFrame,
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    region_name: str,
    names: Mapping[str, str],
    return_status: Mapping[str, str],
    spread: Mapping[str, float],
    england_name: str = "England",
    first_period: str | None = None,
    returns: bool = True,
    as_at: Mapping[str, str] | None = None,
) -> list[Paragraph]:
    """Every part of the regional narrative, in reading order (`returns`: see data_gaps;
    `as_at`: see region_against_england)."""
    improved, worsened = movers(las, catalogue, period, names, spread)
    parts = [
        improved,
        worsened,
        persistent_worst_band(las, catalogue, period, names, first_period=first_period),
        region_against_england(
            areas, catalogue, period, region_code, region_name, england_name, as_at=as_at
        ),
        data_gaps(las, catalogue, period, names, return_status, returns),
    ]
    return [summary(parts, period), *parts]


def summary(parts: list[Paragraph], period: str) -> Paragraph:
    """The headline: a sentence from each part, in the order a reader wants them."""
    by = {p.key: p for p in parts}
    prev = parse_slug(period).previous().label
    up, down = by["improvements"].count, by["deteriorations"].count
    points = [
        by["england"].lead.removesuffix(" The largest differences:"),
        f"Since {prev}, {up} LA figure{'s' if up != 1 else ''} improved and {down} "
        "deteriorated by at least 5% of the previous figure.",
        by["persistent"].lead.removesuffix(":").removesuffix(".") + ".",
        by["gaps"].lead.removesuffix(" The gaps:"),
    ]
    return Paragraph("summary", "Summary", "", points)


def national_spread(las: pd.DataFrame, period: str) -> dict[str, float]:
    """Each indicator's interquartile range of all LAs with a value in `period` (type 7)."""
    now = las[(las["period"] == period) & las["status"].eq(OK)]
    now = now[owner(now).eq(now["la_code"])]  # a jointly run service's figure once
    out = {}
    for ind, values in now.groupby("indicator_id")["value"]:
        q = quartiles(values)
        out[ind] = (q[2] - q[0]) if q else math.nan
    return out
