"""How much of a return file Tartan reads, and the checks that refuse more before it is loaded.

A return is one LA's figures for one period: about 25-100 rows of a dozen columns, a few KB as CSV,
tens of KB as a workbook. Each limit below is far above any real return and far below what would
exhaust the machine: whatever a file claims (a sheet of a million rows, a zip bomb, a part of a
workbook that nests or repeats without end), reading it takes well under 1 GB of memory and a few
seconds. Each refusal is a DataError naming the file, the limit and what to send instead.

A workbook is refused, part by part, before openpyxl opens it: openpyxl reads some parts whole
(styles, shared text, the workbook's list of sheets) and keeps, for each sheet it streams, every
row it has read and each row whole, so those are bounded here by counting the XML as it streams.
"""

from __future__ import annotations

import contextlib
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from pipeline.core.errors import DataError

MB = 1024 * 1024

# Any return file
MAX_FILE_BYTES = 20 * MB  # as stored: a real return is a few KB (CSV) to a few hundred KB (xlsx)
MAX_LINES = 100_000  # CSV lines or a sheet's rows, blank ones too: a return has 25-100
MAX_ROWS = 10_000  # rows holding anything: a return is one LA's one period, never thousands
MAX_COLUMNS = 200  # the last column holding a value: a return has about a dozen columns
MAX_CELLS = 1_000_000  # cells read in all, empty ones within a row too (a CSV's fields)
MAX_TEXT_CHARS = 20_000_000  # text in the cells read: no more than a CSV within the size limit
# holds (a workbook's shared text could otherwise repeat one long text in every cell)

# A workbook (.xlsx, .xlsm: a zip of XML parts), checked before openpyxl opens it
MAX_ZIP_MEMBERS = 1_000  # parts: Excel writes about ten, and a few more for each sheet
MAX_UNZIPPED_BYTES = 100 * MB  # all parts unzipped: a real return's are well under 1 MB (a
# single XML tag, text or comment of up to this size is held whole while it is read)
MAX_ZIP_RATIO = 100  # how many times larger a part may unzip: XML 5-20, a zip bomb thousands
RATIO_FROM_BYTES = 1 * MB  # parts smaller unzipped are not held to the ratio
EXCEL_ROWS = 1_048_576  # Excel's last row: a row numbered beyond it is not a sheet Excel wrote
MAX_ROW_CELLS = 16_384  # cells in one row: Excel's own number of columns
MAX_ROW_ELEMENTS = 100_000  # XML elements in one row (its cells, their values and formatting)
MAX_XML_ELEMENTS = 200_000  # XML elements outside the sheets' rows (styles, shared text, the
# list of sheets), which openpyxl reads whole: Excel's own limit of 64,000 cell formats fits
MAX_XML_DEPTH = 100  # how deep XML elements nest: Excel's parts nest about a dozen deep
MAX_XML_TEXT = 1_000_000  # characters of one XML text, or bytes of one tag or comment: a cell
# holds 32,767 at most (and expat, under openpyxl, parses a long tag again with each 16 KB read)

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # an OLE compound file: .xls, or an encrypted .xlsx
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted workbook has
CHUNK = 1 << 16  # bytes of a part read at a time
LISTED_CELLS = 1_000  # uncalculated formula cells kept to name (the rest are counted)


def shown(path: os.PathLike | str) -> str:
    """A path as it can be printed, written to JSON or HTML: the bytes of a name that are not
    UTF-8 (which Python keeps as lone surrogates) shown as escapes, e.g. ``ZL101_\\xff.csv``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _mb(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n:,} bytes"


# --------------------------------------------------------------------------- reading the bytes


def read_bytes(path: Path) -> bytes:
    """The file's bytes, refused when it cannot be read or is over MAX_FILE_BYTES (checked
    before reading, and again while reading, in case it grows)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    with os.fdopen(fd, "rb") as f:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise DataError(
                    f"{shown(path)}: not a file but a device, pipe or socket; expected a CSV "
                    "file or an Excel workbook (.xlsx)"
                )
            if st.st_size > MAX_FILE_BYTES:
                raise _too_big(path, st.st_size)
            raw = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _cannot_read(path, exc) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(path, len(raw))
    return raw


def _cannot_read(path: Path, exc: OSError) -> DataError:
    if isinstance(exc, PermissionError):
        return DataError(
            f"{shown(path)}: cannot be read: permission denied; give the user running Tartan "
            "permission to read the file, then run again"
        )
    return DataError(
        f"{shown(path)}: cannot be read ({exc.strerror or type(exc).__name__}); expected a "
        "CSV file or an Excel workbook (.xlsx) that can be opened"
    )


def _too_big(path: Path, size: int) -> DataError:
    return DataError(
        f"{shown(path)}: the file is {size:,} bytes, over the limit of {_mb(MAX_FILE_BYTES)} for "
        "a return; a return is one LA's figures for one period (a few KB): send that return "
        "alone, without other data, sheets or pictures"
    )


