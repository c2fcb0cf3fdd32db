"""`tartan init REGION`: a ready dataset folder for a real region, from DfE's published lists.

On the real lists in ``../shared/public-data`` (skipped, saying why, when absent): the South West
by name and London by code, each with every LA in England (so that neighbours in other regions are
known), the region's neighbours wherever they are, its ONS 0-17 populations, dataset.yaml, an
empty priorities.yaml and a return template per LA; what the quarterly run checks accepts the
folder, and says plainly that no returns are in yet. An unknown region, a folder already in use
and a source folder missing a file are refused (exit 2) with nothing written.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.core.errors import ConfigError
from pipeline.core.periods import Period
from pipeline.edges import contracts as ct
from pipeline.edges import ees, init_dataset
from pipeline.edges import reference as ref_io
from pipeline.edges.contracts import load_yaml
from tests.conftest import PUBLIC_DATA, ROOT, _shared, cli

CONTRACTS = ROOT / "data_contracts"
_needed = [PUBLIC_DATA / f for f in ees.load_spec(CONTRACTS / "datapack.yaml").files]
_absent = [str(p) for p in _needed if not p.is_file()]
real = pytest.mark.skipif(bool(_absent), reason=f"public data not available: {', '.join(_absent)}")

#: 3 December 2026: the reporting year is 2026-27, and 2026-27 Q2's returns are due
TODAY = "1796256000"
DUE = "2026-27-Q2"
NINE = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
}


def _init(out: Path, *args: str) -> tuple[int, str]:
    """`tartan init` in this process on 3 December 2026: its exit code and what it printed."""
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("SOURCE_DATE_EPOCH", TODAY)
        code = main(["init", *args, "--out", str(out), "--source", str(PUBLIC_DATA)])
    return code, printed.getvalue()


def _made(request, name: str, region: str) -> Path:
    """`tartan init REGION` once per session, shared by every worker. Read-only: copy to change."""
    if _absent:
        pytest.skip(f"public data not available: {', '.join(_absent)}")

    def make(folder: Path) -> None:
        folder.mkdir()
        code, printed = _init(folder / "dataset", region)
        assert code == 0, printed
        (folder / "printed.txt").write_text(printed, encoding="utf-8")

    return _shared(request.config, f"init-{name}", make) / "dataset"


@pytest.fixture(scope="session")
def south_west(request) -> Path:
    return _made(request, "sw", "south  WEST")


@pytest.fixture(scope="session")
def london(request) -> Path:
    return _made(request, "london", "e12000007")


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "reference" / f"{name}.csv", dtype=str, keep_default_na=False)


def _current_codes() -> dict[str, str]:
    """Each LA's old (3-digit) code -> its current code, from DfE's list."""
    las = pd.read_csv(PUBLIC_DATA / "reference" / "la_153_reference.csv", dtype=str)
    return dict(zip(las["old_la_code"], las["new_la_code_current_dfe_qa"], strict=True))


def _ons() -> dict[tuple[str, str], str]:
    """The ONS 0-17 populations of LAs as published, by (current code, year): an LA recoded
    since (Somerset, E10000027 to 2022) under its current code."""
    ons = pd.read_csv(
        PUBLIC_DATA / "ees" / "ons_mid-year_population_estimates_2012_to_2024.csv", dtype=str
    )
    ons = ons[
        ons["geographic_level"].eq("Local authority")
        & ons["age_group"].eq("Children aged 0 to 17 years")
    ]
    codes = ons["old_la_code"].map(_current_codes())
    return dict(
        zip(zip(codes, ons["time_period"], strict=True), ons["population_estimate"], strict=True)
    )


# --------------------------------------------------------------------------- what init writes


@real
def test_the_south_west_by_name_lists_every_la_and_its_own_fifteen(south_west, demo_data):
    printed = (south_west.parent / "printed.txt").read_text(encoding="utf-8")
    assert f"South West (E12000009, 15 LAs) in {south_west}: reporting window 2026-27-Q1" in (
        printed
    )
    las = _csv(south_west, "local_authorities")
    # the demo dataset's shape: the same columns, in the same order, in every reference file
    for name in ref_io.FILES:
        assert list(_csv(south_west, name).columns) == list(_csv(demo_data, name).columns), name
    assert len(las) == 153 and las["la_code"].is_unique
    assert dict(las[["region_code", "region_name"]].drop_duplicates().values) == NINE
    sw = las[las["region_code"].eq("E12000009")]
    assert len(sw) == 15
    assert {"Bristol, City of", "Cornwall", "Isles of Scilly", "Dorset"} <= set(sw["la_name"])
    # current codes: Dorset's since 2019, Bournemouth, Christchurch and Poole's
    assert {"E06000059", "E06000058"} <= set(sw["la_code"])
    assert "Barnsley" in set(las.loc[las["la_code"].eq("E08000038"), "la_name"])


@real
def test_neighbours_outside_the_region_are_kept_as_comparators(south_west):
    las = _csv(south_west, "local_authorities")
    region = dict(zip(las["la_code"], las["region_code"], strict=True))
    sn = _csv(south_west, "statistical_neighbours")
    assert {region[c] for c in sn["la_code"]} == {"E12000009"}
    assert (sn.groupby("la_code").size() == 10).all() and len(sn) == 150
    assert (
        sn.groupby("la_code")["neighbour_rank"]
        .apply(list)
        .map(lambda r: r == [str(i) for i in range(1, 11)])
        .all()
    )
    outside = sn[sn["neighbour_la_code"].map(region).ne("E12000009")]
    assert len(outside) > 0, "neighbours in other regions are comparators: kept"
    assert set(sn["neighbour_la_code"]) <= set(las["la_code"])
    # as the 2025 model gives them, closeness labels trimmed ("Close " in the file)
    model = pd.read_csv(PUBLIC_DATA / "reference" / "sn_model_2025_wide.csv", dtype=str)
    current = _current_codes()
    model = model[model["old_la_code"].map(current).map(region).eq("E12000009")]
    expected = {
        (current[m["old_la_code"]], str(k), current[m[f"SN_{k}"]], m[f"SN_{k}P"].strip())
        for m in model.to_dict("records")
        for k in range(1, 11)
    }
    assert set(sn.itertuples(index=False, name=None)) == expected


@real
def test_populations_are_onss_for_the_regions_las_latest_three_years(south_west):
    pop = _csv(south_west, "population")
    sw = set(_csv(south_west, "local_authorities").query("region_code == 'E12000009'")["la_code"])
    assert set(pop["la_code"]) == sw
    assert sorted(pop["year"].unique()) == ["2022", "2023", "2024"]
    assert len(pop) == 15 * 3
    published = _ons()
    assert published[("E06000066", "2022")] == "110796"  # Somerset, as E10000027 then
    for r in pop.itertuples():
        assert r.population_0_17 == published[(r.la_code, r.year)], (r.la_code, r.year)


@real
def test_dataset_yaml_names_the_region_the_reporting_year_and_the_published_source(south_west):
    meta = load_yaml(south_west / "dataset.yaml")
    assert meta == {
        "name": "South West children's services benchmarking",
        "region": {"code": "E12000009", "name": "South West"},
        "reporting_window": {"first": "2026-27-Q1", "last": "2026-27-Q4"},
        "comparators": {"mode": "auto", "source": os.path.abspath(PUBLIC_DATA)},
    }
    text = (south_west / "dataset.yaml").read_text(encoding="utf-8")
    for key in meta:  # each key explained in the header
        assert re.search(rf"^# {key} ", text, re.M), key
    # the quarterly run reads it: name and window
    ref = ref_io.load(south_west, ct.load_contract(CONTRACTS / "reference.yaml"))
    assert ref.name == meta["name"]
    assert ref.window == (Period(2026, 1), Period(2026, 4))


@real
def test_priorities_are_empty_and_the_example_in_the_file_works(south_west, tmp_path):
    catalogue = ct.load_catalogue(CONTRACTS / "indicators.yaml")
    path = south_west / "priorities.yaml"
    assert ct.load_priorities(path, catalogue, ["E12000009"]) == {}
    # the example in the comments, put in place of [] as they say, is a valid priorities list
    text = path.read_text(encoding="utf-8")
    example = re.search(r"^#   E12000009:\n((?:#     .*\n)+)", text, re.M)[1]
    entries = "".join(line[1:] for line in example.splitlines(True))
    filled = tmp_path / "priorities.yaml"
    filled.write_text(text.replace("  E12000009: []\n", f"  E12000009:\n{entries}"), "utf-8")
    got = ct.load_priorities(filled, catalogue, ["E12000009"])["E12000009"]
    assert [p.indicator_id for p in got] == ["rereferrals_pct", "care_leavers_eet_pct"]
    assert got[1].amber_within == 0.05


@real
def test_a_template_for_each_la_for_the_quarter_due_and_an_empty_returns_folder(south_west):
    sw = _csv(south_west, "local_authorities").query("region_code == 'E12000009'")
    names = dict(zip(sw["la_code"], sw["la_name"], strict=True))
    folder = south_west / init_dataset.TEMPLATES / DUE
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{c}_{DUE}.xlsx" for c in names)
    catalogue = ct.load_catalogue(CONTRACTS / "indicators.yaml")
    for code, name in names.items():
        ws = openpyxl.load_workbook(folder / f"{code}_{DUE}.xlsx")["Return"]
        assert ws["A1"].value == f"{name} ({code}): quarterly return for 2026-27 Q2"
        rows = list(ws.iter_rows(min_row=5, values_only=True))
        assert [r[3] for r in rows] == catalogue.ids
        assert {(r[0], r[1], r[2]) for r in rows} == {(code, "202627", "Financial year Q2")}
    assert [p.name for p in (south_west / "returns").iterdir()] == [DUE]
    assert not any((south_west / "returns" / DUE).iterdir())
    assert f"templates/{DUE}/" in (south_west / "README.md").read_text(encoding="utf-8")


@real
def test_london_by_its_code_in_lower_case(london):
    las = _csv(london, "local_authorities")
    own = las[las["region_code"].eq("E12000007")]
    assert len(own) == 33 and set(own["region_name"]) == {"London"}
    assert load_yaml(london / "dataset.yaml")["region"] == {"code": "E12000007", "name": "London"}
    templates = sorted((london / init_dataset.TEMPLATES / DUE).glob("*.xlsx"))
    assert [p.name.split("_")[0] for p in templates] == sorted(own["la_code"])
    for p in templates:
        openpyxl.load_workbook(p)
    sn = _csv(london, "statistical_neighbours")
    assert set(sn["la_code"]) == set(own["la_code"]) and len(sn) == 330
    assert sn["neighbour_la_code"].isin(own["la_code"]).mean() < 1
    assert len(_csv(london, "population")) == 33 * 3


# --------------------------------------------------------------------------- refused


@real
def test_an_unknown_region_is_exit_2_listing_the_nine(tmp_path, capfd):
    out = tmp_path / "x"
    r = cli(capfd, "init", "Wessex", "--out", out, "--source", PUBLIC_DATA)
    assert r.returncode == 2
    assert "region 'Wessex' is not one of England's 9 regions" in r.stderr
    for code, name in NINE.items():
        assert f"{code}  {name}" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_folder_in_use_is_refused_and_left_as_it_was(tmp_path, capfd):
    out = tmp_path / "sw"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    r = cli(capfd, "init", "South West", "--out", out, "--source", PUBLIC_DATA)
    assert r.returncode == 2
    assert f"--out {out}: already exists and is not empty" in r.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["sw"], "nothing written beside it"


def test_a_link_is_refused(tmp_path, capfd):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "sw").symlink_to(tmp_path / "elsewhere")
    r = cli(capfd, "init", "South West", "--out", tmp_path / "sw", "--source", PUBLIC_DATA)
    assert r.returncode == 2 and "is a link" in r.stderr
    assert list((tmp_path / "elsewhere").iterdir()) == []


@real
def test_a_source_missing_a_file_is_exit_2_naming_it(tmp_path, capfd):
    """The source folder as downloaded, but for the statistical-neighbour model (links to the
    real files: nothing copied)."""
    source = tmp_path / "source"
    for f in _needed:
        rel = f.relative_to(PUBLIC_DATA)
        if rel.name != "sn_model_2025_wide.csv":
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            (source / rel).symlink_to(f)
    r = cli(capfd, "init", "South West", "--out", tmp_path / "sw", "--source", source)
    assert r.returncode == 2
    assert f"--source {source}: missing 1 file(s)" in r.stderr
    assert "reference/sn_model_2025_wide.csv" in r.stderr
    assert not (tmp_path / "sw").exists()
    r = cli(capfd, "init", "South West", "--out", tmp_path / "sw", "--source", tmp_path / "no")
    assert r.returncode == 2 and f"--source {tmp_path / 'no'}: no such folder" in r.stderr


@real
def test_a_failure_half_way_leaves_nothing(tmp_path):
    """A template that cannot be written (or Ctrl-C) after others were: no dataset, no folder
    beside it."""
    done = []

    def template(data, la, period, path):
        if done:
            raise KeyboardInterrupt
        done.append(la)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        return path

    with pytest.raises(KeyboardInterrupt):
        init_dataset.write(tmp_path / "sw", "South West", PUBLIC_DATA, CONTRACTS, template)
    assert done and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- what comes next


@real
def test_validate_says_no_returns_yet_then_accepts_a_filled_template(
    south_west, demo_data, tmp_path, capfd
):
    data = tmp_path / "sw"
    shutil.copytree(south_west, data)
    r = cli(capfd, "validate", "--data", data, "--out", tmp_path / "out")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip() == (
        f"tartan: error: no returns yet in {data / 'returns'}: fill the templates in "
        f"{data / 'templates' / DUE} (one per LA) and save each LA's return in "
        f"{data / 'returns' / DUE}, then run again"
    )
    # Bristol fills its template (with the demo's figures) and saves it among the returns
    figures = pd.read_csv(
        demo_data / "returns" / DUE / f"ZL101_{DUE}.csv", dtype=str, keep_default_na=False
    ).set_index("indicator_id")
    book = openpyxl.load_workbook(data / "templates" / DUE / f"E06000023_{DUE}.xlsx")
    ws = book["Return"]
    head = [c.value for c in ws[4]]
    for row in ws.iter_rows(min_row=5):
        given = figures.loc[row[head.index("indicator_id")].value]
        for col in ("numerator", "denominator", "value", "status"):
            text = given[col]
            row[head.index(col)].value = (float(text) if col != "status" else text) or None
    book.save(data / "returns" / DUE / f"E06000023_{DUE}.xlsx")
    r = cli(capfd, "validate", "--data", data, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 return, 1 accepted, 0 not accepted" in r.stdout


def test_no_returns_in_a_dataset_not_made_by_init_says_how_to_make_one(tmp_path):
    assert init_dataset.no_returns_yet(tmp_path) == (
        f"no returns yet in {tmp_path / 'returns'}: put each LA's return there (CSV or XLSX; "
        "`tartan template --la CODE --period PERIOD` writes one to fill), then run again"
    )


# --------------------------------------------------------------------------- the reporting year


@pytest.mark.parametrize(
    ("today", "first", "due"),
    [
        (datetime.date(2026, 12, 3), "2026-27-Q1", "2026-27-Q2"),
        (datetime.date(2026, 7, 1), "2026-27-Q1", "2026-27-Q1"),
        # April to June: last year's fourth quarter is the one being returned, in its year
        (datetime.date(2027, 5, 10), "2026-27-Q1", "2026-27-Q4"),
        (datetime.date(2027, 1, 1), "2026-27-Q1", "2026-27-Q3"),
    ],
)
def test_the_reporting_year_is_that_of_the_quarter_due(today, first, due):
    (start, end), period = init_dataset.reporting_year(today)
    assert (start.slug, period.slug) == (first, due)
    assert end == Period(start.start_year, 4) and start <= period <= end


def test_a_region_by_code_or_name_in_any_case_and_spacing():
    regions = pd.DataFrame(list(NINE.items()), columns=["region_code", "region_name"])
    for text in (
        "E12000003",
        "e12000003",
        "yorkshire and the humber",
        " Yorkshire  and The Humber",
    ):
        assert init_dataset.pick_region(text, regions) == ("E12000003", NINE["E12000003"])
    with pytest.raises(ConfigError, match="'South' is not one of England's 9 regions") as exc:
        init_dataset.pick_region("South", regions)
    assert exc.value.exit_code == 2
