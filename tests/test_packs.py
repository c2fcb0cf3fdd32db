"""Self-assessment packs at the edges, built by the CLI from a changed copy of the demo data:
an LA with no previous quarter, one with no statistical neighbours, one with no population, and
the first quarter held."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-packs")]
FIRST, LATEST = "2024-25-Q3", "2026-27-Q2"
NO_PREVIOUS, NO_NEIGHBOURS, NO_POPULATION = "ZL201", "ZL202", "ZL204"


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_data):
    data = tmp_path_factory.mktemp("edges") / "data"
    shutil.copytree(demo_data, data)
    (data / "returns" / "2026-27-Q1" / f"{NO_PREVIOUS}_2026-27-Q1.csv").unlink()
    ref = data / "reference"
    for name, la in (("statistical_neighbours", NO_NEIGHBOURS), ("population", NO_POPULATION)):
        frame = pd.read_csv(ref / f"{name}.csv", dtype=str)
        frame[frame["la_code"] != la].to_csv(ref / f"{name}.csv", index=False)
    out = tmp_path_factory.mktemp("edges-out")
    args = [sys.executable, "-m", "pipeline", "report", "--data", data, "--out", out]
    args += ["--region", "ZR2", "--period", FIRST, "--period", LATEST, "--packs", "all"]
    result = subprocess.run(
        [*map(str, args), "--no-progress"], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(2 regional reports, 16 self-assessment packs)" in result.stdout
    return out


def _text(site, period, la) -> str:
    page = (site / period / "ZR2" / la / "self-assessment.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_no_accepted_return_last_quarter_is_said_once_not_per_indicator(site):
    text = _text(site, LATEST, NO_PREVIOUS)
    assert (
        "Kestrelwick has no accepted return for 2026-27 Q1, so there is nothing to compare" in text
    )
    assert "where 2026-27 Q1 had no figure" not in text
    assert "changed notably" not in text, "no count of changes against a quarter not held"


def test_no_statistical_neighbours_says_so_instead_of_empty_comparators(site):
    text = _text(site, LATEST, NO_NEIGHBOURS)
    assert "No statistical neighbours are listed for this LA in the reference data" in text
    assert text.count("No ranking among neighbours") == 6, "one per theme, no one-dot charts"
    assert "Larkspur Downs against its statistical neighbours" not in text
    assert "no neighbour comparators" in text


def test_no_population_says_so(site):
    assert "Children aged 0 to 17 not in the reference data" in _text(site, LATEST, NO_POPULATION)


def test_the_first_quarter_held_has_no_changes_or_trend_to_report(site):
    text = _text(site, FIRST, "ZL205")
    assert (
        "2024-25 Q3 is the first quarter held, so there is nothing to compare it with yet" in text
    )
    assert "No trend chart: 2024-25 Q3 is the first quarter held" in text
    assert "no trend yet: 2023-24 Q4 is not held" in text
    assert "changed notably" not in text
    page = (site / FIRST / "ZR2" / "ZL205" / "self-assessment.html").read_text("utf-8")
    assert page.count('<figure id="rank-') == 6 and '<figure id="trend-' not in page


def test_packs_for_every_quarter_built_are_linked_from_their_regional_reports(site):
    for period in (FIRST, LATEST):
        regional = (site / period / "ZR2" / "regional-benchmark.html").read_text("utf-8")
        linked = re.findall(r'<a href="(ZL\d+)/self-assessment.html">', regional)
        assert len(linked) == 8 and all(
            (site / period / "ZR2" / la / "self-assessment.html").is_file() for la in linked
        )


def test_a_failed_pack_fails_alone_and_its_regional_report_does_not_link_to_it(tmp_path, demo_data):
    """One LA's pack raises: the others and the regional report are built, the report names
    the missing pack instead of linking to nothing, and the index says why."""
    import nbformat

    from pipeline.orchestration.products.quarterly import report
    from pipeline.orchestration.settings import PROJECT, Settings

    notebooks = tmp_path / "notebooks"
    shutil.copytree(PROJECT / "notebooks", notebooks)
    path = notebooks / "self_assessment_pack.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell('assert la_code != "ZL205", "no figures"'))
    nbformat.write(nb, path)
    out = tmp_path / "out"
    summary = report(
        Settings(
            data=demo_data,
            out=out,
            notebooks=notebooks,
            regions=["ZR2"],
            periods=["latest"],
            progress=False,
        )
    )
    assert [r.id for r in summary.failed] == [f"{LATEST}/ZR2/ZL205/self-assessment"]
    assert summary.failed[0].error == "AssertionError: no figures"
    assert len(summary.results) == 9
    folder = out / LATEST / "ZR2"
    assert not (folder / "ZL205").exists() or not any((folder / "ZL205").iterdir())
    regional = (folder / "regional-benchmark.html").read_text("utf-8")
    assert 'href="ZL205/self-assessment.html"' not in regional
    assert "Oakenshaw Vale: self-assessment evidence pack, 2026-27 Q2: not built" in regional
    assert regional.count("/self-assessment.html") == 7
    index = (out / "index.html").read_text("utf-8")
    assert "7 of 8 self-assessment packs built" in index
    assert "failed: AssertionError: no figures" in index
