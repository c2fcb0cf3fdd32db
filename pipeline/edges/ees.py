"""DfE's published statistics: Explore Education Statistics (EES) tidy CSVs, read as downloaded.

A declarative mapping (``data_contracts/datapack.yaml``, read by :mod:`pipeline.edges.ees_mapping`,
whose names this module also offers) says, per indicator, which file, which rows (filter values)
and which columns are its numerator, denominator and published value; this module turns any EES
tidy CSV into Tartan's figures (``FIGURE_COLUMNS``), one row per LA, year and indicator.
What is real in those files is handled here, not cleaned by hand:

- a UTF-8 byte-order mark on some files, and columns in a different order in each;
- status symbols in number columns (c, x, z, u, low, k): the figure stays missing with its
  symbol, never zero; any other text is an error naming the file, row, column and value;
- national, regional and LA rows in one file: only ``Local authority`` rows are LA figures;
  ``Regional`` rows with an E12 code and ``National`` rows are DfE's own region and England
  figures, kept apart (``Extract.published``) for the cross-check; Inner and Outer London
  (E13) rows are neither, and an LA's region comes from the reference, not the file;
- LAs that no longer exist (Cumbria, Northamptonshire) are left out and listed as such;
- an LA known by more than one code (Barnsley and Sheffield from 2025) is one LA: every code
  the reference lists for it maps to its current code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import from_ees
from pipeline.core.vocabulary import FIGURE_COLUMNS, MISSING, OK, STATUS_SYMBOLS
from pipeline.edges.ees_mapping import Column, Source, Spec, filters_of, load_spec
from pipeline.edges.files import read_text_csv

# the mapping (pipeline.edges.ees_mapping) is read through this module too
__all__ = [
    "EES_COLUMNS",
    "ENGLAND",
    "LAIT_POLARITY",
    "LA_LEVEL",
    "NATIONAL_LEVEL",
    "REGION_LEVEL",
    "Column",
    "Extract",
    "Files",
    "Source",
    "Spec",
    "code_column",
    "extract",
    "filters_of",
    "lait_dictionary",
    "load_spec",
    "numbers",
    "periods_of",
    "read_tidy",
]

LA_LEVEL, REGION_LEVEL, NATIONAL_LEVEL = "Local authority", "Regional", "National"
ENGLAND = "england"  # the area code of England in the benchmark's areas
#: the columns every EES tidy CSV has
EES_COLUMNS = ("time_period", "time_identifier", "geographic_level")
_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
#: LAIT's polarity words -> Tartan's
LAIT_POLARITY = {"high": "high", "low": "low", "-": "neutral", "": "neutral"}


# --------------------------------------------------------------------------- reading files


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return _read(Path(path))


def read_tidy(path: Path) -> pd.DataFrame:
    """An EES tidy CSV, every cell as stripped text, with ``row`` (the line it is on; the
    header is line 1). A byte-order mark is dropped; columns are found by name, in any order."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise ConfigError(
            f"{path}: not found; expected an EES tidy CSV (see the mapping's file entries)"
        ) from None
    return _read_cached(str(path), st.st_mtime_ns, st.st_size).copy()


def _read(path: Path) -> pd.DataFrame:
    df = read_text_csv(path, DataError, "an EES tidy CSV")
    missing = [c for c in EES_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; expected an EES tidy CSV "
            f"(columns {', '.join(EES_COLUMNS)}, ...)"
        )
    return df


