"""Fuzzing (issue 8): arbitrary bytes and values give a clear error or a correct result, never a
traceback or a partial output.

Property-based tests (hypothesis) on the three places untrusted input meets the code:

- ingest (``pipeline.edges.return_files.read_return``): arbitrary bytes as ``.csv`` and
  ``.xlsx``, and damaged copies of a real demo return, are read into a table or refused with a
  ``DataError`` naming the file; the file is never changed; every supported form of a return
  reads back as the same table;
- validation (``validate_returns``, the function ``tartan validate`` runs, and the command itself
  in-process): a demo return with arbitrary cells and columns is accepted or quarantined, every
  finding says where, a cell that is plainly wrong is named by its row and column, an accepted
  return holds only usable figures, and the validation outputs are complete;
- the core (bands, ranks, quartiles, ratio-of-sums aggregation, periods, the catalogue's compute
  and format): the documented conventions hold for arbitrary values.

Every test is derandomised (the ``fuzz`` profile below) so that CI sees the same examples on
every run. One dataset folder is built per module; each validation example overwrites only the
one incoming return and restores it afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.core.benchmark import aggregate, bands, quartiles, ranks
from pipeline.core.catalogue import POLARITIES, Catalogue
from pipeline.core.errors import DataError
from pipeline.core.periods import Period, from_ees, parse_slug
from pipeline.core.vocabulary import BANDS, OK
from pipeline.edges.files import TEMPORARY
from pipeline.edges.return_files import Sheet, read_return
from pipeline.orchestration.settings import Settings
from pipeline.orchestration.validation import (
    ACCEPTED,
    QUARANTINED,
    canonical_figures,
    validate_returns,
)
from tests.catalogues import catalogue
from tests.conftest import RETURN_COLUMNS
from tests.internals import load_inputs

settings.register_profile(
    "fuzz",
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,  # nothing written to .hypothesis/; derandomised runs need no replay store
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FUZZ = settings.get_profile("fuzz")  # used as a parent below; never loaded globally


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


LA = "ZL102"
LATEST = "2026-27-Q2"
PREVIOUS = "2026-27-Q1"
NUMBER_COLUMNS = ("numerator", "denominator", "value")
STATUSES = ("c", "x", "z", "low", "k", "u")
ASCII_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
#: checks about the file as a whole: the only findings with no row (row 0, "whole file")
WHOLE_FILE_CHECKS = {"readable", "complete"}
#: checks about the file or its header whose findings name no column: the file could not be read
#: or has no rows, or the finding is about the header, naming the columns in its value
NO_COLUMN_CHECKS = {"readable", "has_rows", "single_header"}
HEADER_CHECKS = {"required_columns", "unique_columns", "known_columns"}


def demo_return(demo_data: Path, period: str = LATEST) -> Path:
    return demo_data / "returns" / period / f"{LA}_{period}.csv"


def rows_of(raw: bytes) -> list[list[str]]:
    return [list(r) for r in csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))]


def csv_bytes(
    rows: list[list[str]], delimiter: str = ",", newline: str = "\n", encoding: str = "utf-8"
) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode(encoding)


def csv_lines(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> list[int]:
    """The line (as a text editor numbers them) each row starts on once written as CSV."""
    lines, at = [], 1
    for row in rows:
        lines.append(at)
        text = csv_bytes([row], delimiter, newline).decode("utf-8")
        at += len(io.StringIO(text, newline="").readlines())
    return lines


def physical_lines(raw: bytes) -> int:
    """An upper bound on the lines of a text file, however it is decoded."""
    return raw.count(b"\n") + raw.count(b"\r") + 1


def unchanged(path: Path):
    """Context manager asserting that `path` has the same bytes and mtime afterwards."""

    @contextlib.contextmanager
    def check():
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        yield
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before, f"{path} was changed"

    return check()


# =========================================================================== ingest


def read_checked(path: Path) -> Sheet | None:
    """read_return on `path`: a well-formed Sheet, or None after a DataError naming the file.

    Any other exception propagates (and fails the test); the file must be untouched either way.
    """
    raw = path.read_bytes()
    with unchanged(path):
        try:
            sheet = read_return(path, RETURN_COLUMNS)
        except DataError as exc:
            message = str(exc)
            assert message.startswith(f"{path}: "), message
            reason = message[len(f"{path}: ") :]
            assert len(reason) > 10, message  # says what is wrong, not just "error"
            assert "Traceback" not in message and "\n" not in message, message
            return None
    assert_well_formed(sheet, path, raw)
    return sheet


def assert_well_formed(sheet: Sheet, path: Path, raw: bytes) -> None:
    """What every reader of a Sheet relies on: a real header, rectangular rows, real lines."""
    assert sheet.path == path
    assert sheet.header, "no header"
    assert all(isinstance(c, str) and c == c.strip() and c == c.lower() for c in sheet.header)
    assert len(set(sheet.header) & set(RETURN_COLUMNS)) >= 3, sheet.header
    assert sheet.header_line >= 1
    assert len(sheet.rows) == len(sheet.lines) == len(sheet.extra)
    for row in sheet.rows:
        assert len(row) == len(sheet.header), (row, sheet.header)
        assert all(isinstance(c, str) and c == c.strip() for c in row), row
        assert any(row), "a blank row was kept"
    assert all(b > a for a, b in zip([sheet.header_line, *sheet.lines], sheet.lines, strict=False))
    assert not set(sheet.repeated_header) & set(sheet.lines)
    if path.suffix == ".csv":
        assert all(line <= physical_lines(raw) for line in [*sheet.lines, sheet.header_line])


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-ingest")


@pytest.fixture(scope="module")
def demo_bytes(demo_data) -> bytes:
    return demo_return(demo_data).read_bytes()


@pytest.fixture(scope="module")
def demo_workbook(demo_bytes) -> bytes:
    """The demo return as an LA's workbook: a title block above the header, numbers as numbers."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Return"
    ws.append([f"Quarterly return: {LA}"])
    ws.append([])
    for i, row in enumerate(rows_of(demo_bytes)):
        ws.append([float(c) if i and re.fullmatch(r"[0-9.]+", c) else c or None for c in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- arbitrary bytes


@fuzz(150)
@given(raw=st.binary(max_size=3000))
@example(raw=b"")
@example(raw=b"\xef\xbb\xbf")
@example(raw=b"la_code,time_period,indicator_id\n")
@example(raw=b'la_code,time_period,indicator_id\n"unclosed,1,2\n')
@example(raw=b"la_code,time_period,indicator_id\nZL102,\x00,x\n")
@example(raw=b"PK\x03\x04 not really a workbook")
def test_arbitrary_bytes_as_csv_are_read_or_refused_naming_the_file(work, raw):
    path = work / "arbitrary.csv"
    path.write_bytes(raw)
    sheet = read_checked(path)
    if not raw.strip():
        assert sheet is None  # an empty file is refused, never read as an empty return


@fuzz(60)
@given(raw=st.binary(max_size=3000), zipped=st.booleans())
@example(raw=b"", zipped=False)
@example(raw=b"", zipped=True)  # parts that are not XML: was an uncaught ParseError
@example(raw=b"PK\x03\x04", zipped=False)
@example(raw=b"la_code,time_period,indicator_id\nZL102,202627,cla_rate\n", zipped=False)
def test_arbitrary_bytes_as_xlsx_are_read_or_refused_naming_the_file(work, raw, zipped):
    """Bytes named .xlsx, or a zip of arbitrary members named like a workbook's, are refused."""
    if zipped:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("[Content_Types].xml", raw)
            z.writestr("xl/workbook.xml", raw[::-1])
        raw = buf.getvalue()
    path = work / "arbitrary.xlsx"
    path.write_bytes(raw)
    assert read_checked(path) is None


# --------------------------------------------------------------------------- a damaged return

#: fragments an LA's file really contains, or that break naive readers
FRAGMENTS = [
    b"\xef\xbb\xbf",  # UTF-8 BOM
    b"\xff\xfe",  # UTF-16 BOM
    b"\xfe\xff",
    b"\x00",
    b'"',
    b'""',
    b";",
    b",",
    b"\t",
    b"|",
    b"\r",
    b"\n",
    b"\r\n",
    b"\x1a",  # DOS end-of-file
    b"\xe9",  # cp1252 e-acute
    b"\x81",  # undefined in cp1252, invalid in UTF-8
    b"\xc3",  # a truncated UTF-8 sequence
    b"\xa3100",  # cp1252 pound sign
    b"PK\x03\x04",
    b"la_code,time_period,time_identifier,indicator_id\n",  # a repeated header
    b"x" * 150_000,  # a very long line
    b'"' + b"y" * 140_000 + b'"',  # a field beyond csv's field size limit
    '=HYPERLINK("x"),<script>alert(1)</script>,1e308,NaN,-inf,\u2028'.encode(),
]


@st.composite
def damaged(draw, base: bytes) -> bytes:
    """`base` with one to four damages: bytes flipped, cut, inserted, re-encoded, re-delimited."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["flip", "cut", "truncate", "insert", "encode", "delimiter", "lines"])
        )
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 200))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            fragment = draw(st.one_of(st.sampled_from(FRAGMENTS), st.binary(min_size=1)))
            data[at:at] = fragment * draw(st.integers(1, 3))
        elif kind == "encode":
            text = bytes(data).decode("utf-8", "replace")
            encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1"]))
            data = bytearray(text.encode(encoding, "replace"))
        elif kind == "delimiter":
            new = draw(st.sampled_from([b";", b"\t", b"|", b", ", b""]))
            data = bytearray(bytes(data).replace(b",", new))
        else:
            new = draw(st.sampled_from([b"\r\n", b"\r", b"\n\n", b"\x85", b""]))
            data = bytearray(bytes(data).replace(b"\n", new))
    return bytes(data)


@fuzz(150)
@given(data=st.data())
def test_damaged_demo_return_is_read_or_refused_naming_the_file(work, demo_bytes, data):
    raw = data.draw(damaged(demo_bytes), label="file")
    path = work / f"{LA}_{LATEST}.csv"
    path.write_bytes(raw)
    read_checked(path)


@st.composite
def damaged_workbook(draw, base: bytes) -> bytes:
    """A workbook with its zip damaged, or rebuilt with one part damaged, missing or replaced."""
    if draw(st.booleans()):
        return draw(damaged(base))
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = draw(st.sampled_from(sorted(parts)))
    kind = draw(st.sampled_from(["damage", "drop", "replace"]))
    if kind == "drop":
        del parts[name]
    elif kind == "replace":
        parts[name] = draw(st.binary(max_size=500))
    else:
        parts[name] = draw(damaged(parts[name]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, content in parts.items():
            z.writestr(n, content)
    return buf.getvalue()


@fuzz(120)
@given(data=st.data())
def test_damaged_workbook_is_read_or_refused_naming_the_file(work, demo_workbook, data):
    raw = data.draw(damaged_workbook(demo_workbook), label="workbook")
    path = work / f"{LA}_{LATEST}.xlsx"
    path.write_bytes(raw)
    read_checked(path)


# --------------------------------------------------------------------------- supported forms

#: cell text an LA may type: any printable text (no control characters, which make a file
#: binary), including formulas, markup and number spellings
TYPED = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.sampled_from(
        [
            "",
            "  ",
            '=HYPERLINK("http://x")',
            "<script>alert(1)</script>",
            "1,234",
            "-5",
            "NaN",
            "inf",
            "1e308",
            "9" * 400,
            'say "hi"',
            "two\nlines",
            "tab\there",
            "caf\u00e9 \u00a3100 \u2013 \u2019",
        ]
    ),
)
CP1252_TYPED = TYPED.filter(lambda s: _encodes(s, "cp1252"))


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def table(draw, cells=TYPED) -> tuple[list[str], list[list[str]]]:
    """A header naming the return's columns (any case, spaces around) and up to 30 rows."""
    header = [draw(st.sampled_from([c, c.upper(), f" {c} ", c.title()])) for c in RETURN_COLUMNS]
    width = len(header)
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=30))
    # A row that repeats the header is a pasted second file, not data: not part of this property.
    rows = [r for r in rows if [c.strip().lower() for c in r] != RETURN_COLUMNS]
    return header, rows


