"""Slices and figures CSVs joined from rows formatted once are, byte for byte, what pandas writes
for each report, awkward names included."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.core.significance import INTERVAL_COLUMNS, judge
from pipeline.orchestration.settings import Settings
from pipeline.orchestration.tables import (
    AREA_ONLY,
    COUNTS,
    FLOATS,
    HEAD,
    LA_ONLY,
    LIMITS,
    MOVED,
    ORDER,
    FiguresText,
    RowsText,
    cells,
)
from tests.internals import NEIGHBOUR_COLUMNS, prepare_plan

PERIOD = "2026-27-Q2"
#: a name with everything CSV has to quote: a comma, quotes and a line break
AWKWARD = 'Vale, "North"\nand East'


def _to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def test_a_subset_of_rows_is_written_as_to_csv_writes_it():
    frame = pd.DataFrame(
        {
            "code": [f"E{i:02d}" for i in range(12)],
            "name": ["plain", AWKWARD, "", None, "a,b", '"q"'] * 2,
            "value": [1.5, np.nan, 1 / 3, 1e-7, 12345678.9, -0.0] * 2,
            "count": pd.array([1, None, 3, 4, None, 6] * 2, dtype="Int64"),
            "flag": [True, False] * 6,
        },
        index=np.arange(100, 112)[::-1],  # labels, not positions
    )
    text = RowsText(frame)
    rng = np.random.default_rng(3)
    for _ in range(20):
        subset = frame.iloc[np.sort(rng.choice(12, size=rng.integers(0, 13), replace=False))]
        assert text.csv(subset) == _to_csv(subset)
    shuffled = frame.iloc[[5, 1, 9]]
    assert text.csv(shuffled) == _to_csv(shuffled), "in the subset's own order"
    with pytest.raises(ValueError):
        text.csv(frame[["code", "value"]])


#: floats whose text is easy to get wrong: NaN (blank), infinities, a negative zero, the
#: smallest and very large numbers, sums that are not what they look, whole numbers held as floats
AWKWARD_FLOATS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300, 5e-324, 1e20, 1e16, 1e-5, 1e-4]
AWKWARD_FLOATS += [0.1 + 0.2, 1 / 3, 3.0, -42.0, 2.0**53, 2.0**63, 123456789012345678.0, 12.5]
AWKWARD_FLOATS += [1234567890123.0, 999999999999.5, -1.5e-7, 1.7976931348623157e308]


@pytest.mark.parametrize("float_format", [FLOATS, None])
def test_floats_are_the_text_to_csv_writes_for_them(float_format):
    """A float column is formatted here (each distinct value once), as pandas writes it with
    `float_format` (the figures CSV's %.12g) or without (the slices' tables)."""
    frame = pd.DataFrame({"k": "a", "x": AWKWARD_FLOATS + AWKWARD_FLOATS[::-1]})
    expected = frame.to_csv(index=False, lineterminator="\n", float_format=float_format)
    mine = ["k,x", *("a," + cell for cell in cells(frame["x"], float_format))]
    assert "\n".join(mine) + "\n" == expected
    assert "-0" in expected and "inf" in expected and "a,\n" in expected


def _pandas_figures(la_rows, areas, names, area_names, catalogue) -> str:
    """The figures CSV as pandas makes it from the report's own rows: what FiguresText joins."""
    la = la_rows.assign(area_type="la", area_name=la_rows["la_code"].map(names))
    la = la.rename(columns={"la_code": "area_code"})
    ar = areas.assign(area_name=areas["area_code"].map({**area_names, "england": "England"}))
    rel = ["relation"] if "relation" in la else []
    if rel:
        ar = ar.assign(relation=ar["area_type"])
    cols = [c for c in HEAD if c != "indicator"]
    df = pd.concat(
        [la[cols + rel + LIMITS + LA_ONLY + MOVED], ar[cols + rel + LIMITS + MOVED + AREA_ONLY]],
        ignore_index=True,
    )
    df.insert(5, "indicator", df["indicator_id"].map({i.id: i.label for i in catalogue}))
    df["_o"] = df["relation" if rel else "area_type"].map(ORDER)
    df["_p"] = df["period"].map(lambda x: parse_slug(x).ordinal)
    df = df.sort_values(["_p", "_o", "area_code", "indicator_id"], kind="stable")
    df = df.drop(columns=["_o", "_p"])
    for col in COUNTS:
        df[col] = df[col].astype("Int64")
    return df.to_csv(index=False, lineterminator="\n", float_format="%.12g")


@pytest.fixture(scope="module")
def plan(demo_data, tmp_path_factory):
    plan = prepare_plan(Settings(data=demo_data, out=tmp_path_factory.mktemp("tables")))
    return plan


