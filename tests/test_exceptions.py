"""An LA's exceptions and its own commentary on them: which figures are exceptions (band D, or
among the best or worst fifth nationally; configurable), the LA's file read in sections per
indicator and refused naming the line when a section names no indicator, each pack listing its
exceptions with the LA's words or "no commentary received", and the index naming who still owes
commentary."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.exceptions import ExceptionRule, cut, exceptions
from pipeline.edges import commentary
from pipeline.html.exceptions import NOT_RECEIVED
from tests.catalogues import catalogue as hand_made
from tests.conftest import TINY_PERIODS, TINY_REGION, cli
from tests.test_scale import JOBS, _copy, _differ, _report

PERIOD = TINY_PERIODS[-1]
IDS = {"rereferrals_pct", "cla_rate", "assessments_45_days_pct"}
LA_FILE = """\
---
author: Head of performance, Testshire
date: 2026-11-18
---
An introduction.

## rereferrals_pct: re-referrals

<script>alert("x")</script> was a test.
=HYPERLINK("http://evil.example","click")

## cla_rate
- Placements **rose**.
"""


def _rows(specs):
    """One LA's figures in one period: {indicator id: (value, band, rank, of, status)}."""
    rows = [
        {
            "period": "2026-27-Q2",
            "indicator_id": ind,
            "value": v,
            "band": band,
            "rank_national": rank,
            "las_ranked_national": of,
            "status": status,
        }
        for ind, (v, band, rank, of, status) in specs.items()
    ]
    return pd.DataFrame(rows)


def test_cut_covers_a_fifth_of_the_ranked_las_at_least_one_at_most_half():
    assert cut(150, 20) == 30
    assert cut(29, 20) == 5  # 5.8: the top fifth is ranks 1 to 5, the bottom 25 to 29
    assert cut(3, 20) == 1
    assert cut(4, 50) == 2 and cut(5, 50) == 2, "never more than half"
    assert cut(0, 20) == 0 and cut(150, 0) == 0


def test_band_d_and_the_best_and_worst_fifth_nationally_are_exceptions():
    cat = hand_made("rereferrals_pct", "visits_pct", "caseload", "cla_rate")
    figures = _rows(
        {
            "rereferrals_pct": (30.0, "D", 20, 29, ""),  # band D, not among the worst five
            "visits_pct": (90.0, "A", 5, 29, ""),  # rank 5 of 29: among the best 20%
            "caseload": (19.0, "C", 25, 29, ""),  # rank 25 of 29: among the worst 20%
            "cla_rate": (120.0, None, 1, 29, ""),  # no judgement: the highest
        }
    )
    found = {e["indicator_id"]: e for e in exceptions(figures, cat, "2026-27-Q2", RULE)}
    assert list(found) == ["rereferrals_pct", "visits_pct", "caseload", "cla_rate"]
    assert found["rereferrals_pct"]["why"] == ["band D"]
    assert found["visits_pct"]["why"] == ["among the best 20% of LAs nationally (rank 5 of 29)"]
    assert found["caseload"]["why"] == ["among the worst 20% of LAs nationally (rank 25 of 29)"]
    assert found["cla_rate"]["why"] == ["among the highest 20% of LAs nationally (rank 1 of 29)"]
    assert (found["visits_pct"]["value"], found["cla_rate"]["value"]) == ("90.0%", "120")
    # configurable: band D alone, or bands C and D with the best and worst tenth
    only_d = exceptions(figures, cat, "2026-27-Q2", ExceptionRule(("D",), 0))
    assert [e["indicator_id"] for e in only_d] == ["rereferrals_pct"]
    wider = exceptions(figures, cat, "2026-27-Q2", ExceptionRule(("C", "D"), 10))
    assert [e["indicator_id"] for e in wider] == ["rereferrals_pct", "caseload", "cla_rate"]


def test_a_withheld_or_missing_figure_is_never_an_exception():
    cat = hand_made("rereferrals_pct", "visits_pct")
    figures = _rows(
        {
            "rereferrals_pct": (float("nan"), "D", 29, 29, "c"),
            "visits_pct": (float("nan"), None, None, None, "missing"),
        }
    )
    assert exceptions(figures, cat, "2026-27-Q2", RULE) == []