def expected_table(rows: list[list[str]], lines: list[int]) -> tuple[list, list]:
    kept = [(r, n) for r, n in zip(rows, lines, strict=True) if any(c.strip() for c in r)]
    return [[c.strip() for c in r] for r, _ in kept], [n for _, n in kept]


@fuzz(120)
@given(
    data=st.data(),
    form=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    delimiter=st.sampled_from([",", ";"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    title=st.booleans(),
)
def test_csv_in_every_supported_form_reads_as_the_table_written(
    work, data, form, delimiter, newline, title
):
    header, rows = data.draw(table(CP1252_TYPED if form == "cp1252" else TYPED), label="table")
    top = [["Quarterly return"], [""]] if title else []
    raw = csv_bytes([*top, header, *rows], delimiter, newline, form)
    if form == "cp1252":
        # Windows-1252 bytes that also make valid UTF-8 are read as UTF-8, as documented.
        with contextlib.suppress(UnicodeDecodeError):
            raw.decode("utf-8")
            return
    if delimiter == ";":
        # A semicolon file with a comma-separated list of column names in a cell is ambiguous.
        comma_read = [r for r in csv.reader(io.StringIO(raw.decode(form)[:20_000], newline=""))]
        if any(len({c.strip().lower() for c in r} & set(RETURN_COLUMNS)) >= 3 for r in comma_read):
            return
    path = work / "form.csv"
    path.write_bytes(raw)
    sheet = read_checked(path)
    assert sheet is not None
    lines = csv_lines([*top, header, *rows], delimiter, newline)
    want_rows, want_lines = expected_table(rows, lines[len(top) + 1 :])
    assert sheet.header == RETURN_COLUMNS
    assert sheet.header_line == len(top) + 1
    assert sheet.rows == want_rows
    assert sheet.lines == want_lines
    assert sheet.extra == [""] * len(want_rows)


def workbook_bytes(
    header: list[str], rows: list[list[str]], title: bool = False, strings: bool = True
) -> bytes:
    """A workbook of text cells (an '=...' cell stays text), optionally under a title block."""
    book = openpyxl.Workbook()
    ws = book.active
    at = 1
    if title:
        ws.cell(1, 1, "Quarterly return")
        at = 3
    for i, row in enumerate([header, *rows]):
        for j, text in enumerate(row):
            if text == "":
                continue
            cell = ws.cell(at + i, j + 1)
            cell.value = text
            if strings:
                cell.data_type = "s"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


XLSX_TYPED = TYPED.map(lambda s: openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", s))


@fuzz(40)
@given(data=st.data(), title=st.booleans())
def test_workbook_reads_as_the_table_written(work, data, title):
    header, rows = data.draw(table(XLSX_TYPED), label="table")
    path = work / "form.xlsx"
    path.write_bytes(workbook_bytes(header, rows, title))
    sheet = read_checked(path)
    assert sheet is not None
    first = 4 if title else 2
    # A workbook's rows are numbered as Excel numbers them; blank rows are skipped.
    want_rows, want_lines = expected_table(rows, list(range(first, first + len(rows))))
    assert sheet.header == RETURN_COLUMNS
    assert sheet.header_line == first - 1
    assert sheet.rows == want_rows
    assert sheet.lines == want_lines


# =========================================================================== validation

#: the validation tests share one dataset folder: they stay on one pytest-xdist worker
VALIDATION = pytest.mark.xdist_group("fuzz-validation")
#: the longest of them apart, on a worker of its own when there are two: each group's worker
#: builds the module's `dataset` once
VALIDATION_RETURNS = pytest.mark.xdist_group("fuzz-validation-returns")
#: the LAs whose returns for LATEST the validation examples replace (one file each)
SLOT_LAS = ["ZL101", "ZL102", "ZL103", "ZL104", "ZL201", "ZL202"]


@dataclass(repr=False)  # hypothesis prints the fixtures of a failing example: keep it short
class Dataset:
    """reference/, dataset.yaml, returns/ (every LA's history, read as context) and incoming/."""

    data: Path
    out: Path
    originals: dict[tuple[str, str], bytes]  # (LA, period) -> the demo's return
    inputs: object  # contracts, catalogue and reference data, loaded once

    def path(self, f: Fuzzed) -> Path:
        suffix = ".xlsx" if f.form == "xlsx" else ".csv"
        name = (
            f"{f.la}_{f.period}"
            if f.named
            else f"return {f.la.lower()} {f.period[:7]}{f.period[8:]}"
        )
        return self.data / "incoming" / f"{name}{suffix}"


@pytest.fixture(scope="module")
def dataset(demo_data, tmp_path_factory) -> Dataset:
    root = tmp_path_factory.mktemp("fuzz-validation")
    data = root / "data"
    shutil.copytree(demo_data / "reference", data / "reference")
    shutil.copy(demo_data / "dataset.yaml", data / "dataset.yaml")
    # Every LA's earlier returns: the plausible-change check compares with them.
    shutil.copytree(demo_data / "returns", data / "returns")
    (data / "incoming").mkdir()
    inputs = load_inputs(Settings(data=data, out=root / "unused"))
    # The demo's returns that are accepted as they are (one is faulty on purpose).
    v = validate_returns(
        [data / "returns"], inputs.catalogue, inputs.contract, inputs.reference, root=data
    )
    originals = {
        (o.la_code, o.period): (data / o.file).read_bytes()
        for o in v.outcomes
        if o.status == ACCEPTED
    }
    assert (LA, LATEST) in originals and len(originals) > 200
    return Dataset(data, root / "out", originals, inputs)


#: what a fuzzed cell may hold: arbitrary text (control characters too), and the spellings
#: that break naive code
NASTY = [
    "",
    " ",
    '=HYPERLINK("x")',
    "=1+1",
    "<script>alert(1)</script>",
    "<b>",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e5",
    "1e308",
    "9" * 400,
    "0." + "0" * 400 + "1",
    "1" + "0" * 308,
    "-5",
    "-0",
    "1,234",
    "12%",
    " 12 ",
    "+5",
    ".5",
    "5.",
    "0x10",
    "1_000",
    "\u2212" + "3",  # minus sign
    "\u0661\u0669.\u0664",  # Arabic-Indic digits 19.4
    "\uff11\uff12",  # full-width 12
    "\u0662\u0660\u0662\u0666\u0662\u0667",  # Arabic-Indic 202627
    "\u00b2",  # superscript two
    "12\x00",
    "1\t2",
    "NULL",
    "N/A",
    "C",
    *STATUSES,
    "ZL101",
    "ZL999",
    "zl102",
    "202627",
    "202526",
    "000001",
    "099900",
    "202628",
    "Financial year Q1",
    "Financial year Q5",
    "financial year q2",
    "Reporting year",
    "2026-27-Q2",
    "cla_rate",
    "not_an_indicator",
    "la_code",
]
CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(NASTY),
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(str),
)
MUTATED_COLUMN = st.sampled_from(RETURN_COLUMNS)
STRUCTURES = ["drop column", "extra column", "rename column", "duplicate row", "drop row"]
STRUCTURES += ["swap columns", "blank row", "short row", "long row", "whole column"]


@dataclass
class Fuzzed:
    la: str  # the return is for this LA and period (its file name says so)
    period: str
    rows: list[list[str]]  # as written, header first
    changed: list[tuple[int, str]]  # (index into rows, column) of every cell that differs
    structure: str  # "none", or how the columns or rows were changed
    form: str  # "csv", "csv;" or "xlsx"
    named: bool = True  # named <la>_<period>; else freely, so its rows say what it is for

    @property
    def header(self) -> list[str]:
        return self.rows[0]


def fuzzed(
    la: str, period: str, original: list[list[str]], cells: dict, structure="none", form="csv"
):
    """`original` with cells {(row index, column): text} replaced."""
    rows = [list(r) for r in original]
    for (i, column), text in cells.items():
        rows[i][RETURN_COLUMNS.index(column)] = text
    changed = [
        (i, c)
        for i in range(1, len(rows))
        for j, c in enumerate(RETURN_COLUMNS)
        if rows[i][j] != original[i][j]
    ]
    return Fuzzed(la, period, rows, changed, structure, form)


@st.composite
def fuzzed_return(draw, la: str, period: str, original: list[list[str]]) -> Fuzzed:
    """One LA's demo return with up to four cells replaced, then perhaps its columns or rows
    changed, written as CSV (comma or semicolon) or as a workbook."""
    n = len(original)
    cells = draw(
        st.dictionaries(st.tuples(st.integers(1, n - 1), MUTATED_COLUMN), CELL, max_size=4)
    )
    f = fuzzed(la, period, original, cells)
    f.structure = draw(st.sampled_from(["none"] * 6 + STRUCTURES))
    rows = f.rows
    j = draw(st.integers(0, len(RETURN_COLUMNS) - 1))
    i = draw(st.integers(1, n - 1))
    if f.structure == "drop column":
        rows[:] = [r[:j] + r[j + 1 :] for r in rows]
    elif f.structure == "extra column":
        name = draw(CELL)
        rows[:] = [[*r, name if k == 0 else draw(CELL)] for k, r in enumerate(rows)]
    elif f.structure == "rename column":
        rows[0][j] = draw(CELL)
    elif f.structure == "duplicate row":
        rows.insert(i, list(rows[i]))
    elif f.structure == "drop row":
        del rows[i]
    elif f.structure == "swap columns":  # the same table, two columns in the other order
        k = (j + 1) % len(RETURN_COLUMNS)
        for r in rows:
            r[j], r[k] = r[k], r[j]
    elif f.structure == "blank row":
        rows.insert(i, [""] * len(RETURN_COLUMNS))
    elif f.structure == "short row":
        rows[i] = rows[i][: j + 1]
    elif f.structure == "long row":
        rows[i] = [*rows[i], draw(CELL)]
    elif f.structure == "whole column":  # e.g. every row for another LA or period
        text = draw(CELL)
        for r in rows[1:]:
            r[j] = text
    f.named = draw(st.booleans())
    f.form = draw(st.sampled_from(["csv"] * 4 + ["csv;", "xlsx"]))
    if f.form == "xlsx":  # characters a workbook cannot hold at all
        rows[:] = [[openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", c) for c in r] for r in rows]
    return f


def write_fuzzed(f: Fuzzed) -> tuple[bytes, list[int]]:
    """The return's bytes and the line (row) each of its rows starts on."""
    if f.form == "xlsx":
        return workbook_bytes(f.header, f.rows[1:]), list(range(1, len(f.rows) + 1))
    delimiter = ";" if f.form == "csv;" else ","
    return csv_bytes(f.rows, delimiter), csv_lines(f.rows, delimiter)


def plainly_wrong(f: Fuzzed, lines: list[int], catalogue: Catalogue) -> set[tuple[int, str]]:
    """(row, column) of every changed cell that no reading of the contract can accept."""
    if f.structure not in ("none", "swap columns"):
        return set()  # rows or columns moved: the cells' places are not simple to predict
    wrong = set()
    for i, column in f.changed:
        s = f.rows[i][f.header.index(column)].strip()
        if column in NUMBER_COLUMNS:
            bad = s != "" and not ASCII_NUMBER.fullmatch(s)
        elif column == "la_code":
            bad = s != f.la
        elif column == "time_period":
            bad = s != str(parse_slug(f.period).time_period)
        elif column == "indicator_id":
            bad = s not in catalogue
        elif column == "status":
            bad = s not in ("", *STATUSES)
        else:  # time_identifier: wrong, but its finding may point at time_period; note: free
            bad = False
        if bad:
            wrong.add((lines[i], column))
    return wrong


@dataclass
class Sent:
    """One return as sent: what was fuzzed, its file, and the line each of its rows starts on."""

    fuzzed: Fuzzed
    path: Path
    raw: bytes
    lines: list[int]
    shown: str = ""  # its name in the findings


def send(dataset: Dataset, returns: list[Fuzzed]) -> list[Sent]:
    sent = []
    for f in returns:
        raw, lines = write_fuzzed(f)
        path = dataset.path(f)
        path.write_bytes(raw)
        sent.append(Sent(f, path, raw, lines, path.relative_to(dataset.data).as_posix()))
    return sent


def check_validation(v, sent: list[Sent], inputs) -> None:
    """What must hold of every return validated, whatever it holds; every failing return is
    reported, each with the cells that were changed and its findings."""
    assert sorted(o.file for o in v.outcomes) == sorted(s.shown for s in sent)
    outcome_of = {o.file: o for o in v.outcomes}
    failures = []
    for s in sent:
        findings = v.findings[v.findings["file"] == s.shown]
        try:
            check_return(s, outcome_of[s.shown], findings, v.accepted_rows, inputs)
        except AssertionError as exc:
            f = s.fuzzed
            cells = {
                (s.lines[i], c): f.rows[i][f.header.index(c)] if c in f.header else None
                for i, c in f.changed
                if i < len(s.lines)
            }
            shown = findings.drop(columns=["file"]).to_string()
            failures.append(
                f"{s.shown} ({f.form}, {f.structure}), changed {cells!r}: {exc}\n{shown}"
            )
    assert not failures, f"{len(failures)} returns:\n" + "\n\n".join(failures[:12])


def check_return(s: Sent, outcome, findings: pd.DataFrame, accepted: pd.DataFrame, inputs):
    f = s.fuzzed
    errors = findings[findings["severity"] == "error"]
    assert outcome.status in (ACCEPTED, QUARANTINED)
    assert (outcome.status == QUARANTINED) == (len(errors) > 0)
    assert outcome.errors == len(errors)
    assert_findings_say_where(findings, {r.id for r in inputs.contract.table.rules}, s.lines)

    wrong = plainly_wrong(f, s.lines, inputs.catalogue)
    if wrong:
        assert outcome.status == QUARANTINED, f"{wrong} accepted"
    if "readable" not in set(findings["check_id"]):
        found = set(zip(errors["row"], errors["column"], strict=True))
        assert wrong <= found, f"not named: {wrong - found}"
    if not f.changed and f.structure in ("none", "swap columns", "blank row"):
        assert outcome.status == ACCEPTED, "an untouched return was refused"
    if all(c == "note" for _, c in f.changed) and f.structure in ("none", "swap columns"):
        notes = [f.rows[i][f.header.index("note")] for i, _ in f.changed]
        if not any(re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", n) for n in notes):
            assert outcome.status == ACCEPTED, "free text in a note made the return fail"
    rows = accepted[accepted["file"] == s.shown]
    if outcome.status == ACCEPTED:
        assert_accepted_figures_are_usable(rows, f, outcome, inputs.catalogue)
    else:
        assert rows.empty


def assert_findings_say_where(findings: pd.DataFrame, rule_ids: set[str], lines: list[int]):
    for finding in findings.to_dict("records"):
        assert finding["check_id"] in rule_ids, finding
        assert finding["severity"] in ("error", "warning"), finding
        assert isinstance(finding["message"], str) and len(finding["message"]) > 10, finding
        row = finding["row"]
        assert isinstance(row, int | np.integer) and row >= 0, finding
        if row == 0:
            assert finding["check_id"] in WHOLE_FILE_CHECKS, finding
        else:
            assert row <= max(lines), finding
        if finding["check_id"] in HEADER_CHECKS:
            assert finding["value"] and finding["row"] >= 1, finding
        elif finding["check_id"] not in NO_COLUMN_CHECKS:
            assert finding["column"] in RETURN_COLUMNS, finding


def assert_accepted_figures_are_usable(rows: pd.DataFrame, f: Fuzzed, outcome, catalogue):
    """An accepted return: every catalogue indicator once, for its LA and period, each with a
    finite value in its valid range that matches its numerator and denominator, or a status."""
    assert sorted(rows["indicator_id"]) == sorted(catalogue.ids)
    assert set(rows["la_code"]) == {outcome.la_code}
    assert set(rows["period_slug"]) == {outcome.period}
    if f.named or f.structure != "whole column":
        assert (outcome.la_code, outcome.period) == (f.la, f.period)
    for r in rows.to_dict("records"):
        where = f"row {r['row']}: {r}"
        for c in NUMBER_COLUMNS:
            n = r[f"{c}_n"]
            assert (r[c] is None) == math.isnan(n), f"{c} cell and number disagree, {where}"
            assert not math.isinf(n), f"{c} is infinite, {where}"
        assert r["status"] in (None, *STATUSES), where
        if r["status"] is None:
            assert not math.isnan(r["value_n"]), f"no value and no status, {where}"
        ind = catalogue[r["indicator_id"]]
        value, num, den = r["value_n"], r["numerator_n"], r["denominator_n"]
        if not math.isnan(value):
            assert value >= ind.valid_min, where
            assert ind.valid_max is None or value <= ind.valid_max, where
            if not math.isnan(num) and not math.isnan(den) and den:
                assert abs(value - num / den * ind.scale) <= 0.5 * 10**-ind.decimals + 1e-9, where
    figures = canonical_figures(rows)
    assert np.isfinite(figures[["numerator", "denominator", "value"]].fillna(0)).all().all()


@contextlib.contextmanager
def validated(dataset: Dataset, returns: list[Fuzzed]):
    """The returns written to incoming/, validated as `tartan validate` does with the dataset's
    returns of the period before as history; every incoming file unchanged by it, and removed
    afterwards."""
    sent = send(dataset, returns)
    inputs = dataset.inputs
    earlier = sorted({parse_slug(f.period).previous().slug for f in returns})
    history = [dataset.data / "returns" / p for p in earlier]
    try:
        before = {s.path: (s.path.read_bytes(), s.path.stat().st_mtime_ns) for s in sent}
        v = validate_returns(
            [s.path for s in sent],
            inputs.catalogue,
            inputs.contract,
            inputs.reference,
            root=dataset.data,
            context=[p for p in history if p.is_dir()],
        )
        after = {s.path: (s.path.read_bytes(), s.path.stat().st_mtime_ns) for s in sent}
        assert after == before, "validation changed an incoming file"
        yield v, sent
    finally:
        for s in sent:
            s.path.unlink(missing_ok=True)


@st.composite
def fuzzed_returns(draw, dataset: Dataset) -> list[Fuzzed]:
    las = draw(st.lists(st.sampled_from(SLOT_LAS), min_size=1, max_size=4, unique=True))
    return [draw(fuzzed_return(la, LATEST, rows_of(dataset.originals[(la, LATEST)]))) for la in las]


@VALIDATION_RETURNS
@fuzz(30)
@given(data=st.data())
def test_fuzzed_returns_are_accepted_or_quarantined_and_every_finding_says_where(dataset, data):
    returns = data.draw(fuzzed_returns(dataset), label="returns")
    with validated(dataset, returns) as (v, sent):
        check_validation(v, sent, dataset.inputs)


@VALIDATION
def test_every_nasty_cell_in_every_column_is_named_or_harmless(dataset):
    """Each NASTY text in each column of one row, every one its own return (an LA and period of
    the demo), validated together in one run: the same properties, for every combination."""
    slots = sorted(dataset.originals)
    cases = [(text, column) for text in NASTY for column in RETURN_COLUMNS]
    for start in range(0, len(cases), len(slots)):
        returns = []
        for (la, period), (text, column) in zip(slots, cases[start:], strict=False):
            original = rows_of(dataset.originals[(la, period)])
            row = 1 + (start // len(slots) + len(returns)) % (len(original) - 1)
            f = fuzzed(la, period, original, {(row, column): text})
            f.named = len(returns) % 2 == 0
            returns.append(f)
        with validated(dataset, returns) as (v, sent):
            check_validation(v, sent, dataset.inputs)


@VALIDATION
@pytest.mark.parametrize(
    ("time_period", "time_identifier"),
    [
        ("202627", "Quarter 2"),  # was an IndexError in return_identity (no row gives a period)
        ("000001", "Financial year Q1"),  # was a DataError: period '0-01-Q1' is not a period
    ],
)
def test_freely_named_return_whose_rows_give_no_period_is_quarantined_row_by_row(
    dataset, time_period, time_identifier
):
    """Regression: a return not named <la>_<period> whose rows give no usable period, checked
    with other returns, stopped the whole run with a traceback instead of being quarantined."""
    original = rows_of(dataset.originals[(LA, LATEST)])
    cells = {(i, "time_period"): time_period for i in range(1, len(original))}
    cells |= {(i, "time_identifier"): time_identifier for i in range(1, len(original))}
    f = fuzzed(LA, LATEST, original, cells, structure="whole column")
    f.named = False
    other = fuzzed("ZL101", LATEST, rows_of(dataset.originals[("ZL101", LATEST)]), {})
    with validated(dataset, [f, other]) as (v, sent):
        check_validation(v, sent, dataset.inputs)
        status = {o.file: o.status for o in v.outcomes}
        assert status == {sent[0].shown: QUARANTINED, sent[1].shown: ACCEPTED}
        mine = v.findings[v.findings["file"] == sent[0].shown]
        assert set(mine["row"]) == set(sent[0].lines[1:])  # every row is named
        assert set(mine["column"]) <= {"time_period", "time_identifier"}


@VALIDATION
@pytest.mark.parametrize(
    ("indicator", "cells"),
    [
        ("referrals_rate", {"numerator": "", "denominator": "", "value": "9" * 400}),
        ("rereferrals_pct", {"numerator": "9" * 400, "denominator": "9" * 400}),
        ("rereferrals_pct", {"numerator": "0", "denominator": "9" * 400, "value": "0"}),
    ],
)
def test_numbers_too_large_for_a_float_are_refused(dataset, indicator, cells):
    original = rows_of(dataset.originals[(LA, LATEST)])
    i = next(
        k for k, r in enumerate(original) if r[RETURN_COLUMNS.index("indicator_id")] == indicator
    )
    f = fuzzed(LA, LATEST, original, {(i, c): t for c, t in cells.items()})
    with validated(dataset, [f]) as (v, _):
        assert v.outcomes[0].status == QUARANTINED


def assert_outputs_complete(out: Path, shown: str, la: str) -> str:
    """Every validation output written, whole, consistent and inert; returns the status."""
    folder = out / "validation"
    j = json.loads((folder / "validation.json").read_text(encoding="utf-8"))
    [outcome] = j["returns"]
    assert outcome["file"] == shown
    assert outcome["status"] in (ACCEPTED, QUARANTINED)
    assert j["summary"]["errors"] == outcome["errors"]
    assert all(f["file"] == shown for f in j["findings"])
    suites = ET.parse(folder / "junit.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [shown]
    assert (int(suites[0].get("failures")) > 0) == (outcome["status"] == QUARANTINED)
    for page in [folder / "index.html", folder / "feedback" / f"{la}.html"]:
        text = page.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>"), page
        assert "<script" not in text.lower(), f"{page}: markup from a return reached the page"
    assert not [p for p in out.rglob(f"*{TEMPORARY}")], "a temporary file was left"
    return outcome["status"]


HOSTILE = "<script>alert(1)</script>"


@VALIDATION
@fuzz(5)
@given(data=st.data(), hostile=st.sampled_from(["", "note", "value"]))
def test_tartan_validate_exits_0_or_1_with_complete_inert_outputs(dataset, data, hostile):
    """The command itself, in-process: exit 0 when accepted, 1 when quarantined, no traceback;
    the validation pages, JSON and JUnit XML are all written, whole, and quote no live markup."""
    f = data.draw(fuzzed_return(LA, LATEST, rows_of(dataset.originals[(LA, LATEST)])))
    if hostile in f.header:  # markup in a note (accepted) or a value (quoted in a finding)
        j = f.header.index(hostile)
        f.rows[1][j : j + 1] = [HOSTILE]
    [s] = send(dataset, [f])
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with unchanged(s.path):
            args = ["validate", str(s.path), "--data", str(dataset.data), "--out", str(dataset.out)]
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                rc = main(args)
    finally:
        s.path.unlink()
    text = stdout.getvalue() + stderr.getvalue()
    note(text)
    assert "Traceback" not in text
    status = assert_outputs_complete(dataset.out, s.shown, LA)
    assert rc == (1 if status == QUARANTINED else 0), text
    assert "1 return, " in stdout.getvalue()
    if status == QUARANTINED:
        assert f"not accepted: {s.shown}" in stdout.getvalue()


# =========================================================================== core

#: values as figures hold them: finite floats of any size, NaN for no value
VALUE = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6),
    st.sampled_from([0.0, -0.0, 1.0, 50.0, 100.0]),
    st.just(math.nan),
)


def better(a: float, b: float, polarity: str) -> bool:
    """Whether value a is strictly better than b (neutral: higher ranks first)."""
    return a < b if polarity == "low" else a > b


def labelled(values: list[float]) -> pd.Series:
    """Values under an index that is neither sorted nor 0..n: results must align by label."""
    return pd.Series(values, index=[f"LA{(7 * k) % 101:03d}" for k in range(len(values))])


@fuzz(300)
@given(values=st.lists(VALUE, max_size=40), polarity=st.sampled_from(POLARITIES))
@example(values=[-1.7e308, 1.7e308, 0.0, 1.0, 2.0], polarity="high")
@example(values=[5.0, 5.0, 5.0, math.nan], polarity="low")
def test_bands_are_a_to_d_and_never_rank_a_worse_value_above_a_better(values, polarity):
    s = labelled(values)
    b = bands(s, polarity)
    assert list(b.index) == list(s.index)
    assert set(b) <= {*BANDS, None}
    for v, band in zip(values, b, strict=True):
        assert (band is None) == (polarity == "neutral" or math.isnan(v)), (v, band)
    if polarity == "neutral" or s.isna().all():
        return
    banded = [(v, band) for v, band in zip(values, b, strict=True) if band is not None]
    # LAIT's quarters are closed at their upper end: the best figure is in band A unless, where
    # higher is better, it equals the upper quartile (a tie at the top: band B)
    best = (max if polarity == "high" else min)(v for v, _ in banded)
    best_band = next(band for v, band in banded if v == best)
    assert best_band == "A" or (polarity == "high" and best == quartiles(s)[2]), (best, best_band)
    for v, bv in banded:
        for w, bw in banded:
            if better(v, w, polarity):
                assert bv <= bw, f"{v} is better than {w} but is in band {bv}, {w} in {bw}"
            if v == w:
                assert bv == bw, f"equal values {v} in bands {bv} and {bw}"


#: any value an indicator can hold (the valid ranges stop far below 1e300)
REALISTIC = st.one_of(st.floats(-1e300, 1e300), st.floats(-1e6, 1e6), st.just(math.nan))


@fuzz(200)
@given(values=st.lists(REALISTIC, max_size=40))
@example(values=[5.0, 5.0, math.nan])
def test_quartiles_are_ordered_and_within_the_values(values):
    q = quartiles(pd.Series(values, dtype=float))
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        assert q is None
        return
    q1, q2, q3 = q
    assert min(finite) <= q1 <= q2 <= q3 <= max(finite), (q, min(finite), max(finite))


@fuzz(300)
@given(values=st.lists(VALUE, max_size=40), polarity=st.sampled_from(POLARITIES))
def test_ranks_count_the_better_values_and_ties_share_the_lowest_rank(values, polarity):
    s = labelled(values)
    r = ranks(s, polarity)
    assert str(r.dtype) == "Int64"
    assert list(r.index) == list(s.index)
    for v, rank in zip(values, r, strict=True):
        if math.isnan(v):
            assert rank is pd.NA
        else:
            assert rank == 1 + sum(better(w, v, polarity) for w in values), (v, rank)
    valued = [int(x) for x in r.dropna()]
    assert all(1 <= x <= len(valued) for x in valued)


CORE_CATALOGUE = catalogue(
    "rereferrals_pct", "visits_pct", "cla_rate", "caseload", caseload={"decimals": 2}
)
COUNT = st.one_of(
    st.integers(0, 10**6).map(float),
    st.integers(0, 2000).map(lambda n: n / 2),  # FTE denominators: halves
    st.sampled_from([math.nan, 0.0, -3.0]),
)


@st.composite
def figures(draw) -> tuple[pd.DataFrame, pd.Series]:
    """Figures for LAs L1..L6 (L5 in no area, L6 unknown to the mapping) and the LA -> area map."""
    area_of = pd.Series({"L1": "R1", "L2": "R1", "L3": "R2", "L4": "R2", "L5": np.nan})
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["L1", "L2", "L3", "L4", "L5", "L6"]),
                st.sampled_from([PREVIOUS, LATEST]),
                st.sampled_from(CORE_CATALOGUE.ids),
            ),
            unique=True,
            max_size=40,
        )
    )
    rows = [
        (
            la,
            period,
            ind,
            draw(COUNT),
            draw(COUNT),
            draw(VALUE),
            draw(st.sampled_from([OK, OK, OK, "c", "x", "low", "u", "missing"])),
        )
        for la, period, ind in keys
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "la_code",
            "period",
            "indicator_id",
            "numerator",
            "denominator",
            "value",
            "status",
        ],
    ).astype({"numerator": float, "denominator": float, "value": float})
    return frame, area_of


