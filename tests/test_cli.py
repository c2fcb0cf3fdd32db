"""The command line: help everywhere, clear errors, exit codes 0 / 1 data problems / 2 usage.

Run in this process (`pipeline.cli.main`, its output read from the file descriptors), but for the
top-level help, which shows that `python -m pipeline` starts in a fresh interpreter.
"""

from __future__ import annotations

import pytest

from pipeline.orchestration.settings import COMMANDS as DECLARED
from tests.conftest import cli
from tests.conftest import tartan as fresh

COMMANDS = list(DECLARED)  # every command, as declared with its options


@pytest.fixture
def tartan(capfd):
    """`tartan ARGS` in this process: the return code and output, as a subprocess gives them."""
    return lambda *args: cli(capfd, *args)


def test_top_level_help_lists_commands():
    r = fresh("--help", timeout=600)
    assert r.returncode == 0
    for c in COMMANDS:
        assert c in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(tartan, command):
    r = tartan(command, "--help")
    assert r.returncode == 0
    assert "usage: tartan" in r.stdout


def test_unknown_option_is_a_usage_error(tartan):
    r = tartan("report", "--no-such-option")
    assert r.returncode == 2
    assert "unrecognized arguments" in r.stderr


def test_missing_data_folder_is_a_usage_error(tartan, tmp_path):
    r = tartan("report", "--data", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert r.returncode == 2
    assert "no such data folder" in r.stderr
    assert "Traceback" not in r.stderr


def test_validate_reports_the_faulty_demo_return_and_exits_1(tartan, demo_data, tmp_path):
    r = tartan("validate", "--data", demo_data, "--out", tmp_path)
    assert r.returncode == 1, r.stderr
    assert "ZL203_2026-27-Q2.csv" in r.stdout
    assert "row 15, column indicator_id" in r.stdout
    assert (tmp_path / "validation" / "validation.json").exists()
    assert "Traceback" not in r.stderr


def test_unknown_region_and_period_are_refused_before_any_report(tartan, tiny, tmp_path):
    out = tmp_path / "out"
    r = tartan("report", *tiny.args, "--out", out, "--region", "ZR9")
    assert r.returncode == 2
    assert "region ZR9 is not in the reference data" in r.stderr
    r = tartan("report", *tiny.args, "--out", out, "--period", "2030-31-Q1")
    assert r.returncode == 2
    assert "period '2030-31-Q1' has no returns" in r.stderr
    assert not list(out.glob("*/*/regional-benchmark.html"))


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--region", "../../etc"],
        ["report", "--period", "../../etc"],
        ["report", "--region", "ZR1/.."],
        ["template", "--la", "../../etc/ZL101", "--period", "2026-27-Q2"],
        ["template", "--la", "ZL101", "--period", "../2026-27-Q2"],
    ],
)
def test_a_path_in_place_of_a_code_or_period_is_refused_and_nothing_written(
    tartan, demo_data, tmp_path, args
):
    out = tmp_path / "out"
    where = ["--out", out / "t.xlsx"] if args[0] == "template" else ["--out", out]
    r = tartan(*args, "--data", demo_data, *where)
    assert r.returncode == 2, r.stderr
    assert "is not a code: expected letters and digits only" in r.stderr or (
        "is not a period: expected a financial quarter like 2026-27-Q2" in r.stderr
    )
    assert "Traceback" not in r.stderr
    assert not out.exists(), "nothing written"


def test_the_template_is_the_same_bytes_whenever_it_is_made(
    demo_data, tmp_path, monkeypatch, capfd
):
    """Same inputs, same bytes: a template made a day later is the same file, dated before any
    quarter (so a template sent back unsaved has no receipt date of its own)."""
    import datetime
    import time

    import openpyxl

    args = ("template", "--data", demo_data, "--la", "ZL105", "--period", "2026-27-Q2", "--out")
    assert cli(capfd, *args, tmp_path / "today.xlsx").returncode == 0
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 86_400)
    assert cli(capfd, *args, tmp_path / "tomorrow.xlsx").returncode == 0
    today = (tmp_path / "today.xlsx").read_bytes()
    assert today == (tmp_path / "tomorrow.xlsx").read_bytes()
    props = openpyxl.load_workbook(tmp_path / "today.xlsx").properties
    assert props.created == props.modified == datetime.datetime(2000, 1, 1)


def test_template_filled_in_by_an_la_is_accepted_in_place_of_its_csv(tartan, demo_data, tmp_path):
    """The XLSX template: header below a title block, one row per indicator, pre-filled keys.

    Filled in with the LA's figures and checked beside the dataset, it replaces the LA's CSV for
    that period (a resubmission) and is accepted.
    """
    import csv

    import openpyxl

    xlsx = tmp_path / "ZL105_2026-27-Q2.xlsx"
    r = tartan(
        "template", "--data", demo_data, "--la", "ZL105", "--period", "2026-27-Q2", "--out", xlsx
    )
    assert r.returncode == 0, r.stderr
    book = openpyxl.load_workbook(xlsx)
    ws = book["Return"]
    header_row = next(
        i for i, row in enumerate(ws.iter_rows(values_only=True), 1) if "la_code" in row
    )
    assert header_row > 1, "the template has a title block above the header"
    header = [c.value for c in ws[header_row]]
    sent = {
        row["indicator_id"]: row
        for row in csv.DictReader(
            (demo_data / "returns/2026-27-Q2/ZL105_2026-27-Q2.csv").open(encoding="utf-8")
        )
    }
    body = list(ws.iter_rows(min_row=header_row + 1))
    assert len(body) == len(sent) and {r[0].value for r in body} == {"ZL105"}
    for cells in body:
        ind = cells[header.index("indicator_id")].value
        for col in ("numerator", "denominator", "value", "status"):
            text = sent[ind][col]
            cells[header.index(col)].value = float(text) if col != "status" and text else text
    book.save(xlsx)

    out = tmp_path / "out"
    r = tartan("validate", xlsx, "--data", demo_data, "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 return, 1 accepted, 0 not accepted" in r.stdout

    r = tartan("template", "--data", demo_data, "--la", "ZZ999", "--period", "2026-27-Q2")
    assert r.returncode == 2 and "'ZZ999' is not in the reference data" in r.stderr
    r = tartan("template", "--data", demo_data, "--la", "ZL105", "--period", "2031-32-Q1")
    assert r.returncode == 2 and "outside the reporting window" in r.stderr
