"""Hostile and odd return files: each is read as the LA sees it, or refused with a message naming
the file, what is wrong and what to send; never a traceback, never unbounded memory.

Workbooks with a hidden sheet first, a stale or made-up stored size, formulas never calculated,
a password or an old format; files beyond the limits (size, rows, columns, cells, a workbook's
parts, zip bombs, crafted XML); files and folders that cannot be read, links to folders, names
that are not UTF-8. The last test runs `tartan validate` on the worst of them in a process of its
own and measures its peak memory.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline.core.errors import ConfigError, DataError
from pipeline.edges import return_limits as limits
from pipeline.edges.return_files import find_returns, read_return
from tests.conftest import RETURN_COLUMNS

ROWS = [
    ["ZL107", 202627, "Financial year Q2", f"indicator_{i}", 10 + i, 200, 5.0 + i, None, None]
    for i in range(24)
]


# --------------------------------------------------------------------------- building files


def workbook(*sheets: tuple[str, str, list[list]]) -> bytes:
    """A workbook of (title, state, rows) sheets, saved by openpyxl."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, state, rows in sheets:
        ws = book.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def a_return(rows: list[list] = ROWS, title: str = "Return") -> bytes:
    return workbook((title, "visible", [RETURN_COLUMNS, *rows]))


def rezip(raw: bytes, **parts) -> bytes:
    """The workbook with parts replaced: name=bytes, or name=function of the old bytes (a name's
    '/' written '__', '.' written '_': xl__worksheets__sheet1_xml)."""
    wanted = {k.replace("__", "/").replace("_xml", ".xml"): v for k, v in parts.items()}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        names = list(dict.fromkeys([*zin.namelist(), *wanted]))
        for name in names:
            old = zin.read(name) if name in zin.namelist() else b""
            new = wanted.get(name, old)
            z.writestr(name, new(old) if callable(new) else new)
    return out.getvalue()


def in_sheet(xml: str, before: str = "</sheetData>") -> dict:
    """Parts changing the first sheet: `xml` inserted before `before`."""
    return {
        "xl__worksheets__sheet1_xml": lambda old: old.replace(
            before.encode(), xml.encode() + before.encode(), 1
        )
    }


def refused(path: Path, *words: str) -> str:
    """read_return refuses `path` with a DataError starting with its name and holding `words`."""
    with pytest.raises(DataError) as caught:
        read_return(path, RETURN_COLUMNS)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    for w in words:
        assert w in message, message
    return message


def write(folder: Path, name: str, raw: bytes) -> Path:
    path = folder / name
    path.write_bytes(raw)
    return path


def csv_of(rows: list[list]) -> bytes:
    lines = [",".join(RETURN_COLUMNS)] + [
        ",".join("" if c is None else str(c) for c in r) for r in rows
    ]
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------- hidden sheets


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_first_is_not_read_the_visible_return_is(tmp_path, state):
    old = [[*r[:6], 99.9, *r[7:]] for r in ROWS]  # last quarter's figures, kept hidden
    raw = workbook(
        ("Old", state, [RETURN_COLUMNS, *old]), ("Return", "visible", [RETURN_COLUMNS, *ROWS])
    )
    sheet = read_return(write(tmp_path, "ZL107_2026-27-Q2.xlsx", raw), RETURN_COLUMNS)
    assert sheet.sheet == "Return"
    assert [r[6] for r in sheet.rows] == [str(r[6]).removesuffix(".0") for r in ROWS]


@pytest.mark.parametrize(
    "state, words",
    [
        ("hidden", "which is hidden; unhide it (right-click a sheet tab, Unhide)"),
        ("veryHidden", "which is very hidden (Excel's Unhide does not list it)"),
    ],
)
def test_a_return_only_on_a_hidden_sheet_is_refused_saying_so(tmp_path, state, words):
    raw = workbook(
        ("Guidance", "visible", [["Fill in the Return sheet"]]),
        ("Return", state, [RETURN_COLUMNS, *ROWS]),
    )
    path = write(tmp_path, "ZL107_2026-27-Q2.xlsx", raw)
    refused(path, "the return is on sheet 'Return', ", words, "send it again")


# --------------------------------------------------------------------------- stored sizes