@fuzz(100)
@given(case=figures())
def test_aggregate_is_the_ratio_of_sums_over_usable_rows(case):
    frame, area_of = case
    out = aggregate(frame, area_of, CORE_CATALOGUE)
    mapped = frame[frame["la_code"].map(area_of).notna()]
    want_keys = {
        (area_of[r.la_code], r.period, r.indicator_id) for r in mapped.itertuples(index=False)
    }
    got_keys = list(zip(out["area_code"], out["period"], out["indicator_id"], strict=True))
    assert sorted(got_keys) == sorted(want_keys)
    assert len(got_keys) == len(set(got_keys))
    usable: dict[tuple, list] = {}
    for la, period, ind, num, den, _, status in mapped.itertuples(index=False):
        if not math.isnan(num) and not math.isnan(den) and den > 0 and status == OK:
            usable.setdefault((area_of[la], period, ind), []).append((la, num, den))
    for r in out.to_dict("records"):
        ind = CORE_CATALOGUE[r["indicator_id"]]
        rows = usable.get((r["area_code"], r["period"], r["indicator_id"]), [])
        assert r["las_contributing"] == len({la for la, _, _ in rows})
        assert r["las_in_area"] == (area_of == r["area_code"]).sum()
        if not rows:
            assert math.isnan(r["value"]) and r["status"] != OK, r
            continue
        num, den = sum(n for _, n, _ in rows), sum(d for _, _, d in rows)
        assert r["numerator"] == num and r["denominator"] == den, r
        assert r["value"] == round(num / den * ind.scale, ind.decimals), r
        assert r["status"] == OK


