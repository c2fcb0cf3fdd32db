"""The annual datapack, end to end: `tartan datapack --source DIR [--year YYYY]`.

On DfE's real published files (``../shared/public-data``, skipped when absent) the datapack is
built for every region and all 153 LAs, as `make datapack` builds it, and read as a reviewer
reads it; on the small source folder of ``test_ees`` (always) the command's contract: the
cross-check failing on an altered regional figure, exit codes, and nothing written on a bad
request.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.core.catalogue import Catalogue
from pipeline.core.narrative import persistent_worst_band, region_profile
from pipeline.edges import ees
from tests.conftest import PUBLIC_DATA, ROOT, cli, tartan
from tests.internals import (
    DFE_COUNTS,
    DFE_VALUE,
    TARTAN_SUM,
    area_figures,
    choose_year,
    trend_window,
)
from tests.test_ees import small_source

MAPPING = ROOT / "data_contracts" / "datapack.yaml"
_absent = [f for f in ees.load_spec(MAPPING).files if not (PUBLIC_DATA / f).is_file()]
real = pytest.mark.skipif(
    bool(_absent), reason=f"public data not available in {PUBLIC_DATA}: {', '.join(_absent)}"
)
REGIONS = [f"E1200000{i}" for i in range(1, 10)]


def _text(html: str) -> str:
    """A page's visible words, tags and styles removed."""
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    import html as h

    return re.sub(r"\s+", " ", h.unescape(text))


def _argv(source: Path, out: Path, *args: str, contracts: Path | None = None) -> list[str]:
    argv = ["datapack", "--source", str(source), "--out", str(out), "--no-progress", *args]
    if contracts is not None:
        argv += ["--contracts", str(contracts)]
    return argv


def _build(capfd, source: Path, out: Path, *args: str, contracts: Path | None = None):
    """`tartan datapack` in this process (see `tests.conftest.cli`)."""
    return cli(capfd, *_argv(source, out, *args, contracts=contracts))


# ------------------------------------------------------------------------- the real files


@pytest.fixture(scope="module")
def public_datapack(tmp_path_factory) -> Path:
    """The latest year's datapack of every region from the real files, as `make datapack`."""
    if _absent:
        pytest.skip(f"public data not available in {PUBLIC_DATA}: {', '.join(_absent)}")
    out = tmp_path_factory.mktemp("datapack")
    r = tartan(*_argv(PUBLIC_DATA, out), timeout=1200)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


#: the tests that build a datapack, which runs its notebooks
e2e = pytest.mark.e2e
#: the tests that share a module-wide build stay on one pytest-xdist worker, one group per build
public_build = pytest.mark.xdist_group("datapack-public")
small_build = pytest.mark.xdist_group("datapack-small")


@e2e
@public_build
@real
def test_every_region_and_all_153_las_from_the_published_files(public_datapack):
    folder = public_datapack / "datapack"
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["year"] == "2025"
    assert sorted(j["parameters"]["region_code"] for j in manifest["jobs"]) == REGIONS
    assert all(j["status"] == "ok" for j in manifest["jobs"])
    reference = pd.read_csv(PUBLIC_DATA / "reference" / "la_153_reference.csv", dtype=str)
    seen = set()
    indicators = None
    for region in REGIONS:
        stem = folder / "2025" / region / "datapack"
        figures = pd.read_csv(stem.with_suffix(".csv"), dtype={"period": str})
        las = figures[figures["area_type"] == "la"]
        seen |= set(las["area_code"])
        ids = set(figures["indicator_id"])
        indicators = ids if indicators is None else indicators
        assert ids == indicators
        html = _text(stem.with_suffix(".html").read_text("utf-8"))
        # every LA of the region has its comparison table, named on the page
        for code, name in las[["area_code", "area_name"]].drop_duplicates().values:
            assert f"{name} ({code})" in html
            assert f"{name} against its statistical neighbours, the region and England" in html
        # five years of trend, each LA ranked among all LAs in England
        assert set(figures["period"]) == {"2021", "2022", "2023", "2024", "2025"}
        assert re.search(r"\b\d+ of 15[0-3]\b", html)
    assert seen == set(reference["new_la_code_current_dfe_qa"]) and len(seen) == 153
    # every mapped indicator (17, from nine EES files) in every region
    spec = ees.load_spec(MAPPING)
    data_files = {s.columns["numerator"].file for s in spec.sources}
    assert indicators == {s.id for s in spec.sources} and len(indicators) == 17
    assert len(data_files) == 9


