"""End to end, as a user runs it: demo data -> validation -> notebooks -> offline HTML.

The reports read here are the demo site's (`demo_site`, built once for the session as `make
report` builds it); a run of one region on its own shows that a report is the same bytes whatever
else its run built; the tiny dataset shows that the same inputs give the same bytes and that
re-running one quarter keeps the rest of the folder listed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import nbformat
import pandas as pd
import pytest

from pipeline.edges import chart_cache
from tests.conftest import TINY_PERIODS, cli

pytestmark = pytest.mark.e2e
PERIOD = "2026-27-Q2"
REGIONS = ["ZR1", "ZR2"]
#: the demo's three regions, and its LAs: 10 + 8 + 12
ALL_REGIONS, N_PACKS = ["ZR1", "ZR2", "ZR3"], 30


def test_index_links_every_regional_report_and_the_validation(demo_site, demo_site_stdout):
    out = demo_site
    index = (out / "index.html").read_text(encoding="utf-8")
    for region in ALL_REGIONS:
        href = f"{PERIOD}/{region}/regional-benchmark.html"
        assert f'href="{href}"' in index
        assert (out / href).exists()
    assert 'href="validation/index.html"' in index
    assert "Return not accepted: Marrowgate" in index
    # the latest quarter's packs come with it: one per LA of the three regions (10 + 8 + 12)
    assert f"Reports: {33 + N_PACKS} of {33 + N_PACKS} built" in demo_site_stdout
    assert (
        f"(24 regional reports, {N_PACKS} self-assessment packs, 9 peer-challenge group packs)"
        in demo_site_stdout
    )


@pytest.mark.parametrize("region", REGIONS)
def test_report_shows_rug_chart_banner_and_no_code(demo_site, region):
    out = demo_site
    html = (out / PERIOD / region / "regional-benchmark.html").read_text(encoding="utf-8")
    assert "Demonstration data: fictional local authorities" in html
    assert html.count("<h1") == 1 and "quarterly benchmarking, 2026-27 Q2" in html
    rug = re.search(r'<table class="rug">.*?</table>', html, re.S)
    assert rug, "the rug is an HTML table"
    assert re.search(
        r'class="band-[ABCD]"><span class="v">[\d.,]+%?</span><span class="b">[ABCD]', rug.group(0)
    )
    assert "England (all demonstration LAs), as at 2026-27 Q2" in rug.group(0)
    assert "(region), as at 2026-27 Q2" in rug.group(0)
    assert rug.group(0).count("statistical neighbours' mean, as at 2026-27 Q2</th>") >= 8, (
        "an SN row per LA, as at the quarter"
    )
    funnels = html.count('id="funnel-')
    assert funnels == 20, "a funnel plot per indicator with a count model"
    assert html.count("<svg") == 12 + funnels, "a trend and a ranking chart per theme, inline SVG"
    assert "Show the figures: Workforce: trends in" in html
    assert "Show the figures: Workforce: where each LA ranks, 2026-27 Q2" in html
    # Offline and code-free.
    assert not re.search(r'(src|href)\s*=\s*["\']?https?:', html)
    assert "<script" not in html
    assert "RegionalBenchmark" not in html and "Traceback" not in html and "In&nbsp;[" not in html
    assert "Inputs SHA-256" in html and "la-return" in html


@pytest.mark.parametrize("region", REGIONS)
def test_report_shows_priorities_and_narrative(demo_site, region):
    out = demo_site
    html = (out / PERIOD / region / "regional-benchmark.html").read_text(encoding="utf-8")
    prio = re.search(r'<table class="tartan-table priorities">.*?</table>', html, re.S).group(0)
    statuses = re.findall(r'<span class="rag rag-(\w[\w-]*)">(\w[\w ]*)</span>', prio)
    assert len(statuses) == 3, "the demo sets three priorities per region"
    assert all(cls == word.lower().replace(" ", "-") for cls, word in statuses), (
        "the status is written, not only coloured"
    )
    assert "Green: at or" in prio and "Amber: missing it by no more than" in prio
    for heading in (
        "Biggest improvements",
        "Biggest deteriorations",
        "In band D for 3 quarters or more",
        "against England",
        "Data gaps",
    ):
        assert f"{heading}</h3>" in html or heading in html
    # the judgement states its reason, by polarity
    # the movers are changes the chi-squared test finds, and say so
    assert re.search(r"a significant improvement \(a (higher|lower) value is better\)", html)
    assert re.search(r"a significant deterioration \(a (higher|lower) value is better\)", html)


def test_priorities_match_the_regions_figures(demo_site):
    """ZR2 (worked from the demo's figures): repeat CP plans 33.6% against a 25.0% target is
    red; caseload 18.1 against 17.0 (amber within 1.7) is amber; health assessments 90.4%
    against 90.0% is green."""
    out = demo_site
    html = (out / PERIOD / "ZR2" / "regional-benchmark.html").read_text(encoding="utf-8")
    prio = re.search(r'<table class="tartan-table priorities">.*?</table>', html, re.S).group(0)
    rows = re.findall(r'<tr><th scope="row">([^<]*)<br.*?rag-([\w-]+)"', prio, re.S)
    assert rows == [
        ("Fewer child protection plans for a second or later time", "red"),
        ("Manageable social worker caseloads", "amber"),
        ("Annual health assessments for children in care", "green"),
    ]
    figures = pd.read_csv(out / PERIOD / "ZR2" / "regional-benchmark.csv", keep_default_na=False)
    region = figures[(figures["area_code"] == "ZR2") & (figures["period"] == PERIOD)]
    value = region.set_index("indicator_id")["value"].astype(float)
    assert value["cpp_second_time_pct"] > 25.0 * 1.1
    assert 17.0 < value["sw_caseload"] <= 17.0 * 1.1
    assert value["cla_health_assessment_pct"] >= 90.0


def test_figures_csv_carries_comparators_and_movement(demo_site):
    out = demo_site
    figures = pd.read_csv(out / PERIOD / "ZR1" / "regional-benchmark.csv", keep_default_na=False)
    for col in ("sn_mean", "sn_median", "sn_count", "previous_value", "change_year", "trend"):
        assert col in figures.columns
    now = figures[(figures["period"] == PERIOD) & (figures["area_type"] == "la")]
    assert (now["sn_count"].astype(int) > 0).all()
    words = {"improving", "worsening", "stable", "rising", "falling", "no significant change"}
    assert set(now["trend"]) - {""} <= words


def test_rejected_return_shows_as_not_accepted_not_stale(demo_site):
    out = demo_site
    html = (out / PERIOD / "ZR2" / "regional-benchmark.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><th scope=\"row\">Marrowgate</th>(.*?)</tr>", html, re.S).group(1)
    assert row.count("not accepted") == 24, "every indicator cell says the return was not accepted"
    assert "Return not accepted for this period: Marrowgate" in html
    figures = pd.read_csv(out / PERIOD / "ZR2" / "regional-benchmark.csv", keep_default_na=False)
    mine = figures[(figures["area_code"] == "ZL203") & (figures["period"] == PERIOD)]
    assert set(mine["status"]) == {"not accepted"} and (mine["value"] == "").all()
    earlier = figures[(figures["area_code"] == "ZL203") & (figures["period"] == "2026-27-Q1")]
    assert (earlier["status"] == "").sum() > 20, "earlier accepted returns still count"


def test_executed_notebook_kept_without_volatile_metadata(demo_site):
    out = demo_site
    nb = nbformat.read(out / PERIOD / "ZR1" / "regional-benchmark.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters == {
        "region_code": "ZR1",
        "period": PERIOD,
        "slice_dir": ".",
    }
    assert "start_time" not in nb.metadata.papermill
    assert any(o.get("data", {}).get("text/html") for c in nb.cells for o in c.get("outputs", []))
    for cell in nb.cells:
        assert "execution" not in cell.metadata


def test_manifest_lists_jobs_inputs_and_versions(demo_site):
    out = demo_site
    m = json.loads((out / "manifest.json").read_text())
    regional = [j["id"] for j in m["jobs"] if j["kind"] == "regional-benchmark"]
    latest = [r for r in regional if r.startswith(f"{PERIOD}/")]
    assert latest == [f"{PERIOD}/{r}/regional-benchmark" for r in ALL_REGIONS]
    packs = [j["id"] for j in m["jobs"] if j["kind"] == "self-assessment"]
    assert len(packs) == N_PACKS and all(p.startswith(f"{PERIOD}/ZR") for p in packs)
    assert all(j["status"] == "ok" for j in m["jobs"])
    assert len(m["inputs"]) == 242  # 8 quarters of 30 LAs, and two resubmissions (_v2)
    assert {i["status"] for i in m["inputs"]} == {"accepted", "quarantined"}
    assert re.fullmatch(r"[0-9a-f]{64}", m["input_sha256"])


def _digests(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_inputs_same_bytes(tiny_site, tiny, tmp_path, capfd):
    """A second cold build of the same inputs, one notebook at a time (the first used every
    core), gives the same files, byte for byte."""
    again = tmp_path / "again"
    args = ["report", *tiny.args, "--out", again, "--period", "latest", "--no-progress"]
    assert cli(capfd, *args, "--workers", "1").returncode == 0
    first, second = _digests(tiny_site), _digests(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_a_report_is_the_same_whatever_else_the_run_built(demo_site, demo_data, tmp_path, capfd):
    """A run of one region's latest quarter, one notebook at a time, and the full site (another
    run, another data folder, every core) agree byte for byte on every report they share, and on
    the validation pages."""
    out = tmp_path / "ZR2"
    args = ["report", "--data", demo_data, "--out", out, "--period", "latest", "--region", "ZR2"]
    result = cli(capfd, *args, "--no-progress", "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    shared = [
        p.relative_to(out)
        for p in sorted(out.rglob("*"))
        # the kept charts' record says which reports this run built: not a report
        if p.is_file() and p.name not in ("index.html", "manifest.json", chart_cache.INDEX)
    ]
    assert len(shared) > 3 + 8 * 3 + 30, "the report's and its packs' files, every validation page"
    differ = [
        str(rel) for rel in shared if (out / rel).read_bytes() != (demo_site / rel).read_bytes()
    ]
    assert differ == []


def test_rerunning_one_quarter_keeps_the_rest_of_the_folder_listed(
    tiny_site, tiny, tmp_path, capfd
):
    """An analyst re-runs one region and quarter: the index and manifest still list the rest."""
    out = tiny_site
    folder = tmp_path / "outputs"
    shutil.copytree(out, folder)
    earlier, latest = TINY_PERIODS[-2], TINY_PERIODS[-1]
    args = ["report", *tiny.args, "--out", folder, "--period", earlier, "--region", "ZR1"]
    result = cli(capfd, *args, "--packs", "none", "--no-progress")
    assert result.returncode == 0, result.stderr
    m = json.loads((folder / "manifest.json").read_text())
    first = json.loads((out / "manifest.json").read_text())
    assert [j["id"] for j in m["jobs"]] == [
        f"{earlier}/ZR1/regional-benchmark",
        *(j["id"] for j in first["jobs"]),  # the latest quarter's reports and packs
    ]
    index = (folder / "index.html").read_text(encoding="utf-8")
    for href in (f"{earlier}/ZR1", f"{latest}/ZR1"):
        assert f'href="{href}/regional-benchmark.html"' in index
    # the earlier run's jobs keep the provenance of the run that built them
    assert m["jobs"][1:] == first["jobs"]
    assert f'href="{latest}/ZR1/ZL101/self-assessment.html"' in index
    # built without packs, the re-run quarter's report does not point at any
    rerun = (folder / earlier / "ZR1" / "regional-benchmark.html").read_text("utf-8")
    assert "self-assessment" not in rerun
