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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.benchmark import shown
from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import from_ees
from pipeline.core.vocabulary import FIGURE_COLUMNS, MISSING, OK, STATUS_SYMBOLS
from pipeline.edges.ees_mapping import (
    LAIT_POLARITY,
    NUMBER,
    YEAR_END,
    Column,
    Source,
    Spec,
    filters_of,
    lait_dictionary,
    load_spec,
)
from pipeline.edges.ees_rows import every_la, left_out, partners
from pipeline.edges.files import read_text_csv

# the mapping (pipeline.edges.ees_mapping) is read through this module too
__all__ = [
    "EES_COLUMNS",
    "ENGLAND",
    "LAIT_POLARITY",
    "LA_LEVEL",
    "NATIONAL_LEVEL",
    "REGION_LEVEL",
    "YEAR_END",
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
    is_number = text.str.match(NUMBER)
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

    #: the LA figures: FIGURE_COLUMNS with the LAs' current codes, and `shared`: for a jointly
    #: run service's figure, the codes of all its LAs (" / "), blank otherwise
    figures: pd.DataFrame
    #: DfE's own region (E12) and England figures: area_code, period, indicator_id,
    #: numerator, denominator, value, status
    published: pd.DataFrame
    #: LA rows no LA of the reference matched: file, la_code, la_name, reason, rows (the
    #: rows they are on), indicators (those that read them)
    left_out: pd.DataFrame
    #: every LA's numerator and denominator cell as published, for the cross-check: la_code,
    #: period, indicator_id, measure, number, status
    cells: pd.DataFrame
    #: (file relative to the source folder, path) of every file read
    files: list[tuple[str, Path]] = field(default_factory=list)


class Files:
    """Each file read once, its rows picked by filters (checked: every filter column exists,
    every filter value occurs, and the filters together pick some rows)."""

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
                    f"{_listed(c for c in df.columns if c != 'row')}"
                )
            absent = [w for w in wanted if not df[name].eq(w).any()]
            if absent:
                found = sorted(df[name].unique())[:12]
                raise ConfigError(
                    f"{where}: {path} has no rows with {name} = {absent[0]!r}; its values are "
                    f"{', '.join(repr(v) for v in found)}"
                )
            keep &= df[name].isin(wanted)
        if not keep.any():
            raise ConfigError(
                f"{where}: {path} has rows for each filter value but none for all of them "
                f"together ({', '.join(f'{k} = {_or(v)}' for k, v in col.filters)}); expected "
                "filters that pick the indicator's rows"
            )
        for name in col.columns:
            if name not in df.columns:
                raise ConfigError(
                    f"{where}: {path} has no column {name!r}; its columns are "
                    f"{_listed(c for c in df.columns if c != 'row')}"
                )
        return df[keep]


def _listed(names) -> str:
    return ", ".join(names)


def _or(values: tuple[str, ...]) -> str:
    return " or ".join(repr(v) for v in values)


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


def _cells(rows: pd.DataFrame, col: Column, path: Path) -> pd.DataFrame:
    """Each row's number and status for `col`: the sum of its columns, whose status is the
    first column's symbol (a sum with a withheld part is withheld)."""
    parts = [numbers(rows[c], rows["row"], str(path), c) for c in col.columns]
    out = parts[0].copy()
    for part in parts[1:]:
        out["number"] = out["number"] + part["number"]
        out["status"] = out["status"].where(out["status"].ne(OK), part["status"])
    return out


def _summed(frame: pd.DataFrame, keys: list[str], col: Column) -> pd.DataFrame:
    """A sum of rows (a filter with several values): one row per `keys`, its number the sum
    of the rows picked, its status the first symbol among them; a row of the sum absent from
    the file leaves the figure missing."""
    if not col.summed_filters:
        return frame.drop(columns=col.summed_filters)
    wanted = 1
    for _, values in col.filters:
        wanted *= len(values)
    g = frame.groupby(keys, sort=False)
    out = g.agg(number=("number", lambda v: v.sum(min_count=len(v))), row=("row", "first"))
    symbol = frame["status"].where(frame["status"].ne(OK))
    out["status"] = symbol.groupby([frame[k] for k in keys], sort=False).first()
    out["status"] = out["status"].fillna(OK)
    short = g.size() < wanted
    out.loc[short & out["status"].eq(OK), "status"] = MISSING
    out.loc[short, "number"] = np.nan
    extra = [c for c in frame.columns if c not in (*keys, "number", "status", "row")]
    extra = [c for c in extra if c not in col.summed_filters]
    if extra:
        out[extra] = g[extra].first()
    return out.reset_index()[[c for c in frame.columns if c not in col.summed_filters]]


