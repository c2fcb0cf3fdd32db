"""Comparators, quartile bands and ranks, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.core.benchmark import (
    aggregate,
    bands,
    benchmark,
    quartiles,
    ranks,
    worst_band_runs,
)
from pipeline.core.vocabulary import FIGURE_COLUMNS, MISSING, NOT_ACCEPTED, OK
from tests.catalogues import catalogue

NAN = np.nan
PERIOD = "2026-27-Q1"

CATALOGUE = catalogue(
    "visits_pct",
    "cla_rate",
    "caseload",
    cla_rate={"decimals": 1},
    caseload={"decimals": 2, "valid_range": [0, 60]},
)


def figures(rows) -> pd.DataFrame:
    """rows: (la_code, indicator_id, numerator, denominator, value, status), all in PERIOD."""
    frame = pd.DataFrame(
        [(la, PERIOD, ind, num, den, val, st) for la, ind, num, den, val, st in rows],
        columns=FIGURE_COLUMNS,
    )
    return frame.astype({"numerator": float, "denominator": float, "value": float})


def one(frame: pd.DataFrame, **where) -> pd.Series:
    mask = np.logical_and.reduce([frame[k].eq(v) for k, v in where.items()])
    hits = frame[mask]
    assert len(hits) == 1, f"expected one row for {where}, got {len(hits)}"
    return hits.iloc[0]


# ----------------------------------------------------------------------------- quartiles


def test_quartiles_match_r_type_7():
    # type 7: position h = (n - 1) * p, interpolate between sorted values v[floor(h)], v[ceil(h)]
    # n = 10: q1 h = 2.25 -> 3 + 0.25 * (4 - 3) = 3.25
    #         q2 h = 4.5  -> 5 + 0.5 * (6 - 5)  = 5.5
    #         q3 h = 6.75 -> 7 + 0.75 * (8 - 7) = 7.75
    # (type 6, SPSS/Excel QUARTILE.EXC, would give 2.75 and 8.25)
    assert quartiles(pd.Series([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])) == (3.25, 5.5, 7.75)


def test_quartiles_of_uneven_values():
    # n = 3 sorted [10, 20, 40]: q1 h = 0.5 -> 10 + 0.5 * 10 = 15; q2 = 20;
    # q3 h = 1.5 -> 20 + 0.5 * (40 - 20) = 30
    assert quartiles(pd.Series([40, 10, 20])) == (15.0, 20.0, 30.0)


def test_quartiles_ignore_missing_and_non_numbers():
    # same as [10, 20, 40] above: NaN, None and the symbol 'c' are not zeros
    assert quartiles(pd.Series([NAN, 10, "c", 20, None, 40], dtype=object)) == (15.0, 20.0, 30.0)


def test_quartiles_none_without_values():
    assert quartiles(pd.Series([NAN, NAN])) is None
    assert quartiles(pd.Series([], dtype=float)) is None


# ----------------------------------------------------------------------------- bands

ONE_TO_TEN = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=float)


def test_bands_high_polarity():
    # q1 = 3.25, median = 5.5, q3 = 7.75 (see test_quartiles_match_r_type_7)
    # A: >= 7.75 -> 8, 9, 10; B: >= 5.5 -> 6, 7; C: >= 3.25 -> 4, 5; D: < 3.25 -> 1, 2, 3
    assert list(bands(ONE_TO_TEN, "high")) == list("DDDCCBBAAA")


def test_bands_low_polarity():
    # A: <= 3.25 -> 1, 2, 3; B: <= 5.5 -> 4, 5; C: <= 7.75 -> 6, 7; D: > 7.75 -> 8, 9, 10
    assert list(bands(ONE_TO_TEN, "low")) == list("AAABBCCDDD")


def test_bands_neutral_gives_no_band():
    assert list(bands(ONE_TO_TEN, "neutral")) == [None] * 10


def test_value_on_a_quartile_falls_in_the_quarter_below_it_as_in_lait():
    # n = 5 sorted [10, 20, 30, 40, 50]: h = 1, 2, 3 land on values -> q1 = 20, q2 = 30, q3 = 40
    values = pd.Series([10, 20, 30, 40, 50], dtype=float)
    assert quartiles(values) == (20.0, 30.0, 40.0)
    # LAIT's calculate_quartile_band: quarters (min, q1], (q1, q2], (q2, q3], (q3, max]
    # high: 40 == q3 -> B; 30 == q2 -> C; 20 == q1 -> D
    assert list(bands(values, "high")) == ["D", "D", "C", "B", "A"]
    # low: 20 == q1 -> A; 30 == q2 -> B; 40 == q3 -> C
    assert list(bands(values, "low")) == ["A", "A", "B", "C", "D"]


def test_two_las_showing_the_same_figure_share_a_band_and_a_rank():
    # A percentage published as a whole number: LA b's 60.4% and LA c's 59.6% both show 60%.
    # Shown: [70, 60, 60, 55, 50, 40] -> q1 = 51.25, q2 = 57.5, q3 = 60 (type 7), and 60 on q3
    # falls in the quarter below it: b and c both B, both ranked 2. On the unrounded ratios
    # q3 would be 60.2, b would be A and c B, ranked 2 and 3: two LAs showing the same figure
    # in different bands.
    cat = catalogue("visits_pct", visits_pct={"decimals": 0})
    codes = list("abcdef")
    las = pd.DataFrame({"la_code": codes, "region_code": "R1"})
    values = [70.0, 60.4, 59.6, 55.0, 50.0, 40.0]
    rows = [(c, "2025", "visits_pct", v, 100.0, v, OK) for c, v in zip(codes, values, strict=True)]
    got = benchmark(pd.DataFrame(rows, columns=FIGURE_COLUMNS), las, cat)["las"]
    got = got.set_index("la_code")
    assert got["band"].to_dict() == {"a": "A", "b": "B", "c": "B", "d": "C", "e": "D", "f": "D"}
    assert got["rank_national"].tolist() == [1, 2, 2, 4, 5, 6]
    assert got["rank_region"].tolist() == [1, 2, 2, 4, 5, 6]


def test_missing_values_get_no_band_and_do_not_move_the_quartiles():
    # with the NaNs ignored the quartiles stay 20 / 30 / 40 as above, so 20 stays in C.
    # Were the three NaNs counted as 0: sorted [0, 0, 0, 10, 20, 30, 40, 50], q1 would be
    # 0 + 0.75 * 10 = 7.5 and 10 would move up to C.
    values = pd.Series([10, NAN, 20, 30, NAN, 40, 50, NAN], index=list("abcdefgh"))
    got = bands(values, "high")
    assert list(got.index) == list("abcdefgh")
    assert got.to_dict() == {
        "a": "D",
        "b": None,
        "c": "D",
        "d": "C",
        "e": None,
        "f": "B",
        "g": "A",
        "h": None,
    }


def test_bands_all_missing():
    assert list(bands(pd.Series([NAN, NAN]), "high")) == [None, None]


# ----------------------------------------------------------------------------- ranks


def test_ranks_high_polarity_best_first_ties_share_lowest_rank():
    values = pd.Series([50, 70, 70, 10, NAN])
    got = ranks(values, "high")
    # descending: 70, 70 share 1; 50 is 3rd (not 2nd); 10 is 4th; NaN unranked
    assert list(got[:4]) == [3, 1, 1, 4]
    assert got[4] is pd.NA
    assert str(got.dtype) == "Int64"


def test_ranks_low_polarity_lowest_first():
    values = pd.Series([50, 70, 70, 10, NAN])
    got = ranks(values, "low")
    # ascending: 10 -> 1; 50 -> 2; 70, 70 share 3
    assert list(got[:4]) == [2, 3, 3, 1]
    assert got[4] is pd.NA


def test_ranks_neutral_highest_first():
    assert list(ranks(pd.Series([5.0, 9.0, 1.0]), "neutral")) == [2, 1, 3]


# ----------------------------------------------------------------------------- aggregate

REGION_OF = pd.Series({"E1": "R1", "E2": "R1", "E3": "R1", "E4": "R2", "E5": "R2"})


def test_aggregate_is_ratio_of_sums_not_mean_of_rates():
    f = figures(
        [
            ("E1", "visits_pct", 1, 10, 10.0, OK),  # 10%
            ("E2", "visits_pct", 50, 100, 50.0, OK),  # 50%
        ]
    )
    row = one(aggregate(f, REGION_OF, CATALOGUE), area_code="R1", indicator_id="visits_pct")
    # (1 + 50) / (10 + 100) * 100 = 51 / 110 * 100 = 46.3636.. -> 46.4 (1 decimal);
    # the mean of rates would be (10 + 50) / 2 = 30.0
    assert row["value"] == 46.4
    assert (row["numerator"], row["denominator"]) == (51, 110)
    assert row["status"] == OK
    assert row["las_contributing"] == 2


def test_aggregate_applies_each_indicators_scale_and_decimals():
    f = figures(
        [
            ("E1", "cla_rate", 30, 20_000, 15.0, OK),  # 15 per 10,000
            ("E2", "cla_rate", 5, 500, 100.0, OK),  # 100 per 10,000
            ("E1", "caseload", 190, 11, 17.27, OK),
            ("E2", "caseload", 40, 2, 20.0, OK),
        ]
    )
    out = aggregate(f, REGION_OF, CATALOGUE)
    # 35 / 20,500 * 10,000 = 17.0731.. -> 17.1 (mean of rates would be 57.5)
    assert one(out, area_code="R1", indicator_id="cla_rate")["value"] == 17.1
    # 230 / 13 * 1 = 17.6923.. -> 17.69 (mean of ratios would be 18.64)
    assert one(out, area_code="R1", indicator_id="caseload")["value"] == 17.69


def test_aggregate_excludes_suppressed_rows_rather_than_counting_zero():
    f = figures(
        [
            ("E1", "visits_pct", 1, 10, 10.0, OK),
            ("E2", "visits_pct", 50, 100, 50.0, OK),
            ("E3", "visits_pct", NAN, 40, NAN, "c"),  # suppressed
        ]
    )
    row = one(aggregate(f, REGION_OF, CATALOGUE), area_code="R1", indicator_id="visits_pct")
    # still 51 / 110 * 100 = 46.4; counting E3 as 0 of 40 would give 51 / 150 * 100 = 34.0
    assert row["value"] == 46.4
    assert row["denominator"] == 110
    assert row["las_contributing"] == 2
    assert row["las_in_area"] == 3


def test_aggregate_excludes_rows_whose_status_is_not_ok_even_with_numbers():
    f = figures(
        [
            ("E1", "visits_pct", 1, 10, 10.0, OK),
            ("E2", "visits_pct", 50, 100, 50.0, OK),
            ("E3", "visits_pct", 90, 100, 90.0, NOT_ACCEPTED),
        ]
    )
    row = one(aggregate(f, REGION_OF, CATALOGUE), area_code="R1", indicator_id="visits_pct")
    # 51 / 110 * 100 = 46.4; including E3 would give 141 / 210 * 100 = 67.1
    assert row["value"] == 46.4
    assert row["las_contributing"] == 2


def test_aggregate_needs_both_numerator_and_a_positive_denominator():
    f = figures(
        [
            ("E1", "visits_pct", 1, 10, 10.0, OK),
            ("E2", "visits_pct", 50, 100, 50.0, OK),
            ("E3", "visits_pct", NAN, 100, 80.0, OK),  # a rate without its numerator
            ("E4", "visits_pct", 0, 0, NAN, OK),  # nothing to divide by
        ]
    )
    out = aggregate(f, REGION_OF, CATALOGUE)
    row = one(out, area_code="R1", indicator_id="visits_pct")
    # 51 / 110 * 100 = 46.4; E3 read as 0 of 100 would give 51 / 210 * 100 = 24.3
    assert row["value"] == 46.4
    assert row["las_contributing"] == 2
    r2 = one(out, area_code="R2", indicator_id="visits_pct")
    assert r2["status"] == MISSING
    assert r2["las_contributing"] == 0


def test_aggregate_region_with_nothing_usable_is_missing():
    f = figures(
        [
            ("E1", "visits_pct", 1, 10, 10.0, OK),
            ("E4", "visits_pct", NAN, 30, NAN, "c"),
            ("E5", "visits_pct", NAN, NAN, NAN, "x"),
        ]
    )
    row = one(aggregate(f, REGION_OF, CATALOGUE), area_code="R2", indicator_id="visits_pct")
    assert row["status"] == MISSING
    assert math.isnan(row["value"])
    assert row["las_contributing"] == 0
    assert row["las_in_area"] == 2


# ----------------------------------------------------------------------------- benchmark

LAS = pd.DataFrame(
    {
        "la_code": ["E1", "E2", "E3", "E4"],
        "region_code": ["North", "North", "North", "Solo"],  # Solo has one LA
    }
)


@pytest.fixture(scope="module")
def result() -> dict[str, pd.DataFrame]:
    f = figures(
        [
            ("E1", "visits_pct", 30, 100, 30.0, OK),
            ("E2", "visits_pct", 10, 50, 20.0, OK),
            ("E3", "visits_pct", 45, 50, 90.0, NOT_ACCEPTED),
            ("E4", "visits_pct", 40, 100, 40.0, OK),
            ("E1", "cla_rate", 300, 10_000, 300.0, OK),
            ("E2", "cla_rate", 100, 5_000, 200.0, OK),
            ("E3", "cla_rate", NAN, 8_000, NAN, "c"),
            ("E4", "cla_rate", 60, 1_000, 600.0, OK),
        ]
    )
    return benchmark(f, LAS, CATALOGUE)


def test_benchmark_bands_and_national_ranks(result):
    las = result["las"]
    # visits_pct values with status OK: E1 30, E2 20, E4 40 (E3 is not accepted)
    # quartiles of [20, 30, 40]: q1 h = 0.5 -> 25, median 30, q3 h = 1.5 -> 35
    # high: E4 40 > 35 -> A; E1 30 == median -> C (the quarter below it); E2 20 <= 25 -> D
    got = {
        r.la_code: (r.band, r.rank_national)
        for r in las[las.indicator_id == "visits_pct"].itertuples()
    }
    assert got["E4"] == ("A", 1)
    assert got["E1"] == ("C", 2)
    assert got["E2"] == ("D", 3)
    assert (las[las.indicator_id == "visits_pct"]["las_ranked_national"] == 3).all()


def test_benchmark_not_accepted_cell_keeps_status_without_band_or_rank(result):
    e3 = one(result["las"], la_code="E3", indicator_id="visits_pct")
    assert e3["status"] == NOT_ACCEPTED
    assert e3["band"] is None
    assert e3["rank_national"] is pd.NA
    assert e3["rank_region"] is pd.NA


def test_benchmark_region_ranks_including_a_one_la_region(result):
    las = result["las"]
    solo = one(las, la_code="E4", indicator_id="visits_pct")
    assert solo["rank_region"] == 1
    assert solo["las_ranked_region"] == 1
    # North: E1 30 beats E2 20; E3 (not accepted) is not ranked, so 2 ranked
    assert one(las, la_code="E1", indicator_id="visits_pct")["rank_region"] == 1
    assert one(las, la_code="E2", indicator_id="visits_pct")["rank_region"] == 2
    assert one(las, la_code="E2", indicator_id="visits_pct")["las_ranked_region"] == 2


def test_benchmark_neutral_indicator_is_ranked_highest_first_but_not_banded(result):
    rate = result["las"][result["las"].indicator_id == "cla_rate"].set_index("la_code")
    assert rate["band"].isna().all()
    # E4 600 > E1 300 > E2 200; E3 suppressed
    assert rate.loc[["E4", "E1", "E2"], "rank_national"].tolist() == [1, 2, 3]
    assert rate.loc["E3", "rank_national"] is pd.NA
    assert rate.loc["E3", "status"] == "c"


def test_benchmark_areas_are_ratio_of_sums(result):
    areas = result["areas"]
    north = one(areas, area_code="North", indicator_id="visits_pct")
    # (30 + 10) / (100 + 50) * 100 = 26.666.. -> 26.7; E3 not accepted so excluded
    assert north["value"] == 26.7
    assert north["area_type"] == "region"
    assert (north["las_contributing"], north["las_in_area"]) == (2, 3)

    solo = one(areas, area_code="Solo", indicator_id="visits_pct")
    assert solo["value"] == 40.0  # 40 / 100 * 100
    assert (solo["las_contributing"], solo["las_in_area"]) == (1, 1)

    england = one(areas, area_type="england", indicator_id="visits_pct")
    # (30 + 10 + 40) / (100 + 50 + 100) * 100 = 80 / 250 * 100 = 32.0
    # (the mean of the three LA rates would be (30 + 20 + 40) / 3 = 30.0)
    assert england["value"] == 32.0
    assert (england["numerator"], england["denominator"]) == (80, 250)
    assert (england["las_contributing"], england["las_in_area"]) == (3, 4)

    england_rate = one(areas, area_type="england", indicator_id="cla_rate")
    # (300 + 100 + 60) / (10,000 + 5,000 + 1,000) * 10,000 = 460 / 16,000 * 10,000 = 287.5
    assert england_rate["value"] == 287.5
    assert england_rate["las_contributing"] == 3


def test_benchmark_ranks_each_period_separately():
    f = pd.concat(
        [
            figures([("E1", "visits_pct", 9, 10, 90.0, OK), ("E2", "visits_pct", 1, 10, 10.0, OK)]),
            figures(
                [("E1", "visits_pct", 1, 10, 10.0, OK), ("E2", "visits_pct", 9, 10, 90.0, OK)]
            ).assign(period="2026-27-Q2"),
        ],
        ignore_index=True,
    )
    las = benchmark(f, LAS, CATALOGUE)["las"]
    # each period alone: [90, 10] -> q1 = 10 + 0.25 * 80 = 30, median 50, q3 = 70
    assert one(las, la_code="E1", period=PERIOD)["rank_national"] == 1
    assert one(las, la_code="E1", period="2026-27-Q2")["rank_national"] == 2
    assert one(las, la_code="E1", period=PERIOD)["band"] == "A"
    assert one(las, la_code="E1", period="2026-27-Q2")["band"] == "D"


# ----------------------------------------------------------------------------- runs in band D


def test_worst_band_runs_count_consecutive_quarters_in_band_d():
    periods = ["2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2", "2026-27-Q3"]
    bands_of = {"E1": ["D", "D", "C", "D", "D"], "E2": ["D", None, "D", "D", "D"]}
    rows = [
        (la, p, "visits_pct", b)
        for la, bs in bands_of.items()
        for p, b in zip(periods, bs, strict=True)
    ]
    f = pd.DataFrame(rows, columns=["la_code", "period", "indicator_id", "band"])
    f = f.sample(frac=1, random_state=1)  # row order must not matter
    got = f.assign(run=worst_band_runs(f)).set_index(["la_code", "period"])["run"]
    assert [got[("E1", p)] for p in periods] == [1, 2, 0, 1, 2]
    # a quarter with no figure (no band) ends the run
    assert [got[("E2", p)] for p in periods] == [1, 0, 1, 2, 3]


def test_worst_band_run_is_broken_by_a_missing_quarter():
    f = pd.DataFrame(
        [("E1", "2026-27-Q1", "visits_pct", "D"), ("E1", "2026-27-Q3", "visits_pct", "D")],
        columns=["la_code", "period", "indicator_id", "band"],
    )
    assert worst_band_runs(f).tolist() == [1, 1]


# ----------------------------------------------------------------------------- all at once


def test_benchmark_adds_sn_comparators_and_movement_for_every_la():
    """Two quarters, three LAs; E1's neighbours are E2 and E3 (E3 suppressed this quarter)."""
    earlier = figures(
        [
            ("E1", "visits_pct", 50, 100, 50.0, OK),
            ("E2", "visits_pct", 60, 100, 60.0, OK),
            ("E3", "visits_pct", 70, 100, 70.0, OK),
        ]
    ).assign(period="2026-27-Q1")
    later = figures(
        [
            ("E1", "visits_pct", 55, 100, 55.0, OK),
            ("E2", "visits_pct", 80, 100, 80.0, OK),
            ("E3", "visits_pct", NAN, NAN, NAN, "c"),
        ]
    ).assign(period="2026-27-Q2")
    neighbours = pd.DataFrame(
        {"la_code": ["E1", "E1", "E2"], "neighbour_la_code": ["E2", "E3", "E1"]}
    )
    out = benchmark(pd.concat([earlier, later], ignore_index=True), LAS, CATALOGUE, neighbours)
    e1 = one(out["las"], la_code="E1", period="2026-27-Q2")
    # only E2 counts: E3 is suppressed, never zero
    assert (e1["sn_mean"], e1["sn_median"], e1["sn_count"]) == (80.0, 80.0, 1)
    assert e1["previous_value"] == 50.0 and e1["change_previous"] == 5.0
    e1_before = one(out["las"], la_code="E1", period="2026-27-Q1")
    assert (e1_before["sn_mean"], e1_before["sn_median"], e1_before["sn_count"]) == (65.0, 65.0, 2)
    e3 = one(out["las"], la_code="E3", period="2026-27-Q2")
    assert math.isnan(e3["change_previous"]) and e3["status"] == "c"
    # the region's change compares the same LAs at both ends: E3 is suppressed now, so only
    # E1 and E2 count: (50 + 60) / 200 = 55.0 then, (55 + 80) / 200 = 67.5 now, +12.5
    # (against all three LAs then, (50+60+70)/300 = 60.0, it would wrongly seem +7.5)
    north = one(out["areas"], area_code="North", period="2026-27-Q2", indicator_id="visits_pct")
    assert (north["value"], north["previous_value"], north["change_previous"]) == (67.5, 55.0, 12.5)
    before = one(out["areas"], area_code="North", period="2026-27-Q1", indicator_id="visits_pct")
    assert before["value"] == 60.0 and math.isnan(before["previous_value"])
