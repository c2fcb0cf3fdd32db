"""Charts drawn once: kept between runs by what shaped them, so a resubmission redraws only the
charts it changes, and a report is the same bytes whether its charts were drawn or found."""

from __future__ import annotations

import json
import os
import shutil
import zlib

import pandas as pd
import pytest

from pipeline.edges import chart_cache, charts
from tests.conftest import tartan

TREND = pd.DataFrame(
    {
        "indicator": ["Referrals rate"] * 4,
        "period": ["2025-26 Q1", "2025-26 Q2"] * 2,
        "series": ["Region", "Region", "England", "England"],
        "la": [""] * 4,
        "value": [500.0, 510.0, 480.0, 470.0],
    }
)


@pytest.fixture
def kept(tmp_path):
    chart_cache.use(tmp_path / "charts")
    yield tmp_path / "charts"
    chart_cache.use(None)


def test_a_chart_found_is_the_chart_drawn(kept):
    drawn = charts.trend_small_multiples(TREND)
    assert chart_cache.used() and len(list(kept.iterdir())) == 1
    entry = next(kept.iterdir())
    assert zlib.decompress(entry.read_bytes()).decode() == drawn
    # found, not drawn: the entry's contents are what is returned
    entry.write_bytes(zlib.compress(drawn.replace("<svg", "<svg data-kept='1'", 1).encode()))
    assert "data-kept" in charts.trend_small_multiples(TREND)


def test_other_data_is_another_chart(kept):
    charts.trend_small_multiples(TREND)
    changed = TREND.assign(value=TREND["value"] + [0, 0, 0, 1])
    assert charts.trend_small_multiples(changed) != charts.trend_small_multiples(TREND)
    assert len(list(kept.iterdir())) == 2


def test_a_damaged_entry_is_drawn_again_and_mended(kept):
    drawn = charts.trend_small_multiples(TREND)
    entry = next(kept.iterdir())
    entry.write_bytes(b"not a chart")
    assert charts.trend_small_multiples(TREND) == drawn
    assert zlib.decompress(entry.read_bytes()).decode() == drawn


def test_a_folder_that_cannot_be_written_only_means_drawing(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    chart_cache.use(blocked / "charts")
    try:
        assert charts.trend_small_multiples(TREND).startswith("<svg")
    finally:
        chart_cache.use(None)


def test_record_keeps_only_what_the_current_reports_used(tmp_path):
    folder = tmp_path / "charts"
    folder.mkdir()
    a, b, c = (chart_cache.key("svg", x) for x in "abc")
    for k in (a, b, c):
        (folder / k).write_bytes(zlib.compress(b"<svg/>"))
    (folder / "notes.txt").write_text("not Tartan's", encoding="utf-8")
    chart_cache.record(folder, {"one": [a], "two": [b]}, {"one", "two"})
    assert sorted(p.name for p in folder.iterdir()) == sorted([a, b, "index.json", "notes.txt"])
    # "two" not run again but still a current report: its chart stays; "one" gone: its goes
    chart_cache.record(folder, {}, {"two"})
    assert sorted(p.name for p in folder.iterdir()) == sorted([b, "index.json", "notes.txt"])
    assert json.loads((folder / "index.json").read_text("utf-8")) == {"two": [b]}


def test_a_damaged_record_keeps_only_this_runs_charts(tmp_path):
    folder = tmp_path / "charts"
    folder.mkdir()
    a, b = chart_cache.key("svg", "a"), chart_cache.key("svg", "b")
    for k in (a, b):
        (folder / k).write_bytes(b"x")
    (folder / "index.json").write_text("{not json", encoding="utf-8")
    chart_cache.record(folder, {"one": [a, "../../etc/passwd"]}, {"one"})
    assert sorted(p.name for p in folder.iterdir()) == sorted([a, "index.json"])


def test_an_entry_that_is_a_link_out_of_the_folder_is_removed_not_followed(tmp_path):
    folder, outside = tmp_path / "out" / "charts", tmp_path / "precious"
    folder.mkdir(parents=True)
    outside.write_text("keep me", encoding="utf-8")
    os.symlink(outside, folder / chart_cache.key("svg", "x"))
    chart_cache.record(folder, {}, set())
    assert outside.read_text("utf-8") == "keep me"
    assert [p.name for p in folder.iterdir()] == []


@pytest.mark.e2e
def test_a_resubmission_redraws_little_and_gives_a_cold_builds_bytes(tmp_path, tiny, tiny_site):
    out = tmp_path / "out"
    shutil.copytree(tiny_site, out)
    data = tiny.copy(tmp_path / "data")
    latest = sorted((data.data / "returns").iterdir())[-1]
    path = sorted(latest.glob("*.csv"))[0]
    lines = path.read_text("utf-8").splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if ",rereferrals_pct," in line)
    cells = lines[i].split(",")
    num, den = int(cells[4]) + 30, int(cells[5])
    cells[4], cells[6] = str(num), f"{num / den * 100:.1f}"
    lines[i] = ",".join(cells)
    path.write_text("".join(lines), "utf-8")
    folder = out / ".tartan-charts" / "quarterly"
    before = {p.name for p in folder.iterdir()}
    # a damaged entry is drawn again, never shown
    damaged = sorted(before - {"index.json"})[0]
    (folder / damaged).write_bytes(b"damaged")

    args = [*data.args, "--period", "latest", "--no-progress", "--profile"]
    again = tartan("report", *args, "--out", out)
    assert again.returncode == 0, again.stderr
    p = json.loads((out / "logs" / "profile.json").read_text("utf-8"))
    cold = tartan("report", *args, "--out", tmp_path / "cold")
    assert cold.returncode == 0, cold.stderr
    c = json.loads((tmp_path / "cold" / "logs" / "profile.json").read_text("utf-8"))
    # most of the charts were found, not drawn: drawing took a fraction of a cold build's
    assert p["jobs_run"] >= 2
    assert p["workers"].get("chart drawing", 0) < 0.5 * c["workers"]["chart drawing"]
    for page in sorted(out.rglob("*")):
        rel = page.relative_to(out)
        if page.is_file() and rel.parts[0] not in ("logs", ".tartan.lock"):
            assert page.read_bytes() == (tmp_path / "cold" / rel).read_bytes(), rel
    after = {p.name for p in folder.iterdir()}
    assert after != before  # the changed charts replaced the ones they change
    if (folder / damaged).exists():  # still used: mended
        assert zlib.decompress((folder / damaged).read_bytes()).startswith(b"<svg")
