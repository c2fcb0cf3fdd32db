"""Reading and writing files: returns in, reports out. Writes are atomic; inputs are read-only."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError, LockedError, TartanError
from pipeline.core.spreadsheet import inert

RETURN_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


LOCK = ".tartan.lock"


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold `folder`/.tartan.lock while a run writes there: a second run on the same folder is
    refused with a clear message instead of interleaving its files. The operating system
    releases the lock when the process ends, however it ends, so a killed run never leaves the
    folder locked."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(fd):
        holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise LockedError(
            f"{folder}: another tartan run is writing to this folder ({holder}); wait for it "
            "to finish, or give this run another --out"
        )
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"tartan, process {os.getpid()}".encode())
        yield
    finally:
        os.ftruncate(fd, 0)
        os.close(fd)


def remove_stale_temporaries(folder: Path) -> int:
    """Temporary files a killed run left behind (`write_bytes_atomic`'s `.name.*.tmp`); only
    call it while holding the folder's lock. Returns how many were removed."""
    removed = 0
    for p in Path(folder).rglob(".*.tmp"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed += 1
    return removed


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


# --------------------------------------------------------------------------- the return template


def write_template(
    path: Path,
    columns: list[str],
    rows: list[list[str]],
    title: str,
    notes: list[str],
    definitions: list[tuple[str, ...]],
    definition_headings: tuple[str, ...],
) -> None:
    """The XLSX return template: a title block, the header on row 4, one row per indicator, and
    a second sheet defining each indicator. Written atomically; numbers are left for the LA."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    def text(cells) -> list:
        return [inert(c) for c in cells]

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Return"
    ws.append(text([title]))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(text([" ".join(notes)]))
    ws.append([])
    ws.append(text(columns))
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(text(row))
    ws.freeze_panes = "A5"
    for j, c in enumerate(columns, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width = max(12, len(c) + 4)
    status_col = openpyxl.utils.get_column_letter(columns.index("status") + 1)
    dv = DataValidation(type="list", formula1='"c,x,z,low,k,u"', allow_blank=True)
    dv.error = "Leave blank for a value, or use c, x, z, low, k or u"
    ws.add_data_validation(dv)
    dv.add(f"{status_col}5:{status_col}{4 + len(rows)}")
    defs = book.create_sheet("Indicators")
    defs.append(text(definition_headings))
    for cell in defs[1]:
        cell.font = Font(bold=True)
    for d in definitions:
        defs.append(text(d))
    # Fixed document dates: the same template twice is the same workbook.
    stamp = datetime.datetime(2000, 1, 1)
    book.properties.created = stamp
    book.properties.modified = stamp
    buf = io.BytesIO()
    book.save(buf)
    write_bytes_atomic(path, buf.getvalue())


def read_text_csv(path: Path, error: type[TartanError], expected: str, hint: str = ""):
    """A CSV as a pandas frame of stripped text (blanks and symbols kept as written; a
    byte-order mark dropped), with ``row``: the line each row is on (the header is line 1).
    A missing, non-UTF-8 or empty file, or a line with more cells than the header, is an
    `error` naming the file; `expected` says what it should hold, `hint` how to fix a line
    with too many cells."""
    import pandas as pd  # here, not above: the command line imports this module for its lock

    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: not found; expected {expected}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text; save it as 'CSV UTF-8'") from None
    except pd.errors.EmptyDataError:
        raise error(f"{path}: the file is empty; expected {expected}") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        where = (
            f"line {m.group(2)} has {m.group(3)} cells but the header has {m.group(1)} columns"
            if m
            else str(exc).strip()
        )
        raise error(f"{path}: {where}{hint}") from None
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:
        df[c] = df[c].str.strip()
    df["row"] = range(2, len(df) + 2)
    return df