def numbers(cells: pd.Series, rows: pd.Series, where: str, column: str) -> pd.DataFrame:
    """Each cell as a number and a status: a number is status "" (OK); an EES symbol (c, x,
    z, u, low, k) is missing with that status; a blank is missing. Anything else is a
    DataError naming the file, row, column and value."""
    text = cells.astype(str).str.strip()
    is_number = text.str.match(_NUMBER)
    symbol = text.str.lower()
    bad = ~is_number & text.ne("") & ~symbol.isin(list(STATUS_SYMBOLS))
    if bad.any():
        shown = [f"row {r}: {v!r}" for r, v in zip(rows[bad][:5], text[bad][:5], strict=True)]
        more = f" (and {int(bad.sum()) - 5} more)" if bad.sum() > 5 else ""
        raise DataError(
            f"{where}, column {column}: {'; '.join(shown)}{more} is not a number; expected a "
            f"number or one of EES's symbols ({', '.join(STATUS_SYMBOLS)})"
        )
    value = pd.to_numeric(text.where(is_number), errors="coerce").astype(float)
    status = np.where(is_number, OK, np.where(text.eq(""), MISSING, symbol))
    return pd.DataFrame({"number": value, "status": status}, index=cells.index)


# --------------------------------------------------------------------------- extraction


@dataclass
class Extract:
    """What a mapping gives from the source folder."""

    #: the LA figures: FIGURE_COLUMNS, with the LAs' current codes
    figures: pd.DataFrame
    #: DfE's own region (E12) and England figures: area_code, period, indicator_id,
    #: numerator, denominator, value, status
    published: pd.DataFrame
    #: LA rows left out: la_code, la_name, reason, rows
    left_out: pd.DataFrame
    #: every LA's numerator and denominator cell as published, for the cross-check: la_code,
    #: period, indicator_id, measure, number, status
    cells: pd.DataFrame
    #: (file relative to the source folder, path) of every file read
    files: list[tuple[str, Path]] = field(default_factory=list)


class Files:
    """Each file read once, its rows picked by filters (checked: every filter column exists
    and every filter value occurs)."""

    def __init__(self, source: Path):
        self.source = Path(source)
        self.read: dict[str, Path] = {}

    def rows(self, col: Column, where: str) -> pd.DataFrame:
        path = self.source / col.file
        df = read_tidy(path)
        self.read[col.file] = path
        keep = pd.Series(True, index=df.index)
        for name, wanted in col.filters:
            if name not in df.columns:
                raise ConfigError(
                    f"{where}: {path} has no column {name!r} to filter on; its columns are "
                    f"{', '.join(c for c in df.columns if c != 'row')}"
                )
            if not df[name].eq(wanted).any():
                found = sorted(df[name].unique())[:12]
                raise ConfigError(
                    f"{where}: {path} has no rows with {name} = {wanted!r}; its values are "
                    f"{', '.join(repr(v) for v in found)}"
                )
            keep &= df[name].eq(wanted)
        if col.column not in df.columns:
            raise ConfigError(
                f"{where}: {path} has no column {col.column!r}; its columns are "
                f"{', '.join(c for c in df.columns if c != 'row')}"
            )
        return df[keep]


def periods_of(rows: pd.DataFrame, path: Path) -> pd.Series:
    """Each row's period slug (checked once per distinct time_period / time_identifier)."""
    pairs = rows[["time_period", "time_identifier"]].drop_duplicates()
    slugs = {}
    for tp, ti in pairs.itertuples(index=False):
        try:
            slugs[(tp, ti)] = from_ees(tp, ti)
        except DataError as exc:
            first = rows.loc[rows["time_period"].eq(tp) & rows["time_identifier"].eq(ti), "row"]
            raise DataError(f"{path}, row {first.iloc[0]}: {exc}") from None
    keys = list(zip(rows["time_period"], rows["time_identifier"], strict=True))
    return pd.Series([slugs[k] for k in keys], index=rows.index)


def code_column(rows: pd.DataFrame, path: Path) -> str:
    for name in ("new_la_code", "la_code"):
        if name in rows.columns:
            return name
    raise DataError(f"{path}: no new_la_code column; expected LA rows to carry their LA code")


def _column_frame(
    files: Files, col: Column, where: str, aliases: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str, str]]]:
    """One mapped column: LA rows (la_code, period, number, status, row), area rows
    (area_code, period, number, status) and the LA rows left out (code, name, reason)."""
    rows = files.rows(col, where)
    path = files.source / col.file
    periods = periods_of(rows, path)
    if col.years_earlier:
        periods = periods.map(lambda p: p.shifted(col.years_earlier))
    slugs = periods.map(lambda p: p.slug)
    cells = numbers(rows[col.column], rows["row"], str(path), col.column)
    la_frame, left = _la_rows(rows, slugs, cells, path, aliases)
    _one_row_per_la_and_year(la_frame, where, path)
    return la_frame, _area_rows(rows, slugs, cells), left


