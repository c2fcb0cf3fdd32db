"""The benchmarking narrative: deterministic, polarity-aware sentences about a region's period.

Every sentence states its figures, and its direction of judgement comes from the indicator's
polarity (``high``: higher is better; ``low``: lower is better). Neutral indicators are described
("rose", "fell") but never called better or worse. Words follow the statistics
(``pipeline.core.significance``, at the level the report states, 95% unless 99.8% is chosen).
The rules, stated in the report:

- **Movers**: the LA figures that changed most since the previous period, among the changes that
  are significant by the chi-squared test (``change_previous_sig``). A figure that cannot be
  tested (no count model, such as a mean caseload or staff in full-time equivalents; or no
  counts) counts when it changed by at least ``MOVE_THRESHOLD`` (5%) of its previous value, and
  is said not to be tested. Changes of 5% or more that are not significant are not counted: how
  many there were is said (they could be chance). Changes in different units are made
  comparable by dividing by the indicator's national interquartile range that period (the
  spread between the quarter-boundaries of all LAs), so "most" means "furthest relative to how
  much LAs differ". Ties are broken by LA name then indicator, so the wording never depends on
  row order.
- **Persistently in band D**: LAs in the worst quartile band for ``PERSISTENT_PERIODS`` (3) or
  more consecutive periods up to this one.
- **Region against England**: better or worse only where significant, otherwise similar (the
  difference could be chance); see ``pipeline.core.comparison``.
- **Data gaps**: LAs with no return or a return not accepted, and figures left without a value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from pipeline.core.benchmark import quartiles
from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.comparison import (
    LARGEST,
    TOP,
    Paragraph,
    region_against_england,
    region_profile,
)
from pipeline.core.periods import parse_slug
from pipeline.core.significance import DEFAULT_LEVEL, NOT_SIGNIFICANT, SIGNIFICANT
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, OK, STATUS_SYMBOLS, owner
from pipeline.core.wording import (
    MOVE_THRESHOLD,
    article,
    better_phrase,
    big,
    by_test,
    cell,
    change,
    england_of,
    is_better,
    published,
    published_when,
    snapshot,
    untested_why,
)

# the words other modules read from here, as before the comparison wording moved out
__all__ = [
    "MOVE_THRESHOLD",
    "PERSISTENT_PERIODS",
    "TOP",
    "Paragraph",
    "better_phrase",
    "data_gaps",
    "england_of",
    "is_better",
    "movers",
    "national_spread",
    "persistent_worst_band",
    "published",
    "published_when",
    "region_against_england",
    "region_profile",
    "regional_narrative",
    "snapshot",
    "summary",
]

PERSISTENT_PERIODS = 3
#: how a change that cannot be tested counts, said wherever it does
UNTESTED = "by 5% or more of the previous figure, among figures that cannot be tested"


# --------------------------------------------------------------------------- the parts


def movers(
    las: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    names: Mapping[str, str],
    spread: Mapping[str, float],
    top: int = TOP,
    level: float = DEFAULT_LEVEL,
) -> tuple[Paragraph, Paragraph]:
    """The biggest significant improvements and deteriorations since the previous period.

    `las` has la_code, period, indicator_id, value, previous_value and change_previous_sig
    (from the benchmark core; tested at `level`, which the words state); `spread` maps
    indicator_id to its national interquartile range this period.
    """
    now = las[(las["period"] == period) & las["value"].notna() & las["previous_value"].notna()]
    prev_label = parse_slug(period).previous().label
    scored, chance = _scored_moves(now, catalogue, names, spread)
    return (
        _movers_paragraph(True, scored, chance[True], top, prev_label, level),
        _movers_paragraph(False, scored, chance[False], top, prev_label, level),
    )


def _scored_moves(
    now: pd.DataFrame,
    catalogue: Catalogue,
    names: Mapping[str, str],
    spread: Mapping[str, float],
) -> tuple[list[tuple], dict[bool, int]]:
    """The judged moves that count (significant; or, without a test, of at least
    MOVE_THRESHOLD), significant first, then largest first relative to the national spread, as
    (better, -size, LA name, label, indicator, row, tested); and how many better and worse moves
    of MOVE_THRESHOLD or more were not significant."""
    scored = []
    chance = {True: 0, False: 0}
    sig = now["change_previous_sig"] if "change_previous_sig" in now else [""] * len(now)
    for r, tested in zip(now.itertuples(), map(cell, sig), strict=True):
        if r.indicator_id not in catalogue:
            continue
        ind = catalogue[r.indicator_id]
        diff = r.value - r.previous_value
        better = is_better(ind, diff)
        large = big(r.previous_value, r.value)
        if better is None or tested == NOT_SIGNIFICANT or not (tested or large):
            if better is not None and tested == NOT_SIGNIFICANT and large:
                chance[better] += 1
            continue
        iqr = spread.get(ind.id, math.nan)
        base = abs(r.previous_value)
        size = abs(diff) / iqr if iqr and not math.isnan(iqr) else abs(diff) / (base or 1.0)
        row = (better, -size, names.get(r.la_code, r.la_code), ind.label, ind, r)
        scored.append((*row, tested == SIGNIFICANT))
    # significant changes first: an untested one is listed only after them
    scored.sort(key=lambda t: (not t[6], t[1], t[2], t[3]))
    return scored, chance


def _movers_lead(better: bool, sig: int, untested: int, top: int, prev: str, level) -> str:
    """'3 LA figures improved significantly (chi-squared test, 95%) since Q1; the 3 largest,
    relative to how much LAs differ nationally:' (and those counted without a test)."""
    verb = "improved" if better else "deteriorated"
    test = f"significantly ({by_test(level)})"
    n = sig + untested
    if not n:
        return f"No LA figure {verb} {test}, or {UNTESTED}, since {prev}."
    if not untested:
        lead = f"{n} LA figure{'s' if n != 1 else ''} {verb} {test} since {prev}"
    elif not sig:
        lead = f"{n} LA figure{'s' if n != 1 else ''} {verb} {UNTESTED} since {prev}"
    else:
        lead = f"{n} LA figures {verb} since {prev}: {sig} {test}, and {untested} {UNTESTED}"
    largest = f"; the {min(top, n)} largest, relative to how much LAs differ nationally"
    largest += ", significant ones first:" if sig and untested else ":"
    return lead + (largest if n > 1 else ":")


