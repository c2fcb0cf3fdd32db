"""The whole demo site as `make report` builds it: index, manifest and every report's provenance."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
import subprocess
import sys
from datetime import date

import pytest

from pipeline.core.periods import parse_slug
from pipeline.edges import demo

pytestmark = pytest.mark.e2e

PERIODS = [demo.LATEST.shifted(-k).slug for k in range(demo.N_PERIODS)]
REGIONS = {code: name for code, name, _ in demo.REGIONS}
N_LAS = sum(n for _, _, n in demo.REGIONS)


def _footer(page: str) -> dict[str, str]:
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', page, re.S).group(1)
    return {
        html_lib.unescape(k): html_lib.unescape(v)
        for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", footer)
    }


def test_index_lists_every_period_region_and_la_with_its_status(demo_site):
    index = (demo_site / "index.html").read_text(encoding="utf-8")
    headings = re.findall(r'<h2 id="([^"]+)">', index)
    assert headings == PERIODS, "every period, newest first"
    for period in PERIODS:
        for code, name in REGIONS.items():
            href = f"{period}/{code}/regional-benchmark.html"
            label = parse_slug(period).label
            assert f'<a href="{href}">{name}: regional benchmark, {label}</a>' in index
            assert (demo_site / href).is_file()
    rows = re.findall(
        r'<tr><th scope="row">([^<]+) \((ZL\d+)\)</th><td>[^<]+</td>'
        r'<td class="status-([\w-]+)">([^<]+)</td><td>(.*?)</td></tr>',
        index,
    )
    assert len(rows) == N_LAS * len(PERIODS), "every LA in every period"
    statuses = {(la, s, words) for _, la, s, words, _ in rows}
    assert ("ZL203", "not-accepted", "return not accepted") in statuses
    assert sum(s == "not-accepted" for _, _, s, _, _ in rows) == 1, "the demo's one faulty return"
    assert 'href="validation/index.html"' in index
    link = 'href="validation/feedback/ZL203.html#2026-27-Q2"'
    assert link in index
    feedback = (demo_site / "validation" / "feedback" / "ZL203.html").read_text(encoding="utf-8")
    assert 'id="2026-27-Q2"' in feedback, "the link lands on the period's return"
    assert "Not accepted" in feedback.split('id="2026-27-Q2"')[1][:2000]


def test_manifest_lists_every_job_with_its_provenance(demo_site):
    m = json.loads((demo_site / "manifest.json").read_text(encoding="utf-8"))
    ids = [j["id"] for j in m["jobs"]]
    expected = [
        f"{p}/{r}/regional-benchmark" for p in sorted(PERIODS, key=parse_slug) for r in REGIONS
    ]
    assert ids == expected
    for job in m["jobs"]:
        prov = job["provenance"]
        period = job["parameters"]["period"]
        assert job["status"] == "ok" and len(job["outputs"]) == 3
        assert prov["period"] == period and set(prov["comparators_as_at"].values()) == {period}
        if period == PERIODS[-1]:
            assert "trend_periods" not in prov, "the first quarter held has no trend"
        else:
            assert prov["trend_periods"][-1] == period
        assert prov["input_sha256"] == m["input_sha256"]
        csv = demo_site / period / job["parameters"]["region_code"] / "regional-benchmark.csv"
        assert prov["figures_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
        assert prov["config_sha256"] == m["config_sha256"]
        assert prov["parameters"] == {
            "region_code": job["parameters"]["region_code"],
            "period": period,
        }
        assert {"pandas", "papermill", "nbconvert", "python"} <= prov["packages"].keys()
        assert prov["contracts"]["tartan-la-return"]
    assert "build_date" not in m, "no date unless SOURCE_DATE_EPOCH gives one"


def test_configuration_hash_covers_contracts_priorities_and_dataset_yaml(demo_site, demo_data):
    from tests.conftest import ROOT

    m = json.loads((demo_site / "manifest.json").read_text(encoding="utf-8"))
    files = {f"data_contracts/{p.name}": p for p in (ROOT / "data_contracts").glob("*.yaml")}
    files["dataset.yaml"] = demo_data / "dataset.yaml"
    assert "data_contracts/priorities.yaml" in files
    lines = "".join(
        f"{hashlib.sha256(files[name].read_bytes()).hexdigest()}  {name}\n"
        for name in sorted(files)
    )
    assert hashlib.sha256(lines.encode()).hexdigest() == m["config_sha256"]


def test_input_hash_is_checkable_with_sha256sum(demo_site, demo_data):
    """The footer's input hash is sha256 of `sha256sum` lines (accepted returns and reference)."""
    m = json.loads((demo_site / "manifest.json").read_text(encoding="utf-8"))
    files = [i["file"] for i in m["inputs"] if i["status"] == "accepted"]
    files += [f"reference/{p.name}" for p in (demo_data / "reference").glob("*.csv")]
    lines = "".join(
        f"{hashlib.sha256((demo_data / f).read_bytes()).hexdigest()}  {f}\n" for f in sorted(files)
    )
    assert hashlib.sha256(lines.encode()).hexdigest() == m["input_sha256"]


