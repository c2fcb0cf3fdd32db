"""The embedded demo dataset: realistic, plainly fictional, and the same bytes for the same seed."""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from pipeline.edges import demo


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    demo.write(tmp_path / "a", seed=7)
    demo.write(tmp_path / "b", seed=7)
    demo.write(tmp_path / "c", seed=8)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_regions_las_and_neighbours(demo_data):
    las = pd.read_csv(demo_data / "reference" / "local_authorities.csv", dtype=str)
    sizes = las.groupby("region_code").size()
    assert len(sizes) == 3
    assert sizes.between(8, 12).all()
    # Codes that cannot be mistaken for ONS GSS codes (a letter and eight digits, e.g. E06000047).
    gss = re.compile(r"^[EWSNK]\d{8}$")
    assert not las["la_code"].str.match(gss).any()
    assert not las["region_code"].str.match(gss).any()
    sn = pd.read_csv(demo_data / "reference" / "statistical_neighbours.csv", dtype=str)
    per_la = sn.groupby("la_code").size()
    assert set(per_la.index) == set(las["la_code"]) and (per_la == 10).all()
    assert not (sn["la_code"] == sn["neighbour_la_code"]).any()
    assert set(sn["closeness"]) <= {"Very close", "Close", "Somewhat close", "Not close"}
    pop = pd.read_csv(demo_data / "reference" / "population.csv")
    assert pop["population_0_17"].between(10_000, 300_000).all()


def test_eight_quarters_of_returns_at_realistic_levels(demo_data):
    files = sorted((demo_data / "returns").rglob("*.csv"))
    periods = sorted({f.parent.name for f in files})
    assert len(periods) == 8 and periods[-1] == "2026-27-Q2"
    firsts = [f for f in files if f.stem.count("_") == 1]
    assert len(firsts) == 8 * 30, "one return per LA and quarter"
    assert sorted(f.name for f in files if f not in firsts) == [
        "ZL102_2026-27-Q2_v2.csv",  # and two resubmissions
        "ZL304_2026-27-Q2_v2.csv",
    ]
    rows = pd.concat(pd.read_csv(f, dtype=str, keep_default_na=False) for f in firsts)
    assert (rows["status"] == "c").sum() > 0, "some small numbers are suppressed"
    assert (rows["status"] == "x").sum() > 0, "some figures are not available"
    suppressed = rows[rows["status"] == "c"]
    assert (suppressed["value"] == "").all() and (suppressed["numerator"] == "").all()
    values = rows[rows["status"] == ""].assign(v=lambda d: d["value"].astype(float))
    med = values.groupby("indicator_id")["v"].median()
    # England 2024-25: re-referrals about 22%, CLA about 67 per 10,000, referrals about 520.
    assert 18 < med["rereferrals_pct"] < 27
    assert 45 < med["cla_rate"] < 100
    assert 400 < med["referrals_rate"] < 700
    assert 10 < med["sw_caseload"] < 22


def test_one_return_is_deliberately_faulty(demo_data):
    faulty = pd.read_csv(
        demo_data / "returns" / "2026-27-Q2" / f"{demo.FAULTY_LA}_2026-27-Q2.csv",
        dtype=str,
        keep_default_na=False,
    )
    assert faulty["indicator_id"].duplicated().any()
    assert "cla_placements_3plus" in set(faulty["indicator_id"])


def test_dataset_says_it_is_fictional(demo_data):
    text = (demo_data / "dataset.yaml").read_text()
    assert "demonstration: true" in text
    assert "Demonstration data: fictional local authorities" in text
