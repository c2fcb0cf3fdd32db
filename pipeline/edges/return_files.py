"""Reading incoming returns exactly as sent: CSV or Excel workbook, only ever read, never changed.

A file that cannot be read as a table is a DataError naming the file and what was expected.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError

RETURN_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def find_returns(paths: Iterable[Path]) -> list[Path]:
    """Every return file under the given files or folders, in a stable order."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found += [
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and f.suffix.lower() in RETURN_SUFFIXES
                and not f.name.startswith(".")
            ]
        elif p.is_file():
            found.append(p)
        else:
            raise ConfigError(f"{p}: no such file or folder")
    return sorted(dict.fromkeys(found))


# --------------------------------------------------------------------------- reading returns

HEADER_SEARCH_ROWS = 20  # how far down a sheet the header row may be (templates have titles)
CSV_DELIMITERS = (",", ";")
_TEXT_BYTES = bytes([9, 10, 11, 12, 13, *range(32, 256)])  # control characters are the rest
WRONG_DELIMITERS = {"\t": "tabs", "|": "vertical bars (|)"}


@dataclass
class Sheet:
    """One return file as sent: its header and its rows as strings, with their line numbers.

    ``lines`` are the numbers a person sees: the line in a text editor for CSV (the row in Excel
    too), the row number for a workbook. ``repeated_header`` holds the lines that repeat the header
    (two files pasted together); those rows are not in ``rows``. ``extra`` holds, per row, the
    cells beyond the header's width (a value with an unquoted comma), or "".
    """

    path: Path
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    extra: list[str]
    repeated_header: list[int] = field(default_factory=list)
    sheet: str | None = None

    @property
    def duplicate_columns(self) -> list[str]:
        seen: set[str] = set()
        dup = []
        for c in self.header:
            if c in seen and c not in dup:
                dup.append(c)
            seen.add(c)
        return dup


def _norm(cell: object) -> str:
    return str(cell).replace("\ufeff", "").strip().lower()


def _header_score(row: list[str], expected: set[str]) -> int:
    return len({_norm(c) for c in row} & expected)


def _find_header(rows: list[list[str]], expected: set[str]) -> int | None:
    """Index of the header row among the first rows: the first naming most expected columns."""
    need = min(3, len(expected))
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _header_score(row, expected) >= need:
            return i
    return None


