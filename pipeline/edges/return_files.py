"""Reading incoming returns exactly as sent: CSV or Excel workbook, only ever read, never changed.

A file that cannot be read as a table is a DataError naming the file and what was expected. What a
file may hold (its size, rows, columns, cells; a workbook's parts) is bounded by the limits in
:mod:`pipeline.edges.return_limits`, checked before anything big is loaded and while streaming.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError
from pipeline.edges.return_limits import (
    EXCEL_ROWS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_LINES,
    MAX_ROWS,
    MAX_TEXT_CHARS,
    Census,
    check_workbook,
    ole_workbook,
    read_bytes,
    shown,
    uncalculated_error,
)

RETURN_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def find_returns(paths: Iterable[Path]) -> list[Path]:
    """Every return file under the given files or folders, in a stable order.

    A folder inside that cannot be read, or a link to a folder (which could lead out of the
    folder, or to the same returns twice), is a ConfigError naming it: no return is skipped
    without a word. A link to a file is read as the file it links to, as the user put it there.
    """
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found += _returns_in(p)
        elif p.is_file():
            found.append(p)
        else:
            raise ConfigError(f"{shown(p)}: no such file or folder")
    return sorted(dict.fromkeys(found))


def _returns_in(folder: Path) -> list[Path]:
    def unreadable(exc: OSError) -> None:
        why = "permission denied" if isinstance(exc, PermissionError) else exc.strerror
        raise ConfigError(
            f"{shown(exc.filename or folder)}: cannot be read ({why}); no return in it was "
            "validated: give the user running Tartan permission to read the folder, then run "
            "again"
        )

    found = []
    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        for d in sorted(dirs):
            if os.path.islink(os.path.join(root, d)):
                raise ConfigError(
                    f"{shown(os.path.join(root, d))}: a link to a folder, among the returns; "
                    "Tartan does not follow links to folders (they can lead out of the returns "
                    "folder, or to the same returns twice): copy the returns into the folder "
                    "instead, then run again"
                )
        for name in files:
            f = Path(root, name)
            if name.startswith(".") or f.suffix.lower() not in RETURN_SUFFIXES:
                continue
            # a file, a link to one, or a broken link (reported as a file that cannot be read);
            # never a pipe or a device, which reading could wait on for ever
            if f.is_file() or not f.exists():
                found.append(f)
    return found


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
            f"{shown(path)}: the file is saved as UTF-16 ('Unicode text'); expected a CSV file "
            "saved as 'CSV UTF-8 (comma delimited)'"
        )
    if b"\x00" in head or len(head.translate(None, _TEXT_BYTES)) > len(head) // 100:
        raise DataError(
            f"{shown(path)}: the file holds binary data, not text; expected a CSV file saved as "
            "'CSV UTF-8 (comma delimited)' or an Excel workbook (.xlsx)"
        )
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(
        f"{shown(path)}: the text is in an encoding Tartan cannot read; expected a CSV file saved "
        "as UTF-8 or Windows-1252"
    )


class _Rows:
    """A file's rows as they are read, within the limits: every row among the first
    HEADER_SEARCH_ROWS (the header is among them), then only the rows holding something (those
    are all `_sheet` keeps), so that blank rows take no memory.

    `where` names the table in messages ("the file", "sheet 'Return'"); `letter` names a column.
    """

    def __init__(self, path: Path, where: str, letter: Callable[[int], str], last_line: int):
        self.path, self.where, self.letter, self.last_line = path, where, letter, last_line
        self.grid: list[list[str]] = []
        self.lines: list[int] = []
        self.filled = self.cells = self.chars = 0

    def refuse(self, what: str) -> DataError:
        return DataError(
            f"{shown(self.path)}: {self.where} {what}; a return is one LA's figures for one "
            "period (about 25-100 rows of a dozen columns): send that return alone"
        )

    def add(self, row: list[str], line: int, width: int | None = None) -> None:
        """Row `row`, starting on `line`; `width`: the cells it was read as, if more."""
        self.cells += max(width or 0, len(row))
        if self.cells > MAX_CELLS:
            raise self.refuse(f"has over {MAX_CELLS:,} cells")
        if line > self.last_line:
            raise self.refuse(f"has over {MAX_LINES:,} rows, blank ones included")
        self.chars += sum(map(len, row))
        if self.chars > MAX_TEXT_CHARS:
            raise self.refuse(f"holds over {MAX_TEXT_CHARS:,} characters of text")
        filled = any(c.strip() for c in row)
        if filled or len(self.grid) < HEADER_SEARCH_ROWS:
            self.grid.append(row)
            self.lines.append(line)
        if filled:
            self.filled += 1
            if self.filled > MAX_ROWS:
                raise self.refuse(f"has over {MAX_ROWS:,} rows holding something")
            self.check_width(row, line)

    def check_width(self, row: list[str], line: int) -> None:
        if len(row) > MAX_COLUMNS and any(c.strip() for c in row[MAX_COLUMNS:]):
            last = max(j for j, c in enumerate(row) if c.strip())
            raise DataError(
                f"{shown(self.path)}: {self.where}, row {line}, has a value in column "
                f"{self.letter(last + 1)}, beyond the limit of {MAX_COLUMNS} columns; a return "
                "has about a dozen columns: delete what lies to the right of the return"
            )

    def header(self, expected: set[str]) -> int | None:
        return _find_header(self.grid, expected)


def _read_csv(path: Path, raw: bytes, expected: set[str]) -> Sheet:
    if raw.startswith(b"PK\x03\x04"):
        raise DataError(
            f"{shown(path)}: this is an Excel workbook with a .csv name; save it as CSV, or name "
            "it .xlsx"
        )
    text = _decode(path, raw)
    for delimiter in CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = _Rows(path, "the file", lambda j: str(j), MAX_LINES)
        _csv_rows(path, reader, rows, HEADER_SEARCH_ROWS)
        if rows.header(expected) is not None:
            _csv_rows(path, reader, rows)
            sheet = _sheet(path, rows.grid, rows.lines, expected, None)
            if sheet is not None:
                return sheet
    # The first lines as a text editor shows them (a header longer than a megabyte is not one).
    first_lines = [ln for ln in text[: 1 << 20].splitlines()[:HEADER_SEARCH_ROWS] if ln.strip()]
    for delimiter, name in WRONG_DELIMITERS.items():
        if any(_header_score(ln.split(delimiter), expected) >= 3 for ln in first_lines):
            raise DataError(
                f"{shown(path)}: the columns are separated by {name}; expected commas (,), as "
                "Excel writes with 'Save as CSV UTF-8 (comma delimited)'"
            )
    raise DataError(
        f"{shown(path)}: no header row found in the first {HEADER_SEARCH_ROWS} lines; expected a "
        f"row naming the columns {', '.join(sorted(expected))}"
    )


def _csv_rows(path: Path, reader, rows: _Rows, up_to: int | None = None) -> None:
    """Read `reader`'s records into `rows`, to the end or until `rows` has `up_to` of them."""
    try:
        while up_to is None or len(rows.grid) < up_to:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            rows.add(row, start)
            if reader.line_num > MAX_LINES:
                rows.add([], reader.line_num)  # refused: over the limit of lines
    except csv.Error as exc:
        raise DataError(
            f"{shown(path)}: line {reader.line_num} cannot be read as CSV ({exc}); check for a "
            'stray quote mark (")'
        ) from None


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
        f"{shown(path)}: not a readable Excel workbook ({type(exc).__name__}); expected an .xlsx "
        "file saved by Excel, or a CSV file"
    )


