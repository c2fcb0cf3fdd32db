"""Ratio-of-sums aggregation reproduces DfE's published regional and England figures.

Real published data (Explore Education Statistics tidy CSVs, 2025) from ``../shared/public-data``:
LA rows go into `aggregate`, and the result must match the regional and national rows that DfE
published alongside them, within the publication's rounding. Skipped when the data is absent.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from pipeline.core.benchmark import aggregate
from pipeline.core.catalogue import Catalogue
from pipeline.core.vocabulary import FIGURE_COLUMNS, OK, STATUS_SYMBOLS
from pipeline.edges import ees
from tests.conftest import PUBLIC_DATA

PERIOD = "2025"
REFERENCE = PUBLIC_DATA / "reference" / "la_153_reference.csv"
E12_REGIONS = [f"E1200000{i}" for i in range(1, 10)]
NORTH_EAST = "E12000001"
ENGLAND = "E92000001"
#: abolished LAs still listed (filled with symbols) in recent files, absent from the 153 reference
ABOLISHED = {"E10000006": "Cumbria", "E10000021": "Northamptonshire"}
#: Barnsley and Sheffield: the code the 2025 publications use -> the code in force from 2025
RECODED = {"E08000016": "E08000038", "E08000019": "E08000039"}


@dataclass(frozen=True)
class Source:
    """Where one indicator's LA, regional and national figures sit in a published EES file."""

    indicator_id: str
    path: str
    row_column: str
    row_value: str
    numerator: str
    denominator: str
    value: str
    unit: str
    decimals: int


SOURCES = [
    Source(
        indicator_id="cla_rate",
        path="ees/cla_number_and_rate_per_10k_children.csv",
        row_column="population_type",
        row_value="Children looked after on 31 March each year",
        numerator="children_count",
        denominator="population_estimate",
        value="rate_per_10000",
        unit="rate per 10,000",
        decimals=0,
    ),
    Source(
        indicator_id="rereferral_pct",
        path="ees/c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
        row_column="category",
        row_value="Referrals and Re-referrals",
        numerator="rereferral_count",
        denominator="referral_count",
        value="rereferral_percent",
        unit="percentage",
        decimals=1,
    ),
]
SOURCE_IDS = [s.indicator_id for s in SOURCES]
CATALOGUE = Catalogue.from_records(
    [
        {
            "id": s.indicator_id,
            "label": s.indicator_id,
            "theme": "Public data",
            "unit": s.unit,
            "polarity": "neutral",
            "decimals": s.decimals,
            "valid_range": [0, None],
        }
        for s in SOURCES
    ]
)

NEEDED = [REFERENCE, *(PUBLIC_DATA / s.path for s in SOURCES)]
_absent = [str(p) for p in NEEDED if not p.is_file()]
pytestmark = pytest.mark.skipif(
    bool(_absent), reason=f"public data not available: {', '.join(_absent)}"
)


# ----------------------------------------------------------------------------- helpers


def la_figures(rows: pd.DataFrame, source: Source) -> pd.DataFrame:
    """The LA rows of one publication as a Tartan figures frame (FIGURE_COLUMNS).

    Quirk: a file holds national, regional and LA rows together; only ``geographic_level ==
    "Local authority"`` rows are LA figures. A row's status is the first symbol found in its
    numerator, denominator or value cell (Cumbria, for instance, has z counts and x population).
    """
    la = rows[rows["geographic_level"].eq("Local authority")]
    num, den, val = (
        ees.numbers(la[column], la["row"], source.path, column)
        for column in (source.numerator, source.denominator, source.value)
    )
    status = num["status"].where(
        num["status"].ne(OK), den["status"].where(den["status"].ne(OK), val["status"])
    )
    frame = pd.DataFrame(
        {
            "la_code": la["new_la_code"],
            "period": PERIOD,
            "indicator_id": source.indicator_id,
            "numerator": num["number"],
            "denominator": den["number"],
            "value": val["number"],
            "status": status,
        }
    )
    return frame[FIGURE_COLUMNS].reset_index(drop=True)