def _sheet(
    path: Path, grid: list[list[str]], lines: list[int], expected: set[str], sheet: str | None
) -> Sheet | None:
    """Cut a grid of cells into header and rows; None if no header row can be found."""
    at = _find_header(grid, expected)
    if at is None:
        return None
    header = [_norm(c) for c in grid[at]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    for j, c in enumerate(header):
        if c == "":
            header[j] = f"(unnamed column {j + 1})"
    out = Sheet(path, header, lines[at], [], [], [], sheet=sheet)
    beyond: list[list[str]] = []
    first = header[0] if header else None
    for row, line in zip(grid[at + 1 :], lines[at + 1 :], strict=True):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if cells[0].lower() == first and [_norm(c) for c in cells[:width]] == header:
            out.repeated_header.append(line)
            continue
        out.rows.append(cells[:width] + [""] * (width - len(cells)))
        out.lines.append(line)
        beyond.append(cells[width:])
    # A row longer than the file's usual row (Excel pads every row with the same trailing commas)
    # or with text beyond the header has had a value split by an unquoted comma, e.g. 1,234.
    lengths = [len(b) for b in beyond]
    usual = max(sorted(set(lengths)), key=lengths.count) if lengths else 0
    out.extra = [
        (
            ", ".join(repr(c) for c in b if c) + " beyond the last column"
            if any(b)
            else f"{width + len(b)} cells where the header has {width} columns"
        )
        if len(b) > usual or any(b)
        else ""
        for b in beyond
    ]
    # Trailing columns with no name and no value anywhere (Excel's stray commas) are dropped.
    keep = [
        j
        for j, c in enumerate(out.header)
        if not (c.startswith("(unnamed column") and all(r[j] == "" for r in out.rows))
    ]
    if len(keep) < width:
        out.header = [out.header[j] for j in keep]
        out.rows = [[r[j] for j in keep] for r in out.rows]
    return out


def _decode(path: Path, raw: bytes) -> str:
    head = raw[:4096]
    utf16 = head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16:
        raise DataError(
            f"{path}: the file is saved as UTF-16 ('Unicode text'); expected a CSV file "
            "saved as 'CSV UTF-8 (comma delimited)'"
        )
    if b"\x00" in head or len(head.translate(None, _TEXT_BYTES)) > len(head) // 100:
        raise DataError(
            f"{path}: the file holds binary data, not text; expected a CSV file saved as "
            "'CSV UTF-8 (comma delimited)' or an Excel workbook (.xlsx)"
        )
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(
        f"{path}: the text is in an encoding Tartan cannot read; expected a CSV file saved as "
        "UTF-8 or Windows-1252"
    )


def _read_csv(path: Path, raw: bytes, expected: set[str]) -> Sheet:
    if raw.startswith(b"PK\x03\x04"):
        raise DataError(
            f"{path}: this is an Excel workbook with a .csv name; save it as CSV, or name it .xlsx"
        )
    text = _decode(path, raw)
    first_lines = [ln for ln in text.splitlines()[:HEADER_SEARCH_ROWS] if ln.strip()]
    for delimiter in CSV_DELIMITERS:
        grid, lines = [], []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        start = 1
        try:
            for row in reader:
                grid.append(row)
                lines.append(start)
                start = reader.line_num + 1
        except csv.Error as exc:
            raise DataError(
                f"{path}: line {reader.line_num} cannot be read as CSV ({exc}); check for a "
                'stray quote mark (")'
            ) from None
        sheet = _sheet(path, grid, lines, expected, None)
        if sheet is not None:
            return sheet
    for delimiter, name in WRONG_DELIMITERS.items():
        if any(_header_score(ln.split(delimiter), expected) >= 3 for ln in first_lines):
            raise DataError(
                f"{path}: the columns are separated by {name}; expected commas (,), as Excel "
                "writes with 'Save as CSV UTF-8 (comma delimited)'"
            )
    raise DataError(
        f"{path}: no header row found in the first {HEADER_SEARCH_ROWS} lines; expected a row "
        f"naming the columns {', '.join(sorted(expected))}"
    )


def _cell(value: object) -> str:
    """A workbook cell as the text the LA sees (12 not 12.0; 24.3 not 24.299999999999997)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _unreadable_workbook(path: Path, exc: Exception) -> DataError:
    return DataError(
        f"{path}: not a readable Excel workbook ({type(exc).__name__}); expected an .xlsx "
        "file saved by Excel, or a CSV file"
    )


def _read_xlsx(path: Path, expected: set[str]) -> Sheet:
    import openpyxl  # only when a workbook arrives

    # A damaged workbook (a part that is not XML, a corrupt zip stream, an unknown attribute)
    # makes openpyxl raise almost anything (ParseError, zlib.error, EOFError, TypeError, ...),
    # when opening it or, read-only, when reading a sheet: each one is an unreadable workbook.
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from None
    try:
        for ws in book.worksheets:
            try:
                grid = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
            except Exception as exc:
                raise _unreadable_workbook(path, exc) from None
            sheet = _sheet(path, grid, list(range(1, len(grid) + 1)), expected, ws.title)
            if sheet is not None:
                return sheet
    finally:
        book.close()
    raise DataError(
        f"{path}: no sheet has a header row in its first {HEADER_SEARCH_ROWS} rows; expected a "
        f"row naming the columns {', '.join(sorted(expected))}"
    )


def read_return(path: Path, expected_columns: Iterable[str]) -> Sheet:
    """One LA return exactly as sent: CSV (UTF-8 with or without BOM, Windows-1252, ``,`` or ``;``)
    or an Excel workbook whose header row may sit below a title block.

    Raises DataError, naming the file and what was expected, when it cannot be read as a table.
    The file is only read, never changed.
    """
    path = Path(path)
    expected = {_norm(c) for c in expected_columns}
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(
            f"{path}: the file is empty; expected a header row and one row per indicator"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, expected)
    return _read_csv(path, raw, expected)