def _column_frame(
    files: Files, col: Column, where: str, aliases: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple]]:
    """One mapped column: LA rows (la_code, period, number, status, row, shared), area rows
    (area_code, period, number, status) and the LA rows left out (file, row, code, name,
    reason)."""
    rows = files.rows(col, where)
    path = files.source / col.file
    periods = periods_of(rows, path)
    if col.years_earlier:
        periods = periods.map(lambda p: p.shifted(col.years_earlier))
    slugs = periods.map(lambda p: p.slug)
    cells = _cells(rows, col, path)
    la_frame, left = _la_rows(rows, slugs, cells, path, aliases)
    for name in col.summed_filters:
        la_frame[name] = rows.loc[la_frame.index, name]
    _one_row_per_la_and_year(la_frame, where, path, col.summed_filters)
    la_frame = _summed(la_frame, ["la_code", "period"], col)
    return la_frame, _area_rows(rows, slugs, cells, col), [(col.file, *x) for x in left]


def _current_codes(
    la: pd.DataFrame, code_col: str, aliases: Mapping[str, str]
) -> tuple[pd.Series, pd.Series]:
    """Each LA row's current code (NaN when the reference does not know it) and, for a
    jointly run service's one row (``E06000061 / E06000062``), the current codes of all its
    LAs joined by " / " (`shared`, blank otherwise): the row is the first LA's."""
    raw = la[code_col]
    codes = raw.map(aliases)
    if "old_la_code" in la.columns:  # a code the reference does not list: try the old one
        codes = codes.fillna(la["old_la_code"].map(aliases))
    shared = pd.Series("", index=la.index, dtype=object)
    for idx in la.index[codes.isna() & raw.str.contains("/", regex=False)]:
        mapped = [aliases.get(part.strip()) for part in raw[idx].split("/")]
        if all(mapped) and len(set(mapped)) == len(mapped) > 1:
            codes[idx], shared[idx] = mapped[0], " / ".join(mapped)
    return codes, shared


def _la_rows(
    rows: pd.DataFrame,
    slugs: pd.Series,
    cells: pd.DataFrame,
    path: Path,
    aliases: Mapping[str, str],
) -> tuple[pd.DataFrame, list[tuple]]:
    """The LA rows of one column under their current codes (la_code, period, number, status,
    row, shared), and those left out (row, code, name, reason): a row whose LA code the
    reference does not know is left out and reported, never guessed."""
    la = rows[rows["geographic_level"].eq(LA_LEVEL)]
    code_col = code_column(rows, path)
    codes, shared = _current_codes(la, code_col, aliases)
    unknown = codes.isna()
    left = [
        (int(la["row"][idx]), la[code_col][idx], la["la_name"][idx] if "la_name" in la else "",
         cells.at[idx, "status"] == OK)
        for idx in la.index[unknown]
    ]  # fmt: skip
    keep = la.index[~unknown]
    la_frame = pd.DataFrame(
        {
            "la_code": codes[keep],
            "period": slugs[keep],
            "number": cells.loc[keep, "number"],
            "status": cells.loc[keep, "status"],
            "row": la.loc[keep, "row"],
            "shared": shared[keep],
        }
    )
    return la_frame, left


def _one_row_per_la_and_year(
    la_frame: pd.DataFrame, where: str, path: Path, summed: list[str]
) -> None:
    """Two rows for one LA and year (and summed filter value) mean the mapping's filters do
    not pick one: an error."""
    keys = ["la_code", "period", *summed]
    dupes = la_frame.duplicated(keys, keep=False)
    if dupes.any():
        d = la_frame[dupes].sort_values([*keys, "row"]).iloc[:2]
        raise ConfigError(
            f"{where}: {path} rows {d['row'].iloc[0]} and {d['row'].iloc[1]} are both "
            f"{d['la_code'].iloc[0]} in {d['period'].iloc[0]}; expected one row per LA and "
            "year: add a filter that tells them apart"
        )