@pytest.mark.parametrize("period", [PERIODS[0], PERIODS[-1]])
def test_every_report_footer_states_its_provenance(demo_site, period):
    m = json.loads((demo_site / "manifest.json").read_text(encoding="utf-8"))
    jobs = {j["id"]: j for j in m["jobs"]}
    label = parse_slug(period).label
    for code in REGIONS:
        html = (demo_site / period / code / "regional-benchmark.html").read_text(encoding="utf-8")
        facts = _footer(html)
        prov = jobs[f"{period}/{code}/regional-benchmark"]["provenance"]
        assert facts["Period"] == label
        assert facts["Comparators as at"] == f"Region, England and statistical neighbours: {label}"
        assert facts["Input SHA-256 (accepted returns and reference)"] == m["input_sha256"]
        assert facts["Figures SHA-256 (the report's CSV)"] == prov["figures_sha256"]
        assert facts["Contracts and configuration SHA-256"] == m["config_sha256"]
        assert facts["Code"] == f"tartan {prov['code']['tartan']} ({prov['code']['commit']})"
        assert "tartan-la-return 1." in facts["Contracts"] and "pandas " in facts["Packages"]
        assert facts["Parameters"] == f"region_code={code}, period={period}"


def test_no_clock_time_in_any_output(demo_site):
    """Same inputs, same bytes: nothing in outputs/ records when it was run."""
    today = date.today()
    stamps = [today.isoformat(), today.strftime("%d %B %Y"), today.strftime("%d/%m/%Y")]
    clock = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d|\b\d\d:\d\d:\d\d\b")
    for path in demo_site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not clock.search(data), f"{path}: a timestamp"
            text = data.decode("utf-8")
            assert not any(s in text for s in stamps), f"{path}: today's date"


def _report(data, out, *extra, env=None):
    args = [sys.executable, "-m", "pipeline", "report", "--data", data, "--out", out]
    args += ["--period", "latest", "--region", "ZR1", "--no-progress", *extra]
    return subprocess.run(
        list(map(str, args)), capture_output=True, text=True, env=env, timeout=900
    )


def test_source_date_epoch_is_the_only_date_a_report_carries(demo_data, tmp_path):
    import os

    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z
    result = _report(demo_data, tmp_path / "dated", env=env)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "dated" / PERIODS[0] / "ZR1" / "regional-benchmark.html").read_text("utf-8")
    assert _footer(html)["Built"] == "2026-01-01 (SOURCE_DATE_EPOCH)"
    m = json.loads((tmp_path / "dated" / "manifest.json").read_text(encoding="utf-8"))
    assert m["build_date"] == "2026-01-01" == m["jobs"][0]["provenance"]["build_date"]

    bad = _report(demo_data, tmp_path / "bad", env={**os.environ, "SOURCE_DATE_EPOCH": "yesterday"})
    assert bad.returncode == 2
    assert "SOURCE_DATE_EPOCH='yesterday'" in bad.stderr and "seconds since" in bad.stderr
    assert not (tmp_path / "bad").exists(), "refused before anything is written"


def test_first_quarter_held_says_why_there_is_no_trend_chart(demo_site):
    first = PERIODS[-1]
    html = (demo_site / first / "ZR1" / "regional-benchmark.html").read_text(encoding="utf-8")
    label = parse_slug(first).label
    assert html.count(f"No trend chart: {label} is the first quarter held") == 6, "one per theme"
    assert html.count("<svg") == 6, "the ranking charts are still drawn"
