"""Comparators, quartile bands and ranks, computed once for every LA, indicator and period.

Conventions (stated in every report):
- Region and England figures are a ratio of sums: the sum of numerators over the sum of
  denominators, times the indicator's scale; never a mean of LA rates. Only LAs with both a
  numerator and a denominator contribute.
- Bands and ranks are worked out on each value as published and shown: rounded to the
  indicator's decimals (``shown``), so two LAs showing the same figure share a band and a rank.
- Quartile bands follow DfE's LAIT (``calculate_quartile_band``): quartiles of all LAs with a
  value, by R's default (type 7) quantile, i.e. numpy's "linear" method; each quarter is closed
  at its upper end, so a value equal to a quartile falls in the quarter below it. Band A is
  the best quarter by polarity. Neutral indicators are not banded.
- Ranks: 1 is best by polarity; tied values share the lowest rank; missing values get no rank;
  neutral indicators are ranked highest value first.
- A jointly run service (figures with `shared`: one published figure for several LAs) counts
  once: in bands, ranks, region and England sums and SN means it is its first LA's figure,
  and each of its other LAs shows that figure with the same band and rank.
- Suppressed, missing and not-accepted values stay missing with their status, never zero.
- SN comparators, changes and trends: see ``pipeline.core.trends``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.core.significance import DEFAULT_LEVEL
from pipeline.core.trends import KEYS, TREND_STEPS, area_movement, movement, sn_comparators
from pipeline.core.vocabulary import BANDS, MISSING, OK, WITHHELD, owner, ratio


def quartiles(values: pd.Series) -> tuple[float, float, float] | None:
    """Lower quartile, median and upper quartile by R's type-7 quantile; None without values."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if v.size == 0:
        return None
    # in extended precision: interpolating between values near the float's limits overflows
    q1, q2, q3 = np.quantile(v.astype(np.longdouble), [0.25, 0.5, 0.75], method="linear")
    return float(q1), float(q2), float(q3)


def bands(values: pd.Series, polarity: str) -> pd.Series:
    """Band A-D for each value among all the values given; None for missing or neutral."""
    return bands_against(values, quartiles(values), polarity)


def bands_against(
    values: pd.Series, q: tuple[float, float, float] | None, polarity: str
) -> pd.Series:
    """Band A-D for each value placed among quartiles `q` (of these or other values, e.g. all
    LAs' published figures); None for missing or neutral, or without quartiles."""
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    if polarity == "neutral" or q is None:
        return out
    q1, q2, q3 = q
    v = pd.to_numeric(values, errors="coerce")
    # each quarter is closed at its upper end: (min, q1], (q1, q2], (q2, q3], (q3, max]
    if polarity == "high":
        conds = [v > q3, v > q2, v > q1, v <= q1]
    elif polarity == "low":
        conds = [v <= q1, v <= q2, v <= q3, v > q3]
    else:
        raise ValueError(f"unknown polarity {polarity!r}")
    for band, cond in zip(reversed(BANDS), reversed(conds), strict=True):
        out[cond.fillna(False).to_numpy()] = band
    return out