def _area_rows(
    rows: pd.DataFrame, slugs: pd.Series, cells: pd.DataFrame, col: Column
) -> pd.DataFrame:
    """DfE's own region (E12) and England rows of one column (area_code, period, number,
    status); Inner and Outer London (E13) are neither."""
    level = rows["geographic_level"]
    rc = rows["region_code"] if "region_code" in rows.columns else pd.Series("", index=rows.index)
    region = level.eq(REGION_LEVEL) & rc.str.startswith("E12")  # E13: Inner / Outer London
    national = level.eq(NATIONAL_LEVEL)
    area_code = pd.Series(np.where(national, ENGLAND, rc), index=rows.index)
    keep = region | national
    out = pd.DataFrame(
        {
            "area_code": area_code[keep],
            "period": slugs[keep],
            "number": cells.loc[keep, "number"],
            "status": cells.loc[keep, "status"],
            "row": rows.loc[keep, "row"],
        }
    )
    for name in col.summed_filters:
        out[name] = rows.loc[keep, name]
    out = out.drop_duplicates(["area_code", "period", *col.summed_filters])
    return _summed(out, ["area_code", "period"], col).drop(columns="row")


def extract(
    spec: Spec,
    source: Path,
    catalogue: Catalogue,
    aliases: Mapping[str, str],
    las: Sequence[str] = (),
) -> Extract:
    """Every mapped indicator's LA figures and DfE's own area figures, from `source`; values
    without a published column are computed as `catalogue` says.

    `aliases`: every code an LA has in the files -> its code in the reference (former LAs'
    codes included: their figures count in their region's totals); `las`: the current LAs,
    each of which has a figure (perhaps missing) in every year an indicator has.

    A jointly run service's one row is every one of its LAs' figure, `shared` naming them
    all; its cells count once (as the first LA's) in the cross-check."""
    files = Files(source)
    la_parts, area_parts, cell_parts, left = [], [], [], []
    for s in spec.sources:
        las_of, areas = {}, {}
        for role, col in s.columns.items():
            la_frame, area_frame, gone = _column_frame(files, col, f"{s.where}: {role}", aliases)
            las_of[role] = la_frame.set_index(["la_code", "period"])
            areas[role] = area_frame.set_index(["area_code", "period"])
            left += [(*x, s.id) for x in gone]
            if role in ("numerator", "denominator"):
                cell_parts.append(
                    la_frame[["la_code", "period", "number", "status"]].assign(
                        indicator_id=s.id, measure=role
                    )
                )
        figures = _combine(s, las_of, catalogue)
        la_parts.append(every_la(partners(figures), las))
        area_parts.append(_combine(s, areas, catalogue, compute=False))
    figures = pd.concat(la_parts, ignore_index=True)[[*FIGURE_COLUMNS, "shared"]]
    published = pd.concat(area_parts, ignore_index=True)
    cells = pd.concat(cell_parts, ignore_index=True)
    return Extract(figures, published, left_out(left), cells, sorted(files.read.items()))


def _combine(
    s: Source, parts: dict[str, pd.DataFrame], catalogue: Catalogue, compute: bool = True
) -> pd.DataFrame:
    """The roles of one indicator side by side, on the numerator's rows (a year whose
    denominator is in another file that does not reach it has no figure: status x). Without
    a published value column the value is computed (`compute`) or left blank (DfE's own area
    rows: only what DfE published is compared). A jointly run service's figure needs every
    part from the joint row (a joint numerator over one LA's own denominator is no figure)."""
    num = parts["numerator"]
    out = pd.DataFrame(index=num.index)
    statuses = []
    for role in ("numerator", "denominator", "value"):
        if role not in parts:
            continue
        p = parts[role].reindex(num.index)
        out[role] = p["number"]
        statuses.append(p["status"].fillna("x"))  # not in the other file: not available
        if compute:
            same = p["shared"].fillna("").eq(num["shared"])
            statuses[-1] = statuses[-1].where(same | statuses[-1].ne(OK), MISSING)
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
    out["shared"] = num["shared"]
    if "value" not in parts:  # computed as the catalogue says: numerator / denominator x scale
        ind = catalogue[s.id]
        raw = out["numerator"] / out["denominator"].where(out["denominator"] != 0) * ind.scale
        out["value"] = shown(raw, ind.decimals)
    # a figure holds a number only with all its parts
    ok = out["status"].eq(OK) & out[["numerator", "denominator", "value"]].notna().all(axis=1)
    out.loc[~ok & out["status"].eq(OK), "status"] = MISSING
    out.loc[~ok, ["numerator", "denominator", "value"]] = np.nan
    out = out.reset_index()
    out["indicator_id"] = s.id
    return out