def with_dimension(raw: bytes, ref: str) -> bytes:
    return rezip(
        raw,
        xl__worksheets__sheet1_xml=lambda old: re.sub(
            rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), old
        ),
    )


def test_rows_beyond_a_stale_stored_size_are_all_read(tmp_path):
    raw = with_dimension(a_return(), "A1:I5")  # says 5 rows; has 25
    sheet = read_return(write(tmp_path, "ZL107_2026-27-Q2.xlsx", raw), RETURN_COLUMNS)
    assert len(sheet.rows) == len(ROWS)
    assert sheet.lines == list(range(2, 2 + len(ROWS)))


# --------------------------------------------------------------------------- limits


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "ZL107_2026-27-Q2.csv"
    path.write_bytes(csv_of(ROWS))
    with open(path, "r+b") as f:
        f.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: nothing written
    refused(path, "the file is 20,971,521 bytes, over the limit of 20 MB for a return", "alone")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_over_the_limit_are_refused_and_up_to_it_read(tmp_path, suffix):
    rows = [ROWS[i % len(ROWS)] for i in range(limits.MAX_ROWS - 1)]  # and the header
    build = csv_of if suffix == ".csv" else a_return
    sheet = read_return(write(tmp_path, f"ok{suffix}", build(rows)), RETURN_COLUMNS)
    assert len(sheet.rows) == limits.MAX_ROWS - 1
    path = write(tmp_path, f"over{suffix}", build([*rows, ROWS[0]]))
    where = "the file" if suffix == ".csv" else "sheet 'Return'"
    refused(path, f"{where} has over 10,000 rows holding something; a return is one LA's")


def test_blank_lines_over_the_limit_are_refused(tmp_path):
    raw = csv_of(ROWS) + b",,\n" * limits.MAX_LINES
    refused(write(tmp_path, "x.csv", raw), "the file has over 100,000 rows, blank ones included")


def test_a_value_beyond_the_column_limit_is_refused_naming_it(tmp_path):
    wide = [*ROWS[0], *[""] * (limits.MAX_COLUMNS - len(ROWS[0])), "x"]
    refused(
        write(tmp_path, "x.csv", csv_of([*ROWS, wide])),
        "the file, row 26, has a value in column 201, beyond the limit of 200 columns",
    )
    refused(
        write(tmp_path, "x.xlsx", a_return([*ROWS, wide])),
        "sheet 'Return', row 26, has a value in column GS, beyond the limit of 200 columns",
    )


def test_cells_over_the_limit_are_refused(tmp_path):
    raw = csv_of(ROWS) + b"," * limits.MAX_CELLS + b"\n"
    refused(write(tmp_path, "x.csv", raw), "the file has over 1,000,000 cells")


def test_one_long_shared_text_in_every_cell_is_refused(tmp_path):
    """A workbook's shared text can repeat one long text in every cell (33 KB, 700 times)."""
    text = "x" * 30_000
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<si><t>{text}</t></si></sst>"
    )
    cells = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for c in "IJKLMNO")
        + "</row>"
        for r in range(30, 130)
    )
    ct = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    raw = rezip(
        a_return(),
        xl__sharedStrings_xml=sst.encode(),
        **{"[Content_Types]_xml": lambda old: old.replace(b"</Types>", ct.encode())},
        **in_sheet(cells),
    )
    assert len(raw) < 20_000
    refused(write(tmp_path, "x.xlsx", raw), "sheet 'Return' holds over 20,000,000 characters")


def test_a_workbook_of_too_many_parts_is_refused(tmp_path):
    parts = {f"xl__media__p{i}_xml": b"<a/>" for i in range(limits.MAX_ZIP_MEMBERS)}
    refused(write(tmp_path, "x.xlsx", rezip(a_return(), **parts)), "over the limit of 1,000")


def test_a_workbook_unzipping_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(2):
            with z.open(f"xl/media/big{i}.bin", "w") as f:
                for _ in range(55):
                    f.write(os.urandom(16) * 65_536)  # 1 MB; in all, checked before any part
    refused(path, "it unzips to 110 MB, over the limit of 100 MB")


def test_a_zip_bomb_is_refused_before_it_is_unzipped(tmp_path):
    raw = rezip(a_return(), xl__styles_xml=b" " * (5 * limits.MB))
    refused(write(tmp_path, "x.xlsx", raw), "(a zip bomb)", "at most 100 times larger")


NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
CRAFTED = {
    "nested without end": (in_sheet("<x>" * 200 + "</x>" * 200), "nests elements over 100 deep"),
    "styles of 200,001 formats": (
        {
            "xl__styles_xml": f'<styleSheet {NS}><cellXfs count="200001">{"<xf/>" * 200_001}'
            "</cellXfs></styleSheet>".encode()
        },
        "brings the XML elements outside the sheets' rows over 200,000",
    ),
    "a row of 16,385 cells": (
        in_sheet('<row r="40">' + "<c/>" * 16_385 + "</row>"),
        "has a row of over 16,384 cells",
    ),
    "a row of 100,001 elements": (
        in_sheet('<row r="40"><c><is>' + "<r/>" * 100_001 + "</is></c></row>"),
        "has a row of over 100,000 XML elements",
    ),
    "a row numbered beyond Excel's": (
        in_sheet('<row r="2000000"><c><v>1</v></c></row>'),
        "has a row numbered 2,000,000, outside Excel's rows",
    ),
    "rows out of order (openpyxl drops them)": (
        in_sheet(
            '<row r="40"><c r="A40"><v>1</v></c></row><row r="7"><c r="A7"><v>1</v></c></row>'
        ),
        "has row 7 after row 40, out of order",
    ),
    "cells out of order (openpyxl drops them)": (
        in_sheet('<row r="40"><c r="G40"><v>1</v></c><c r="A40"><v>1</v></c></row>'),
        "has, in row 40, cells out of order",
    ),
    "a tag of 2 MB": (
        in_sheet(
            f'<row r="40"><c r="A40" {" ".join(f"a{i}={chr(34) * 2}" for i in range(250_000))}'
            "/></row>"
        ),
        "holds a tag or comment of over 1,000,000 bytes",
    ),
    "a comment of 1.5 MB": (
        in_sheet("<!--" + "".join(random.Random(0).choices("ab<>", k=1_500_000)) + "-->"),
        "holds a tag or comment of over 1,000,000 bytes",
    ),
    "a text of a million characters": (
        in_sheet(f'<row r="40"><c t="inlineStr"><is><t>{"x" * 1_000_001}</t></is></c></row>'),
        "holds a text of over 1,000,000 characters",
    ),
    "entities (billion laughs)": (
        {
            "xl__workbook_xml": lambda old: (
                b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                + old.split(b"?>", 1)[-1]
            )
        },
        "declares a document type (DTD), which Excel never writes",
    ),
}


@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_workbook_part_is_refused_before_openpyxl_reads_it(tmp_path, name):
    parts, words = CRAFTED[name]
    path = write(tmp_path, "ZL107_2026-27-Q2.xlsx", rezip(a_return(), **parts))
    refused(path, "not a workbook Tartan will read: its part xl/", words)


# --------------------------------------------------------------------------- not a zip


def ole(*streams: str) -> bytes:
    """An OLE compound file's first bytes with its directory's stream names (UTF-16)."""
    names = b"".join(s.encode("utf-16-le").ljust(64, b"\0") + bytes(64) for s in streams)
    return limits.OLE_MAGIC + bytes(504) + names + bytes(4096)


def test_a_password_protected_workbook_is_named_as_such(tmp_path):
    path = write(tmp_path, "x.xlsx", ole("Root Entry", "EncryptionInfo", "EncryptedPackage"))
    refused(path, "the workbook is password-protected", "save it without a password")


def test_an_excel_97_workbook_named_xlsx_is_named_as_such(tmp_path):
    path = write(tmp_path, "x.xlsx", ole("Root Entry", "Workbook", "\x05SummaryInformation"))
    refused(path, "this is an Excel 97-2003 workbook (.xls)", "save it as an Excel Workbook")


# --------------------------------------------------------------------------- formulas