def _la_rows(
    rows: pd.DataFrame,
    slugs: pd.Series,
    cells: pd.DataFrame,
    path: Path,
    aliases: Mapping[str, str],
) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """The LA rows of one column under their current codes (la_code, period, number, status,
    row), and those left out (code, name, reason): an LA code the reference does not know is
    an error when its row holds a figure."""
    la = rows[rows["geographic_level"].eq(LA_LEVEL)]
    code_col = code_column(rows, path)
    raw_codes = la[code_col]
    codes = raw_codes.map(aliases)
    if "old_la_code" in la.columns:  # a code the reference does not list: try the old one
        codes = codes.fillna(la["old_la_code"].map(aliases))
    left: list[tuple[str, str, str]] = []
    unknown = codes.isna()
    if unknown.any():
        for idx in la.index[unknown]:
            code = raw_codes[idx]
            name = la["la_name"][idx] if "la_name" in la.columns else ""
            if cells.at[idx, "status"] == OK:
                raise DataError(
                    f"{path}, row {la['row'][idx]}, column {code_col}: LA code {code!r} "
                    f"({name}) is not in the reference list of local authorities nor a former "
                    "LA; expected one of the reference's codes"
                )
            else:
                left.append((code, name, "not in the reference list, and has no figures"))
    la_frame = pd.DataFrame(
        {
            "la_code": codes[~unknown],
            "period": slugs[la.index[~unknown]],
            "number": cells.loc[la.index[~unknown], "number"],
            "status": cells.loc[la.index[~unknown], "status"],
            "row": la.loc[~unknown, "row"],
        }
    )
    return la_frame, left


def _one_row_per_la_and_year(la_frame: pd.DataFrame, where: str, path: Path) -> None:
    """Two rows for one LA and year mean the mapping's filters do not pick one: an error."""
    dupes = la_frame.duplicated(["la_code", "period"], keep=False)
    if dupes.any():
        d = la_frame[dupes].sort_values(["la_code", "period", "row"]).iloc[:2]
        raise ConfigError(
            f"{where}: {path} rows {d['row'].iloc[0]} and {d['row'].iloc[1]} are both "
            f"{d['la_code'].iloc[0]} in {d['period'].iloc[0]}; expected one row per LA and "
            "year: add a filter that tells them apart"
        )


def _area_rows(rows: pd.DataFrame, slugs: pd.Series, cells: pd.DataFrame) -> pd.DataFrame:
    """DfE's own region (E12) and England rows of one column (area_code, period, number,
    status); Inner and Outer London (E13) are neither."""
    level = rows["geographic_level"]
    rc = rows["region_code"] if "region_code" in rows.columns else pd.Series("", index=rows.index)
    region = level.eq(REGION_LEVEL) & rc.str.startswith("E12")  # E13: Inner / Outer London
    national = level.eq(NATIONAL_LEVEL)
    area_code = pd.Series(np.where(national, ENGLAND, rc), index=rows.index)
    keep = region | national
    return pd.DataFrame(
        {
            "area_code": area_code[keep],
            "period": slugs[keep],
            "number": cells.loc[keep, "number"],
            "status": cells.loc[keep, "status"],
        }
    ).drop_duplicates(["area_code", "period"])