def _read_xlsx(path: Path, raw: bytes, expected: set[str]) -> Sheet:
    import openpyxl  # only when a workbook arrives

    refused = ole_workbook(path, raw)
    if refused is not None:
        raise refused
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from None
    with archive:
        census = check_workbook(path, archive)
    # A damaged workbook (a part that is not XML, a corrupt zip stream, an unknown attribute)
    # makes openpyxl raise almost anything (ParseError, zlib.error, EOFError, TypeError, ...),
    # when opening it or, read-only, when reading a sheet: each one is an unreadable workbook.
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(raw), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from None
    try:
        return _return_sheet(path, book, expected, census)
    finally:
        book.close()


def _return_sheet(path: Path, book, expected: set[str], census: Census) -> Sheet:
    """The first visible sheet with a header row. A hidden sheet is never read as the return
    (its figures are not what the LA sees); if only a hidden sheet has the header, say so."""
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        rows = _read_sheet(path, ws, expected)
        if rows is not None:
            names = [_norm(c) for c in rows.grid[rows.header(expected)]]
            uncalculated = census.uncalculated.get(_part(ws))
            if uncalculated:
                raise uncalculated_error(path, ws.title, names, uncalculated)
            return _sheet(path, rows.grid, rows.lines, expected, ws.title)
    for ws in book.worksheets:
        if ws.sheet_state != "visible" and _read_sheet(path, ws, expected, whole=False):
            how = (
                "is hidden; unhide it (right-click a sheet tab, Unhide)"
                if ws.sheet_state == "hidden"
                else "is very hidden (Excel's Unhide does not list it); copy the return to a "
                "visible sheet"
            )
            raise DataError(
                f"{shown(path)}: the return is on sheet '{ws.title}', which {how}, save the "
                "file and send it again"
            )
    raise DataError(
        f"{shown(path)}: no visible sheet has a header row in its first {HEADER_SEARCH_ROWS} "
        f"rows; expected a row naming the columns {', '.join(sorted(expected))}"
    )


