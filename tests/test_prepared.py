"""Light kernels and the cache's keys, without running a notebook: a report laid out ahead by the
worker shows exactly what the full facade computes, and a kernel importing the facade imports no
pandas or chart library; content keys change with what a report is made from, and only then."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.orchestration import cache
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.progress import Progress
from pipeline.orchestration.settings import Settings
from pipeline.report import REPORTS, SelfAssessmentPack
from pipeline.report.prepared import SECTIONS, Prepared
from tests.internals import pack_job, prepare_plan, regional_job

PERIOD = "2026-27-Q2"


@pytest.fixture(scope="module")
def planned(tiny, tmp_path_factory):
    """The slices of a pack and of its regional report (of the tiny dataset), as the driver
    writes them."""
    out = tmp_path_factory.mktemp("prepared")
    plan = prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))
    pack = pack_job(plan, PERIOD, "ZL101", "ZR1", "North Vale")
    regional = regional_job(plan, PERIOD, "ZR1", "North Vale", {("ZL101", PERIOD): True})
    for p in (pack, regional):
        p.write_slice()
    return {"plan": plan, "pack": pack, "regional": regional}


def test_importing_the_facade_imports_no_pandas_or_charts():
    code = (
        "import sys, pipeline.report\n"
        "heavy = ('pandas', 'numpy', 'altair', 'vl_convert', 'great_expectations')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", ["self-assessment", "regional-benchmark"])
def test_a_prepared_report_shows_what_the_full_facade_computes(planned, kind):
    p = planned["pack" if kind == "self-assessment" else "regional"]
    facade = REPORTS[kind]
    full = facade.implementation().load(p.job.slice_dir)
    names = facade.prepare(p.job.slice_dir)
    assert names == list(facade.implementation().SECTIONS)
    assert "themes" in names and len(names) == {"self-assessment": 8, "regional-benchmark": 7}[kind]
    prepared = facade.load(p.job.slice_dir)
    assert isinstance(prepared, Prepared)
    for name in names:
        shown = getattr(prepared, name)()
        assert shown._repr_html_() == getattr(full, name)()._repr_html_(), name
        assert repr(shown) == f"<HTML fragment, {len(str(shown)):,} characters>"
    assert "<svg" in str(prepared.themes()), "the charts come ready drawn"


def test_anything_beyond_the_sections_loads_the_full_facade(planned):
    slice_dir = planned["pack"].job.slice_dir
    SelfAssessmentPack.prepare(slice_dir)
    pack = SelfAssessmentPack.load(slice_dir)
    assert set(pack.figures["la_code"]) == {"ZL101"}, "figures come from the full facade"
    assert pack.period == PERIOD


def test_without_prepared_sections_a_notebook_gets_the_full_facade(planned, tmp_path):
    import shutil

    copy = tmp_path / "slice"
    shutil.copytree(planned["pack"].job.slice_dir, copy)
    (copy / SECTIONS).unlink(missing_ok=True)
    pack = SelfAssessmentPack.load(copy)
    assert not isinstance(pack, Prepared) and "<svg" in str(pack.themes())


def test_a_job_key_changes_with_what_the_report_is_made_from_and_only_then(planned, tmp_path):
    job, files = planned["pack"].job, planned["pack"].files
    key = cache.job_key(job, files)
    assert key == job.key == cache.job_key(job, dict(files)), "the same inputs, the same key"
    changed_slice = {**files, "figures.csv": files["figures.csv"] + b"\n"}
    other = [
        cache.job_key(job, changed_slice),
        cache.job_key(dataclasses.replace(job, parameters={**job.parameters, "x": 1}), files),
        cache.job_key(dataclasses.replace(job, footer=job.footer + " "), files),
        cache.job_key(dataclasses.replace(job, csv=job.csv + "\n"), files),
        cache.job_key(dataclasses.replace(job, title="Another title"), files),
    ]
    notebook = tmp_path / "nb.ipynb"
    source = Path(job.notebook).read_text(encoding="utf-8")
    notebook.write_text(source + "\n", encoding="utf-8")
    other.append(cache.job_key(dataclasses.replace(job, notebook=str(notebook)), files))
    assert key not in other and len(set(other)) == len(other)
    # where the job runs and how long a cell may take change nothing it makes
    same = dataclasses.replace(job, cell_timeout=5, log="/elsewhere/log.ipynb")
    assert cache.job_key(same, files) == key


def test_a_cached_job_needs_its_key_its_status_and_intact_outputs(tmp_path):
    out = tmp_path
    (out / "a.html").write_text("<html></html>", encoding="utf-8")
    sha = cache.sha256_bytes(b"<html></html>")
    entry = {"key": "k", "status": "ok", "outputs": ["a.html"], "output_sha256": {"a.html": sha}}
    assert cache.cached_job(entry, "k", out) == entry
    assert cache.cached_job(entry, "other key", out) is None
    assert cache.cached_job({**entry, "status": "failed"}, "k", out) is None
    assert cache.cached_job({**entry, "outputs": []}, "k", out) is None
    assert cache.cached_job(None, "k", out) is None
    (out / "a.html").write_text("<html>edited</html>", encoding="utf-8")
    assert cache.cached_job(entry, "k", out) is None
    (out / "a.html").unlink()
    assert cache.cached_job(entry, "k", out) is None


def test_nothing_is_up_to_date_without_a_manifest_or_with_force(demo_data, tmp_path):
    s = Settings(data=demo_data, out=tmp_path)
    assert cache.up_to_date(s) is None
    (tmp_path / "manifest.json").write_text(
        json.dumps({"run_key": cache.run_key(s), "jobs": [], "files": {}}), encoding="utf-8"
    )
    assert cache.up_to_date(s) is not None, "nothing built, nothing changed"
    assert cache.up_to_date(dataclasses.replace(s, force=True)) is None
    assert cache.up_to_date(dataclasses.replace(s, packs="all")) is None, "options count"


def _result(status="ok"):
    return JobResult("p/r/kind", status)


def test_progress_off_a_terminal_is_a_plain_line_per_tenth():
    stream = io.StringIO()
    progress = Progress(20, "Packs", None, stream=stream)
    for k in range(20):
        progress.update(_result("failed" if k == 0 else "ok"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("Packs: 2 of 20 done, 1 failed, about ")
    assert lines[0].endswith(" s left")
    assert lines[-1].startswith("Packs: 20 of 20 done, 1 failed, in ")


def test_no_progress_means_no_lines():
    stream = io.StringIO()
    progress = Progress(5, "Packs", False, stream=stream)
    for _ in range(5):
        progress.update(_result())
    progress.close()
    assert stream.getvalue() == ""
