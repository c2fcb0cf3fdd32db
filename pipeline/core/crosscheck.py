"""The published cross-check: DfE's own region and England figures against Tartan's.

A published file carries DfE's regional and national rows beside its LA rows. Tartan aggregates
the LA rows itself (``benchmark.aggregate``: a ratio of sums), so each area's figure can be put
next to DfE's, a quality check analysts value: it catches a mapping that picks the wrong rows or
columns, LAs missing from the reference, and a published figure that does not add up.

What "agrees" means, measure by measure (differences within these are the publication's
rounding, not errors):

- **value** (a published rate or percentage, rounded to the indicator's decimals): Tartan's
  unrounded ratio is within half a unit of the last published decimal, or within the
  indicator's own `tolerance` where the mapping gives one (a rate DfE computed from unrounded
  FTEs, which its files publish rounded, can differ by a little more);
- **numerator / denominator** (counts): within half the rounding DfE applies to area counts
  (``count_rounding``, 10 by default: regional and national counts are published to the nearest
  10, LA counts exactly), once for each published cell a sum adds up (`parts`).

Where LAs' own figures are withheld or unavailable (c, x, u...), Tartan's sum lacks them while
DfE's total does not: a count's shortfall there (or any gap in a rate) is ``incomplete``, not a
difference; a count in excess still differs. Only ``differs`` fails the check.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue

AGREES, DIFFERS, INCOMPLETE = "agrees", "differs", "incomplete"
ENGLAND = "england"
KEYS = ["area_code", "period", "indicator_id"]
MEASURES = ("numerator", "denominator", "value")
COLUMNS = [
    "area_code",
    "period",
    "indicator_id",
    "measure",
    "published",
    "tartan",
    "difference",
    "allowed",
    "las_contributing",
    "las_in_area",
    "outcome",
]


def crosscheck(
    cells: pd.DataFrame,
    published: pd.DataFrame,
    area_of: pd.Series,
    catalogue: Catalogue,
    count_rounding: float = 10,
    tolerance: Mapping[str, float] | None = None,
    parts: Mapping[tuple[str, str], int] | None = None,
) -> pd.DataFrame:
    """One row per area, period, indicator and measure DfE published (COLUMNS).

    `tolerance`: indicator id -> the difference allowed in its value (when not half a unit of
    its last decimal); `parts`: (indicator id, measure) -> how many published cells make one
    area count (a sum of columns or rows), 1 when not given.

    `cells`: every LA's numerator and denominator cells as published (la_code, period,
    indicator_id, measure, number, status), former LAs included; `area_of`: LA code -> region
    code; `published`: DfE's own area figures (area_code, period, indicator_id, numerator,
    denominator, value), blank where DfE published no number.

    Each count is summed over the LAs with a number for it; each value is the ratio of sums
    over the LAs with both (as ``benchmark.aggregate`` does). LAs whose cell is ``z`` (not
    applicable: not yet or no longer an LA, or a measure that does not apply) are not expected
    to contribute; any other LA without a number makes the comparison incomplete."""
    ours = _tartan_sums(_per_la(cells, area_of), catalogue)
    pub = published[[*KEYS, *MEASURES]].melt(KEYS, MEASURES, "measure", "published")
    pub = pub[pub["published"].notna()]
    out = pub.merge(ours, on=[*KEYS, "measure"], how="inner")
    _judge(out, catalogue, count_rounding, tolerance or {}, parts or {})
    out = out[COLUMNS].sort_values(["period", "indicator_id", "area_code", "measure"])
    return out.reset_index(drop=True)


def _per_la(cells: pd.DataFrame, area_of: pd.Series) -> pd.DataFrame:
    """Each LA's numerator and denominator in each of its areas (its region, and England), by
    (area_code, period, indicator_id, la_code): the numbers, those of LAs with both (which a
    ratio of sums uses), whether it has each measure, and whether it is expected to."""
    c = cells.assign(area_code=cells["la_code"].map(area_of)).dropna(subset=["area_code"])
    c = pd.concat([c, c.assign(area_code=ENGLAND)], ignore_index=True)
    c = c.assign(expected=c["status"].ne("z"), has=c["number"].notna())
    wide = c.pivot_table(
        index=[*KEYS, "la_code"],
        columns="measure",
        values=["number", "expected", "has"],
        aggfunc="first",
    )
    num, den = wide[("number", "numerator")], wide[("number", "denominator")]
    both = wide[("has", "numerator")].fillna(False) & wide[("has", "denominator")].fillna(False)
    return pd.DataFrame(
        {
            "numerator": num,
            "denominator": den,
            "both_numerator": num.where(both),
            "both_denominator": den.where(both),
            "has_numerator": wide[("has", "numerator")].fillna(False),
            "has_denominator": wide[("has", "denominator")].fillna(False),
            "has_value": both,
            "expected_numerator": wide[("expected", "numerator")].fillna(False),
            "expected_denominator": wide[("expected", "denominator")].fillna(False),
            "expected_value": wide[("expected", "numerator")].fillna(False)
            & wide[("expected", "denominator")].fillna(False),
        }
    )


def _tartan_sums(per_la: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Tartan's figure for each area, period, indicator and measure (tartan), with how many
    LAs contributed (las_contributing) and were expected to (las_in_area)."""
    sums = per_la.groupby(level=KEYS).sum(min_count=1)
    scale = sums.index.get_level_values("indicator_id").map({i.id: i.scale for i in catalogue})
    sums["value"] = (
        sums["both_numerator"]
        / sums["both_denominator"].where(sums["both_denominator"] != 0)
        * np.asarray(scale, dtype=float)
    )
    ours = []
    for measure in MEASURES:
        part = sums[[measure, f"has_{measure}", f"expected_{measure}"]].copy()
        part.columns = ["tartan", "las_contributing", "las_in_area"]
        ours.append(part.assign(measure=measure).reset_index())
    return pd.concat(ours, ignore_index=True)


def _judge(
    out: pd.DataFrame,
    catalogue: Catalogue,
    count_rounding: float,
    tolerance: Mapping[str, float],
    parts: Mapping[tuple[str, str], int],
) -> None:
    """Add allowed, difference and outcome to the compared rows, in place (see the module's
    docstring for what agrees)."""
    half_unit = {i.id: 0.5 * 10.0**-i.decimals for i in catalogue} | dict(tolerance)
    value_allowed = out["indicator_id"].map(half_unit).astype(float)
    n = [parts.get(k, 1) for k in zip(out["indicator_id"], out["measure"], strict=True)]
    count_allowed = count_rounding / 2 * np.asarray(n, dtype=float)
    out["allowed"] = np.where(out["measure"].eq("value"), value_allowed, count_allowed)
    out["difference"] = out["tartan"] - out["published"]
    out[["las_contributing", "las_in_area"]] = out[["las_contributing", "las_in_area"]].astype(int)
    within = out["difference"].abs() <= out["allowed"] + 1e-9
    short = out["las_contributing"] < out["las_in_area"]
    # with LAs missing, a count can only fall short of DfE's; a ratio can move either way
    explained = short & (out["measure"].eq("value") | ~(out["difference"] > 0))
    out["outcome"] = np.where(within, AGREES, np.where(explained, INCOMPLETE, DIFFERS))


def summary(checked: pd.DataFrame) -> dict[str, int]:
    """How many comparisons came out each way."""
    counts = checked["outcome"].value_counts()
    return {k: int(counts.get(k, 0)) for k in (AGREES, INCOMPLETE, DIFFERS)}