@fuzz(200)
@given(
    numerator=st.integers(0, 10**7),
    denominator=st.one_of(st.integers(0, 10**7), st.integers(1, 4000).map(lambda n: n / 2)),
    ind=st.sampled_from(list(CORE_CATALOGUE)),
)
def test_indicator_value_is_the_rounded_ratio_and_formats_as_it_is(numerator, denominator, ind):
    value = ind.compute(numerator, denominator)
    if denominator == 0:
        assert math.isnan(value)
        assert ind.format(value) == ""
        return
    exact = numerator / denominator * ind.scale
    assert abs(value - exact) <= 0.5 * 10**-ind.decimals * (1 + 1e-9) + 1e-9
    text = ind.format(value)
    places = rf"\.\d{{{ind.decimals}}}" if ind.decimals else ""
    percent = "%" if ind.unit == "percentage" else ""
    assert re.fullmatch(rf"\d{{1,3}}(,\d{{3}})*{places}{percent}", text), text
    assert float(text.rstrip("%").replace(",", "")) == pytest.approx(value, abs=1e-12)


@fuzz(100)
@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    ind=st.sampled_from(list(CORE_CATALOGUE)),
)
@example(value=0.05, ind=CORE_CATALOGUE["caseload"])
def test_format_shows_any_finite_value_to_its_decimals(value, ind):
    text = ind.format(value)
    places = rf"\.\d{{{ind.decimals}}}" if ind.decimals else ""
    percent = "%" if ind.unit == "percentage" else ""
    assert re.fullmatch(rf"-?\d{{1,3}}(,\d{{3}})*{places}{percent}", text), text
    assert float(text.rstrip("%").replace(",", "")) == pytest.approx(
        round(value, ind.decimals), rel=1e-15, abs=10**-ind.decimals
    )
    assert ind.format(None) == ind.format(math.nan) == ind.format(pd.NA) == ""


