"""The self-assessment evidence pack's figures for one LA and period: the scorecard (each
indicator against every comparator, with its ranks, band and trend) and the LA's value history
by period, which the pack's rules (``pipeline.core.assessment``) read. Pure pandas.
"""

from __future__ import annotations

import math

import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import OK

#: scorecard columns, in the order the pack shows them
SCORECARD_COLUMNS = [
    "indicator_id",
    "theme",
    "value",
    "status",
    "numerator",
    "previous_value",
    "year_earlier_value",
    "sn_mean",
    "sn_median",
    "sn_count",
    "region",
    "england",
    "rank_national",
    "las_ranked_national",
    "rank_region",
    "las_ranked_region",
    "band",
    "worst_band_run",
    "trend_from",
    "trend",
]


def scorecard(
    la_rows: pd.DataFrame,
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
) -> pd.DataFrame:
    """One row per catalogue indicator (catalogue order) for the LA in `period`.

    `la_rows`: the LA's rows from the benchmark core (any periods); `areas`: region and England
    rows ('england'). Indicators without a row are listed as missing.
    """
    return scorecard_of(rows_in(la_rows, period), areas, catalogue, period, region_code)


def rows_in(la_rows: pd.DataFrame, period: str) -> dict[str, dict]:
    """Indicator id -> the LA's row in `period`, as a dict (the last, should one indicator have
    two)."""
    return {r["indicator_id"]: r for r in la_rows[la_rows["period"] == period].to_dict("records")}


def scorecard_of(
    now: dict[str, dict],
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
) -> pd.DataFrame:
    """`scorecard` from the LA's rows in `period` (`rows_in`), for a caller that reads them
    too."""
    a = areas[areas["period"] == period]
    codes = zip(a["area_code"].tolist(), a["indicator_id"].tolist(), strict=True)
    a = dict(zip(codes, a["value"], strict=True))
    rows = []
    for ind in catalogue:
        r = now.get(ind.id)
        row = {"indicator_id": ind.id, "theme": ind.theme}
        for col in SCORECARD_COLUMNS[2:]:
            if col in ("region", "england"):
                continue
            row[col] = r[col] if r is not None and col in r else None
        if r is None:
            row["status"] = "missing"
        row["region"] = a.get((region_code, ind.id), math.nan)
        row["england"] = a.get(("england", ind.id), math.nan)
        rows.append(row)
    out = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    out["band"] = out["band"].where(out["band"].map(lambda b: isinstance(b, str) and b != ""))
    return out


def value_table(la_rows: pd.DataFrame) -> dict[str, dict[int, float]]:
    """Indicator id -> {period ordinal -> value}, for the periods where the LA has a figure."""
    r = la_rows[la_rows["status"].eq(OK) & la_rows["value"].notna()]
    periods = r["period"].tolist()  # a string column's list: quicker to go through than itself
    ordinal = {p: parse_slug(p).ordinal for p in set(periods)}
    out: dict[str, dict[int, float]] = {}
    for ind, p, v in zip(r["indicator_id"].tolist(), periods, r["value"], strict=True):
        out.setdefault(ind, {})[ordinal[p]] = float(v)
    return out


def value_series(la_rows: pd.DataFrame, indicator_id: str) -> dict[int, float]:
    """Period ordinal -> value, for the periods where the LA has a figure."""
    return value_table(la_rows).get(indicator_id, {})