def test_formulas_never_calculated_are_refused_naming_their_cells(tmp_path):
    rows = [list(r) for r in ROWS]
    for r in rows[3:8]:  # sheet rows 5-9
        r[6] = f"=E{rows.index(r) + 2}/F{rows.index(r) + 2}*100"
    path = write(tmp_path, "ZL107_2026-27-Q2.xlsx", a_return(rows))
    refused(
        path,
        "sheet 'Return' holds formulas that were never calculated (rows 5-9, column value)",
        "open the file in Excel and save it, then send it again",
    )
    # As Excel saves them, with their values (an empty text is a value): read as the values.
    saved = in_sheet(
        '<row r="40"><c r="A40"><v>1</v></c><c r="G40"><f>E40/F40</f><v>7.5</v></c>'
        '<c r="I40" t="str"><f>""</f><v></v></c></row>'
    )
    sheet = read_return(write(tmp_path, "saved.xlsx", rezip(a_return(), **saved)), RETURN_COLUMNS)
    assert sheet.rows[-1][6] == "7.5"


# --------------------------------------------------------------------------- reading the disk


def test_a_file_that_cannot_be_read_is_refused_naming_it(tmp_path, monkeypatch):
    path = write(tmp_path, "ZL107_2026-27-Q2.csv", csv_of(ROWS))
    real = os.open

    def denied(p, *args, **kw):
        if os.fspath(p) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(p))
        return real(p, *args, **kw)

    monkeypatch.setattr(os, "open", denied)
    refused(path, "cannot be read: permission denied; give the user running Tartan permission")
    monkeypatch.undo()
    broken = tmp_path / "ZL108_2026-27-Q2.csv"
    broken.symlink_to(tmp_path / "gone.csv")
    assert broken in find_returns([tmp_path])  # said to be unreadable, not skipped
    refused(broken, "cannot be read (No such file or directory)")


@pytest.mark.skipif(os.geteuid() == 0, reason="run as root, a file without permissions is read")
def test_a_file_without_read_permission_is_refused(tmp_path):
    path = write(tmp_path, "ZL107_2026-27-Q2.csv", csv_of(ROWS))
    path.chmod(0)
    refused(path, "cannot be read: permission denied")


def test_a_folder_that_cannot_be_read_stops_the_run_naming_it(tmp_path, monkeypatch):
    (tmp_path / "returns" / "2026-27-Q2").mkdir(parents=True)
    write(tmp_path / "returns", "ZL107_2026-27-Q1.csv", csv_of(ROWS))
    write(tmp_path / "returns" / "2026-27-Q2", "ZL107_2026-27-Q2.csv", csv_of(ROWS))
    locked = tmp_path / "returns" / "2026-27-Q2"
    real = os.scandir

    def denied(p="."):
        if os.fspath(p) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(p))
        return real(p)

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(ConfigError) as caught:
        find_returns([tmp_path / "returns"])
    assert str(caught.value) == (
        f"{locked}: cannot be read (permission denied); no return in it was validated: give the "
        "user running Tartan permission to read the folder, then run again"
    )
    assert caught.value.exit_code == 2


def test_links_to_folders_are_not_followed_links_to_files_are_read(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(elsewhere, "ZL101_2026-27-Q2.csv", csv_of(ROWS))
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "ZL101_2026-27-Q2.csv").symlink_to(elsewhere / "ZL101_2026-27-Q2.csv")
    assert find_returns([returns]) == [returns / "ZL101_2026-27-Q2.csv"]
    (returns / "more").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="more: a link to a folder, among the returns; Tartan"):
        find_returns([returns])


def test_a_file_name_that_is_not_utf8_is_found_and_named_printably(tmp_path):
    folder = os.fsencode(tmp_path)
    fd = os.open(folder + b"/ZL101_\xff.csv", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"not, a return\n")
    os.close(fd)
    [path] = find_returns([tmp_path])
    with pytest.raises(DataError) as caught:
        read_return(path, RETURN_COLUMNS)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path}/ZL101_\\xff.csv: no header row found"), message
    message.encode("utf-8")  # printable, and can be written to JSON or HTML as it is


# --------------------------------------------------------------------------- memory


#: runs a command with its address space capped (a run that would need more fails at once,
#: instead of taking the machine's memory) and prints its exit code and peak resident memory
MEASURE = """
import json, resource, subprocess, sys
cap = 3 << 30
limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
proc = subprocess.run(sys.argv[1:], preexec_fn=limit, capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"rc": proc.returncode, "peak": peak, "stderr": proc.stderr[-3000:]}))
"""


