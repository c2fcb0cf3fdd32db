"""Statistical-neighbour comparators, change since earlier periods, and trends. Pure pandas.

Conventions (stated in every report that shows them):
- The SN mean and median are of the values of the LA's statistical neighbours that have one for
  that period (suppressed, missing and not-accepted neighbours are left out; ``sn_count`` says how
  many counted), as DfE's LAIT does; the LA itself never counts.
- Change is against the previous period and the same period a year earlier, each only where
  both values exist.
- For regions and England (ratio of sums), changes and trends compare the same LAs at both ends
  (``area_movement``), so an LA missing from one period cannot make the area seem to move.
- Trend compares the latest value with the value ``trend_steps`` periods earlier (by default
  three: four quarters in all; the annual datapack compares five years). A figure with counts
  and a count model is tested (``pipeline.core.significance``): quarterly, the chi-squared test
  of the change between the two ends; yearly, the chi-squared test for trend over every year
  between. Improving or worsening (rising or falling for a neutral indicator) only when the test
  is significant at the level chosen, else "no significant change". A figure without counts or
  a count model keeps the rule by size: within ``threshold`` (5%) of the earlier value it is
  stable, otherwise improving or worsening by polarity.
- ``change_previous_sig`` and ``change_year_sig`` say whether each change is significant by the
  chi-squared test ("significant", "not significant", or blank where it cannot be tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.core.significance import (
    DEFAULT_LEVEL,
    NOT_SIGNIFICANT,
    SIGNIFICANT,
    alpha,
    trend_p,
)
from pipeline.core.vocabulary import OK, SHARED, owner, ratio

KEYS = ["la_code", "period", "indicator_id"]
TREND_THRESHOLD = 0.05
#: a trend compares the latest value with the value this many periods earlier
TREND_STEPS = 3
IMPROVING, WORSENING, STABLE = "improving", "worsening", "stable"
RISING, FALLING = "rising", "falling"
#: a tested trend whose test finds no change beyond chance
NO_CHANGE = "no significant change"


def _values(figures: pd.DataFrame, counts: bool = False) -> pd.DataFrame:
    """Only the figures that hold a number (with their numerator and denominator: `counts`)."""
    ok = figures["status"].eq(OK) & figures["value"].notna()
    if not counts:
        return figures.loc[ok, [*KEYS, "value"]]
    # figures without counts (e.g. a published value alone) are judged by size, not tested
    held = figures.reindex(columns=[*KEYS, "value", "numerator", "denominator"])
    return held.loc[ok]


def sn_comparators(figures: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """For every row of `figures` (KEYS, value, status): its neighbours' mean, median and count.

    `neighbours` has la_code and neighbour_la_code (one row per pair). A jointly run service's
    one figure (``vocabulary.SHARED``) counts once among an LA's neighbours, and not at all
    for its own LAs (it is their own figure).
    """
    vals = _values(figures).rename(columns={"la_code": "neighbour_la_code"})
    pairs = neighbours[["la_code", "neighbour_la_code"]].drop_duplicates()
    pairs = pairs[pairs["la_code"] != pairs["neighbour_la_code"]]
    if SHARED in figures.columns:  # a joint figure counts once, and never for its own LAs
        vals = vals.assign(_owner=owner(figures))
    m = pairs.merge(vals, on="neighbour_la_code")
    if SHARED in figures.columns:
        own = figures[KEYS].assign(_self=owner(figures))
        m = m.merge(own, on=KEYS, how="left")
        m = m[m["_owner"].ne(m["_self"])].drop_duplicates([*KEYS, "_owner"])
    agg = (
        m.groupby(KEYS, sort=False)["value"]
        .agg(sn_mean="mean", sn_median="median", sn_count="size")
        .reset_index()
    )
    out = figures[KEYS].merge(agg, on=KEYS, how="left")
    out["sn_count"] = out["sn_count"].fillna(0).astype(int)
    return out


def movement(
    figures: pd.DataFrame,
    catalogue: Catalogue,
    threshold: float = TREND_THRESHOLD,
    trend_steps: int = TREND_STEPS,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """For every row of `figures`: previous and year-earlier values, changes, and the trend.

    Columns added to KEYS: previous_value, change_previous, change_previous_sig,
    year_earlier_value, change_year, change_year_sig, trend_from (the value `trend_steps` periods
    earlier) and trend (None when either end is missing). Tests are at `level` (95 or 99.8).
    """
    out = figures[KEYS].copy()
    vals = _values(figures, counts=True).copy()
    slugs = set(figures["period"]) | set(vals["period"])
    periods = {s: parse_slug(s) for s in slugs}
    yearly = not any(p.is_quarter for p in periods.values())
    between = range(1, trend_steps) if yearly else range(0)
    steps_of = [("previous_value", 1), ("year_earlier_value", None), ("trend_from", trend_steps)]
    steps_of += [(f"_between_{k}", k) for k in between]
    for name, steps in steps_of:
        shifted = vals.copy()
        # A value for period p is the previous (or year-earlier) value of the period after it.
        shifted["period"] = _later(shifted["period"], periods, steps)
        shifted = shifted.rename(
            columns={"value": name, "numerator": f"_n{name}", "denominator": f"_d{name}"}
        )
        out = out.merge(shifted, on=KEYS, how="left")
    now = out[KEYS].merge(vals, on=KEYS, how="left")
    current = now["value"]
    out["change_previous"] = current - out["previous_value"]
    out["change_year"] = current - out["year_earlier_value"]
    _judge_moves(out, now, catalogue, between, threshold, alpha(level))
    return out[MOVED]


#: the movement columns, in order
MOVED = [*KEYS, "previous_value", "change_previous", "change_previous_sig"]
MOVED += ["year_earlier_value", "change_year", "change_year_sig", "trend_from", "trend"]


def _judge_moves(
    out: pd.DataFrame,
    now: pd.DataFrame,
    catalogue: Catalogue,
    between: range,
    threshold: float,
    a: float,
) -> None:
    """`out`'s change_*_sig and trend, in place, from the counts now (`now`) and at the earlier
    periods (`out`'s _n* and _d* columns; `between`: the periods inside the trend tested)."""
    model = out["indicator_id"].map({i.id: i.count_model for i in catalogue}).fillna("none")
    num, den = now["numerator"], now["denominator"]
    for name, change in (
        ("previous_value", "change_previous"),
        ("year_earlier_value", "change_year"),
    ):
        p, _ = _tested(model, num, den, [out[f"_n{name}"]], [out[f"_d{name}"]])
        out[f"{change}_sig"] = _sig_words(p, a)
    back = ["trend_from", *(f"_between_{k}" for k in reversed(between))]
    p, sign = _tested(model, num, den, [out[f"_n{b}"] for b in back], [out[f"_d{b}"] for b in back])
    polarity = out["indicator_id"].map({i.id: i.polarity for i in catalogue}).fillna("neutral")
    out["trend"] = [
        _trend(now_v, then, pol, threshold, p_i, sign_i, a)
        for now_v, then, pol, p_i, sign_i in zip(
            now["value"], out["trend_from"], polarity, p, sign, strict=True
        )
    ]


def _area_step(
    f: pd.DataFrame, periods: dict, catalogue: Catalogue, name: str, change: str, steps, a: float
) -> pd.DataFrame:
    """One comparison of areas like for like: each area's figure now and `steps` periods
    earlier (a year when None) on the LAs with counts at both ends, the change and its test."""
    keys = ["area_code", "period", "indicator_id"]
    then = f[["la_code", "period", "indicator_id", "numerator", "denominator"]].copy()
    # text even when there are no rows (no accepted figure at all): keys merge as text
    then["period"] = pd.Series(
        _later(then["period"], periods, steps), index=then.index, dtype=f["period"].dtype
    )
    m = f.merge(then, on=["la_code", "period", "indicator_id"], suffixes=("", "_then"))
    sums = ["numerator", "denominator", "numerator_then", "denominator_then"]
    g = m.groupby(keys, sort=True)[sums].sum().reset_index()
    now_v = ratio(g["numerator"], g["denominator"], g["indicator_id"], catalogue)
    g[name] = ratio(g["numerator_then"], g["denominator_then"], g["indicator_id"], catalogue)
    g[change] = now_v - g[name]
    g["_now_" + name] = now_v
    model = g["indicator_id"].map({i.id: i.count_model for i in catalogue}).fillna("none")
    p, sign = _tested(
        model, g["numerator"], g["denominator"], [g["numerator_then"]], [g["denominator_then"]]
    )
    g[change + "_sig"] = _sig_words(p, a)
    g["_p" + name], g["_sign" + name] = p, sign
    return g[[*keys, name, change, change + "_sig", "_now_" + name, "_p" + name, "_sign" + name]]


def _sig_words(p: np.ndarray, a: float) -> np.ndarray:
    """'significant' where p < `a`, 'not significant' otherwise, '' where untested."""
    return np.where(np.isnan(p), "", np.where(p < a, SIGNIFICANT, NOT_SIGNIFICANT))


def _tested(model: pd.Series, now_n, now_d, then_n: list, then_d: list):
    """p-values and directions of the test over the periods `then_*` (earliest first) to now,
    by each row's count model; NaN where a row cannot be tested."""
    p = np.full(len(model), np.nan)
    sign = np.zeros(len(model))
    counts = np.column_stack(
        [*[np.asarray(c, dtype=float) for c in then_n], np.asarray(now_n, dtype=float)]
    )
    denoms = np.column_stack(
        [*[np.asarray(c, dtype=float) for c in then_d], np.asarray(now_d, dtype=float)]
    )
    # both ends must be held: the trend runs from the earlier figure to now
    ends = np.isfinite(counts[:, 0]) & np.isfinite(counts[:, -1])
    for m in ("binomial", "poisson"):
        rows = (model.to_numpy() == m) & ends
        if rows.any():
            p[rows], sign[rows] = trend_p(counts[rows], denoms[rows], m)
    return p, sign


def _later(slugs: pd.Series, periods: dict, steps: int | None) -> list[str]:
    """Each period moved `steps` later (a year later when None): a value for period p is the
    'earlier' value of the period it is moved to."""
    moved = {}
    for p in pd.unique(slugs):
        period = periods[p]
        moved[p] = period.shifted(steps or (4 if period.is_quarter else 1)).slug
    return [moved[p] for p in slugs]


def _trend(
    now: float,
    then: float,
    polarity: str,
    threshold: float,
    p: float = np.nan,
    sign: float = 0.0,
    a: float = 0.05,
) -> str | None:
    """The trend's word: by the test where it has a p-value `p` (direction `sign`), else by
    size against `threshold`."""
    if np.isnan(now) or np.isnan(then):
        return None
    if not np.isnan(p):
        if p >= a or sign == 0:
            return NO_CHANGE
        up = sign > 0
        if polarity == "neutral":
            return RISING if up else FALLING
        return IMPROVING if up == (polarity == "high") else WORSENING
    base = abs(then)
    moved = now - then
    if (base and abs(moved) / base < threshold) or (not base and moved == 0):
        return STABLE
    up = moved > 0
    if polarity == "neutral":
        return RISING if up else FALLING
    return IMPROVING if up == (polarity == "high") else WORSENING


def area_movement(
    figures: pd.DataFrame,
    area_of: pd.Series,
    catalogue: Catalogue,
    threshold: float = TREND_THRESHOLD,
    trend_steps: int = TREND_STEPS,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Like :func:`movement`, for ratio-of-sums areas (regions, England), like for like.

    Each comparison uses only the LAs with a usable numerator and denominator at *both* ends,
    so an LA whose return was not accepted, or whose figure was suppressed, in one of the two
    periods cannot make the area look as if it moved. `figures` has FIGURE_COLUMNS; `area_of`
    maps la_code to an area code. Returns area_code, period, indicator_id and the movement
    columns; ``change_*`` and ``trend`` compare the two ends on the same LAs, and
    ``previous_value`` etc. are the earlier figures on those LAs.
    """
    keys = ["area_code", "period", "indicator_id"]
    a = alpha(level)
    usable = (
        figures["status"].eq(OK)
        & figures["numerator"].notna()
        & figures["denominator"].notna()
        & (figures["denominator"] > 0)
    )
    f = figures.loc[usable, ["la_code", "period", "indicator_id", "numerator", "denominator"]]
    f = f.assign(area_code=f["la_code"].map(area_of)).dropna(subset=["area_code"])
    periods = {s: parse_slug(s) for s in f["period"].unique()}
    out: pd.DataFrame | None = None
    for name, change, steps in (
        ("previous_value", "change_previous", 1),
        ("year_earlier_value", "change_year", None),
        ("trend_from", "_trend_change", trend_steps),
    ):
        part = _area_step(f, periods, catalogue, name, change, steps, a)
        out = part if out is None else out.merge(part, on=keys, how="outer")
    polarity = {i.id: i.polarity for i in catalogue}
    out["trend"] = [
        _trend(now, then, polarity.get(ind, "neutral"), threshold, p, sign, a)
        for now, then, ind, p, sign in zip(
            out["_now_trend_from"],
            out["trend_from"],
            out["indicator_id"],
            out["_ptrend_from"],
            out["_signtrend_from"],
            strict=True,
        )
    ]
    out = out.drop(columns=[c for c in out.columns if c.startswith("_")])
    for col in ("change_previous_sig", "change_year_sig"):
        out[col] = out[col].fillna("")
    return out