def ole_workbook(path: Path, raw: bytes) -> DataError | None:
    """The refusal of a workbook that is not a zip but an OLE compound file: password-protected
    (an encrypted .xlsx has an EncryptionInfo stream), else an Excel 97-2003 .xls."""
    if not raw.startswith(OLE_MAGIC):
        return None
    if ENCRYPTION_INFO in raw:
        return DataError(
            f"{shown(path)}: the workbook is password-protected, so it cannot be read; save it "
            "without a password (File, Info, Protect Workbook, Encrypt with Password: clear "
            "the password), then send it again"
        )
    return DataError(
        f"{shown(path)}: this is an Excel 97-2003 workbook (.xls), not an .xlsx; open it in "
        "Excel and save it as an Excel Workbook (.xlsx), then send it again"
    )


# --------------------------------------------------------------------------- a workbook's parts


@dataclass
class Census:
    """What the scan of a workbook found: per sheet part, the cells holding a formula that was
    never calculated (no value saved with it), as (row, column) numbers."""

    uncalculated: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)  # uncalculated cells beyond those listed
    elements: int = 0  # outside rows, in all parts
    cells: int = 0  # in all parts

    def never_calculated(self, part: str, row: int, column: int) -> None:
        cells = self.uncalculated.setdefault(part, [])
        if len(cells) < LISTED_CELLS:
            cells.append((row, column))
        else:
            self.more[part] = self.more.get(part, 0) + 1