@e2e
@public_build
@real
def test_a_datapack_compares_each_la_with_its_neighbours_region_and_england(public_datapack):
    """Barnsley (recoded in 2025) in Yorkshire and The Humber: its row of the LA table has the
    published figure, its neighbours' mean and median, DfE's region and England figures, its
    ranks and the five-year trend, as the CSV has them."""
    stem = public_datapack / "datapack" / "2025" / "E12000003" / "datapack"
    figures = pd.read_csv(stem.with_suffix(".csv"), dtype={"period": str})
    row = figures[
        (figures["area_code"] == "E08000038")
        & (figures["period"] == "2025")
        & (figures["indicator_id"] == "cla_rate")
    ].iloc[0]
    assert (row["numerator"], row["denominator"], row["value"]) == (366, 51799, 71)
    assert row["sn_count"] == 10
    region = figures[
        (figures["area_code"] == "E12000003")
        & (figures["period"] == "2025")
        & (figures["indicator_id"] == "cla_rate")
    ].iloc[0]
    html = _text(stem.with_suffix(".html").read_text("utf-8"))
    barnsley = html[html.index("Barnsley (E08000038)") :]
    line = barnsley[barnsley.index("CLA rate") :][:200]
    expected = (
        f"CLA rate 71 {row['sn_mean']:.0f} {row['sn_median']:.0f} {region['value']:.0f} "
        f"67 {int(row['rank_national'])} of {int(row['las_ranked_national'])} "
        f"{int(row['rank_region'])} of {int(row['las_ranked_region'])} no judgement "
        f"{row['vs_england']} {row['trend']}"
    )
    assert line.startswith(expected), (line, expected)
    # 366 children in care in 51,799: 63.6 to 78.3 per 10,000 (exact Poisson, 95%) includes
    # England's 67: similar; and the five years from 66 are no significant trend
    assert (row["vs_england"], row["trend"]) == ("similar", "no significant change")
    assert (round(row["ci95_lower"], 1), round(row["ci95_upper"], 1)) == (63.6, 78.3)
    # the trend word and the figure four years before, then each earlier year's figure
    earlier = figures[
        (figures["area_code"] == "E08000038")
        & (figures["indicator_id"] == "cla_rate")
        & (figures["period"] != "2025")
    ].sort_values("period")
    years = " ".join(f"{v:.0f}" for v in earlier["value"])
    assert f"(from {earlier['value'].iloc[0]:.0f}) {years}" in line


@e2e
@public_build
@real
def test_published_cross_check_passes_for_every_region(public_datapack):
    folder = public_datapack / "datapack"
    checked = pd.read_csv(folder / "crosscheck.csv", dtype={"period": str})
    assert set(checked["area_code"]) == {*REGIONS, "england"}
    assert not checked["outcome"].eq("differs").any()
    index = _text((folder / "index.html").read_text("utf-8"))
    assert "0 differ" in index
    for region in REGIONS:
        page = _text((folder / "2025" / region / "datapack.html").read_text("utf-8"))
        assert re.search(r"\d+ comparisons, \d+ agree .* and 0 differ", page)


@e2e
@public_build
@real
def test_rebuilt_byte_for_byte_and_unchanged_datapacks_are_not_run_again(
    public_datapack, tmp_path, capfd
):
    other = tmp_path / "again"
    r = _build(capfd, PUBLIC_DATA, other)
    assert r.returncode == 0, r.stderr
    a, b = public_datapack / "datapack", other / "datapack"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    again = _build(capfd, PUBLIC_DATA, other)
    assert again.returncode == 0 and "0 run, 9 unchanged" in again.stdout


