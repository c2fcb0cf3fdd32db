"""The datapack on what real files hold (issue: DfE's files as they really are), end to end on
a small source: a workforce file whose year ends on 30 September and ends a year before the
datapack's, with one row for a jointly run service and one row for an LA no reference knows.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from pipeline.core.benchmark import benchmark
from tests.test_datapack import _build, _small, _text
from tests.test_ees import _write, public, real
from tests.test_ees_mapping import AGENCY

WORKFORCE = [
    "time_period,time_identifier,geographic_level,region_code,old_la_code,new_la_code,la_name,"
    "inpost_fte,agency_fte,agency_rate_fte",
    # Barnsley and Sheffield run one service: one row, both codes
    "2024,Reporting year,Local authority,E12000003,370 / 373,E08000016 / E08000019,"
    "Barnsley / Sheffield,180.5,19.5,9.8",
    "2024,Reporting year,Local authority,E13000001,202,E09000007,Camden,95.0,5.0,5.0",
    "2024,Reporting year,Local authority,E12000003,998,E08000098,Nowhere,50.0,5.0,9.1",
    "2024,Reporting year,Regional,E12000003,,,,180.5,19.5,9.8",
]


@pytest.fixture
def built(tmp_path, capfd):
    source, contracts = _small(tmp_path)
    _write(source / "ees" / "csww.csv", WORKFORCE)
    spec = yaml.safe_load((contracts / "datapack.yaml").read_text("utf-8"))
    spec["indicators"].append(AGENCY)
    (contracts / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    shutil.copy(contracts / "datapack.yaml", source / "datapack.yaml")
    out = tmp_path / "out"
    return out, _build(capfd, source, out, contracts=contracts)


@pytest.mark.e2e
def test_a_file_ending_earlier_a_joint_service_and_an_unknown_la_in_the_datapack(built):
    out, r = built
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Datapack 2025: 2 of 2 regional datapacks built" in r.stdout
    # the unknown LA's row is reported with its file and row, and the run goes on
    assert "left out: ees/csww.csv, row(s) 4: LA code 'E08000098' (Nowhere)" in r.stderr
    index = _text((out / "datapack" / "index.html").read_text("utf-8"))
    assert "ees/csww.csv 4 E08000098 Nowhere not in the reference list" in index
    page = out / "datapack" / "2025" / "E12000003" / "datapack.html"
    text = _text(page.read_text("utf-8"))
    # the 2024 workforce figure is shown for 2025 as at its own date, and the page says so
    assert (
        "Figures are for 2025 (the year to 31 March, or at 31 March), except: Agency SWs as "
        "at 30 September 2024 (the latest DfE has published: its file ends earlier)"
    ) in text
    assert "Agency SWs (as at 30 September 2024)" in text  # the rug's heading
    # each LA of the joint service shows its one figure, labelled as joint
    assert text.count("9.8% (joint: Barnsley / Sheffield)") == 2
    csv = pd.read_csv(page.with_suffix(".csv"), dtype=str, keep_default_na=False)
    mine = csv[csv["indicator_id"].eq("sw_agency_pct") & csv["period"].eq("2025")]
    las = mine[mine["area_code"].isin(["E08000038", "E08000039"])]
    assert set(las["value"]) == {"9.8"} and set(las["as_at"]) == {"2024"}
    assert set(las["shared"]) == {"E08000038 / E08000039"}


@real
def test_on_the_published_files_las_showing_the_same_figure_share_band_and_rank():
    """Every indicator of the real files in their last three years (whole-number percentages
    included): any two LAs whose figures show the same share a band and a national rank; a
    jointly run service's LAs share theirs and count once."""
    _, cat, ref, x = public()
    every = pd.concat([ref.local_authorities, ref.former])[["la_code", "region_code"]]
    recent = x.figures[x.figures["period"].isin(["2023", "2024", "2025"])]
    las = benchmark(recent, every.drop_duplicates("la_code"), cat)["las"]
    valued = las[las["status"].eq("") & las["band"].notna()]
    shown = valued.assign(
        shown=[
            cat[i].format(v) for i, v in zip(valued["indicator_id"], valued["value"], strict=True)
        ]
    )
    per_figure = shown.groupby(["period", "indicator_id", "shown"])
    assert per_figure["band"].nunique().max() == 1
    assert per_figure["rank_national"].nunique().max() == 1
    joint = las[las["shared"].ne("") & las["status"].eq("")]
    assert len(joint) > 0
    assert joint.groupby(["period", "indicator_id", "shared"])["rank_national"].nunique().max() == 1
    # 151 rows of 2025's agency rate (K&C and Westminster had none), 149 ranked: two pairs once
    now = las[las["period"].eq("2025") & las["indicator_id"].eq("sw_agency_pct")]
    assert now["las_ranked_national"].iloc[0] == now["rank_national"].notna().sum() - 2
