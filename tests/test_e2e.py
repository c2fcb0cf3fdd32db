"""End to end, as a user runs it: demo data -> validation -> notebooks -> offline HTML."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e
PERIOD = "2026-27-Q2"
REGIONS = ["ZR1", "ZR2"]


def _run(data, out):
    args = [
        sys.executable,
        "-m",
        "pipeline",
        "report",
        "--data",
        data,
        "--out",
        out,
        "--period",
        "latest",
        "--no-progress",
    ]
    for r in REGIONS:
        args += ["--region", r]
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def run(tmp_path_factory, demo_data):
    out = tmp_path_factory.mktemp("outputs")
    result = _run(demo_data, out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def test_index_links_every_regional_report_and_the_validation(run):
    out, result = run
    index = (out / "index.html").read_text(encoding="utf-8")
    for region in REGIONS:
        href = f"{PERIOD}/{region}/regional-benchmark.html"
        assert f'href="{href}"' in index
        assert (out / href).exists()
    assert 'href="validation/index.html"' in index
    assert "Return not accepted: Marrowgate" in index
    assert "Reports: 2 of 2 built" in result.stdout


@pytest.mark.parametrize("region", REGIONS)
def test_report_shows_rug_chart_banner_and_no_code(run, region):
    out, _ = run
    html = (out / PERIOD / region / "regional-benchmark.html").read_text(encoding="utf-8")
    assert "Demonstration data: fictional local authorities" in html
    assert html.count("<h1") == 1 and "quarterly benchmarking, 2026-27 Q2" in html
    rug = re.search(r'<table class="rug">.*?</table>', html, re.S)
    assert rug, "the rug is an HTML table"
    assert re.search(
        r'class="band-[ABCD]"><span class="v">[\d.,]+%?</span><span class="b">[ABCD]', rug.group(0)
    )
    assert "England (all demonstration LAs)" in rug.group(0)
    assert html.count("<svg") >= 6, "a chart per theme, inline SVG"
    assert "Show the figures for Workforce" in html
    # Offline and code-free.
    assert not re.search(r'(src|href)\s*=\s*["\']?https?:', html)
    assert "<script" not in html
    assert "RegionalBenchmark" not in html and "Traceback" not in html and "In&nbsp;[" not in html
    assert "Input SHA-256" in html and "la-return" in html


def test_rejected_return_shows_as_not_accepted_not_stale(run):
    out, _ = run
    html = (out / PERIOD / "ZR2" / "regional-benchmark.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><th scope=\"row\">Marrowgate</th>(.*?)</tr>", html, re.S).group(1)
    assert row.count("not accepted") == 24, "every indicator cell says the return was not accepted"
    assert "Return not accepted for this period: Marrowgate" in html
    figures = pd.read_csv(out / PERIOD / "ZR2" / "regional-benchmark.csv", keep_default_na=False)
    mine = figures[(figures["area_code"] == "ZL203") & (figures["period"] == PERIOD)]
    assert set(mine["status"]) == {"not accepted"} and (mine["value"] == "").all()
    earlier = figures[(figures["area_code"] == "ZL203") & (figures["period"] == "2026-27-Q1")]
    assert (earlier["status"] == "").sum() > 20, "earlier accepted returns still count"


def test_executed_notebook_kept_without_volatile_metadata(run):
    out, _ = run
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


def test_manifest_lists_jobs_inputs_and_versions(run):
    out, _ = run
    m = json.loads((out / "manifest.json").read_text())
    assert [j["id"] for j in m["jobs"]] == [f"{PERIOD}/{r}/regional-benchmark" for r in REGIONS]
    assert all(j["status"] == "ok" for j in m["jobs"])
    assert len(m["inputs"]) == 240
    assert {i["status"] for i in m["inputs"]} == {"accepted", "quarantined"}
    assert re.fullmatch(r"[0-9a-f]{64}", m["input_sha256"])


def test_same_inputs_same_bytes(run, tmp_path, demo_data):
    out, _ = run
    again = tmp_path / "again"
    assert _run(demo_data, again).returncode == 0

    def digests(folder):
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    first, second = digests(out), digests(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