def shown(values: pd.Series, decimals: int) -> pd.Series:
    """Each value as a reader sees it: rounded to `decimals` as the reports print it."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    return v.map(lambda x: round(x, decimals) if pd.notna(x) else np.nan)


def ranks(values: pd.Series, polarity: str) -> pd.Series:
    """Rank 1 = best by polarity (highest first for neutral); ties share the lowest rank."""
    v = pd.to_numeric(values, errors="coerce")
    r = v.rank(method="min", ascending=(polarity == "low"), na_option="keep")
    return r.astype("Int64")


def aggregate(figures: pd.DataFrame, area_of: pd.Series, catalogue: Catalogue) -> pd.DataFrame:
    """Ratio-of-sums figures for each area: one row per (area_code, period, indicator_id).

    `area_of` maps la_code to an area code (a region, or one code for England). Returns columns
    area_code, period, indicator_id, numerator, denominator, value, status, las_contributing,
    las_in_area.
    """
    f = figures.assign(area_code=figures["la_code"].map(area_of)).dropna(subset=["area_code"])
    usable = f["numerator"].notna() & f["denominator"].notna() & (f["denominator"] > 0)
    usable &= f["status"].eq(OK)
    keys = ["area_code", "period", "indicator_id"]
    once = usable & ~partner_rows(f)  # a jointly run service's counts are added once
    sums = (
        f[once]
        .groupby(keys, sort=True)
        .agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"))
    )
    sums = sums.join(
        f[usable].groupby(keys, sort=True)["la_code"].nunique().rename("las_contributing")
    )
    size = area_of.dropna().groupby(area_of.dropna()).size().rename("las_in_area")
    grid = f.groupby(keys, sort=True).size().to_frame("_n").drop(columns="_n")
    out = grid.join(sums).reset_index()
    out["las_contributing"] = out["las_contributing"].fillna(0).astype(int)
    out = out.join(size, on="area_code")
    out["value"] = ratio(out["numerator"], out["denominator"], out["indicator_id"], catalogue)
    out["status"] = np.where(out["value"].notna(), OK, MISSING)
    return out[
        [
            "area_code",
            "period",
            "indicator_id",
            "numerator",
            "denominator",
            "value",
            "status",
            "las_contributing",
            "las_in_area",
        ]
    ]


def worst_band_runs(f: pd.DataFrame) -> pd.Series:
    """For each row (la_code, period, indicator_id, band): how many consecutive periods, ending
    with this one, the LA has been in band D. 0 when not in band D; a period with no figure, or a
    gap between periods, ends a run."""
    order = {p: parse_slug(p).ordinal for p in f["period"].unique()}
    s = f.assign(_o=f["period"].map(order)).sort_values(
        ["la_code", "indicator_id", "_o"], kind="stable"
    )
    d = s["band"].eq("D")
    new_series = (
        s["la_code"].ne(s["la_code"].shift())
        | s["indicator_id"].ne(s["indicator_id"].shift())
        | s["_o"].diff().ne(1)
    )
    block = (new_series | d.ne(d.shift())).cumsum()
    run = d.astype(int).groupby(block).cumsum()
    return run.reindex(f.index).astype(int)


def benchmark(
    figures: pd.DataFrame,
    las: pd.DataFrame,
    catalogue: Catalogue,
    neighbours: pd.DataFrame | None = None,
    totals: pd.DataFrame | None = None,
    withheld_areas: frozenset[tuple[str, str, str]] = frozenset(),
    trend_steps: int | None = None,
    level: float = DEFAULT_LEVEL,
) -> dict[str, pd.DataFrame]:
    """Everything the reports compare, for all LAs, indicators and periods at once.

    Under disclosure control (``pipeline.core.disclosure``) `figures` are the published figures,
    `totals` the figures as returned and `withheld_areas` the (area_code, period, indicator_id)
    whose own figure is withheld: areas' current figures are the ratio of sums of `totals`;
    everything else, areas' like-for-like changes included, is computed from `figures` alone.

    `figures` has FIGURE_COLUMNS, one row per (LA, period, indicator) including missing and
    not-accepted cells; `las` has la_code and region_code; `neighbours` (la_code,
    neighbour_la_code) gives the statistical neighbours. Returns two frames:
    ``las``: the figures with band, rank_national, rank_region, las_ranked_national,
    las_ranked_region, worst_band_run, the SN comparators (sn_mean, sn_median, sn_count) and
    movement (previous_value, change_previous, year_earlier_value, change_year, trend_from,
    trend); ``areas``: region and England ratio-of-sums rows (area_type 'region' or 'england')
    with the same movement columns. `trend_steps`: how many periods back a trend looks
    (``pipeline.core.trends.TREND_STEPS`` when None); `level`: the confidence level of the tests
    of change (``pipeline.core.significance``). Intervals and comparisons with the comparators
    come after the comparators are final: ``significance.judge``.
    """
    steps = TREND_STEPS if trend_steps is None else trend_steps
    region_of = las.set_index("la_code")["region_code"]
    f = _ranked(figures, region_of, catalogue)
    if neighbours is None:
        neighbours = pd.DataFrame(columns=["la_code", "neighbour_la_code"])
    f = f.merge(sn_comparators(f, neighbours), on=KEYS, how="left", validate="one_to_one")
    f = f.merge(
        movement(f, catalogue, trend_steps=steps, level=level),
        on=KEYS,
        how="left",
        validate="one_to_one",
    )
    whole = figures if totals is None else totals
    areas = _areas(figures, whole, region_of, catalogue, steps, level)
    if withheld_areas:
        _withhold(areas, withheld_areas)
    return {"las": f, "areas": areas}


def partner_rows(figures: pd.DataFrame) -> pd.Series:
    """True for the rows that copy a jointly run service's figure to its other LAs (its
    first LA's row holds it): such rows count nowhere a figure is counted once."""
    return owner(figures).ne(figures["la_code"])


