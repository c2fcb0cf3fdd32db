"""A regional dataset (dataset.yaml `region`): its own LAs send returns, every other LA of the
reference is a comparator only. Built on the demonstration data, with region ZR1."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.conftest import cli

LATEST = "2026-27-Q2"


def _regional(demo_data, tmp_path, region="ZR1", keep=("ZL1",)):
    """A copy of the demo dataset that is region `region`'s, with only the returns whose file
    names start with one of `keep`."""
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    meta = yaml.safe_load((data / "dataset.yaml").read_text("utf-8"))
    meta["region"] = {"code": region}
    (data / "dataset.yaml").write_text(yaml.safe_dump(meta), "utf-8")
    for path in (data / "returns").rglob("*.csv"):
        if not path.name.startswith(keep):
            path.unlink()
    # the demo's record of when returns came, and its peer-challenge groups, name LAs and
    # returns removed here
    (data / "returns" / "received.yaml").unlink(missing_ok=True)
    (data / "peer_challenge.yaml").unlink(missing_ok=True)
    return data


def test_a_return_from_an_la_outside_the_region_is_not_accepted_naming_it(
    demo_data, tmp_path, capfd
):
    data = _regional(demo_data, tmp_path)
    outside = demo_data / "returns" / LATEST / f"ZL201_{LATEST}.csv"
    shutil.copy(outside, data / "returns" / LATEST / outside.name)
    r = cli(capfd, "validate", "--data", data, "--out", tmp_path / "out")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"not accepted: returns/{LATEST}/ZL201_{LATEST}.csv" in r.stdout
    feedback = (tmp_path / "out" / "validation" / "feedback" / "ZL201.html").read_text("utf-8")
    assert "LA code &#x27;ZL201&#x27; is not one of the region&#x27;s LAs" in feedback
    # the region's own returns are accepted, and no other region's LA is reported missing
    assert "returns, 1 not accepted" in r.stdout or "1 not accepted" in r.stdout
    index = (tmp_path / "out" / "validation" / "index.html").read_text("utf-8")
    assert "ZL301" not in index


def test_only_the_regions_reports_are_built(demo_data, tmp_path, capfd):
    data = _regional(demo_data, tmp_path)
    out = tmp_path / "out"
    r = cli(capfd, "report", "--data", data, "--out", out, "--period", LATEST, "--packs", "none",
            "--no-progress")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    built = sorted(p.relative_to(out).as_posix() for p in out.glob(f"{LATEST}/*/*.html"))
    assert built == [f"{LATEST}/ZR1/regional-benchmark.html"]


def test_an_unknown_region_is_refused_listing_the_regions(demo_data, tmp_path, capfd):
    data = _regional(demo_data, tmp_path, region="E12000009")
    r = cli(capfd, "validate", "--data", data, "--out", tmp_path / "out")
    assert r.returncode == 2
    assert "region 'E12000009' is not a region of reference/local_authorities.csv" in r.stderr
    assert "ZR1 (" in r.stderr and "ZR3 (" in r.stderr


@pytest.mark.parametrize("mode", ["published", "sometimes"])
def test_a_bad_comparators_entry_is_refused(demo_data, tmp_path, capfd, mode):
    data = _regional(demo_data, tmp_path)
    meta = yaml.safe_load((data / "dataset.yaml").read_text("utf-8"))
    meta["comparators"] = {"mode": mode}
    (data / "dataset.yaml").write_text(yaml.safe_dump(meta), "utf-8")
    r = cli(capfd, "validate", "--data", data, "--out", tmp_path / "out")
    assert r.returncode == 2
    expected = "mode published needs a source" if mode == "published" else "is not one of auto"
    assert expected in r.stderr


def test_a_region_without_returns_yet_is_told_so(demo_data, tmp_path, capfd):
    data = _regional(demo_data, tmp_path, keep=("nothing",))
    r = cli(capfd, "report", "--data", data, "--out", tmp_path / "out", "--no-progress")
    assert r.returncode == 2
    assert "no returns yet" in r.stderr and "template" in r.stderr


def test_a_comparator_source_missing_a_mapped_file_is_refused_naming_it(demo_data, tmp_path, capfd):
    data = _regional(demo_data, tmp_path)
    source = tmp_path / "published"
    source.mkdir()
    meta = yaml.safe_load((data / "dataset.yaml").read_text("utf-8"))
    meta["comparators"] = {"mode": "published", "source": str(source)}
    (data / "dataset.yaml").write_text(yaml.safe_dump(meta), "utf-8")
    out = tmp_path / "out"
    r = cli(capfd, "report", "--data", data, "--out", out, "--period", LATEST, "--no-progress")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"dataset.yaml comparators.source {source}: missing " in r.stderr
    assert "ees/csww_indicators_2017_to_2025.csv" in r.stderr
    assert not out.exists() or not any(out.iterdir())  # nothing written


def test_the_dataset_priorities_and_the_published_files_are_part_of_the_run_key(
    demo_data, tmp_path
):
    """An unchanged re-run is skipped: a changed priorities.yaml or published file is not one."""
    from pipeline.orchestration.cache import run_key
    from pipeline.orchestration.settings import Settings

    data = _regional(demo_data, tmp_path)
    source = tmp_path / "published"
    (source / "ees").mkdir(parents=True)
    (source / "ees" / "file.csv").write_text("time_period\n2025\n", "utf-8")
    meta = yaml.safe_load((data / "dataset.yaml").read_text("utf-8"))
    meta["comparators"] = {"mode": "auto", "source": str(source)}
    (data / "dataset.yaml").write_text(yaml.safe_dump(meta), "utf-8")
    s = Settings(data=data, out=tmp_path / "out")
    first = run_key(s)
    assert run_key(s) == first
    (source / "ees" / "file.csv").write_text("time_period\n2026\n", "utf-8")
    second = run_key(s)
    assert second != first
    with (data / "priorities.yaml").open("a", encoding="utf-8") as f:
        f.write("# edited\n")
    assert run_key(s) != second
