"""Regional priorities: the RAG rule on hand-worked numbers, and a priorities file's errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.priorities import AMBER, GREEN, NO_DATA, RED, Priority, assess, rag, rule_text
from pipeline.edges.contracts import load_priorities
from tests.catalogues import catalogue
from tests.conftest import ROOT

NOW = "2026-27-Q2"
CATALOGUE = catalogue("rereferrals_pct", "visits_pct", "cla_rate", "caseload")
LOW = Priority("rr", "Fewer re-referrals", "rereferrals_pct", 20.0)  # lower is better
HIGH = Priority("v", "Visits in time", "visits_pct", 90.0)  # higher is better


@pytest.mark.parametrize(
    ("priority", "value", "status"),
    [
        # lower is better, target 20.0, amber within 10% of 20 = 2.0
        (LOW, 19.0, GREEN),
        (LOW, 20.0, GREEN),  # on the target meets it
        (LOW, 22.0, AMBER),  # misses by exactly 2.0
        (LOW, 22.1, RED),
        # higher is better, target 90.0, amber within 9.0
        (HIGH, 95.0, GREEN),
        (HIGH, 81.0, AMBER),
        (HIGH, 80.9, RED),
        (LOW, math.nan, NO_DATA),
        (LOW, None, NO_DATA),
    ],
)
def test_rag_by_polarity(priority, value, status):
    assert rag(CATALOGUE[priority.indicator_id], value, priority) == status


def test_amber_margin_is_per_priority():
    tight = Priority("rr", "Fewer re-referrals", "rereferrals_pct", 20.0, amber_within=0.05)
    assert rag(CATALOGUE["rereferrals_pct"], 21.0, tight) == AMBER
    assert rag(CATALOGUE["rereferrals_pct"], 21.1, tight) == RED


def test_rule_is_stated_in_the_indicators_units():
    assert rule_text(CATALOGUE["rereferrals_pct"], LOW) == (
        "Green: at or below the target of 20.0%. Amber: missing it by no more than "
        "2.0 percentage points (10% of the target). Red: missing it by more."
    )
    caseload = Priority("c", "Caseloads", "caseload", 17.0)
    assert "at or below the target of 17.0. Amber: missing it by no more than 1.7 (10%" in (
        rule_text(CATALOGUE["caseload"], caseload)
    )


def test_assess_uses_the_regions_figure_and_counts_las_meeting_the_target():
    areas = pd.DataFrame(
        [
            ("R", NOW, "rereferrals_pct", 21.5, "worsening"),
            ("england", NOW, "rereferrals_pct", 18.0, "stable"),
            ("R", "2026-27-Q1", "visits_pct", 95.0, None),  # an earlier period only
        ],
        columns=["area_code", "period", "indicator_id", "value", "trend"],
    )
    las = pd.DataFrame(
        [
            ("A", NOW, "rereferrals_pct", 19.0, ""),
            ("B", NOW, "rereferrals_pct", 20.0, ""),
            ("C", NOW, "rereferrals_pct", 25.0, ""),
            ("D", NOW, "rereferrals_pct", math.nan, "c"),
        ],
        columns=["la_code", "period", "indicator_id", "value", "status"],
    )
    got = assess([LOW, HIGH], areas, las, CATALOGUE, NOW, "R")
    rr, visits = got
    assert (rr["status"], rr["value_text"], rr["target_text"]) == (AMBER, "21.5%", "20.0%")
    assert (rr["las_meeting"], rr["las_with_value"]) == (2, 3)  # A and B; D is suppressed
    assert rr["trend"] == "worsening"
    # no figure for the region this period: no data, never a stale or zero figure
    assert (visits["status"], visits["value_text"]) == (NO_DATA, "no figure")


def _write(tmp_path, text: str):
    path = tmp_path / "priorities.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_priorities_file_problems_name_the_file_line_and_what_was_expected(tmp_path):
    path = _write(
        tmp_path,
        "version: '1.0.0'\n"
        "regions:\n"
        "  R1:\n"
        "    - id: a\n"
        "      title: Fewer re-referrals\n"
        "      indicator: rereferrals_pct\n"
        "      target: twenty\n"
        "    - id: b\n"
        "      title: Looked-after rate\n"
        "      indicator: cla_rate\n"
        "      target: 60\n"
        "    - id: c\n"
        "      title: Unknown\n"
        "      indicator: no_such_indicator\n"
        "      target: 1\n"
        "  R9:\n"
        "    - id: d\n"
        "      title: x\n"
        "      indicator: visits_pct\n"
        "      target: 90\n",
    )
    with pytest.raises(ConfigError) as err:
        load_priorities(path, CATALOGUE, ["R1", "R2"])
    msg = str(err.value)
    assert f"{path}, line 4: target 'twenty' is not a number" in msg
    assert f"{path}, line 8: indicator 'cla_rate' is neutral" in msg
    assert f"{path}, line 12: indicator 'no_such_indicator' is not in the indicator catalogue" in (
        msg
    )
    assert "region 'R9' is not in the reference data (regions: R1, R2)" in msg
    assert err.value.exit_code == 2


def test_no_priorities_file_means_no_priorities(tmp_path):
    assert load_priorities(tmp_path / "absent.yaml", CATALOGUE, ["R1"]) == {}


def test_the_demo_datasets_priorities_file_is_valid(demo_data):
    """The priorities belong to the dataset: the demo's are in its own priorities.yaml, and the
    project's data_contracts/ holds none."""
    from pipeline.edges.contracts import load_catalogue

    catalogue = load_catalogue(ROOT / "data_contracts" / "indicators.yaml")
    got = load_priorities(demo_data / "priorities.yaml", catalogue, ["ZR1", "ZR2", "ZR3"])
    assert sorted(got) == ["ZR1", "ZR2", "ZR3"]
    assert all(len(v) == 3 for v in got.values())
    assert not (ROOT / "data_contracts" / "priorities.yaml").exists()


# --------------------------------------------------------------------------- the dataset's own


def _run_priorities(data, contracts):
    from pipeline.orchestration.inputs import load_inputs
    from pipeline.orchestration.products.quarterly import _priorities
    from pipeline.orchestration.settings import Settings

    s = Settings(data=data, contracts=contracts)
    return _priorities(s, load_inputs(s))


def test_a_run_reads_the_datasets_own_priorities_and_none_without_them(tiny, tmp_path):
    found, shown = _run_priorities(tiny.data, tiny.contracts)
    assert sorted(found) == ["ZR1"] and len(found["ZR1"]) == 3
    assert shown == "the dataset's priorities.yaml"  # as the reports name it, wherever it is
    # a real region's dataset: priorities of the demo's regions anywhere else stop nothing
    bare = tiny.copy(tmp_path / "bare")
    (bare.data / "priorities.yaml").unlink()
    assert _run_priorities(bare.data, bare.contracts)[0] == {}


def test_editing_the_datasets_priorities_changes_the_configuration_hash(tiny, tmp_path):
    from pipeline.orchestration.inputs import config_hash
    from pipeline.orchestration.settings import Settings

    copy = tiny.copy(tmp_path / "copy")
    s = Settings(data=copy.data, contracts=copy.contracts)
    before = config_hash(s)
    path = copy.data / "priorities.yaml"
    path.write_text(path.read_text("utf-8").replace("target: 22.0", "target: 21.0"), "utf-8")
    assert config_hash(s) != before
    path.unlink()
    assert config_hash(s) not in (
        before,
        config_hash(Settings(data=tiny.data, contracts=s.contracts)),
    )