RULE = ExceptionRule()


def test_the_rule_in_words():
    assert RULE.describe() == "in band D, or in the top or bottom 20% of LAs nationally by rank"
    assert ExceptionRule(("C", "D"), 0).describe() == "in band C or D"


def _write(folder, text, code="ZL101", period=PERIOD):
    path = folder / "commentary" / period / f"{code}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_la_file_is_read_in_sections_one_per_indicator_rendered_as_text(tmp_path):
    note = commentary.read(_write(tmp_path, LA_FILE), tmp_path, IDS)
    sections = {ind: (html, paras) for ind, html, paras in note.sections}
    assert list(sections) == ["rereferrals_pct", "cla_rate"]
    html, paras = sections["rereferrals_pct"]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert '=HYPERLINK("http://evil.example","click")' in paras[0]
    assert sections["cla_rate"][1] == ("• Placements rose.",)
    assert note.paragraphs == ("An introduction.",), "the words above the first section"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("## cla_rat\nTypo.\n", "line 5: 'cla_rat' is not an indicator id"),
        ("## cla_rate\nOne.\n\n## cla_rate\nTwo.\n", "line 8: a second section for cla_rate"),
    ],
)
def test_a_section_naming_no_indicator_or_twice_is_refused_naming_the_line(tmp_path, body, message):
    path = _write(tmp_path, "---\nauthor: A\ndate: 2026-11-18\n---\n" + body)
    with pytest.raises(ConfigError, match=message) as err:
        commentary.read(path, tmp_path, IDS)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"bands": "D"}, "must be a list of A-D"),
        ({"bands": ["E"]}, "must be a list of A-D"),
        ({"percent": 60}, "from 0 to 50"),
        ({"percent": True}, "from 0 to 50"),
        ({"percentage": 20}, "is not understood"),
    ],
)
def test_a_bad_rule_in_dataset_yaml_is_refused(meta, message):
    with pytest.raises(ConfigError, match=message):
        commentary.exception_rule(meta, "dataset.yaml")


def test_the_rule_is_read_from_dataset_yaml():
    assert commentary.exception_rule(None, "x") == RULE
    rule = commentary.exception_rule({"bands": ["D", "C"], "percent": 10}, "x")
    assert rule == ExceptionRule(("C", "D"), 10)


def test_an_unknown_indicator_in_an_la_file_stops_the_run_with_exit_2(tiny, tmp_path, capfd):
    data = tiny.copy(tmp_path / "data")
    path = _write(data.data, "---\nauthor: A\ndate: 2026-11-18\n---\n## no_such_id\nWords.\n")
    r = cli(capfd, "report", *data.args, "--out", tmp_path / "out", "--no-progress")
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(path) in r.stderr and "line 5: 'no_such_id' is not an indicator id" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.e2e
def test_packs_list_exceptions_and_a_changed_la_commentary_rebuilds_only_its_pack(
    tiny_site, tiny, tmp_path, capfd
):
    pack = f"{PERIOD}/{TINY_REGION}/ZL101/self-assessment.html"
    before = (tiny_site / pack).read_text(encoding="utf-8")
    assert "Exceptions: the local authority" in before and NOT_RECEIVED in before
    index = (tiny_site / "index.html").read_text(encoding="utf-8")
    assert "Commentary on exceptions still owed" in index

    data = tiny.copy(tmp_path / "data")
    _write(data.data, LA_FILE)
    out = _copy(tiny_site, tmp_path)
    result = _report(capfd, data, out)
    assert result.returncode == 0, result.stderr
    assert f"  1 run, {JOBS - 1} unchanged since the last run" in result.stdout
    changed = _differ(tiny_site, out)
    assert pack in changed
    assert not [c for c in changed if c.endswith(("regional-benchmark.html", ".xlsx", ".pptx"))]
    html = (out / pack).read_text(encoding="utf-8")
    assert "Written by Head of performance, Testshire, 2026-11-18" in html
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["jobs"]