SLUGISH = st.one_of(
    st.text(max_size=14),
    st.from_regex(r"\A\s?\d{4}-\d{2}-Q\d\s?\Z"),
    st.from_regex(r"\A\d{4}\Z"),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-Q[0-9]\Z"),
)


@fuzz(400)
@given(text=SLUGISH)
@example(text="0000")
@example(text="0001-02-Q1")
@example(text="\uff12\uff10\uff12\uff15")  # full-width 2025
@example(text="2099-00-Q4")
@example(text=" 2026-27-Q2\n")
def test_parse_slug_round_trips_or_says_why_not(text):
    try:
        p = parse_slug(text)
    except DataError as exc:
        assert str(exc).startswith(f"period {text.strip()!r}"), str(exc)  # names what it read
        return
    assert isinstance(p, Period)
    assert p.slug == text.strip(), f"{text!r} parsed as {p.slug!r}"
    assert parse_slug(p.slug) == p
    assert p.quarter is None or 1 <= p.quarter <= 4


@fuzz(300)
@given(
    time_period=st.one_of(
        st.text(max_size=8), st.from_regex(r"\A\d{6}\Z"), st.from_regex(r"\A\d{4}\Z")
    ),
    time_identifier=st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [f"Financial year Q{q}" for q in range(6)]
            + ["Reporting year", "Calendar year", "Academic year", "Financial year"]
        ),
    ),
)
@example(time_period="000001", time_identifier="Financial year Q1")
@example(time_period="\u0662\u0660\u0662\u0666\u0662\u0667", time_identifier="Financial year Q2")
def test_ees_columns_give_a_period_that_reads_back_or_say_why_not(time_period, time_identifier):
    try:
        p = from_ees(time_period, time_identifier)
    except DataError as exc:
        assert "expected" in str(exc)
        return
    assert str(p.time_period) == time_period.strip()
    assert parse_slug(p.slug) == p
    assert from_ees(p.time_period, p.time_identifier) == p


def test_quartiles_of_values_spanning_the_float_range_are_ordered():
    q1, q2, q3 = quartiles(pd.Series([-1.7e308, 1.7e308]))
    assert -1.7e308 <= q1 <= q2 <= q3 <= 1.7e308