def extract(
    spec: Spec,
    source: Path,
    catalogue: Catalogue,
    aliases: Mapping[str, str],
) -> Extract:
    """Every mapped indicator's LA figures and DfE's own area figures, from `source`; values
    without a published column are computed as `catalogue` says.

    `aliases`: every code an LA has in the files -> its code in the reference (former LAs'
    codes included: their figures count in their region's totals)."""
    files = Files(source)
    la_parts, area_parts, cell_parts, left = [], [], [], []
    for s in spec.sources:
        las, areas = {}, {}
        for role, col in s.columns.items():
            la_frame, area_frame, gone = _column_frame(files, col, f"{s.where}: {role}", aliases)
            las[role] = la_frame.set_index(["la_code", "period"])
            areas[role] = area_frame.set_index(["area_code", "period"])
            if role == "numerator":
                left += gone
            if role in ("numerator", "denominator"):
                cell_parts.append(
                    la_frame[["la_code", "period", "number", "status"]].assign(
                        indicator_id=s.id, measure=role
                    )
                )
        la_parts.append(_combine(s, las, catalogue))
        area_parts.append(_combine(s, areas, catalogue, compute=False))
    figures = pd.concat(la_parts, ignore_index=True)[FIGURE_COLUMNS]
    published = pd.concat(area_parts, ignore_index=True)
    left_out = (
        pd.DataFrame(left, columns=["la_code", "la_name", "reason"])
        .groupby(["la_code", "la_name", "reason"], as_index=False)
        .size()
        .rename(columns={"size": "rows"})
    )
    cells = pd.concat(cell_parts, ignore_index=True)
    return Extract(figures, published, left_out, cells, sorted(files.read.items()))


def _combine(
    s: Source, parts: dict[str, pd.DataFrame], catalogue: Catalogue, compute: bool = True
) -> pd.DataFrame:
    """The roles of one indicator side by side, on the numerator's rows (a year whose
    denominator is in another file that does not reach it has no figure: status x). Without
    a published value column the value is computed (`compute`) or left blank (DfE's own area
    rows: only what DfE published is compared)."""
    num = parts["numerator"]
    out = pd.DataFrame(index=num.index)
    statuses = []
    for role in ("numerator", "denominator", "value"):
        if role not in parts:
            continue
        p = parts[role].reindex(num.index)
        out[role] = p["number"]
        statuses.append(p["status"].fillna("x"))  # not in the other file: not available
    # a figure's status is its first column's symbol (numerator, then denominator, then value)
    status = statuses[0]
    for st in statuses[1:]:
        status = status.where(status.ne(OK), st)
    out["status"] = status
    if not compute:  # DfE's own area figures: each number as published, whatever the others
        if "value" not in parts:
            out["value"] = np.nan
        out = out.reset_index()
        out["indicator_id"] = s.id
        return out
    if "value" not in parts:  # computed as the catalogue says: numerator / denominator x scale
        ind = catalogue[s.id]
        raw = out["numerator"] / out["denominator"].where(out["denominator"] != 0) * ind.scale
        out["value"] = raw.round(ind.decimals)
    # a figure holds a number only with all its parts
    ok = out["status"].eq(OK) & out[["numerator", "denominator", "value"]].notna().all(axis=1)
    out.loc[~ok & out["status"].eq(OK), "status"] = MISSING
    out.loc[~ok, ["numerator", "denominator", "value"]] = np.nan
    out = out.reset_index()
    out["indicator_id"] = s.id
    return out


def lait_dictionary(path: Path) -> dict[str, tuple[str, int | None]]:
    """LAIT's data dictionary: measure_short -> (polarity, decimals or None). LAIT's High and
    Low are Tartan's high and low; its "-" (no judgement) is neutral."""
    df = read_text_csv(path, ConfigError, "LAIT's data dictionary (see reference.lait)")
    missing = [c for c in ("measure_short", "Polarity", "dps") if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: no column(s) {', '.join(missing)}")
    out = {}
    for rec in df.to_dict("records"):
        word = rec["Polarity"].lower()
        if word not in LAIT_POLARITY:
            raise ConfigError(
                f"{path}, row {rec['row']}, column Polarity: {rec['Polarity']!r}; expected "
                "High, Low or -"
            )
        decimals = int(float(rec["dps"])) if _NUMBER.match(rec["dps"]) else None
        out[rec["measure_short"]] = (LAIT_POLARITY[word], decimals)
    return out
