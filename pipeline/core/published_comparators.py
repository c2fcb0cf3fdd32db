"""A region's own quarterly returns against DfE's published England, neighbours and national bands.

A regional benchmarking group collects returns from its own LAs only: it has no quarterly figure
for England or for its LAs' statistical neighbours in other regions. Its comparators come from
DfE's published statistics, annual and as at their own year (``pipeline.edges.ees`` reads them).
For each catalogue indicator the datapack's mapping links to a published measure (the same id),
with the latest year DfE has published (`year`):

- **England**: DfE's published figure of that year (its value, or the ratio of its counts);
- **SN mean and median**: of the LA's neighbours' published figures of that year (a jointly run
  service's once), wherever the neighbours are;
- **band and national rank**: the LA's quarterly figure, as shown, placed among all LAs'
  published figures of that year, as shown: LAIT's quartiles of those figures
  (``benchmark.bands_against``); its rank is one more than the number of other LAs whose
  published figure is better, among those LAs and itself.

The region stays the ratio of sums of its accepted returns. An indicator with no published
counterpart keeps the comparators its returns give (band and rank among the returning LAs,
their mean of neighbours that returned) and has no England figure: the reports say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.benchmark import bands_against, quartiles, shown
from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import MISSING, OK, owner

#: the columns of a region's LA rows the published comparators replace
REPLACED = ["band", "rank_national", "las_ranked_national", "sn_mean", "sn_median", "sn_count"]
#: the England row's movement: a published year's figure does not move between quarters
STILL = ["previous_value", "change_previous", "year_earlier_value", "change_year"]
STILL += ["trend_from", "trend"]


def latest_years(published: pd.DataFrame) -> dict[str, str]:
    """Each indicator's latest year with a published LA figure."""
    held = published[published["status"].eq(OK) & published["value"].notna()]
    out = {}
    for ind, periods in held.groupby("indicator_id", sort=True)["period"]:
        out[str(ind)] = max(map(parse_slug, periods.unique())).slug
    return out


def _of_year(published: pd.DataFrame, years: dict[str, str]) -> pd.DataFrame:
    """The published LA figures of each indicator's year that hold a number."""
    pick = published["indicator_id"].map(years).eq(published["period"])
    pick &= published["status"].eq(OK) & published["value"].notna()
    return published[pick]


def against_published(
    las: pd.DataFrame,
    england: pd.DataFrame,
    published: pd.DataFrame,
    published_england: pd.DataFrame,
    neighbours: pd.DataFrame,
    catalogue: Catalogue,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """The region's LA rows and England rows with published comparators, and each linked
    indicator's year (those not in it have no published counterpart).

    `las`: the benchmarked LA rows of the returns (``benchmark``'s ``las``); `england`: its
    England rows (``areas`` with area_type england); `published`: DfE's LA figures of every
    LA and year (la_code, period, indicator_id, value, status, and `shared` for a jointly run
    service); `published_england`: DfE's England figures (period, indicator_id, value);
    `neighbours`: la_code, neighbour_la_code."""
    linked = {i.id for i in catalogue}
    years = {k: v for k, v in latest_years(published).items() if k in linked}
    pub = _of_year(published[published["indicator_id"].isin(list(years))], years)
    pub = pub.assign(value=[_shown(catalogue, i, v) for i, v in _pairs(pub)])
    out = las.copy()
    mine = out["indicator_id"].isin(list(years))
    sn = _neighbours(pub, neighbours)
    keys = pd.MultiIndex.from_frame(out.loc[mine, ["la_code", "indicator_id"]])
    for col in ("sn_mean", "sn_median", "sn_count"):
        out.loc[mine, col] = sn[col].reindex(keys).to_numpy()
    out["sn_count"] = out["sn_count"].fillna(0).astype(int)
    for ind in years:
        rows = mine & out["indicator_id"].eq(ind)
        if rows.any():
            _place(out, rows, pub[pub["indicator_id"].eq(ind)], catalogue[ind])
    return out, _england(england, published_england, years, catalogue), years


def _pairs(frame: pd.DataFrame):
    return zip(frame["indicator_id"], frame["value"], strict=True)


def _shown(catalogue: Catalogue, ind: str, value: float) -> float:
    return round(float(value), catalogue[ind].decimals)


def _neighbours(pub: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Each LA's neighbours' published figures: mean, median and count, by (la_code,
    indicator_id); a jointly run service's figure once, and never the LA's own."""
    vals = pub.assign(_owner=owner(pub))[["la_code", "indicator_id", "value", "_owner"]]
    pairs = neighbours[["la_code", "neighbour_la_code"]].drop_duplicates()
    m = pairs.merge(vals.rename(columns={"la_code": "neighbour_la_code"}), on="neighbour_la_code")
    m = m[m["_owner"].ne(m["la_code"])].drop_duplicates(["la_code", "indicator_id", "_owner"])
    return m.groupby(["la_code", "indicator_id"])["value"].agg(
        sn_mean="mean", sn_median="median", sn_count="size"
    )


def _place(out: pd.DataFrame, rows: pd.Series, pub: pd.DataFrame, ind) -> None:
    """Band and national rank of `rows` (one indicator) among the published figures `pub`,
    in place: each LA's quarterly figure as shown, against every other LA's published one
    (a jointly run service's once)."""
    once = pub[owner(pub).eq(pub["la_code"])]
    values = shown(out.loc[rows, "value"].where(out.loc[rows, "status"].eq(OK)), ind.decimals)
    out.loc[rows, "band"] = bands_against(values, quartiles(once["value"]), ind.polarity)
    own = once.set_index("la_code")["value"]
    others = once["value"].to_numpy(dtype=float)
    ranks, counts = [], []
    for code, v in zip(out.loc[rows, "la_code"], values, strict=True):
        mine = own.get(code)
        n = len(others) - (mine is not None)
        if pd.isna(v):
            ranks.append(pd.NA)
            counts.append(n + 1)
            continue
        better = others > v if ind.polarity != "low" else others < v
        ahead = int(better.sum()) - int(mine is not None and _better(mine, v, ind.polarity))
        ranks.append(ahead + 1)
        counts.append(n + 1)
    out.loc[rows, "rank_national"] = pd.array(ranks, dtype="Int64")
    out.loc[rows, "las_ranked_national"] = counts


def _better(a: float, b: float, polarity: str) -> bool:
    return a < b if polarity == "low" else a > b


def _england(
    england: pd.DataFrame,
    published_england: pd.DataFrame,
    years: dict[str, str],
    catalogue: Catalogue,
) -> pd.DataFrame:
    """England's rows: DfE's published figure of each linked indicator's year, the same in
    every period (no movement); no figure for an indicator with no published counterpart."""
    out = england.copy()
    pe = published_england.set_index(["indicator_id", "period"])["value"]
    value = [
        pe.get((ind, years[ind]), np.nan) if ind in years else np.nan for ind in out["indicator_id"]
    ]
    out["value"] = [
        _shown(catalogue, i, v) if pd.notna(v) else np.nan
        for i, v in zip(out["indicator_id"], value, strict=True)
    ]
    out["status"] = np.where(out["value"].notna(), OK, MISSING)
    out[["numerator", "denominator"]] = np.nan
    for col in STILL:
        if col in out.columns:
            out[col] = None if col == "trend" else np.nan
    return out