def million_row_claim(raw: bytes, rows: int) -> bytes:
    """`raw` with its sheet's rows repeated until it has `rows` (small: the XML zips well)."""
    row = '<row r="{}"><c r="A{}" t="inlineStr"><is><t>ZL107</t></is></c></row>'

    def many(old: bytes) -> bytes:
        body = "".join(row.format(r, r) for r in range(100, 100 + rows))
        return old.replace(b"</sheetData>", body.encode() + b"</sheetData>")

    return rezip(raw, xl__worksheets__sheet1_xml=many)


def claims_the_whole_grid(raw: bytes) -> bytes:
    """`raw` with its stored size Excel's whole grid and an empty cell in its last row and column:
    openpyxl pads every row up to it to 16,384 cells (a run of 7.6 GB that died)."""
    last = in_sheet('<row r="1048576"><c r="XFD1048576" s="0"/></row>')
    return rezip(with_dimension(raw, "A1:XFD1048576"), **last)


def test_validate_on_hostile_files_stays_under_1_gb(tiny, tmp_path):
    """The files that took 7.6 GB (a 6 KB workbook claiming Excel's whole grid), 4.2 GB (a
    million rows) and 1.5 GB (a 50 MB CSV), as small files just beyond each limit."""
    files = {
        "ZL101_2026-27-Q2.xlsx": claims_the_whole_grid(a_return()),
        "ZL105_2026-27-Q2.xlsx": million_row_claim(a_return(), limits.MAX_ROWS),
        "ZL108_2026-27-Q2.xlsx": rezip(a_return(), **CRAFTED["styles of 200,001 formats"][0]),
    }
    paths = [write(tmp_path, name, raw) for name, raw in files.items()]
    big = tmp_path / "ZL107_2026-27-Q2.csv"
    big.write_bytes(csv_of(ROWS))
    with open(big, "r+b") as f:
        f.truncate(limits.MAX_FILE_BYTES + 1)
    paths.append(big)
    assert len(files[paths[0].name]) < 10_000  # the 6 KB workbook
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "pipeline", "validate", *tiny.args, "--out", str(out), *paths]
    ran = subprocess.run([sys.executable, "-c", MEASURE, *map(str, cmd)], capture_output=True)
    result = json.loads(ran.stdout)
    assert result["rc"] == 1 and "Traceback" not in result["stderr"], result["stderr"]
    assert result["peak"] < 1 << 30, f"peak memory {result['peak'] >> 20} MB"
    v = json.loads((out / "validation" / "validation.json").read_text(encoding="utf-8"))
    said = {
        Path(f["file"]).name: f["message"] for f in v["findings"] if f["check_id"] == "readable"
    }
    assert "ZL101_2026-27-Q2.xlsx" not in said  # read: its 24 rows, not a million blank ones
    assert "has over 10,000 rows holding something" in said["ZL105_2026-27-Q2.xlsx"]
    assert "over 200,000" in said["ZL108_2026-27-Q2.xlsx"]
    assert "over the limit of 20 MB" in said["ZL107_2026-27-Q2.csv"]


def test_validate_names_an_odd_file_name_and_rejects_a_file_it_cannot_open(tiny, tmp_path, capfd):
    """A return whose name is not UTF-8, and a link to a file that is gone, among the returns:
    each is rejected on its own, named printably, and the others are still validated."""
    from tests.conftest import cli

    data = tiny.copy(tmp_path / "data")
    returns = os.fsencode(data.data / "returns")
    fd = os.open(returns + b"/ZL101_\xff.csv", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"not,a,return\n")
    os.close(fd)
    (data.data / "returns" / "ZL105_gone.csv").symlink_to(tmp_path / "nowhere.csv")
    out = tmp_path / "out"
    ran = cli(capfd, "validate", "--data", data.data, "--contracts", data.contracts, "--out", out)
    assert ran.returncode == 1 and "Traceback" not in ran.stderr, ran.stderr
    v = json.loads((out / "validation" / "validation.json").read_text(encoding="utf-8"))
    rejected = {Path(o["file"]).name for o in v["returns"] if o["status"] == "quarantined"}
    assert rejected == {"ZL101_\\xff.csv", "ZL105_gone.csv"}
    assert sum(o["status"] == "accepted" for o in v["returns"]) == len(v["returns"]) - 2