@e2e
@public_build
@real
def test_an_earlier_year_joins_the_datapack_index_beside_the_latest(
    public_datapack, tmp_path, capfd
):
    out = tmp_path / "out"
    shutil.copytree(public_datapack, out)
    r = _build(capfd, PUBLIC_DATA, out, "--year", "2019", "--region", "E12000001")
    assert r.returncode == 0, r.stderr
    folder = out / "datapack"
    index = (folder / "index.html").read_text("utf-8")
    assert 'href="2019/E12000001/datapack.html"' in index
    assert 'href="2025/E12000009/datapack.html"' in index
    page = _text((folder / "2019" / "E12000001" / "datapack.html").read_text("utf-8"))
    assert "North East: annual datapack, 2019" in page and "Trend since 2015" in page


@e2e
@public_build
@pytest.mark.browser
@real
def test_the_datapack_in_the_browser(browser, public_datapack):
    """Offline, error-free and accessible: the index and London's datapack (33 LAs), its rug's
    bands on screen."""
    from tests.browser import axe_violations, describe, visit
    from tests.test_browser import BAND_A, BAND_D

    folder = public_datapack / "datapack"
    for path in (folder / "index.html", folder / "2025" / "E12000007" / "datapack.html"):
        v = visit(browser, path)
        try:
            assert v.other_requests == [] and v.console_errors == [], path
            found = axe_violations(v.page)
            assert found == [], f"axe-core on {path}:\n{describe(found)}"
            if path.name == "datapack.html":
                # the rug alone: a full-page screenshot of London's long page is too big to read
                rug = _pixels(v.page.locator("table.rug:not(.sig)").screenshot())
                assert _count(rug, BAND_A) > 100 and _count(rug, BAND_D) > 100
                themes = {s.indicator["theme"] for s in ees.load_spec(MAPPING).sources}
                assert v.page.locator('figure[id^="trend-"] svg').count() == len(themes) == 6
        finally:
            v.page.context.close()


def _pixels(png: bytes):
    """A PNG's pixels as RGB."""
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _count(pixels, colour: str, tolerance: int = 10) -> int:
    """How many pixels are within `tolerance` of a #rrggbb colour."""
    import numpy as np

    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    return int((np.abs(pixels - want) <= tolerance).all(axis=-1).sum())


# ------------------------------------------------------------------------- a small source


def _small(tmp_path: Path) -> tuple[Path, Path]:
    """The small source of test_ees and a contracts folder holding its mapping."""
    source = small_source(tmp_path / "source")
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "data_contracts", contracts)
    shutil.copy(source / "datapack.yaml", contracts / "datapack.yaml")
    return source, contracts


@pytest.fixture(scope="module")
def small_datapack(tmp_path_factory) -> dict:
    """The small source's datapack, built once, with the source's files as they were before."""
    root = tmp_path_factory.mktemp("small")
    source, contracts = _small(root)
    before = {p: p.read_bytes() for p in source.rglob("*") if p.is_file()}
    out = root / "out"
    r = tartan(*_argv(source, out, contracts=contracts), timeout=1200)
    return {"source": source, "before": before, "out": out, "run": r}


