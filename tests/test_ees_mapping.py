"""What real EES files hold, expressed by a mapping entry alone (issue: the datapack reads DfE's
files as they really are): sums of columns and of rows, a jointly run service's one row, an LA
the file has no row for, a row no reference LA matches; and wrong mappings refused loudly.

Each case adds a small file of its own to the small source folder of ``tests.test_ees``.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from pipeline.core.benchmark import benchmark
from pipeline.core.crosscheck import AGREES, DIFFERS
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import MISSING, OK
from pipeline.edges import ees
from tests.test_ees import _figure, _write, checked_against_dfe, load_small, small_source

WORKFORCE = (
    "time_period,time_identifier,geographic_level,region_code,old_la_code,new_la_code,la_name,"
    "inpost_fte,agency_fte,agency_rate_fte"
)


@pytest.fixture
def small(tmp_path):
    return small_source(tmp_path / "source")


def _add(folder, entry: dict) -> None:
    spec = yaml.safe_load((folder / "datapack.yaml").read_text("utf-8"))
    spec["indicators"].append(entry)
    (folder / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")


#: the agency rate of a workforce-like file: its denominator is the sum of two columns
AGENCY = {
    "id": "sw_agency_pct",
    "label": "Agency social workers at 30 September (%)",
    "short_label": "Agency SWs",
    "theme": "Workforce",
    "unit": "percentage",
    "decimals": 1,
    "polarity": "low",
    "file": "ees/csww.csv",
    "numerator": "agency_fte",
    "denominator": ["agency_fte", "inpost_fte"],
    "value": "agency_rate_fte",
    "year_end": "30 September",
    "tolerance": 0.1,
}


def _workforce(folder, rows: list[str]) -> None:
    """A workforce-like file (FTEs with decimals) and its agency-rate entry."""
    _write(folder / "ees" / "csww.csv", [WORKFORCE, *rows])
    _add(folder, AGENCY)


JOINT = [
    # Barnsley and Sheffield run one service: one row, combined codes and names
    "2025,Reporting year,Local authority,E12000003,370 / 373,E08000016 / E08000019,"
    "Barnsley / Sheffield,180.5,19.5,9.8",
    "2025,Reporting year,Local authority,E13000001,202,E09000007,Camden,95.0,5.0,5.0",
    # DfE's region counts the joint row once: 19.5 / (19.5 + 180.5) = 9.75%
    "2025,Reporting year,Regional,E12000003,,,,180.5,19.5,9.8",
    "2025,Reporting year,National,,,,,275.5,24.5,8.2",
]


def test_a_sum_of_columns_is_a_mapping_entry(small):
    _workforce(small, JOINT)
    _, _, _, x = load_small(small)
    r = _figure(x.figures, "E09000007", "2025", "sw_agency_pct")
    # agency FTE over agency plus in-post FTE: 5.0 / (5.0 + 95.0)
    assert (r["numerator"], r["denominator"], r["value"]) == (5.0, 100.0, 5.0)


def test_a_jointly_run_service_is_each_las_figure_and_counts_once(small):
    _workforce(small, JOINT)
    spec, ref, cat, x = load_small(small)
    barnsley = _figure(x.figures, "E08000038", "2025", "sw_agency_pct")
    sheffield = _figure(x.figures, "E08000039", "2025", "sw_agency_pct")
    # the run does not stop; each LA of the pair shows the joint figure, labelled as joint
    assert barnsley["value"] == sheffield["value"] == 9.8
    assert barnsley["shared"] == sheffield["shared"] == "E08000038 / E08000039"
    assert x.left_out.empty
    # DfE's region and England include it once: Tartan's sums agree
    checked = checked_against_dfe(x, ref, cat, spec=spec)
    mine = checked[checked["indicator_id"].eq("sw_agency_pct")]
    assert set(mine["outcome"]) == {AGREES}, mine.to_string()
    # once in the bands, ranks, region sum and SN means
    las = pd.concat([ref.local_authorities, ref.former[["la_code", "region_code"]]])
    got = benchmark(
        x.figures[x.figures["indicator_id"].eq("sw_agency_pct")],
        las,
        cat,
        ref.statistical_neighbours,
    )
    f = got["las"][got["las"]["period"].eq("2025")].set_index("la_code")
    assert f.loc["E08000039", "rank_national"] == f.loc["E08000038", "rank_national"] == 2
    assert f.loc["E09000007", "rank_national"] == 1
    assert set(f.loc[["E08000038", "E08000039", "E09000007"], "las_ranked_national"]) == {2}
    # Camden's neighbours are Barnsley and Sheffield: their one figure counts once
    assert f.loc["E09000007", "sn_count"] == 1 and f.loc["E09000007", "sn_mean"] == 9.8
    # Sheffield's neighbours are Barnsley (its own figure: not a neighbour's) and Camden
    assert f.loc["E08000039", "sn_count"] == 1 and f.loc["E08000039", "sn_mean"] == 5.0
    area = got["areas"].set_index(["area_code", "period", "indicator_id"])
    region = area.loc[("E12000003", "2025", "sw_agency_pct")]
    assert (region["numerator"], region["denominator"], region["value"]) == (19.5, 200.0, 9.8)


def test_a_sum_of_rows_is_a_mapping_entry(small):
    """A numerator that adds up two breakdown rows of the same file, per LA and year."""
    header = "time_period,time_identifier,geographic_level,region_code,new_la_code,breakdown,n"
    rows = [header]
    for code, region, counts in (
        ("E08000016", "E12000003", (10, 20, 100)),
        ("E08000019", "E12000003", (5, "c", 50)),
        ("E09000007", "E13000001", (1, 2, 10)),
        ("", "E12000003", (20, 20, 150)),
    ):
        level = "Local authority" if code else "Regional"
        for breakdown, n in zip(("Education", "Employment", "Total"), counts, strict=True):
            rows.append(f"2025,Reporting year,{level},{region},{code},{breakdown},{n}")
    _write(small / "ees" / "activity.csv", rows)
    _add(
        small,
        {
            "id": "eet_pct",
            "label": "In education or employment (%)",
            "theme": "Care leavers",
            "unit": "percentage",
            "decimals": 0,
            "polarity": "high",
            "file": "ees/activity.csv",
            "numerator": {"filters": {"breakdown": ["Education", "Employment"]}, "column": "n"},
            "denominator": {"filters": {"breakdown": "Total"}, "column": "n"},
        },
    )
    spec, ref, cat, x = load_small(small)
    r = _figure(x.figures, "E08000038", "2025", "eet_pct")
    assert (r["numerator"], r["denominator"], r["value"], r["status"]) == (30, 100, 30.0, OK)
    # a withheld part withholds the sum: never a sum of what is left
    r = _figure(x.figures, "E08000039", "2025", "eet_pct")
    assert r["status"] == "c" and pd.isna(r["numerator"])
    row = x.published[x.published["indicator_id"].eq("eet_pct")].iloc[0]
    assert (row["area_code"], row["numerator"], row["denominator"]) == ("E12000003", 40, 150)
    # two rounded counts were added: the cross-check allows twice the rounding
    checked = checked_against_dfe(x, ref, cat, spec=spec)
    num = checked[checked["indicator_id"].eq("eet_pct") & checked["measure"].eq("numerator")]
    assert num["allowed"].tolist() == [10.0] and not checked["outcome"].eq(DIFFERS).any()


def test_an_la_without_a_row_counts_as_missing(small):
    rows = [r for r in JOINT if "Camden" not in r]
    _workforce(small, rows)
    _, _, _, x = load_small(small)
    r = _figure(x.figures, "E09000007", "2025", "sw_agency_pct")
    assert r["status"] == MISSING and pd.isna(r["value"])
    now = x.figures[x.figures["indicator_id"].eq("sw_agency_pct")]
    assert sorted(now["la_code"]) == ["E08000038", "E08000039", "E09000007"]


def test_a_row_no_reference_la_matches_is_reported_and_the_rest_goes_on(small):
    path = small / "ees" / "c1.csv"
    text = path.read_text("utf-8").replace("202,E09000007,Camden", "999,E09000099,Nowhere", 1)
    path.write_text(text, "utf-8")
    _, _, _, x = load_small(small)
    left = x.left_out.to_dict(orient="records")
    assert len(left) == 1
    assert left[0]["file"] == "ees/c1.csv" and left[0]["la_code"] == "E09000099"
    assert left[0]["rows"] == "4" and "not in the reference list" in left[0]["reason"]
    assert left[0]["indicators"] == "referrals_rate, rereferrals_pct"
    # every other figure is still there
    assert _figure(x.figures, "E08000038", "2025", "rereferrals_pct")["value"] == 20.0


def test_filters_that_together_match_nothing_fail_naming_file_entry_and_key(small):
    rows = ["time_period,time_identifier,geographic_level,new_la_code,age,breakdown,n"]
    rows += [
        "2025,Reporting year,Local authority,E08000016,17 to 18,Total,10",
        "2025,Reporting year,Local authority,E08000016,19 to 21,Suitable,5",
    ]
    _write(small / "ees" / "acc.csv", rows)
    _add(
        small,
        {
            "id": "acc_pct",
            "label": "Suitable accommodation (%)",
            "theme": "Care leavers",
            "unit": "percentage",
            "decimals": 0,
            "polarity": "high",
            "file": "ees/acc.csv",
            "filters": {"age": "19 to 21"},
            "numerator": "n",
            "denominator": {"filters": {"age": "19 to 21", "breakdown": "Total"}, "column": "n"},
        },
    )
    with pytest.raises(ConfigError) as exc:
        load_small(small)
    message = str(exc.value)
    assert "datapack.yaml, indicator 3 (acc_pct): denominator" in message
    assert "acc.csv has rows for each filter value but none for all of them together" in message
    assert "age = '19 to 21', breakdown = 'Total'" in message


def test_an_entry_without_decimals_names_the_mapping_file_and_its_id(small, tmp_path):
    lait = small / "reference" / "lait.csv"
    _write(lait, ["measure_short,Polarity,dps", "ReReferral,Low,"])
    spec = yaml.safe_load((small / "datapack.yaml").read_text("utf-8"))
    spec["reference"]["lait"] = "reference/lait.csv"
    del spec["indicators"][0]["decimals"], spec["indicators"][0]["polarity"]
    spec["indicators"][0]["lait"] = "ReReferral"
    (small / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_small(small)
    message = str(exc.value)
    assert f"{small / 'datapack.yaml'}, indicator 1 (rereferrals_pct): missing decimals" in message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tolerence": 0.1}, r"indicator 3 \(sw_agency_pct\): unknown key\(s\) tolerence"),
        ({"tolerance": -1}, r"sw_agency_pct\): tolerance: -1 is not a number above 0"),
        ({"year_end": "Michaelmas"}, r"year_end: 'Michaelmas' is not a day and month"),
        ({"denominator": ["inpost_fte", "inpost_fte"]}, r"denominator: a column is named twice"),
        ({"filters": {"x": []}}, r"filters: filter 'x' must be a value or a list of values"),
    ],
)
def test_a_wrong_entry_is_refused_naming_its_key(small, change, message):
    _workforce(small, JOINT)
    spec = yaml.safe_load((small / "datapack.yaml").read_text("utf-8"))
    spec["indicators"][2].update(change)
    (small / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    with pytest.raises(ConfigError, match=message):
        ees.load_spec(small / "datapack.yaml")