def check_workbook(path: Path, book: zipfile.ZipFile) -> Census:
    """Refuse a workbook beyond the limits, from its zip directory and then from every part's
    XML as it streams, before openpyxl reads any of it."""
    infos = book.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _bad_workbook(
            path, f"it has {len(infos):,} parts, over the limit of {MAX_ZIP_MEMBERS:,}"
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise _bad_workbook(
            path, f"it unzips to {_mb(total)}, over the limit of {_mb(MAX_UNZIPPED_BYTES)}"
        )
    for i in infos:
        if i.file_size > RATIO_FROM_BYTES and i.file_size > MAX_ZIP_RATIO * i.compress_size:
            raise _bad_workbook(
                path,
                f"its part {shown(i.filename)} unzips {i.file_size // max(i.compress_size, 1):,} "
                f"times larger (a zip bomb); parts Excel writes unzip at most {MAX_ZIP_RATIO} "
                "times larger",
            )
    census = Census()
    for i in infos:
        _Part(path, i.filename, census).scan(book, i)
    return census


def _bad_workbook(path: Path, why: str) -> DataError:
    return DataError(
        f"{shown(path)}: not a workbook Tartan will read: {why}; expected an .xlsx file saved by "
        "Excel with the return on one sheet, or a CSV file"
    )


def _chunks(
    book: zipfile.ZipFile, info: zipfile.ZipInfo, size: Callable[[], int]
) -> Iterator[bytes]:
    """The part's bytes in pieces of `size()`; a part that cannot be unzipped ends early
    (openpyxl says so when it reads it; a part it never reads does not matter)."""
    with contextlib.suppress(Exception), book.open(info) as f:
        while chunk := f.read(size()):
            yield chunk


class _Part:
    """One part's XML, counted as it streams (expat, no tree kept): the nesting, the elements
    outside rows, each row's cells and elements, the length of each text; in a sheet, the cells
    whose formula has no saved value."""

    def __init__(self, path: Path, name: str, census: Census):
        self.path, self.name, self.census = path, name, census
        self.depth = 0
        self.row_depth = 0  # depth of the open <row>, 0 outside one
        self.row_elements = self.row_cells = 0
        self.row_number = self.column = 0  # as openpyxl numbers them
        self.rows = 0
        self.sheet = False
        self.text = 0  # characters of the current text
        self.cell: list | None = None  # [row, column, type, has formula, value chars or None]
        self.value = False  # inside the open cell's <v>

    def scan(self, book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        p = expat.ParserCreate(namespace_separator="}")
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.chars
        p.StartDoctypeDeclHandler = self.doctype
        fed, size = 0, [CHUNK]
        try:
            for chunk in _chunks(book, info, lambda: size[0]):
                p.Parse(chunk, False)
                fed += len(chunk)
                # Expat parses a token left unfinished (a huge tag or comment) again from its
                # start with each piece: read as much again as it holds (up to a quarter of
                # the limit), so that it does so a few times rather than thousands.
                pending = fed - p.CurrentByteIndex
                if pending > MAX_XML_TEXT:
                    raise self.refuse(f"holds a tag or comment of over {MAX_XML_TEXT:,} bytes")
                size[0] = min(max(CHUNK, pending), MAX_XML_TEXT // 4)
            p.Parse(b"", True)
        except expat.ExpatError:
            return  # not XML (a picture), or broken: openpyxl refuses it if it reads it

    def refuse(self, what: str) -> DataError:
        return _bad_workbook(self.path, f"its part {shown(self.name)} {what}")

    def doctype(self, *_args) -> None:
        raise self.refuse("declares a document type (DTD), which Excel never writes")

    def chars(self, data: str) -> None:
        self.text += len(data)
        if self.text > MAX_XML_TEXT:
            raise self.refuse(f"holds a text of over {MAX_XML_TEXT:,} characters")
        if self.value:
            self.cell[4] += len(data)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.text = 0
        if self.depth > MAX_XML_DEPTH:
            raise self.refuse(f"nests elements over {MAX_XML_DEPTH} deep")
        local = tag.rpartition("}")[2]
        if self.depth == 1:
            self.sheet = local == "worksheet"  # a sheet's rows and cells are in order
        if self.row_depth:
            self.in_row(local, attrs)
        elif local == "row":
            self.open_row(attrs)
        else:
            self.census.elements += 1
            if self.census.elements > MAX_XML_ELEMENTS:
                raise self.refuse(
                    f"brings the XML elements outside the sheets' rows over {MAX_XML_ELEMENTS:,}"
                )

    def open_row(self, attrs: dict[str, str]) -> None:
        self.row_depth = self.depth
        self.row_elements = self.row_cells = self.column = 0
        self.rows += 1
        if self.rows > MAX_LINES:
            raise self.refuse(f"has over {MAX_LINES:,} rows, blank ones included")
        number = self.row_number + 1
        with contextlib.suppress(ValueError):
            number = int(attrs.get("r", number))
        if number > EXCEL_ROWS or number < 1:
            raise self.refuse(f"has a row numbered {number:,}, outside Excel's rows")
        if self.sheet and number <= self.row_number:
            # openpyxl would drop it without a word
            raise self.refuse(f"has row {number:,} after row {self.row_number:,}, out of order")
        self.row_number = number

    def in_row(self, local: str, attrs: dict[str, str]) -> None:
        self.row_elements += 1
        if self.row_elements > MAX_ROW_ELEMENTS:
            raise self.refuse(f"has a row of over {MAX_ROW_ELEMENTS:,} XML elements")
        if local == "c" and self.depth == self.row_depth + 1:
            self.row_cells += 1
            self.census.cells += 1
            if self.row_cells > MAX_ROW_CELLS:
                raise self.refuse(f"has a row of over {MAX_ROW_CELLS:,} cells")
            if self.census.cells > MAX_CELLS:
                raise self.refuse(f"brings the cells of the workbook over {MAX_CELLS:,}")
            column = _column(attrs.get("r"), self.column + 1)
            if self.sheet and column <= self.column:
                raise self.refuse(f"has, in row {self.row_number:,}, cells out of order")
            self.column = column
            self.cell = [self.row_number, self.column, attrs.get("t", "n"), False, None]
        elif self.cell is not None and self.depth == self.row_depth + 2:
            if local == "f":
                self.cell[3] = True
            elif local == "v":
                self.cell[4] = 0
                self.value = True

    def end(self, tag: str) -> None:
        if self.depth == self.row_depth + 1 and self.cell is not None:
            row, column, kind, formula, value = self.cell
            never = value is None or (value == 0 and kind not in ("str", "inlineStr"))
            if formula and never:
                self.census.never_calculated(self.name, row, column)
            self.cell = None
        elif self.depth == self.row_depth:
            self.row_depth = 0
        self.value = False
        self.depth -= 1
        self.text = 0


def _column(ref: str | None, default: int) -> int:
    """The column number of a cell reference (B5: 2), as openpyxl reads it; else `default`."""
    if not ref:
        return default
    letters = ref.rstrip("0123456789").upper()
    if not letters or len(letters) > 3 or not letters.isalpha() or not letters.isascii():
        return default
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def uncalculated_error(
    path: Path, sheet: str, names: list[str], cells: list[tuple[int, int]]
) -> DataError:
    """The refusal of a sheet holding formulas saved without their values (a file written by a
    program that does not calculate, never opened in Excel): each would read as a blank. Cells
    are named by row and by the header's name for their column (else its letter)."""
    from openpyxl.utils import get_column_letter

    by_column: dict[int, list[int]] = {}
    for row, column in cells:
        by_column.setdefault(column, []).append(row)
    groups = []
    for column in sorted(by_column):
        name = names[column - 1] if column <= len(names) else ""
        groups.append(
            f"{_row_ranges(sorted(set(by_column[column])))}, column "
            f"{name or get_column_letter(column)}"
        )
    more = f"; and in {len(groups) - 5} more columns" if len(groups) > 5 else ""
    return DataError(
        f"{shown(path)}: sheet '{sheet}' holds formulas that were never calculated "
        f"({'; '.join(groups[:5])}{more}): the file was saved by a program that does not "
        "calculate them, so their values are blank; open the file in Excel and save it, then "
        "send it again"
    )


def _row_ranges(rows: list[int], listed: int = 5) -> str:
    """[5, 6, 7, 9] as 'rows 5-7 and 9'; [4] as 'row 4'."""
    spans: list[list[int]] = []
    for r in rows:
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    text = [f"{a}-{b}" if b > a else str(a) for a, b in spans[:listed]]
    if len(spans) > listed:
        text.append(f"{len(spans) - listed} more")
    words = text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]
    return ("rows " if len(rows) > 1 else "row ") + words