@e2e
@small_build
def test_small_source_builds_and_states_where_each_area_figure_comes_from(small_datapack):
    out, r = small_datapack["out"], small_datapack["run"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Datapack 2025: 2 of 2 regional datapacks built" in r.stdout
    csv = pd.read_csv(out / "datapack" / "2025" / "E12000003" / "datapack.csv", dtype=str)
    region = csv[(csv["area_code"] == "E12000003") & (csv["period"] == "2025")]
    # DfE's published 23.3% stands (the LA rows give 2170 / 9300 = 23.33...)
    assert region.set_index("indicator_id").at["rereferrals_pct", "value"] == "23.3"


@e2e
def test_an_altered_regional_figure_fails_the_datapack_naming_it(tmp_path, capfd):
    source, contracts = _small(tmp_path)
    c1 = source / "ees" / "c1.csv"
    text = c1.read_text("utf-8")
    assert ",E12000003,,,,,Referrals and Re-referrals,9300,2170,23.3" in text
    c1.write_text(text.replace(",9300,2170,23.3", ",9300,2170,25.3"), "utf-8")
    out = tmp_path / "out"
    r = _build(capfd, source, out, contracts=contracts)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 differ" in r.stdout
    assert "differs: E12000003 2025 rereferrals_pct value: DfE published 25.3" in r.stderr
    index = _text((out / "datapack" / "index.html").read_text("utf-8"))
    assert "Published figures that differ from the sum of their LAs" in index
    assert "Yorkshire and The Humber, 2025: Re-referrals (%), value 25.3 23.333" in index


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "1999"], "year '1999' has no figures; years held: 2024, 2025"),
        (["--region", "E12000009"], "region E12000009 is not in the reference data"),
    ],
)
def test_a_bad_request_is_refused_with_exit_2_and_writes_nothing(tmp_path, capfd, args, message):
    source, contracts = _small(tmp_path)
    out = tmp_path / "out"
    r = _build(capfd, source, out, *args, contracts=contracts)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not out.exists()


