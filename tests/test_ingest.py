"""What comes in: return files in every form LAs send them, and the reference data and catalogue.

A corpus of return files (valid forms that must be accepted, broken files that must be refused
with a clear message) is checked in ONE `tartan validate` run; each test looks up its file in the
run's validation.json and output. Reference files and the catalogue that break their contracts
stop the run with exit 2 and say which file, row and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main
from pipeline.edges.return_files import read_return
from pipeline.orchestration.settings import PROJECT
from tests.conftest import RETURN_COLUMNS

# Module-wide corpus and runs: its tests stay on one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("ingest-corpus")

LATEST = "2026-27-Q2"
COLUMNS = RETURN_COLUMNS
NUMERIC = {"time_period", "numerator", "denominator", "value"}


# --------------------------------------------------------------------------- building files


def demo_rows(demo: Path, la: str, period: str = LATEST) -> list[list[str]]:
    path = demo / "returns" / period / f"{la}_{period}.csv"
    with open(path, newline="", encoding="utf-8") as f:
        return [list(r) for r in csv.reader(f)]


def with_note(rows: list[list[str]], note: str) -> list[list[str]]:
    rows = [list(r) for r in rows]
    rows[1][COLUMNS.index("note")] = note
    return rows


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _cell(column: str, text: str) -> object:
    """A cell as Excel stores it: numbers as numbers, blanks as nothing."""
    if text == "":
        return None
    if column in NUMERIC:
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    return text


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    """A workbook like the LA template: a title, a blank row, the header on row 3."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Return"
    sheet.append(["Quarterly return to the regional benchmarking group"])
    sheet.append([])
    sheet.append(rows[0])
    for r in rows[1:]:
        sheet.append([_cell(c, t) for c, t in zip(COLUMNS, r, strict=True)])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


UTF8_NOTE = "Révisé après le contrôle qualité"
CP1252_NOTE = "Café £5k pilot – provisional"


@dataclass
class Sample:
    path: str  # in the corpus folder
    build: Callable[[Path], bytes]
    # Valid: the LA and period it is accepted for. Broken: the check, row, column and words.
    la: str = ""
    period: str = LATEST
    check: str = ""
    row: int = 0
    column: str = ""
    words: tuple[str, ...] = ()


VALID = {
    "UTF-8": Sample(
        f"ZL101_{LATEST}.csv",
        lambda d: csv_text(with_note(demo_rows(d, "ZL101"), UTF8_NOTE)).encode("utf-8"),
        la="ZL101",
    ),
    "UTF-8 with BOM": Sample(
        f"ZL102_{LATEST}.csv",
        lambda d: b"\xef\xbb\xbf" + csv_text(demo_rows(d, "ZL102")).encode("utf-8"),
        la="ZL102",
    ),
    "Windows-1252": Sample(
        f"ZL104_{LATEST}.csv",
        lambda d: csv_text(with_note(demo_rows(d, "ZL104"), CP1252_NOTE)).encode("cp1252"),
        la="ZL104",
    ),
    "semicolons": Sample(
        f"ZL105_{LATEST}.csv",
        lambda d: csv_text(demo_rows(d, "ZL105"), delimiter=";").encode("utf-8"),
        la="ZL105",
    ),
    "trailing empty columns": Sample(
        f"ZL106_{LATEST}.csv",
        lambda d: csv_text([[*r, "", ""] for r in demo_rows(d, "ZL106")]).encode("utf-8"),
        la="ZL106",
    ),
    "xlsx, header on row 3": Sample(
        f"ZL107_{LATEST}.xlsx", lambda d: xlsx_bytes(demo_rows(d, "ZL107")), la="ZL107"
    ),
}


def _pasted_twice(d: Path) -> bytes:
    this_quarter, last_quarter = demo_rows(d, "ZL201"), demo_rows(d, "ZL201", "2026-27-Q1")
    return (csv_text(this_quarter) + csv_text(last_quarter)).encode()


