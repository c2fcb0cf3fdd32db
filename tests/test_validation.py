"""Validation of LA returns: each contract rule passes good rows and names the bad ones."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

from pipeline.edges import contracts as ct
from pipeline.edges import demo
from pipeline.edges import reference as ref_io
from pipeline.orchestration.validation import QUARANTINED, validate_returns
from tests.conftest import ROOT

HEADER = (
    "la_code,time_period,time_identifier,indicator_id,numerator,denominator,value,status,note\n"
)
GOOD = [
    "ZL101,202627,Financial year Q2,rereferrals_pct,476,1870,25.5,,",
    "ZL101,202627,Financial year Q2,cla_rate,400,60000,66.7,,",
    "ZL101,202627,Financial year Q2,cpp_2_years_pct,,180,,c,small numbers",
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    data = tmp_path_factory.mktemp("ref")
    demo.write(data)
    catalogue = ct.load_catalogue(ROOT / "data_contracts" / "indicators.yaml")
    contract = ct.load_contract(ROOT / "data_contracts" / "la_return.yaml")
    return catalogue, contract, ref_io.load(data)


def _check(setup, tmp_path, lines, name="ZL101_2026-27-Q2.csv", header=HEADER):
    path = tmp_path / name
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    v = validate_returns([path], *setup, root=tmp_path)
    return v, v.findings


def test_good_return_is_accepted(setup, tmp_path):
    v, findings = _check(setup, tmp_path, GOOD)
    assert findings.empty
    assert [o.status for o in v.outcomes] == ["accepted"]
    assert len(v.accepted_rows) == 3


@pytest.mark.parametrize(
    ("bad_line", "check", "column", "words"),
    [
        (
            "ZZ999,202627,Financial year Q2,cla_rate,400,60000,66.7,,",
            "la_code_known",
            "la_code",
            "'ZZ999' is not in the reference list",
        ),
        (
            "ZL101,2026-27,Financial year Q2,cla_rate,400,60000,66.7,,",
            "time_period_format",
            "time_period",
            "expected six digits",
        ),
        (
            "ZL101,202627,Quarter 2,cla_rate,400,60000,66.7,,",
            "time_identifier_known",
            "time_identifier",
            "'Quarter 2' is not recognised",
        ),
        (
            "ZL101,202627,Financial year Q2,cla_rates,400,60000,66.7,,",
            "indicator_known",
            "indicator_id",
            "'cla_rates' is not in the indicator catalogue",
        ),
        (
            "ZL101,202627,Financial year Q2,cla_rate,four hundred,60000,66.7,,",
            "number_format",
            "numerator",
            "'four hundred' is not a number",
        ),
        (
            "ZL101,202627,Financial year Q2,cla_rate,400,60000,66.7,?,",
            "status_known",
            "status",
            "status '?' is not recognised",
        ),
        (
            "ZL101,202627,Financial year Q2,sw_vacancy_pct,30,20,150.0,,",
            "value_in_range",
            "value",
            "value 150.0 is outside the valid range for this indicator; expected 0 to 100",
        ),
        (
            "ZL101,202627,Financial year Q2,sw_vacancy_pct,30,20,150.0,,",
            "numerator_within_denominator",
            "numerator",
            "numerator 30 is larger than the denominator",
        ),
        (
            "ZL101,202627,Financial year Q2,sw_caseload,,,,,",
            "value_or_status",
            "value",
            "value is blank but status is blank too",
        ),
        (
            "ZL101,202627,Financial year Q2,cla_rate,401,60000,66.8,,",
            "no_duplicates",
            "indicator_id",
            "'cla_rate' appears more than once",
        ),
    ],
)
def test_each_rule_names_line_column_value_and_expectation(
    setup, tmp_path, bad_line, check, column, words
):
    v, findings = _check(setup, tmp_path, [*GOOD, bad_line])
    hit = findings[findings["check_id"] == check]
    assert len(hit) >= 1, findings
    row = hit.iloc[-1]
    assert row["source_file"] == "ZL101_2026-27-Q2.csv"
    assert row["source_line"] == 5  # header is line 1, the bad row is the 4th data row
    assert row["column"] == column
    assert words in row["message"]
    assert v.outcomes[0].status == QUARANTINED
    assert v.accepted_rows.empty, "nothing from a rejected return is used"


def test_all_failures_are_collected_not_first_only(setup, tmp_path):
    lines = [
        "ZZ999,202627,Financial year Q2,cla_rate,400,60000,66.7,,",
        "ZL101,202627,Financial year Q2,not_an_indicator,1,2,50.0,,",
        "ZL101,202627,Financial year Q2,sw_agency_pct,5,10,500.0,,",
    ]
    _, findings = _check(setup, tmp_path, lines)
    assert {"la_code_known", "indicator_known", "value_in_range"} <= set(findings["check_id"])
    assert sorted(findings["source_line"].unique()) == [2, 3, 4]


def test_missing_columns_reported_against_the_header(setup, tmp_path):
    header = "la_code,time_period,indicator_id,value\n"
    v, findings = _check(setup, tmp_path, ["ZL101,202627,cla_rate,66.7"], header=header)
    assert list(findings["check_id"]) == ["required_columns"]
    msg = findings["message"].iloc[0]
    assert "time_identifier" in msg and "status" in msg
    assert findings["source_line"].iloc[0] == 1
    assert v.outcomes[0].status == QUARANTINED


def test_empty_and_binary_files_are_rejected_with_a_reason(setup, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 4)
    v = validate_returns([tmp_path], *setup, root=tmp_path)
    assert [o.status for o in v.outcomes] == [QUARANTINED, QUARANTINED]
    messages = " | ".join(v.findings["message"])
    assert "empty" in messages
    assert len(v.findings) == 2


def test_demo_validation_rejects_only_the_faulty_return_and_leaves_files_untouched(setup, tmp_path):
    src = tmp_path / "data"
    demo.write(src)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.rglob("*") if p.is_file()}
    v = validate_returns([src / "returns"], *setup, root=src)
    rejected = [o for o in v.outcomes if o.status == QUARANTINED]
    assert [o.la_code for o in rejected] == [demo.FAULTY_LA]
    assert rejected[0].period == "2026-27-Q2"
    checks = set(v.findings["check_id"])
    assert {
        "numerator_within_denominator",
        "value_in_range",
        "indicator_known",
        "no_duplicates",
    } <= checks
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.rglob("*") if p.is_file()}
    assert before == after, "validation never modifies, moves or deletes an incoming file"
    assert len(v.outcomes) == 240


def test_semicolon_and_bom_and_trailing_empty_columns(setup, tmp_path):
    text = HEADER.rstrip("\n") + ",,\n" + "\n".join(line + ",," for line in GOOD) + "\n"
    path = tmp_path / "ZL101_2026-27-Q2.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace(",", ";").encode("utf-8"))
    v = validate_returns([path], *setup, root=tmp_path)
    assert v.findings.empty, v.findings
    assert len(v.accepted_rows) == 3


def test_contract_that_cannot_be_read_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: [unclosed", encoding="utf-8")
    with pytest.raises(ct.ConfigError, match="not valid YAML"):
        ct.load_contract(bad)
    shutil.copy(ROOT / "data_contracts" / "la_return.yaml", tmp_path / "ok.yaml")
    assert ct.load_contract(tmp_path / "ok.yaml").version == "1.0.0"


def test_findings_frame_shape(setup, tmp_path):
    _, findings = _check(
        setup, tmp_path, ["ZZ999,202627,Financial year Q2,cla_rate,400,60000,66.7,,"]
    )
    assert list(findings.columns) == ct.FINDING_COLUMNS
    assert isinstance(findings, pd.DataFrame)