def test_every_report_s_figures_are_what_pandas_writes_for_it(plan):
    reference = plan.inputs.reference
    sn = reference.statistical_neighbours.query("la_code == 'ZL101'")["neighbour_la_code"]
    odd = next(c for c in sn if reference.region_of[c] == "ZR1")  # a neighbour, in its region
    names = reference.la_names | {odd: AWKWARD}
    regions = dict(reference.regions.itertuples(index=False))
    las = plan.bench["las"]
    text = FiguresText(
        las, plan.published_areas, names, regions, plan.inputs.catalogue, NEIGHBOUR_COLUMNS
    )
    window = plan.window(PERIOD)
    areas = plan.areas("ZR1", window)
    # the regional report: every LA of the region over the window
    in_region = las["la_code"].isin(
        reference.local_authorities.query("region_code == 'ZR1'")["la_code"]
    )
    la_rows = las[in_region & las["period"].isin(window)]
    expected = _pandas_figures(
        la_rows, areas, names, {"ZR1": regions["ZR1"]}, plan.inputs.catalogue
    )
    assert text.csv(la_rows, areas) == expected
    assert AWKWARD.replace('"', '""') in expected
    # a pack: the LA over the window, its neighbours (figures and band only) this quarter
    mine = las[(las["la_code"] == "ZL101") & las["period"].isin(window)]
    near = las.loc[las["la_code"].isin(sn) & (las["period"] == PERIOD), NEIGHBOUR_COLUMNS]
    assert odd in set(near["la_code"])
    both = pd.concat([mine.assign(relation="this LA"), near.assign(relation="neighbour")])
    expected = _pandas_figures(both, areas, names, {"ZR1": regions["ZR1"]}, plan.inputs.catalogue)
    assert text.csv(mine, areas, neighbours=near) == expected
    assert (
        text.csv(mine.iloc[0:0], areas.iloc[0:0], neighbours=near.iloc[0:0])
        == (expected.splitlines(keepends=True)[0])
    ), "no figures: the header alone"


# --------------------------------------------------------------------------- limits in the CSV

LIMITED = Catalogue.from_records(
    [
        {"id": "pct", "label": "Re-referrals (%)", "theme": "T", "unit": "percentage",
         "decimals": 1, "polarity": "low", "valid_range": [0, 100]},
        {"id": "fte", "label": "Agency workers (%)", "theme": "T", "unit": "percentage",
         "decimals": 1, "polarity": "low", "valid_range": [0, 100], "count_model": "none"},
    ],
    "test",
)  # fmt: skip


def _limited_figures() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three LAs' figures and their region's and England's, judged as the core judges them:
    L1 10 of 20 (50%), L2 2 of 4 (withheld: its counts are kept here to show the status alone
    blanks its limits) and L1's workforce FTEs (no count model)."""
    rows = [
        ("L1", "pct", 10.0, 20.0, 50.0, ""),
        ("L2", "pct", 2.0, 4.0, float("nan"), "c"),
        ("L1", "fte", 3.5, 20.0, 17.5, ""),
    ]
    columns = ["la_code", "indicator_id", "numerator", "denominator", "value", "status"]
    las = pd.DataFrame(rows, columns=columns)
    las = las.assign(period=PERIOD, region_code="R1", sn_mean=float("nan"))
    areas = pd.DataFrame(
        [
            ("R1", "region", "pct", 300.0, 1000.0, 30.0),
            ("england", "england", "pct", 2000.0, 10000.0, 20.0),
            ("england", "england", "fte", float("nan"), float("nan"), 15.0),
        ],
        columns=["area_code", "area_type", "indicator_id", "numerator", "denominator", "value"],
    ).assign(period=PERIOD, status="", las_contributing=3, las_in_area=3)
    las, areas = judge(las, areas, LIMITED)
    for col in LA_ONLY[2:] + MOVED:
        if col not in las:
            las[col] = float("nan") if col not in ("band", "trend") else ""
    for col in MOVED:
        areas[col] = ""
    return las, areas


def _limited_csv(las, areas) -> pd.DataFrame:
    names = {"L1": "Lowtown", "L2": "Smallham"}
    text = FiguresText(las, areas, names, {"R1": "Region One"}, LIMITED, NEIGHBOUR_COLUMNS)
    csv = text.csv(las, areas)
    return pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False)


def test_every_figure_carries_its_limits_and_comparisons_and_a_withheld_one_none():
    las, areas = _limited_figures()
    csv = _limited_csv(las, areas)
    assert list(csv.columns[10:17]) == [*INTERVAL_COLUMNS, "vs_england", "vs_region", "vs_sn"]
    out = csv.set_index(["area_code", "indicator_id"])
    # 10 of 20: Wilson's 95% interval is 29.93% to 70.07%, wholly above England's 20% (lower
    # is better): worse; it includes the region's 30%: similar; no SN mean: not compared
    l1 = out.loc[("L1", "pct")]
    assert round(float(l1["ci95_lower"]), 2) == 29.93 and round(float(l1["ci95_upper"]), 2) == 70.07
    assert float(l1["ci998_lower"]) < float(l1["ci95_lower"]) < 50.0
    assert (l1["vs_england"], l1["vs_region"], l1["vs_sn"]) == ("worse", "similar", "")
    # withheld, and no count model: blank limits, no comparison
    for key in (("L2", "pct"), ("L1", "fte")):
        row = out.loc[key]
        assert [row[c] for c in INTERVAL_COLUMNS] == [""] * 4, key
        assert (row["vs_england"], row["vs_region"]) == ("", ""), key
    assert out.loc[("L1", "fte"), "value"] == "17.5"
    # the region is compared with England; England with nothing; an area has no vs_region/sn
    region = out.loc[("R1", "pct")]
    assert region["vs_england"] == "worse" and region["ci95_lower"] != ""
    assert (region["vs_region"], region["vs_sn"]) == ("", "")
    assert out.loc[("england", "pct"), "vs_england"] == ""
    for col in ("change_previous_sig", "change_year_sig"):
        assert col in out.columns


def test_the_comparison_words_are_text_a_spreadsheet_will_not_run():
    las, areas = _limited_figures()
    las.loc[las["la_code"].eq("L1"), "vs_sn"] = "=1+1"
    areas["change_year_sig"] = "@SUM(A1)"
    text = _limited_csv(las, areas)
    assert set(text.loc[text["area_code"].eq("L1"), "vs_sn"]) == {"'=1+1"}
    assert set(text.loc[text["area_type"].ne("la"), "change_year_sig"]) == {"'@SUM(A1)"}
