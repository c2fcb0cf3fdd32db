"""Reading and writing files: returns in, reports out. Writes are atomic; inputs are read-only."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pipeline.core.errors import DataError

RETURN_SUFFIXES = (".csv",)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
            raise DataError(f"{p}: no such file or folder")
    return sorted(dict.fromkeys(found))


def _decode(path: Path, raw: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(f"{path}: cannot be read as text (expected a CSV file saved as UTF-8)")


def read_return(path: Path) -> pd.DataFrame:
    """One LA return as strings, exactly as sent, with `source_file` and `source_line` columns.

    `source_line` is the line number a person sees in a text editor or spreadsheet (the header is
    line 1). Blank lines are skipped, trailing empty columns dropped.
    """
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise DataError(
            f"{path}: the file is empty (expected a header row and one row per indicator)"
        )
    text = _decode(path, raw)
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            sep=delimiter,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV table ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.loc[:, [not (c.startswith("Unnamed:") and df[c].eq("").all()) for c in df.columns]]
    df["source_line"] = range(2, len(df) + 2)
    df = df[~df.drop(columns="source_line").eq("").all(axis=1)]
    df["source_file"] = str(path)
    return df.reset_index(drop=True)
