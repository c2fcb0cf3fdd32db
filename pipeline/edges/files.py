"""Writing files: reports, records and templates out, atomically, under a folder lock; and the
small CSV reader the reference lists use. Incoming returns are read by
:mod:`pipeline.edges.return_files`."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.errors import ConfigError, LockedError, TartanError
from pipeline.core.spreadsheet import inert


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: how every temporary file Tartan writes ends (`.NAME.RANDOM.tartan-tmp`, beside NAME): no one
#: else's files are named so, and clean-up after a killed run removes only these
TEMPORARY = ".tartan-tmp"
#: the output folder of the run in progress (resolved), for this process and every process it
#: starts, such as its workers (see `confined`)
ROOT_VARIABLE = "TARTAN_OUTPUT_FOLDER"


@contextmanager
def confined(root: Path) -> Iterator[None]:
    """While inside: every write and removal made by this module's functions, in this process and
    in the processes it starts (they inherit the environment), stays inside `root`."""
    before = os.environ.get(ROOT_VARIABLE)
    os.environ[ROOT_VARIABLE] = str(Path(root).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ROOT_VARIABLE, None)
        else:
            os.environ[ROOT_VARIABLE] = before


def _root(root: Path | None) -> Path | None:
    if root is not None:
        return Path(root).resolve()
    confined_to = os.environ.get(ROOT_VARIABLE)
    return Path(confined_to) if confined_to else None


def is_inside(path: Path, root: Path, follow: bool = True) -> bool:
    """Whether `path` is inside `root` (resolved) once every link on the way to it is followed;
    its last part too when `follow`, else only its folder's."""
    path = Path(os.path.abspath(path))
    where = path.resolve() if follow else path.parent.resolve() / path.name
    return where.is_relative_to(Path(root).resolve())


def _leads_out(step: Path, base: Path) -> bool:
    """Whether `step` is a link inside `base` to somewhere outside it."""
    return (
        step.is_symlink()
        and step.parent.resolve().is_relative_to(base)
        and not step.resolve().is_relative_to(base)
    )


def inside(path: Path, root: Path | None = None, follow: bool = True) -> Path:
    """`path`, absolute, when writing (`follow`) or removing (not `follow`: a link is removed,
    never what it points to) it stays inside the output folder `root` (by default the run's, see
    `confined`); else a ConfigError naming the link on the way that leads out."""
    path = Path(os.path.abspath(path))
    base = _root(root)
    if base is None or is_inside(path, base, follow):
        return path
    way = [*reversed(path.parents), path] if follow else [*reversed(path.parents)]
    for step in way:
        if _leads_out(step, base):
            raise ConfigError(
                f"{step}: is a link to {step.resolve()}, outside the output folder; Tartan "
                "does not write through links out of its folder: remove the link or choose "
                f"another --out (the output folder is {base})"
            )
    raise ConfigError(f"{path}: outside the output folder {base}; Tartan writes only inside it")


def write_bytes_atomic(path: Path, data: bytes, root: Path | None = None) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file.
    Never through a link out of the output folder (`inside`); a link at `path` itself that
    leads inside is replaced by the file. An OSError (a full disk, a refused folder) names
    `path`, as the user knows it, not the temporary file."""
    path = inside(path, root)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY, dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def write_text_atomic(path: Path, text: str, root: Path | None = None) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), root)


def remove_file(path: Path, root: Path | None = None) -> None:
    """Remove the file (or link: never what it points to) at `path`, inside the output folder."""
    inside(path, root, follow=False).unlink(missing_ok=True)


def remove_tree(folder: Path, root: Path | None = None) -> None:
    """Remove a folder of Tartan's own and what it holds; a link there is removed, not followed."""
    folder = inside(folder, root, follow=False)
    if folder.is_symlink():
        folder.unlink()
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _folders(place: Path, root: Path) -> Iterator[tuple[Path, list[os.DirEntry]]]:
    """(folder, its entries) for `place` and every folder in it, following only the links that
    stay inside `root` (each folder once), after refusing any that leads out (`inside`)."""
    seen: set[Path] = set()
    todo = [place]
    while todo:
        folder = inside(todo.pop(), root)
        real = folder.resolve()
        if real in seen or not real.is_dir():
            continue
        seen.add(real)
        with os.scandir(real) as it:
            entries = list(it)
        for e in entries:
            if e.is_symlink():
                inside(Path(folder, e.name), root)
            if e.is_dir():  # a link to a folder inside root too: what it holds is written
                todo.append(Path(folder, e.name))
        yield real, entries


def _temporary(e: os.DirEntry, of: str = "") -> bool:
    """Whether a folder's entry is a temporary file `write_bytes_atomic` made (for the file named
    `of`, when given)."""
    prefix = f".{of}." if of else "."
    return (
        e.name.startswith(prefix)
        and e.name.endswith(TEMPORARY)
        and e.is_file(follow_symlinks=False)
    )


def remove_stale_temporaries(root: Path, places: list[Path]) -> int:
    """Temporary files a killed run left behind (`write_bytes_atomic`'s `.NAME.*.tartan-tmp`),
    in the folders of `places` and beside its files, and nowhere else (a user's own files
    anywhere are left); only call it while holding the folder's lock. On the same walk, a
    ConfigError when any of `places` (files and folders Tartan writes inside `root`), the way to
    it, or anything in those folders, is a link that leads out of `root`. Returns how many
    temporaries were removed."""
    stale: set[Path] = set()
    for place in places:
        inside(place, root)
        if place.is_dir():
            for folder, entries in _folders(place, root):
                stale.update(Path(folder, e.name) for e in entries if _temporary(e))
        elif place.parent.is_dir():
            with os.scandir(inside(place.parent, root)) as it:
                stale.update(Path(place.parent, e.name) for e in it if _temporary(e, place.name))
    for p in stale:
        remove_file(p, root)
    return len(stale)


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


def _open_lock(folder: Path) -> int:
    """The lock file's descriptor: never a link's target (a link there is refused, the file it
    points to left as it was)."""
    path = folder / LOCK
    if path.is_symlink():
        where = "inside" if is_inside(path, folder) else "outside"
        raise ConfigError(
            f"{path}: is a link to {path.resolve()}, {where} the output folder; Tartan does not "
            "write through links out of its folder, nor its lock file through any: remove the "
            "link or choose another --out"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise ConfigError(
            f"{folder}: cannot write the output folder here ({exc.strerror or exc}); "
            "choose another --out"
        ) from None


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold `folder`/.tartan.lock while a run writes there: a second run on the same folder is
    refused with a clear message instead of interleaving its files. The operating system
    releases the lock when the process ends, however it ends, so a killed run never leaves the
    folder locked."""
    folder = Path(folder)
    fd = _open_lock(folder)
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
    book.properties.created = TEMPLATE_DATE
    buf = io.BytesIO()
    book.save(buf)
    write_bytes_atomic(path, _dated(buf.getvalue(), TEMPLATE_DATE))


#: a template's document dates: fixed, so the same template twice is the same workbook, and
#: before any quarter, so a template sent back unsaved has no receipt date of its own
TEMPLATE_DATE = datetime.datetime(2000, 1, 1)


def _dated(xlsx: bytes, when: datetime.datetime) -> bytes:
    """The workbook with its saved date (which openpyxl sets to the clock as it saves) and each
    part's date in the zip (likewise) fixed: `when`, and the zip format's earliest date."""
    import zipfile

    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    body,
                )
            part = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            part.compress_type, part.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            dst.writestr(part, body)
    return out.getvalue()


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