def test_a_missing_source_folder_is_refused_with_exit_2(tmp_path, capsys):
    assert main(["datapack", "--source", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err


@e2e
@small_build
def test_source_files_are_never_modified(small_datapack):
    source, r = small_datapack["source"], small_datapack["run"]
    assert r.returncode == 0, r.stderr
    assert {p: p.read_bytes() for p in source.rglob("*") if p.is_file()} == small_datapack["before"]


@e2e
@small_build
def test_an_unchanged_datapack_stops_before_reading_the_source(small_datapack, tmp_path, capfd):
    """A run whose source files, contracts, notebook, code and settings are the last run's (in
    another folder, too) reads nothing and says its reports are unchanged; another file in the
    source folder reads the files again, and the reports stay unchanged."""
    from pipeline.orchestration.products import datapack as product

    source, out = tmp_path / "source", tmp_path / "out"
    shutil.copytree(small_datapack["source"], source)
    shutil.copytree(small_datapack["out"], out)
    contracts = small_datapack["source"].parent / "contracts"
    # the last run, in this process: the code's hash is this process's from here on, whoever
    # edits the code meanwhile
    assert _build(capfd, source, out, contracts=contracts).returncode == 0
    prepared = []
    prepare = product.prepare
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(product, "prepare", lambda ctx: prepared.append(ctx.s) or prepare(ctx))
        r = _build(capfd, source, out, contracts=contracts)
        assert r.returncode == 0 and "0 run, 2 unchanged" in r.stdout, r.stdout + r.stderr
        assert prepared == []
        (source / "notes.txt").write_text("downloaded again\n", encoding="utf-8")
        again = _build(capfd, source, out, contracts=contracts)
    assert again.returncode == 0 and "0 run, 2 unchanged" in again.stdout
    assert len(prepared) == 1
    assert again.stdout.splitlines()[-2] == r.stdout.splitlines()[-2]  # the cross-check


# ------------------------------------------------------------------------- the parts


CATALOGUE = Catalogue.from_records(
    [
        {"id": "pct", "label": "Re-referrals (%)", "theme": "T", "unit": "percentage",
         "decimals": 1, "polarity": "low", "valid_range": [0, 100]},
        {"id": "rate", "label": "Referrals rate", "theme": "T", "unit": "rate per 10,000",
         "decimals": 1, "polarity": "neutral", "valid_range": [0, None]},
    ],
    "test",
)  # fmt: skip


def test_area_figures_prefer_dfe_value_then_dfe_counts_then_the_sum_of_las():
    keys = ["area_code", "period", "indicator_id"]
    published = pd.DataFrame(
        [
            ("R1", "2025", "pct", 200.0, 1000.0, 21.0, ""),  # DfE's value stands
            ("R1", "2025", "rate", 500.0, 10000.0, float("nan"), ""),  # from DfE's counts
            ("england", "2025", "pct", float("nan"), float("nan"), float("nan"), "x"),
        ],
        columns=[*keys, "numerator", "denominator", "value", "status"],
    )
    tartan = pd.DataFrame(
        [
            ("R1", "2025", "pct", 20.0, "region"),
            ("R1", "2025", "rate", 490.0, "region"),
            ("england", "2025", "pct", 19.5, "england"),
            ("england", "2025", "rate", float("nan"), "england"),
        ],
        columns=[*keys, "value", "area_type"],
    ).assign(status="", las_contributing=3, las_in_area=3)
    out = area_figures(published, tartan, CATALOGUE, trend_steps=4).set_index(
        ["area_code", "indicator_id"]
    )
    assert out.at[("R1", "pct"), "value"] == 21.0 and out.at[("R1", "pct"), "source"] == DFE_VALUE
    assert out.at[("R1", "rate"), "value"] == 500.0
    assert out.at[("R1", "rate"), "source"] == DFE_COUNTS
    assert out.at[("england", "pct"), "value"] == 19.5
    assert out.at[("england", "pct"), "source"] == TARTAN_SUM
    assert out.at[("england", "rate"), "status"] == "missing"


def test_the_year_is_the_latest_held_unless_asked_and_trends_cover_five_years():
    years = ["2019", "2020", "2022", "2023", "2024", "2025"]
    assert choose_year(years, None) == "2025" and choose_year(years, ["latest"]) == "2025"
    assert choose_year(years, ["2020"]) == "2020"
    assert trend_window("2025", years, 5) == ["2022", "2023", "2024", "2025"]  # 2021 not held
    assert trend_window("2020", years, 5) == ["2019", "2020"]


def test_region_profile_describes_neutral_indicators_and_judges_only_by_polarity():
    areas = pd.DataFrame(
        [
            ("R1", "2025", "pct", 20.0, 24.0),
            ("england", "2025", "pct", 22.0, float("nan")),
            ("R1", "2025", "rate", 600.0, 500.0),
            ("england", "2025", "rate", 520.0, float("nan")),
        ],
        columns=["area_code", "period", "indicator_id", "value", "trend_from"],
    )
    p = region_profile(areas, CATALOGUE, "2025", "R1", "Northshire", "England", 4)
    # without counts nothing can be tested: better by size alone, and said so
    assert p.points == [
        "Re-referrals (%): 20.0%, 2.0 percentage points lower than England (22.0%), better by "
        "size; no interval for the region's figure, so not tested; fell from 24.0% in 2021.",
        "Referrals rate: 600.0 per 10,000 children, 80.0 per 10,000 children higher than "
        "England (520.0 per 10,000 children); no interval for the region's figure, so not "
        "tested; rose from 500.0 in 2021.",
    ]


def test_persistent_band_d_counts_years_in_an_annual_datapack():
    las = pd.DataFrame(
        [("L1", "2025", "pct", 30.0, 4)],
        columns=["la_code", "period", "indicator_id", "value", "worst_band_run"],
    )
    p = persistent_worst_band(las, CATALOGUE, "2025", {"L1": "Oldtown"})
    assert p.heading == "In band D for 3 years or more"
    assert p.points == ["Oldtown: Re-referrals (%), 30.0%, for 4 years, since 2022."]


def test_the_main_index_links_the_datapack_when_one_is_in_the_folder():
    from pipeline.html.site import index_html

    summary = {"returns": 0, "accepted": 0, "quarantined": 0}
    without = index_html("", "Demo", [], [], [], summary, "")
    linked = index_html("", "Demo", [], [], [], summary, "", datapack="datapack/index.html")
    assert "datapack" not in without
    assert '<a href="datapack/index.html">every region\'s datapack</a>' in linked
