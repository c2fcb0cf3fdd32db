"""A real region's quarter, proved on DfE's published statistics (skipped, saying why, when
``../shared/public-data`` is absent).

For each of England's nine regions: `tartan init` makes its dataset; its LAs' published figures
of two consecutive years are written as their returns (year to 31 March 2024 as 2023-24 Q4, and
2025 as 2024-25 Q4); `tartan report` builds the region's report with published comparators.
Then, for every indicator the mapping links: the region's figure is DfE's published regional
figure within rounding; England is DfE's published England figure; each LA's SN mean is the mean
of its neighbours' published figures; each band is the band of the LA's published figure among
all LAs' (where DfE publishes the indicator to the catalogue's decimals); and the page says what
each comparator is and when it is as at.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.core.benchmark import bands, partner_rows
from pipeline.core.vocabulary import owner
from pipeline.edges import ees
from tests.conftest import PUBLIC_DATA, ROOT, cli
from tests.internals import load_published

CONTRACTS = ROOT / "data_contracts"
_needed = [PUBLIC_DATA / f for f in ees.load_spec(CONTRACTS / "datapack.yaml").files]
_absent = [str(p) for p in _needed if not p.is_file()]
real = pytest.mark.skipif(bool(_absent), reason=f"public data not available: {', '.join(_absent)}")
REGIONS = [f"E1200000{i}" for i in range(1, 10)]
#: each published year as the quarter that ends on its 31 March
QUARTERS = {"2024": ("2023-24-Q4", "202324"), "2025": ("2024-25-Q4", "202425")}
#: the return's statuses (DfE's u and a missing row are "not available" in a return)
RETURN_STATUS = {"c": "c", "x": "x", "z": "z", "low": "low", "k": "k"}


@functools.cache
def public():
    return load_published(PUBLIC_DATA, CONTRACTS / "datapack.yaml", CONTRACTS / "reference.yaml")


@functools.cache
def catalogue():
    return yaml.safe_load((CONTRACTS / "indicators.yaml").read_text("utf-8"))["indicators"]


def _returns(data: Path, las: list[str]) -> None:
    """Each LA's published figures of 2024 and 2025 as its CSV returns: every catalogue
    indicator, the linked ones with DfE's counts, the rest not available."""
    figures = public().extract.figures
    # a jointly run service returns once, as its first LA (the others' rows are copies)
    figures = figures[~partner_rows(figures)].set_index(["la_code", "period", "indicator_id"])
    for year, (quarter, time_period) in QUARTERS.items():
        folder = data / "returns" / quarter
        folder.mkdir(parents=True, exist_ok=True)
        for la in las:
            rows = []
            for ind in catalogue():
                key = (la, year, ind["id"])
                r = figures.loc[key] if key in figures.index else None
                if r is not None and r["status"] == "" and r["denominator"]:
                    value = round(r["numerator"] / r["denominator"] * ind["scale"], ind["decimals"])
                    cells = [f"{r['numerator']:g}", f"{r['denominator']:g}", f"{value:g}", ""]
                else:
                    status = RETURN_STATUS.get("" if r is None else r["status"], "x")
                    cells = ["", "", "", status]
                rows.append(",".join([la, time_period, "Financial year Q4", ind["id"], *cells, ""]))
            header = "la_code,time_period,time_identifier,indicator_id,numerator,denominator,"
            header += "value,status,note"
            (folder / f"{la}_{quarter}.csv").write_text("\n".join([header, *rows]) + "\n", "utf-8")


def _dataset(tmp_path: Path, capfd, region: str) -> Path:
    data = tmp_path / "data"
    r = cli(capfd, "init", region, "--out", data, "--source", PUBLIC_DATA)
    assert r.returncode == 0, r.stdout + r.stderr
    meta_path = data / "dataset.yaml"
    meta = yaml.safe_load(meta_path.read_text("utf-8"))
    meta["reporting_window"] = {"first": "2023-24-Q4", "last": "2024-25-Q4"}
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False), "utf-8")
    las = pd.read_csv(data / "reference" / "local_authorities.csv", dtype=str)
    _returns(data, sorted(las.loc[las["region_code"].eq(region), "la_code"]))
    return data


@pytest.mark.e2e
@real
@pytest.mark.parametrize("region", REGIONS)
def test_a_real_regions_quarter_against_published_comparators(tmp_path, capfd, region):
    data = _dataset(tmp_path, capfd, region)
    out = tmp_path / "out"
    r = cli(capfd, "report", "--data", data, "--out", out, "--period", "2024-25-Q4",
            "--packs", "none", "--no-progress")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    page = out / "2024-25-Q4" / region / "regional-benchmark"
    csv = pd.read_csv(page.with_suffix(".csv"), dtype={"period": str})
    now = csv[csv["period"].eq("2024-25-Q4")]
    pub = public()
    linked = [i for i in catalogue() if i["id"] in set(pub.catalogue.ids)]
    assert len(linked) >= 14
    published = pub.extract.published.set_index(["area_code", "period", "indicator_id"])
    figures = pub.extract.figures
    year = figures[figures["period"].eq("2025") & figures["status"].eq("")]
    sn = pd.read_csv(data / "reference" / "statistical_neighbours.csv", dtype=str)
    for ind in linked:
        i, dps = ind["id"], ind["decimals"]
        mine = now[now["indicator_id"].eq(i)].set_index("area_code")
        # the region: the sum of its returns, DfE's regional figure within rounding
        row = mine.loc[region]
        dfe = published.loc[(region, "2025", i)]
        dfe_value = (
            dfe["value"]
            if pd.notna(dfe["value"])
            else dfe["numerator"] / dfe["denominator"] * ind["scale"]
        )
        if row["las_contributing"] == row["las_in_area"] and pd.notna(row["value"]):
            allowed = 0.5 * 10.0 ** -pub.catalogue[i].decimals + 0.5 * 10.0**-dps + 0.1
            assert abs(row["value"] - dfe_value) <= allowed, (region, i, row["value"], dfe_value)
        # England: DfE's published figure, shown to the catalogue's decimals
        e = published.loc[("england", "2025", i)]
        e_value = (
            e["value"] if pd.notna(e["value"]) else e["numerator"] / e["denominator"] * ind["scale"]
        )
        assert mine.loc["england", "value"] == pytest.approx(round(e_value, dps)), (region, i)
        # SN means: of the neighbours' published figures, wherever they are
        of_ind = year[year["indicator_id"].eq(i)]
        values = of_ind.set_index("la_code")["value"]
        whose = dict(zip(of_ind["la_code"], owner(of_ind), strict=True))
        las = mine[mine["area_type"].eq("la")]
        for la, got in las["sn_mean"].items():
            near = sn.loc[sn["la_code"].eq(la), "neighbour_la_code"]
            # a jointly run service's one figure once, and never the LA's own
            picked = {whose[n]: values[n] for n in near if n in whose and whose[n] != la}
            theirs = [round(v, dps) for v in picked.values()]
            if theirs:
                assert got == pytest.approx(np.mean(theirs)), (region, i, la)
        # bands: the band of each LA's published figure among all LAs' published figures
        if pub.catalogue[i].decimals == dps and ind["polarity"] != "neutral":
            once = of_ind[~partner_rows(of_ind)].set_index("la_code")["value"]
            expected = bands(once.round(dps), ind["polarity"])
            for la, band in las["band"].items():
                if la in expected.index and pd.notna(band):
                    assert band == expected[la], (region, i, la)
    # every page says what each comparator is and when it is as at
    html = page.with_suffix(".html").read_text("utf-8")
    assert "DfE published" in html and "31 March 2025" in html and "30 September" in html
