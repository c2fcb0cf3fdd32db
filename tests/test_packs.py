"""Self-assessment packs at the edges, built by the CLI from a changed copy of the tiny dataset:
an LA with no previous quarter, one with no statistical neighbours, one with no population, and
the first quarter held."""

from __future__ import annotations

import html as html_lib
import re
import shutil

import pandas as pd
import pytest

from pipeline.core.periods import parse_slug
from tests.conftest import ROOT, TINY_PERIODS, tartan

# One module-wide build: its tests stay on one pytest-xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-packs")]
(FIRST, PREVIOUS, LATEST), REGION = TINY_PERIODS, "ZR1"
NO_PREVIOUS, NO_NEIGHBOURS, NO_POPULATION = "ZL101", "ZL105", "ZL107"


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny):
    edges = tiny.copy(tmp_path_factory.mktemp("edges") / "data")
    data = edges.data
    (data / "returns" / PREVIOUS / f"{NO_PREVIOUS}_{PREVIOUS}.csv").unlink()
    ref = data / "reference"
    for name, la in (("statistical_neighbours", NO_NEIGHBOURS), ("population", NO_POPULATION)):
        frame = pd.read_csv(ref / f"{name}.csv", dtype=str)
        frame[frame["la_code"] != la].to_csv(ref / f"{name}.csv", index=False)
    out = tmp_path_factory.mktemp("edges-out")
    args = ["report", *edges.args, "--out", out, "--region", REGION]
    args += ["--period", FIRST, "--period", LATEST, "--packs", "all", "--no-progress"]
    result = tartan(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(2 regional reports, 8 self-assessment packs)" in result.stdout
    return out


def _text(site, period, la) -> str:
    page = (site / period / REGION / la / "self-assessment.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_no_accepted_return_last_quarter_is_said_once_not_per_indicator(site):
    text = _text(site, LATEST, NO_PREVIOUS)
    assert (
        f"Aldermoor has no accepted return for {label(PREVIOUS)}, so there is nothing to compare"
        in text
    )
    assert f"where {label(PREVIOUS)} had no figure" not in text
    assert "changed notably" not in text, "no count of changes against a quarter not held"


def test_no_statistical_neighbours_says_so_instead_of_empty_comparators(site):
    text = _text(site, LATEST, NO_NEIGHBOURS)
    assert "No statistical neighbours are listed for this LA in the reference data" in text
    assert text.count("No ranking among neighbours") == 6, "one per theme, no one-dot charts"
    assert "Elmsworth against its statistical neighbours" not in text
    assert "no neighbour comparators" in text


def test_no_population_says_so(site):
    assert "Children aged 0 to 17 not in the reference data" in _text(site, LATEST, NO_POPULATION)


def test_the_first_quarter_held_has_no_changes_or_trend_to_report(site):
    text = _text(site, FIRST, "ZL108")
    first = label(FIRST)
    assert f"{first} is the first quarter held, so there is nothing to compare it with yet" in text
    assert f"No trend chart: {first} is the first quarter held" in text
    trend_from = parse_slug(FIRST).shifted(-3).label  # a trend is over four quarters
    assert f"no trend yet: {trend_from} is not held" in text
    assert "changed notably" not in text
    page = (site / FIRST / REGION / "ZL108" / "self-assessment.html").read_text("utf-8")
    assert page.count('<figure id="rank-') == 6 and '<figure id="trend-' not in page


def test_packs_for_every_quarter_built_are_linked_from_their_regional_reports(site):
    for period in (FIRST, LATEST):
        regional = (site / period / REGION / "regional-benchmark.html").read_text("utf-8")
        linked = re.findall(r'<a href="(ZL\d+)/self-assessment.html">', regional)
        assert len(linked) == 4 and all(
            (site / period / REGION / la / "self-assessment.html").is_file() for la in linked
        )


def test_a_failed_pack_fails_alone_and_its_regional_report_does_not_link_to_it(tmp_path, tiny):
    """One LA's pack raises: the others and the regional report are built, the report names
    the missing pack instead of linking to nothing, and the index says why."""
    import nbformat

    from pipeline.orchestration.settings import Settings
    from tests.internals import report

    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    path = notebooks / "self_assessment_pack.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell('assert la_code != "ZL108", "no figures"'))
    nbformat.write(nb, path)
    out = tmp_path / "out"
    summary = report(
        Settings(
            data=tiny.data,
            out=out,
            contracts=tiny.contracts,
            notebooks=notebooks,
            regions=[REGION],
            periods=["latest"],
            progress=False,
        )
    )
    assert [r.id for r in summary.failed] == [f"{LATEST}/{REGION}/ZL108/self-assessment"]
    assert summary.failed[0].error == "AssertionError: no figures"
    assert len(summary.results) == 5
    folder = out / LATEST / REGION
    assert not (folder / "ZL108").exists() or not any((folder / "ZL108").iterdir())
    regional = (folder / "regional-benchmark.html").read_text("utf-8")
    assert 'href="ZL108/self-assessment.html"' not in regional
    assert f"Harrowmere: self-assessment evidence pack, {label(LATEST)}: not built" in regional
    assert regional.count("/self-assessment.html") == 3
    index = (out / "index.html").read_text("utf-8")
    assert "3 of 4 self-assessment packs built" in index
    assert "failed: AssertionError: no figures" in index


def label(period: str) -> str:
    return parse_slug(period).label
