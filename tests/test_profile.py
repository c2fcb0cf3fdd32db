"""A run's profile (``--profile``): where the time went, stage by stage, without touching the
manifest's bytes."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from pipeline.core import stopwatch
from pipeline.orchestration.jobs import JobResult
from tests.conftest import tartan


def test_a_stage_inside_another_is_counted_once_as_its_own():
    stopwatch.take()
    with stopwatch.stage("outer"):
        time.sleep(0.05)
        with stopwatch.stage("inner"):
            time.sleep(0.1)
        stopwatch.part("kernel", 0.02)  # known from elsewhere: taken out of "outer"
    spent = stopwatch.take()
    assert 0.1 <= spent["inner"] < 0.2
    assert 0.03 <= spent["outer"] < 0.1  # its own 0.05 s, less the kernel's 0.02 s
    assert spent["kernel"] == 0.02
    assert stopwatch.take() == {}  # taken: the next job starts from nothing


def test_a_results_timings_stay_out_of_the_manifest():
    res = JobResult("2026-27-Q2/ZR1/regional-benchmark", "ok", timings={"layout": 1.5})
    assert "timings" not in res.to_json()


@pytest.mark.e2e
def test_the_profile_says_where_a_cold_run_went_and_that_a_rerun_ran_nothing(
    tmp_path, tiny, tiny_site
):
    out = tmp_path / "out"
    shutil.copytree(tiny_site, out)
    manifest = (out / "manifest.json").read_bytes()
    args = [*tiny.args, "--out", out, "--period", "latest", "--no-progress", "--profile"]
    cold = tartan("report", *args, "--force")
    assert cold.returncode == 0, cold.stderr
    p = json.loads((out / "logs" / "profile.json").read_text("utf-8"))
    jobs = json.loads((out / "manifest.json").read_text("utf-8"))["jobs"]
    assert p["jobs_run"] == len(jobs) == 5 and p["jobs_unchanged"] == 0
    for name in ("validation", "disclosure control", "benchmark", "planning"):
        assert p["driver"][name] > 0, name
    for name in ("layout", "chart drawing", "kernel (cells)", "rendering", "writing"):
        assert p["workers"][name] > 0, name
    assert set(p["by_kind"]) == {"regional-benchmark", "self-assessment"}
    assert p["by_kind"]["self-assessment"]["jobs"] == 4
    # The workers' stages add up to no more than the run's time on every worker at once.
    assert sum(p["workers"].values()) < p["wall_s"] * 8
    assert all("timings" not in j for j in jobs)
    assert (out / "manifest.json").read_bytes() == manifest  # same bytes as without a profile

    again = tartan("report", *args)
    assert again.returncode == 0, again.stderr
    # Nothing to do: the run stops before it starts any worker, and writes no new profile.
    assert json.loads((out / "logs" / "profile.json").read_text("utf-8")) == p