def _part(ws) -> str | None:
    """The sheet's part in the workbook's zip (openpyxl's read-only sheet keeps it)."""
    return getattr(ws, "_worksheet_path", None)


def _read_sheet(path: Path, ws, expected: set[str], whole: bool = True) -> _Rows | None:
    """The sheet's rows, or None without a header in its first rows (only those are read unless
    `whole`). Every row is read, whatever size the sheet claims: its stored dimensions may be
    stale (openpyxl would drop the rows beyond) or made up (it would pad every row to them)."""
    from openpyxl.utils import get_column_letter

    ws.reset_dimensions()
    rows = _Rows(path, f"sheet '{ws.title}'", get_column_letter, EXCEL_ROWS)
    try:
        for line, values in enumerate(ws.iter_rows(values_only=True), 1):
            n = len(values)
            while n and values[n - 1] is None:
                n -= 1
            cells = [_cell(v) for v in values[:n]]
            while cells and not cells[-1].strip():
                cells.pop()
            rows.add(cells, line, len(values))
            if line == HEADER_SEARCH_ROWS and (rows.header(expected) is None or not whole):
                break
    except DataError:
        raise
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from None
    return rows if rows.header(expected) is not None else None


def read_return(path: Path, expected_columns: Iterable[str]) -> Sheet:
    """One LA return exactly as sent: CSV (UTF-8 with or without BOM, Windows-1252, ``,`` or ``;``)
    or an Excel workbook whose header row may sit below a title block (its first visible sheet
    with a header row).

    Raises DataError, naming the file and what was expected, when it cannot be read as a table
    or is beyond the limits of :mod:`pipeline.edges.return_limits`. The file is only read, never
    changed.
    """
    path = Path(path)
    expected = {_norm(c) for c in expected_columns}
    raw = read_bytes(path)
    if not raw or raw.isspace():
        raise DataError(
            f"{shown(path)}: the file is empty; expected a header row and one row per indicator"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, raw, expected)
    return _read_csv(path, raw, expected)