def region_of(reference: pd.DataFrame) -> pd.Series:
    """LA code -> E12 region code, from the 153-LA reference.

    Quirk: the EES files' own ``region_code`` puts London LAs in Inner or Outer London
    (E13000001/2) rather than London (E12000007), so the files cannot be trusted for this.
    The reference's ``new_la_code`` is the code the 2025 files use (old Barnsley/Sheffield codes).
    """
    return reference.set_index("new_la_code")["region_code_e12"]


def published_value(rows: pd.DataFrame, source: Source, level: str, code: str) -> float:
    """The one published value for a region (``region_code``) or England (``country_code``)."""
    column = "country_code" if level == "National" else "region_code"
    hit = rows[rows["geographic_level"].eq(level) & rows[column].eq(code)]
    assert len(hit) == 1, f"{source.indicator_id}: expected one {level} row for {code}"
    return float(hit[source.value].iloc[0])


def unrounded(area_row: pd.Series, source: Source) -> float:
    """aggregate()'s ratio before its rounding: sum of numerators / sum of denominators x scale."""
    return area_row["numerator"] / area_row["denominator"] * CATALOGUE[source.indicator_id].scale


def assert_matches(area_row: pd.Series, published: float, source: Source, where: str) -> None:
    """Within the publication's rounding (half a unit in the last place) before rounding; after
    rounding, equal or one unit off (DfE may round half-values differently from Python)."""
    unit = 10.0**-source.decimals
    raw = unrounded(area_row, source)
    assert abs(raw - published) <= 0.5 * unit + 1e-9, (
        f"{source.indicator_id} {where}: Tartan {raw:.4f} vs published {published}"
    )
    assert abs(area_row["value"] - published) <= unit + 1e-9, (
        f"{source.indicator_id} {where}: Tartan rounded {area_row['value']} vs {published}"
    )


@functools.cache
def reference() -> pd.DataFrame:
    return pd.read_csv(REFERENCE, dtype=str, keep_default_na=False)


@functools.cache
def publication(indicator_id: str) -> pd.DataFrame:
    """The 2025 rows of one indicator (all geographic levels), as text."""
    source = SOURCES[SOURCE_IDS.index(indicator_id)]
    rows = ees.read_tidy(PUBLIC_DATA / source.path)
    keep = rows["time_period"].eq(PERIOD) & rows[source.row_column].eq(source.row_value)
    return rows[keep].reset_index(drop=True)


def figures_for(source: Source) -> pd.DataFrame:
    return la_figures(publication(source.indicator_id), source)


def by_area(aggregated: pd.DataFrame) -> pd.DataFrame:
    return aggregated.set_index("area_code")


def regional(figures: pd.DataFrame) -> pd.DataFrame:
    return by_area(aggregate(figures, region_of(reference()), CATALOGUE))


def england(figures: pd.DataFrame) -> pd.DataFrame:
    """Every reference LA mapped to one code, so aggregate() gives the England figure."""
    las = region_of(reference()).index
    return by_area(aggregate(figures, pd.Series(ENGLAND, index=las), CATALOGUE))


def _regions() -> list[str]:
    """Region codes from the reference when it is there (else the nine E12 codes)."""
    if REFERENCE.is_file():
        return sorted(pd.read_csv(REFERENCE, dtype=str)["region_code_e12"].unique())
    return E12_REGIONS


REGIONS = _regions()


# ----------------------------------------------------------------------------- the data itself


def test_reference_has_the_nine_regions():
    assert REGIONS == E12_REGIONS
    assert reference()["new_la_code"].is_unique
    assert len(reference()) == 153


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_published_rows_exist_for_every_region_and_england(source):
    rows = publication(source.indicator_id)
    published = rows[rows["geographic_level"].eq("Regional")]
    e12 = published[published["region_code"].str.startswith("E12")]
    assert sorted(e12["region_code"]) == E12_REGIONS  # each once
    assert pd.to_numeric(e12[source.value], errors="coerce").notna().all()
    # the London sub-regions are published too, and are not regions
    assert set(published["region_code"]) - set(E12_REGIONS) <= {"E13000001", "E13000002"}
    assert not np.isnan(published_value(rows, source, "National", ENGLAND))


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_symbols_become_missing_with_their_status(source):
    figures = figures_for(source)
    flagged = figures[figures["status"].ne(OK)]
    assert set(flagged["status"]) <= set(STATUS_SYMBOLS)
    assert (flagged["numerator"].isna() | flagged["denominator"].isna()).all()
    ok = figures[figures["status"].eq(OK)]
    assert ok[["numerator", "denominator", "value"]].notna().all().all()
    assert figures["la_code"].is_unique


