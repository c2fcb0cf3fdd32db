"""The whole demo site as `make report` builds it: index, manifest and every report's provenance."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
import zlib
from datetime import date

import pytest

from pipeline.core.periods import parse_slug
from pipeline.edges import chart_cache, demo, demo_cycle
from tests.conftest import TINY_PERIODS, cli

pytestmark = pytest.mark.e2e

PERIODS = [demo.LATEST.shifted(-k).slug for k in range(demo.N_PERIODS)]
REGIONS = {code: name for code, name, _ in demo.REGIONS}
N_LAS = sum(n for _, _, n in demo.REGIONS)
#: `make report` builds the packs of the latest period, one per demo LA
LAS = {
    f"ZL{i}{k:02d}": code
    for i, (code, _, n) in enumerate(demo.REGIONS, start=1)
    for k in range(1, n + 1)
}
PACK_LIMIT = 600 * 1024


def _footer(page: str) -> dict[str, str]:
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', page, re.S).group(1)
    return {
        html_lib.unescape(k): html_lib.unescape(v)
        for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", footer)
    }


def test_index_lists_every_period_region_and_la_with_its_status(demo_site):
    index = (demo_site / "index.html").read_text(encoding="utf-8")
    headings = re.findall(r'<h2 id="([^"]+)">', index)
    assert headings == [*PERIODS, "peer-challenge"], "every period, newest first; then groups"
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
    packs = sorted(f"{PERIODS[0]}/{r}/{la}/self-assessment" for la, r in LAS.items())
    groups = [
        f"{PERIODS[0]}/{LAS[las[0]]}/peer-challenge-{gid}" for gid, _, las in demo_cycle.GROUPS
    ]
    assert ids == expected[: -len(REGIONS)] + sorted(expected[-len(REGIONS) :] + packs + groups)
    kinds = {"regional-benchmark", "self-assessment", "peer-challenge"}
    assert {j["kind"] for j in m["jobs"]} == kinds
    for job in m["jobs"]:
        prov = job["provenance"]
        period = job["parameters"]["period"]
        # a regional report is also published as a workbook and slides
        suffixes = {o.rsplit(".", 1)[1] for o in job["outputs"]}
        also = {"xlsx", "pptx"} if job["kind"] == "regional-benchmark" else set()
        assert job["status"] == "ok" and suffixes == {"html", "ipynb", "csv"} | also
        assert prov["period"] == period and set(prov["comparators_as_at"].values()) == {period}
        if period == PERIODS[-1]:
            assert "trend_periods" not in prov, "the first quarter held has no trend"
        else:
            assert prov["trend_periods"][-1] == period
        # a report names the figures it was made from, not the whole dataset: a resubmission
        # elsewhere leaves it as it was
        assert "input_sha256" not in prov and re.fullmatch(r"[0-9a-f]{64}", prov["inputs_sha256"])
        assert re.fullmatch(r"[0-9a-f]{64}", job["key"])
        assert sorted(job["output_sha256"]) == sorted(job["outputs"])
        for rel, sha in job["output_sha256"].items():
            assert hashlib.sha256((demo_site / rel).read_bytes()).hexdigest() == sha
        csv = demo_site / next(o for o in job["outputs"] if o.endswith(".csv"))
        assert csv.stem == job["kind"] + (
            f"-{job['parameters']['group_id']}" if job["kind"] == "peer-challenge" else ""
        )
        assert prov["figures_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
        assert prov["config_sha256"] == m["config_sha256"]
        params = {k: v for k, v in job["parameters"].items() if k != "slice_dir"}
        assert prov["parameters"] == params
        assert set(params) == {"region_code", "period"} | {
            "self-assessment": {"la_code"},
            "peer-challenge": {"group_id"},
        }.get(job["kind"], set())
        assert {"pandas", "papermill", "nbconvert", "python"} <= prov["packages"].keys()
        assert prov["contracts"]["tartan-la-return"]
    assert len({j["provenance"]["inputs_sha256"] for j in m["jobs"]}) == len(m["jobs"])
    assert "build_date" not in m, "no date unless SOURCE_DATE_EPOCH gives one"


def test_configuration_hash_covers_contracts_priorities_and_dataset_yaml(demo_site, demo_data):
    from tests.conftest import ROOT

    m = json.loads((demo_site / "manifest.json").read_text(encoding="utf-8"))
    files = {f"data_contracts/{p.name}": p for p in (ROOT / "data_contracts").glob("*.yaml")}
    # the annual datapack's mapping is not read by a quarterly run: editing it must not change
    # the quarterly reports' configuration hash
    del files["data_contracts/datapack.yaml"]
    # the priorities belong to the dataset, beside its dataset.yaml
    files["dataset.yaml"] = demo_data / "dataset.yaml"
    files["priorities.yaml"] = demo_data / "priorities.yaml"
    assert files["priorities.yaml"].is_file()
    assert "data_contracts/priorities.yaml" not in files
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
        inputs = "Inputs SHA-256 (the figures this report was made from)"
        assert facts[inputs] == prov["inputs_sha256"]
        assert facts["Figures SHA-256 (the report's CSV)"] == prov["figures_sha256"]
        assert facts["Contracts and configuration SHA-256"] == m["config_sha256"]
        made_by = prov["code"]
        assert facts["Code"] == (
            f"tartan {made_by['tartan']} (code SHA-256 {made_by['code_sha256'][:12]})"
        )
        assert "tartan-la-return 1." in facts["Contracts"] and "pandas " in facts["Packages"]
        assert facts["Parameters"] == f"region_code={code}, period={period}"


def test_no_clock_time_in_any_output(demo_site):
    """Same inputs, same bytes: nothing in outputs/ records when it was run."""
    today = date.today()
    stamps = [today.isoformat(), today.strftime("%d %B %Y"), today.strftime("%d/%m/%Y")]
    clock = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d|\b\d\d:\d\d:\d\d\b")
    for path in demo_site.rglob("*"):
        if path.suffix in (".xlsx", ".pptx"):
            _no_clock_in_zip(path, stamps)
        elif path.is_file():
            data = path.read_bytes()
            if path.parent.parent.name == chart_cache.FOLDER and path.name != chart_cache.INDEX:
                data = zlib.decompress(data)  # a kept chart: its SVG, or a slide's PNG
                if data.startswith(b"\x89PNG"):
                    assert b"tIME" not in data, f"{path}: a PNG dated when it was made"
                    continue
            assert not clock.search(data), f"{path}: a timestamp"
            text = data.decode("utf-8")
            assert not any(s in text for s in stamps), f"{path}: today's date"


def _no_clock_in_zip(path, stamps) -> None:
    """A workbook or deck: every part dated as zip's earliest date, and no part naming today
    (their document properties carry the report's period, not the day it was made)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0), f"{path}!{info.filename}: dated"
            if info.filename.endswith((".xml", ".rels")):
                text = z.read(info).decode("utf-8")
                assert not any(s in text for s in stamps), f"{path}!{info.filename}: today"


def _report(capfd, tiny, out):
    args = ["report", *tiny.args, "--out", out, "--period", "latest", "--packs", "none"]
    return cli(capfd, *args, "--no-progress")


def test_source_date_epoch_is_the_only_date_a_report_carries(tiny, tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    result = _report(capfd, tiny, tmp_path / "dated")
    assert result.returncode == 0, result.stderr
    latest = TINY_PERIODS[-1]
    html = (tmp_path / "dated" / latest / "ZR1" / "regional-benchmark.html").read_text("utf-8")
    assert _footer(html)["Built"] == "2026-01-01 (SOURCE_DATE_EPOCH)"
    m = json.loads((tmp_path / "dated" / "manifest.json").read_text(encoding="utf-8"))
    assert m["build_date"] == "2026-01-01" == m["jobs"][0]["provenance"]["build_date"]

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    bad = _report(capfd, tiny, tmp_path / "bad")
    assert bad.returncode == 2
    assert "SOURCE_DATE_EPOCH='yesterday'" in bad.stderr and "seconds since" in bad.stderr
    assert not (tmp_path / "bad").exists(), "refused before anything is written"


def test_first_quarter_held_says_why_there_is_no_trend_chart(demo_site):
    first = PERIODS[-1]
    html = (demo_site / first / "ZR1" / "regional-benchmark.html").read_text(encoding="utf-8")
    label = parse_slug(first).label
    assert html.count(f"No trend chart: {label} is the first quarter held") == 6, "one per theme"
    # the ranking charts and the funnel plots (one per indicator with a count model) are drawn
    assert html.count("<svg") == 6 + html.count('id="funnel-'), "only the trend charts are missing"


def test_every_demo_la_has_a_pack_linked_from_and_back_to_its_regional_report(demo_site):
    period = PERIODS[0]
    label = parse_slug(period).label
    index = (demo_site / "index.html").read_text(encoding="utf-8")
    for code in REGIONS:
        regional = (demo_site / period / code / "regional-benchmark.html").read_text(
            encoding="utf-8"
        )
        mine = sorted(la for la, r in LAS.items() if r == code)
        assert sorted(re.findall(r'<a href="(ZL\d+)/self-assessment.html">', regional)) == mine
        for la in mine:
            pack = demo_site / period / code / la / "self-assessment.html"
            text = pack.read_text(encoding="utf-8")
            assert pack.stat().st_size < PACK_LIMIT, f"{pack}: {pack.stat().st_size:,} bytes"
            assert f'<a href="../regional-benchmark.html">{REGIONS[code]}: quarterly ' in text
            assert 'href="../../../index.html"' in text
            assert f'<a href="{period}/{code}/{la}/self-assessment.html">' in index
            for suffix in (".ipynb", ".csv"):
                assert pack.with_suffix(suffix).is_file()
    # earlier quarters' regional reports were built without packs, and say nothing of them
    older = (demo_site / PERIODS[1] / "ZR1" / "regional-benchmark.html").read_text("utf-8")
    assert "self-assessment" not in older
    assert not list((demo_site / PERIODS[1]).glob("*/*/self-assessment.html"))
    assert "30 of 30 self-assessment packs built" in index
    assert f"ZL101: self-assessment pack, {label}" not in index  # named, not coded
    assert f"Aldermoor: self-assessment pack, {label}" in index


def test_the_pack_of_a_rejected_return_says_so_and_shows_no_figures(demo_site):
    folder = demo_site / PERIODS[0] / "ZR2" / demo.FAULTY_LA
    text = (folder / "self-assessment.html").read_text(encoding="utf-8")
    assert "Marrowgate&#x27;s return for 2026-27 Q2 was not accepted by validation" in text
    assert "Figures from earlier quarters are not used in their place" in text
    assert "<svg" not in text and "scorecard" not in text.split("</h1>")[1].split("<h2")[0]
    assert 'class="tartan-table scorecard"' not in text
    assert f'href="../../../validation/feedback/{demo.FAULTY_LA}.html#2026-27-Q2"' in text
    # what validation found is in the annex, row by row
    assert "row 5, column numerator: numerator 2317 is larger than the denominator" in text
    csv = (folder / "self-assessment.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv) == 1, "the figures CSV has its header and no figures"
    # the previous quarter's accepted figures exist, and are not used
    before = (demo_site / PERIODS[0] / "ZR2" / "regional-benchmark.csv").read_text("utf-8")
    assert ",ZL203," in (demo_site / PERIODS[1] / "ZR2" / "regional-benchmark.csv").read_text(
        "utf-8"
    )
    assert "not accepted" in before


def test_each_question_quotes_the_figures_in_the_packs_csv(demo_site):
    """Every question a pack asks starts with an indicator and quotes the LA's figure for it, as
    the pack's own CSV has it."""
    import pandas as pd

    from pipeline.edges.contracts import load_catalogue, load_contract
    from tests.conftest import ROOT

    cat = load_catalogue(
        ROOT / "data_contracts" / "indicators.yaml",
        load_contract(ROOT / "data_contracts" / "catalogue.yaml"),
    )
    asked = 0
    for la, code in LAS.items():
        if la == demo.FAULTY_LA:
            continue
        folder = demo_site / PERIODS[0] / code / la
        text = html_lib.unescape((folder / "self-assessment.html").read_text(encoding="utf-8"))
        figures = pd.read_csv(folder / "self-assessment.csv", dtype={"value": float})
        mine = figures[(figures["relation"] == "this LA") & (figures["period"] == PERIODS[0])]
        value = dict(zip(mine["indicator_id"], mine["value"], strict=True))
        # about areas for development and about strengths: a list each
        lists = re.findall(r'<ol class="questions">(.*?)</ol>', text, re.S)
        questions = [q for ol in lists for q in re.findall(r"<li>(.*?)</li>", ol)]
        for q in questions:
            ind = next(i for i in cat if q.startswith(i.label + " "))
            assert ind.format(value[ind.id]) in q, f"{la}: {q}"
            asked += 1
    assert asked >= 20, "the demo's packs ask questions"
