"""A region's own returns against DfE's published England, neighbours and national bands
(``pipeline.core.published_comparators``), on figures worked by hand."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.core.benchmark import benchmark
from pipeline.core.published_comparators import against_published
from pipeline.core.vocabulary import FIGURE_COLUMNS, OK
from tests.catalogues import catalogue

CAT = catalogue("visits_pct", "caseload")
QUARTER = "2026-27-Q2"


def _returns() -> dict[str, pd.DataFrame]:
    """The region's two LAs (a, b) return both indicators for one quarter."""
    rows = [
        ("a", QUARTER, "visits_pct", 85, 100, 85.0, OK),
        ("b", QUARTER, "visits_pct", 40, 100, 40.0, OK),
        ("a", QUARTER, "caseload", 300, 20, 15.0, OK),
        ("b", QUARTER, "caseload", 340, 20, 17.0, OK),
    ]
    figures = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    las = pd.DataFrame({"la_code": ["a", "b"], "region_code": "R"})
    return benchmark(figures, las, CAT)


def _published() -> tuple[pd.DataFrame, pd.DataFrame]:
    """DfE's figures for England's six LAs (a-f), two years; only visits_pct is published."""
    values = {"a": 50.0, "b": 60.0, "c": 70.0, "d": 80.0, "e": 90.0, "f": 55.0}
    rows = [(c, "2025", "visits_pct", v, OK, "") for c, v in values.items()]
    rows += [(c, "2024", "visits_pct", v - 10, OK, "") for c, v in values.items()]
    las = pd.DataFrame(
        rows, columns=["la_code", "period", "indicator_id", "value", "status", "shared"]
    )
    england = pd.DataFrame(
        [("visits_pct", "2025", 65.0), ("visits_pct", "2024", 55.0)],
        columns=["indicator_id", "period", "value"],
    )
    return las, england


NEIGHBOURS = pd.DataFrame(
    {"la_code": ["a", "a", "b", "b"], "neighbour_la_code": ["c", "d", "a", "e"]}
)


def test_england_neighbours_and_bands_come_from_the_latest_published_year():
    bench = _returns()
    published, england = _published()
    areas = bench["areas"]
    las, eng, years = against_published(
        bench["las"], areas[areas["area_type"].eq("england")], published, england, NEIGHBOURS, CAT
    )
    assert years == {"visits_pct": "2025"}
    got = las.set_index(["la_code", "indicator_id"])
    a, b = got.loc[("a", "visits_pct")], got.loc[("b", "visits_pct")]
    # a's neighbours c and d, both in other regions: their 2025 published figures
    assert (a["sn_mean"], a["sn_median"], a["sn_count"]) == (75.0, 75.0, 2)
    # b's neighbour a counts by its published figure (50), with e (90)
    assert b["sn_mean"] == 70.0 and b["sn_count"] == 2
    # quartiles of the six published figures [50, 55, 60, 70, 80, 90]: 56.25, 65, 77.5;
    # a's quarterly 85 is above q3: A; b's 40 is below q1: D
    assert (a["band"], b["band"]) == ("A", "D")
    # a ranks among the other five's published figures and itself: only e's 90 is better
    assert (a["rank_national"], a["las_ranked_national"]) == (2, 6)
    assert (b["rank_national"], b["las_ranked_national"]) == (6, 6)
    # England is DfE's published 2025 figure, the same in every quarter, without movement
    e = eng.set_index("indicator_id")
    assert e.loc["visits_pct", "value"] == 65.0 and e.loc["visits_pct", "status"] == OK
    assert math.isnan(e.loc["visits_pct", "previous_value"])


def test_an_indicator_without_a_published_counterpart_keeps_the_returns_comparators():
    bench = _returns()
    published, england = _published()
    areas = bench["areas"]
    las, eng, years = against_published(
        bench["las"], areas[areas["area_type"].eq("england")], published, england, NEIGHBOURS, CAT
    )
    assert "caseload" not in years
    before = bench["las"].set_index(["la_code", "indicator_id"])
    after = las.set_index(["la_code", "indicator_id"])
    for col in ("band", "rank_national", "las_ranked_national"):
        assert after.loc[("a", "caseload"), col] == before.loc[("a", "caseload"), col]
    # no England figure: none was published
    e = eng.set_index("indicator_id")
    assert math.isnan(e.loc["caseload", "value"]) and e.loc["caseload", "status"] != OK


def test_las_are_judged_against_published_england_and_published_neighbours():
    """With published comparators an LA's interval is set against DfE's England figure (65.0%)
    and its neighbours' published mean: a's 85 of 100 (95% CI 76.7% to 90.7%) is better than
    both (75.0); b's 40 of 100 (30.9% to 49.8%) worse than both (70.0). England's published row
    has no counts, so no interval; the region is judged against it."""
    from pipeline.core.significance import judge

    bench = _returns()
    published, england = _published()
    areas = bench["areas"]
    las, eng, _ = against_published(
        bench["las"], areas[areas["area_type"].eq("england")], published, england, NEIGHBOURS, CAT
    )
    areas = pd.concat([areas[~areas["area_type"].eq("england")], eng], ignore_index=True)
    judged, judged_areas = judge(las, areas, CAT)
    got = judged.set_index(["la_code", "indicator_id"])
    a, b = got.loc[("a", "visits_pct")], got.loc[("b", "visits_pct")]
    assert (a["vs_england"], a["vs_sn"]) == ("better", "better")
    assert (b["vs_england"], b["vs_sn"]) == ("worse", "worse")
    # the region (125 of 200, 62.5%: 55.6% to 68.9%) could be England's 65.0 by chance
    region = judged_areas.set_index(["area_code", "indicator_id"]).loc[("R", "visits_pct")]
    assert region["vs_england"] == "similar"
    e = judged_areas.set_index(["area_code", "indicator_id"]).loc[("england", "visits_pct")]
    assert math.isnan(e["ci95_lower"])
    # caseload has no count model: no interval and no comparison
    assert got.loc[("a", "caseload"), "vs_england"] == ""
