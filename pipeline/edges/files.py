"""Writing files: reports, records and templates out, atomically, under a folder lock; and the
small CSV reader the reference lists use. Incoming returns are read by
:mod:`pipeline.edges.return_files`."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.errors import LockedError, TartanError
from pipeline.core.spreadsheet import inert


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