def test_cla_symbols_in_2025():
    """The 2025 CLA file's own symbols: abolished LAs z, Isles of Scilly z, City of London c."""
    figures = figures_for(SOURCES[0]).set_index("la_code")
    expected = {"E10000006": "z", "E10000021": "z", "E06000053": "z", "E09000001": "c"}
    flagged = figures[figures["status"].ne(OK)]
    assert flagged["status"].to_dict() == expected
    assert flagged["numerator"].isna().all()
    # Cumbria and Northamptonshire have no population either (x), still not zero
    assert figures.loc[list(ABOLISHED), "denominator"].isna().all()


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_every_numeric_la_maps_to_a_region(source):
    figures = figures_for(source)
    regions = figures["la_code"].map(region_of(reference()))
    numeric = figures["status"].eq(OK)
    assert regions[numeric].notna().all(), list(figures.loc[numeric & regions.isna(), "la_code"])
    # the only LAs the reference does not know are the abolished ones, all marked z
    unmapped = figures[regions.isna()]
    assert set(unmapped["la_code"]) <= set(ABOLISHED)
    assert unmapped["status"].eq("z").all()
    # every reference LA has a row
    assert set(reference()["new_la_code"]) <= set(figures["la_code"])


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_barnsley_and_sheffield_use_their_old_codes(source):
    codes = set(figures_for(source)["la_code"])
    assert set(RECODED) <= codes
    assert not set(RECODED.values()) & codes
    ref = reference().set_index("new_la_code")
    assert ref.loc[list(RECODED), "new_la_code_current_dfe_qa"].to_dict() == RECODED


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_las_contributing_are_the_region_minus_flagged(source):
    figures = figures_for(source)
    ref = reference()
    flagged = set(figures.loc[figures["status"].ne(OK), "la_code"])
    areas = regional(figures)
    for region in E12_REGIONS:
        las = ref.loc[ref["region_code_e12"].eq(region), "new_la_code"]
        assert areas.loc[region, "las_in_area"] == len(las)
        expected = len(las) - las.isin(flagged).sum()
        assert areas.loc[region, "las_contributing"] == expected, region
    total = england(figures).loc[ENGLAND]
    assert total["las_in_area"] == 153
    assert total["las_contributing"] == 153 - ref["new_la_code"].isin(flagged).sum()


# ----------------------------------------------------------------------------- the comparison


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_region_matches_published(source, region):
    rows = publication(source.indicator_id)
    area = regional(figures_for(source)).loc[region]
    assert_matches(area, published_value(rows, source, "Regional", region), source, region)


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_england_matches_published(source):
    rows = publication(source.indicator_id)
    area = england(figures_for(source)).loc[ENGLAND]
    assert_matches(area, published_value(rows, source, "National", ENGLAND), source, "England")


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_comparison_fails_when_one_la_is_altered(source):
    """Add 10% to the numerator of the North East's largest LA: only the North East breaks."""
    rows = publication(source.indicator_id)
    figures = figures_for(source)
    in_ne = figures["la_code"].map(region_of(reference())).eq(NORTH_EAST)
    largest = figures.loc[in_ne & figures["status"].eq(OK), "denominator"].idxmax()
    figures.loc[largest, "numerator"] *= 1.1
    areas = regional(figures)
    for region in E12_REGIONS:
        published = published_value(rows, source, "Regional", region)
        if region == NORTH_EAST:
            with pytest.raises(AssertionError):
                assert_matches(areas.loc[region], published, source, region)
        else:
            assert_matches(areas.loc[region], published, source, region)