def _movers_paragraph(
    better: bool, scored: list[tuple], chance: int, top: int, prev_label: str, level: float
) -> Paragraph:
    """The biggest improvements (`better`) or deteriorations: the `top` of `scored`, and how
    many of 5% or more were `chance` (not significant)."""
    word = "improvement" if better else "deterioration"
    mine = [t for t in scored if t[0] is better]
    points = []
    for _, _, name, _, ind, r, tested in mine[:top]:
        how = (
            f"a significant {word} ({better_phrase(ind)})"
            if tested
            else f"{article(word)} of 5% or more, not tested ({untested_why(ind)}; "
            f"{better_phrase(ind)})"
        )
        points.append(f"{name}: {ind.label} {change(ind, r.previous_value, r.value)}, {how}.")
    untested = sum(1 for t in mine if not t[6])
    lead = _movers_lead(better, len(mine) - untested, untested, top, prev_label, level)
    if chance:
        points.append(
            f"Not counted: {chance} further change{'s' if chance != 1 else ''} of 5% or more "
            f"of the previous figure that {'were' if chance != 1 else 'was'} not significant "
            f"({by_test(level)}): {'they' if chance != 1 else 'it'} could be chance."
        )
    heading = "Biggest improvements" if better else "Biggest deteriorations"
    key = "improvements" if better else "deteriorations"
    return Paragraph(key, heading, lead, points, len(mine), chance, untested)


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
    missing: dict[str, list[str]] = {}  # each LA's indicators without a figure, by id
    rows = zip(gaps["la_code"], gaps["indicator_id"], gaps["status"], strict=True)
    for code, ind, status in sorted(rows, key=lambda r: r[:2]):
        if ind in catalogue:
            missing.setdefault(code, []).append(f"{catalogue[ind].label} ({_why(status)})")
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
        items = missing.get(code, [])
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
    level: float = DEFAULT_LEVEL,
) -> list[Paragraph]:
    """Every part of the regional narrative, in reading order (`returns`: see data_gaps;
    `as_at`: see region_against_england; `level`: the confidence level of the comparisons and
    tests in the benchmark frames, which the words state)."""
    improved, worsened = movers(las, catalogue, period, names, spread, level=level)
    parts = [
        improved,
        worsened,
        persistent_worst_band(las, catalogue, period, names, first_period=first_period),
        region_against_england(
            areas,
            catalogue,
            period,
            region_code,
            region_name,
            england_name,
            as_at=as_at,
            level=level,
        ),
        data_gaps(las, catalogue, period, names, return_status, returns),
    ]
    return [summary(parts, period, level), *parts]


def summary(parts: list[Paragraph], period: str, level: float = DEFAULT_LEVEL) -> Paragraph:
    """The headline: a sentence from each part, in the order a reader wants them."""
    by = {p.key: p for p in parts}
    prev = parse_slug(period).previous().label
    up, down = by["improvements"], by["deteriorations"]
    moves = (
        f"Since {prev}, {up.count} LA figure{'s' if up.count != 1 else ''} improved and "
        f"{down.count} deteriorated significantly ({by_test(level)})"
    )
    if untested := up.untested + down.untested:
        moves += (
            f", counting {untested} figure{'s' if untested != 1 else ''} that cannot be tested "
            "and moved by 5% or more of the previous figure"
        )
    if chance := up.chance + down.chance:
        moves += (
            f"; {chance} further change{'s' if chance != 1 else ''} of 5% or more "
            f"{'were' if chance != 1 else 'was'} not significant (could be chance)"
        )
    points = [
        by["england"].lead.removesuffix(LARGEST),
        moves + ".",
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