def _xlsx_with_text_for_a_value(d: Path) -> bytes:
    rows = demo_rows(d, "ZL205")
    rows[14][COLUMNS.index("value")] = "n/a"  # the 14th indicator: Excel row 3 + 14
    return xlsx_bytes(rows)


def _unknown_la(d: Path) -> bytes:
    rows = demo_rows(d, "ZL301")
    for r in rows[1:]:
        r[0] = "ZZ999"
    return csv_text(rows).encode()


def _future_period(d: Path) -> bytes:
    rows = demo_rows(d, "ZL208")
    for r in rows[1:]:
        r[1:3] = ["202728", "Financial year Q1"]
    return csv_text(rows).encode()


def _decimal_commas(d: Path) -> bytes:
    rows = demo_rows(d, "ZL303")
    v = COLUMNS.index("value")
    rows[2][v] = f"{float(rows[2][v]):.1f}".replace(".", ",")  # as a French or German Excel does
    return csv_text(rows, delimiter=";").encode()


def _whole_file(words: str) -> dict:
    return {"check": "readable", "row": 0, "words": (words,)}


BROKEN = {
    "empty": Sample(
        f"ZL108_{LATEST}.csv",
        lambda d: b"",
        **_whole_file("the file is empty; expected a header row and one row per indicator"),
    ),
    "binary junk": Sample(
        f"ZL109_{LATEST}.csv",
        lambda d: random.Random(2026).randbytes(4096),
        **_whole_file(
            "the file holds binary data, not text; expected a CSV file saved as 'CSV UTF-8 "
            "(comma delimited)' or an Excel workbook (.xlsx)"
        ),
    ),
    "header only": Sample(
        f"ZL110_{LATEST}.csv",
        lambda d: csv_text(demo_rows(d, "ZL110")[:1]).encode(),
        check="has_rows",
        row=1,
        words=("the return has a header but no rows; expected one row per indicator",),
    ),
    "header repeated (two files pasted)": Sample(
        f"ZL201_{LATEST}.csv",
        _pasted_twice,
        check="single_header",
        row=26,
        words=(
            "the header row appears again here (were two files pasted together?); "
            "expected one header row at the top",
        ),
    ),
    "tabs": Sample(
        f"ZL202_{LATEST}.csv",
        lambda d: csv_text(demo_rows(d, "ZL202"), delimiter="\t").encode(),
        **_whole_file("the columns are separated by tabs; expected commas (,)"),
    ),
    "vertical bars": Sample(
        f"ZL204_{LATEST}.csv",
        lambda d: csv_text(demo_rows(d, "ZL204"), delimiter="|").encode(),
        **_whole_file("the columns are separated by vertical bars (|); expected commas (,)"),
    ),
    "xlsx with text for a value": Sample(
        f"ZL205_{LATEST}.xlsx",
        _xlsx_with_text_for_a_value,
        check="number_format",
        row=17,
        column="value",
        words=("value 'n/a' is not a number; expected a number of zero or more",),
    ),
    "workbook named .csv": Sample(
        f"ZL206_{LATEST}.csv",
        lambda d: xlsx_bytes(demo_rows(d, "ZL206")),
        **_whole_file(
            "this is an Excel workbook with a .csv name; save it as CSV, or name it .xlsx"
        ),
    ),
    "UTF-16": Sample(
        f"ZL207_{LATEST}.csv",
        lambda d: csv_text(demo_rows(d, "ZL207")).encode("utf-16"),
        **_whole_file(
            "the file is saved as UTF-16 ('Unicode text'); expected a CSV file saved as "
            "'CSV UTF-8 (comma delimited)'"
        ),
    ),
    "CSV named .xlsx": Sample(
        f"ZL302_{LATEST}.xlsx",
        lambda d: csv_text(demo_rows(d, "ZL302")).encode(),
        **_whole_file("not a readable Excel workbook (BadZipFile); expected an .xlsx file"),
    ),
    "decimal commas": Sample(
        f"ZL303_{LATEST}.csv",
        _decimal_commas,
        check="number_format",
        row=3,
        column="value",
        words=(
            "is not a number; expected a number of zero or more, of at most 15 digits either "
            "side of the point, without commas",
        ),
    ),
    "unknown LA code": Sample(
        f"ZZ999_{LATEST}.csv",
        _unknown_la,
        check="la_code_known",
        row=2,
        column="la_code",
        words=(
            "LA code 'ZZ999' is not in the reference list of local authorities; expected one "
            "of the codes in reference/local_authorities.csv",
        ),
    ),
    "future period": Sample(
        "ZL208_2027-28-Q1.csv",
        _future_period,
        check="period_in_window",
        row=2,
        column="time_period",
        words=(
            "period 2027-28 Q1 is outside the reporting window; expected a period from "
            "2024-25 Q3 to 2026-27 Q2",
        ),
    ),
}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` (hidden ones too), files with their SHA-256."""
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        )
        for p in sorted(folder.rglob("*"))
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small_dataset(demo_data, tmp_path_factory) -> Path:
    """The demo's reference data and reporting window, without returns."""
    folder = tmp_path_factory.mktemp("dataset")
    shutil.copytree(demo_data / "reference", folder / "reference")
    shutil.copy(demo_data / "dataset.yaml", folder / "dataset.yaml")
    return folder


@pytest.fixture(scope="module")
def corpus(demo_data, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("incoming")
    for sample in [*VALID.values(), *BROKEN.values()]:
        (folder / sample.path).write_bytes(sample.build(demo_data))
    return folder, snapshot(folder)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    validation: dict
    out: Path

    def outcome(self, sample: Sample) -> dict:
        return next(o for o in self.validation["returns"] if o["file"] == sample.path)

    def findings(self, sample: Sample) -> list[dict]:
        return [f for f in self.validation["findings"] if f["file"] == sample.path]


@pytest.fixture(scope="module", autouse=True)
def run_started(corpus, small_dataset, tmp_path_factory):
    """`tartan validate` over the whole corpus, as a user runs it; started first so that it runs
    beside the tests that do not need it (those that do come last)."""
    folder, _ = corpus
    logs = tmp_path_factory.mktemp("logs")
    out = tmp_path_factory.mktemp("out")
    args = [sys.executable, "-m", "pipeline", "validate", "--data", str(small_dataset)]
    args += ["--out", str(out), "."]  # from inside the folder: files named as the user sees them
    with open(logs / "stdout", "wb") as o, open(logs / "stderr", "wb") as e:
        proc = subprocess.Popen(args, stdout=o, stderr=e, cwd=folder)
    yield proc, logs, out
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def run(run_started) -> Run:
    proc, logs, out = run_started
    rc = proc.wait(timeout=600)
    path = out / "validation" / "validation.json"
    j = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Run(
        rc,
        (logs / "stdout").read_text(encoding="utf-8"),
        (logs / "stderr").read_text(encoding="utf-8"),
        j,
        out,
    )


# --------------------------------------------------------------------------- returns, read


@pytest.mark.parametrize("name", list(VALID))
def test_valid_form_reads_as_the_same_table(demo_data, corpus, name):
    folder, _ = corpus
    sample = VALID[name]
    sheet = read_return(folder / sample.path, COLUMNS)
    expected = demo_rows(demo_data, sample.la)
    assert sheet.header == COLUMNS
    assert sheet.header_line == (3 if sample.path.endswith(".xlsx") else 1)
    note = COLUMNS.index("note")
    assert [r[:note] for r in sheet.rows] == [r[:note] for r in expected[1:]]
    assert sheet.lines[0] == sheet.header_line + 1
    if name == "UTF-8":
        assert sheet.rows[0][note] == UTF8_NOTE
    if name == "Windows-1252":
        assert sheet.rows[0][note] == CP1252_NOTE


def test_valid_forms_alone_exit_0(corpus, small_dataset, tmp_path, capsys):
    folder, _ = corpus
    paths = [str(folder / s.path) for s in VALID.values()]
    rc = main(["validate", *paths, "--data", str(small_dataset), "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.out + out.err
    assert f"{len(VALID)} returns, {len(VALID)} accepted, 0 not accepted (0 errors" in out.out


# --------------------------------------------------------------------------- reference data


def _edit_csv(path: Path, edit: Callable[[list[list[str]]], None]) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [list(r) for r in csv.reader(f)]
    edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _duplicate_la(rows):
    rows.insert(6, list(rows[3]))  # row 7 repeats row 4


def _unknown_neighbour(rows):
    rows[7][2] = "ZL999"


def _population_with_comma(rows):
    rows[4][2] = f"{int(rows[4][2]):,}"  # quoted by the csv module


REFERENCE_BREAKS = {
    "duplicated la_code": (
        "local_authorities",
        _duplicate_la,
        ["row 4, column la_code: LA code 'ZL103' appears more than once", "row 7, column la_code"],
    ),
    "neighbour not in the LA list": (
        "statistical_neighbours",
        _unknown_neighbour,
        [
            "row 8, column neighbour_la_code: LA code 'ZL999' is not in local_authorities.csv; "
            "expected one of its codes"
        ],
    ),
    "population with a comma": (
        "population",
        _population_with_comma,
        [
            "row 5, column population_0_17: population '",
            "' is not a count; expected a whole number without commas",
        ],
    ),
}


def _validate(dataset: Path, out: Path, demo_data: Path, *extra: str) -> int:
    good = demo_data / "returns" / LATEST / f"ZL101_{LATEST}.csv"
    return main(["validate", str(good), "--data", str(dataset), "--out", str(out), *extra])


@pytest.mark.parametrize("kind", list(REFERENCE_BREAKS))
def test_reference_file_breaking_its_contract_stops_the_run(
    kind, small_dataset, demo_data, tmp_path, capsys
):
    name, edit, words = REFERENCE_BREAKS[kind]
    dataset = tmp_path / "dataset"
    shutil.copytree(small_dataset, dataset)
    path = dataset / "reference" / f"{name}.csv"
    _edit_csv(path, edit)
    rc = _validate(dataset, tmp_path / "out", demo_data)
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(
        f"tartan: error: {dataset / 'reference'}: the reference data breaks its contract "
        "tartan-reference 1.1.0:"
    )
    for w in words:
        if w.startswith("row"):
            w = f"  {path}, {w}"
        assert w in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists(), "no return is checked against broken reference data"


def test_population_with_an_unquoted_comma_stops_the_run(
    small_dataset, demo_data, tmp_path, capsys
):
    dataset = tmp_path / "dataset"
    shutil.copytree(small_dataset, dataset)
    path = dataset / "reference" / "population.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    la, year, pop = lines[3].split(",")
    lines[3] = f"{la},{year},{int(pop):,}"  # row 4 now has four cells
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc = _validate(dataset, tmp_path / "out", demo_data)
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(f"tartan: error: {path}: ")
    assert "line 4" in err


# --------------------------------------------------------------------------- the catalogue


def _bad_unit(text: str) -> tuple[str, str, list[str]]:
    at = text.index("  - id: rereferrals_pct")
    unit = text.index("unit: percentage", at)
    line = text[:at].count("\n") + 1
    return (
        text[:unit] + "unit: per cent" + text[unit + len("unit: percentage") :],
        "rereferrals_pct",
        [f"line {line}, column unit: unit 'per cent' is not known; expected percentage, "],
    )


def _duplicate_id(text: str) -> tuple[str, str, list[str]]:
    first = text[: text.index("  - id: rereferrals_pct")].count("\n") + 1
    at = text.index("  - id: referrals_nfa_pct")
    second = text[:at].count("\n") + 1
    text = text.replace("  - id: referrals_nfa_pct", "  - id: rereferrals_pct", 1)
    words = "column id: id 'rereferrals_pct' appears more than once; expected each indicator once"
    return text, "rereferrals_pct", [f"line {first}, {words}", f"line {second}, {words}"]


@pytest.mark.parametrize("edit", [_bad_unit, _duplicate_id], ids=["bad unit", "duplicate id"])
def test_catalogue_breaking_its_contract_stops_the_run(
    edit, small_dataset, demo_data, tmp_path, capsys
):
    contracts = tmp_path / "contracts"
    shutil.copytree(PROJECT / "data_contracts", contracts)
    path = contracts / "indicators.yaml"
    text, _, words = edit(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    rc = _validate(small_dataset, tmp_path / "out", demo_data, "--contracts", str(contracts))
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(
        f"tartan: error: {path}: the indicator catalogue breaks its contract "
        "tartan-indicator-catalogue 1.0.0:"
    )
    for w in words:
        assert f"  {path}, {w}" in err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------- returns, by the command line (started at the top)


def test_run_over_the_corpus_exits_1_without_a_traceback(run):
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    n = len(VALID) + len(BROKEN)
    assert f"Validation: {n} returns, {len(VALID)} accepted, {len(BROKEN)} not accepted" in (
        run.stdout
    )


@pytest.mark.parametrize("name", list(VALID))
def test_valid_form_is_accepted(run, name):
    sample = VALID[name]
    outcome = run.outcome(sample)
    assert outcome["status"] == "accepted", run.findings(sample)
    assert (outcome["la_code"], outcome["period"], outcome["rows"]) == (sample.la, LATEST, 24)
    assert [f for f in run.findings(sample) if f["severity"] == "error"] == []
    feedback = (run.out / "validation" / "feedback" / f"{sample.la}.html").read_text("utf-8")
    assert "Accepted." in feedback and "Not accepted" not in feedback


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_file_is_refused_with_a_clear_message(run, name):
    sample = BROKEN[name]
    assert run.outcome(sample)["status"] == "quarantined"
    hits = [f for f in run.findings(sample) if f["check_id"] == sample.check]
    assert hits, run.findings(sample)
    hit = next((h for h in hits if h["row"] == sample.row), None)
    assert hit, f"{sample.check} at rows {[h['row'] for h in hits]}, expected {sample.row}"
    assert (hit["severity"], hit["column"]) == ("error", sample.column)
    for words in sample.words:
        assert words in hit["message"]
    # The command line says so too: the file, then where and what.
    said = [line for line in cli_block(run.stdout, sample.path) if sample.words[0] in line]
    assert said, run.stdout
    where = "whole file" if sample.row == 0 else rf"rows? {sample.row}\b"
    column = f", column {sample.column}" if sample.column else ""
    assert re.match(rf"    {where}[^:]*{column}: ", said[0]), said[0]


def cli_block(stdout: str, file: str) -> list[str]:
    """The lines the command line prints under `not accepted: <file>`."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  not accepted: {file} ("))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    return block


def test_xlsx_findings_point_at_excel_rows(run):
    """The header is on row 3 of the workbook, so its 14th indicator is on row 17."""
    sample = BROKEN["xlsx with text for a value"]
    assert [f["row"] for f in run.findings(sample)] == [17]
    assert cli_block(run.stdout, sample.path)[0].startswith(
        "    row 17, column value: value 'n/a' is not a number"
    )


def test_input_files_are_untouched_and_none_added_or_removed(corpus, run):
    folder, before = corpus
    assert run.returncode == 1  # the run has happened
    assert snapshot(folder) == before
    assert [o["sha256"] for o in run.validation["returns"]] == [
        before[o["file"]] for o in run.validation["returns"]
    ]


def test_outputs_are_self_contained(run):
    for path in (run.out / "validation").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "<script" not in text.lower(), path
            assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", text), path