def _ranked(figures: pd.DataFrame, region_of: pd.Series, catalogue: Catalogue) -> pd.DataFrame:
    """The figures with each LA's region_code, band, rank_national, rank_region,
    las_ranked_national, las_ranked_region and worst_band_run, per period and indicator:
    bands and ranks of the values as shown; a jointly run service's once, as its first LA's,
    then copied to its other LAs."""
    f = figures.copy()
    f["region_code"] = f["la_code"].map(region_of)
    pol = f["indicator_id"].map({i.id: i.polarity for i in catalogue}).fillna("neutral")
    decimals = f["indicator_id"].map({i.id: i.decimals for i in catalogue}).fillna(1)
    copies = partner_rows(f)
    valued = f["value"].where(f["status"].eq(OK))
    v = pd.Series(
        [
            round(x, int(d)) if pd.notna(x) else np.nan
            for x, d in zip(valued, decimals, strict=True)
        ],
        index=f.index,
        dtype=float,
    ).where(~copies)  # each value as shown (``shown``), once
    groups = [f["period"], f["indicator_id"]]
    f["band"] = _bands_by_group(v, pol, groups)
    best_first = v.where(pol.eq("low"), -v)  # ``ranks``: rank 1 the best, ties the lowest rank
    for col, by in (("rank_national", groups), ("rank_region", [*groups, f["region_code"]])):
        f[col] = best_first.groupby(by).rank(method="min", na_option="keep").astype("Int64")
    ranked = f["rank_national"].notna()
    f["las_ranked_national"] = ranked.groupby(groups).transform("sum").astype(int)
    f["las_ranked_region"] = (
        ranked.groupby([*groups, f["region_code"]]).transform("sum").astype(int)
    )
    if copies.any():
        _copy_to_partners(f, copies)
    # blank (not 0) where there is no figure to be in a band
    f["worst_band_run"] = worst_band_runs(f).astype("Int64").where(valued.notna())
    return f


def _bands_by_group(v: pd.Series, polarity: pd.Series, groups: list[pd.Series]) -> pd.Series:
    """Each value's band among the values of its group (``bands``), by its polarity."""
    out = np.full(len(v), None, dtype=object)
    for at in v.groupby(groups, sort=False).indices.values():
        out[at] = bands(v.iloc[at], polarity.iloc[at[0]]).to_numpy()
    return pd.Series(out, index=v.index, dtype=object)


def _copy_to_partners(f: pd.DataFrame, copies: pd.Series) -> None:
    """A jointly run service's band and ranks, from its first LA's row to the others', in
    place (its rank in the region only where they share a region)."""
    keys = ["la_code", "period", "indicator_id"]
    cols = ["band", "rank_national", "rank_region", "region_code"]
    held = f.loc[~copies].set_index(keys)[cols]
    partners = f.loc[copies, keys].assign(la_code=owner(f)[copies])
    got = held.reindex(pd.MultiIndex.from_frame(partners)).set_axis(partners.index)
    same_region = got["region_code"].eq(f.loc[copies, "region_code"])
    f.loc[copies, "band"] = got["band"]
    f.loc[copies, "rank_national"] = got["rank_national"]
    f.loc[copies, "rank_region"] = got["rank_region"].where(same_region)


def _areas(
    figures: pd.DataFrame,
    whole: pd.DataFrame,
    region_of: pd.Series,
    catalogue: Catalogue,
    steps: int,
    level: float,
) -> pd.DataFrame:
    """Region and England rows: the ratio of sums of `whole` (the figures as returned), with
    like-for-like movement from `figures` (as published)."""
    regions = aggregate(whole, region_of, catalogue).assign(area_type="region")
    england = aggregate(whole, pd.Series("england", index=region_of.index), catalogue).assign(
        area_type="england"
    )
    moved = pd.concat(
        [
            area_movement(figures, region_of, catalogue, trend_steps=steps, level=level),
            area_movement(
                figures,
                pd.Series("england", index=region_of.index),
                catalogue,
                trend_steps=steps,
                level=level,
            ),
        ],
        ignore_index=True,
    )
    areas = pd.concat([regions, england], ignore_index=True)
    return areas.merge(moved, on=["area_code", "period", "indicator_id"], how="left")


def _withhold(areas: pd.DataFrame, withheld_areas: frozenset[tuple[str, str, str]]) -> None:
    """Blank, in place, the figures of the (area_code, period, indicator_id) withheld by
    disclosure control, with status WITHHELD."""
    keys = zip(areas["area_code"], areas["period"], areas["indicator_id"], strict=True)
    hidden = np.array([k in withheld_areas for k in keys], dtype=bool)
    areas.loc[hidden, ["numerator", "denominator", "value"]] = np.nan
    areas.loc[hidden, "status"] = WITHHELD
