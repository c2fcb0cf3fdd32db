"""CSV text of row subsets, formatted once per run.

Every report's slice and figures CSV is a subset of the same few benchmarked tables. Formatting
values is most of what `DataFrame.to_csv` costs, and it was most of the driver's planning time:
here each table's rows are formatted once, and a report's CSV is joined from its rows' text,
byte for byte what `to_csv` writes for the subset.
"""

from __future__ import annotations

import csv
import io
from functools import cached_property

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.core.significance import INTERVAL_COLUMNS
from pipeline.core.spreadsheet import inert

#: a report's figures CSV: these columns, then (in a pack) `relation`, then the rest
HEAD = ["period", "area_type", "area_code", "area_name", "indicator_id", "indicator"]
HEAD += ["numerator", "denominator", "value", "status"]
#: every figure's confidence limits at 95% and 99.8% (blank: no count model, no counts,
#: withheld, or an area whose counts a report does not publish) and whether it is better,
#: similar or worse than England; an LA's also than its region and its SN mean
LIMITS = [*INTERVAL_COLUMNS, "vs_england"]
LA_ONLY = ["vs_region", "vs_sn"]
LA_ONLY += ["band", "rank_region", "las_ranked_region", "rank_national", "las_ranked_national"]
LA_ONLY += ["worst_band_run", "sn_mean", "sn_median", "sn_count"]
#: what moved, and whether the change is significant ('significant', 'not significant', or
#: blank when it was not tested)
MOVED = ["previous_value", "change_previous", "change_previous_sig"]
MOVED += ["year_earlier_value", "change_year", "change_year_sig", "trend"]
AREA_ONLY = ["las_contributing", "las_in_area"]
TAIL = LIMITS + LA_ONLY + MOVED + AREA_ONLY
#: columns only some reports' figures have, last when they do (the datapack's: the year a
#: figure is as at, and a jointly run service's LA codes)
OPTIONAL = ["as_at", "shared"]
#: text cells (the others are numbers)
TEXT = ["period", "area_type", "area_code", "area_name", "indicator_id", "indicator", "status"]
TEXT += ["band", "trend", "vs_england", "vs_region", "vs_sn"]
TEXT += ["change_previous_sig", "change_year_sig"]
#: whole numbers, written without a decimal point
COUNTS = ["sn_count", "worst_band_run", "rank_region", "las_ranked_region", "rank_national"]
COUNTS += ["las_ranked_national", *AREA_ONLY]
#: within a period: the LA (or every LA), its neighbours, the region, England
ORDER = {"this LA": 0, "la": 0, "neighbour": 1, "region": 2, "england": 3}
#: every number but counts and ranks, to 12 significant figures
FLOATS = "%.12g"


def _float_cells(values: np.ndarray, float_format: str | None) -> np.ndarray:
    """A float64 column's cells as `to_csv` writes them: '' for NaN, else the value with
    `float_format`, or without one as Python's repr (numpy's text of a float64, which pandas
    writes, is the same). Each distinct value (bit for bit: -0.0 is not 0.0) is formatted
    once, in one pass: a few times faster than pandas, which checks every value on its own;
    the text of a number never needs quoting."""
    codes, distinct = pd.factorize(values.view(f"i{values.itemsize}"))
    fmt = (lambda v: float_format % v) if float_format else repr
    text = [fmt(v) if v == v else "" for v in distinct.view(values.dtype).tolist()]
    return np.array(text, dtype=object)[codes]


def _lines(frame: pd.DataFrame) -> tuple[str, np.ndarray]:
    """The header and each row's text in `frame.to_csv`, by position (without line ends)."""
    text = frame.to_csv(index=False, lineterminator="\n")
    lines = text.split("\n")
    if len(lines) != len(frame) + 2:
        # a value spans lines: split record by record, as the csv module that wrote them reads
        # and writes them
        lines = []
        for record in csv.reader(io.StringIO(text)):
            one = io.StringIO()
            csv.writer(one, lineterminator="\n").writerow(record)
            lines.append(one.getvalue()[:-1])
        lines.append("")
    return lines[0], np.array(lines[1:-1], dtype=object)


def _written_cells(column: pd.Series) -> np.ndarray:
    """Each value's text as `to_csv` writes it among other cells (alone on its line, the csv
    module writes an empty value as \"\", to tell it from a blank line)."""
    cells = _lines(column.to_frame())[1]
    cells[cells == '""'] = ""
    return cells


def cells(column: pd.Series, float_format: str | None = None) -> np.ndarray:
    """Each value's text as a cell of `to_csv(float_format=float_format)`, by position. Floats
    are formatted here (`_float_cells`: float64 without a format, and any numpy float with
    one); any other column is written by pandas, each distinct value once in a column whose
    equal values are written alike (words, whole numbers, booleans; not floats, whose -0.0 is
    0.0, nor objects, whose 1, 1.0 and True are equal)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and (float_format or dtype.itemsize == 8):
        return _float_cells(column.to_numpy(), float_format)
    if dtype.kind not in "iub" and not isinstance(dtype, pd.StringDtype):
        return _written_cells(column)
    codes, first = _distinct(column)
    return _written_cells(column.iloc[first])[codes]


def _distinct(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's number among the column's distinct values (NA one of them), and the
    position of each distinct value's first row."""
    codes, _ = pd.factorize(column, use_na_sentinel=False)
    return codes, np.unique(codes, return_index=True)[1]


def _each_once(column: pd.Series, f) -> pd.Series:
    """`column.map(f)`, `f` called once per distinct value in a column of words (on a row of
    each, for pandas to make the same column of what it returns)."""
    if not isinstance(column.dtype, pd.StringDtype):
        return column.map(f)
    codes, first = _distinct(column)
    mapped = column.iloc[first].map(f)
    return pd.Series(mapped.array.take(codes), index=column.index, name=column.name)


def _rows(columns: list[np.ndarray]) -> np.ndarray:
    """Each row's line from its cells (a line of one empty cell is \"\", as the csv module
    writes it)."""
    rows = zip(*(c.tolist() for c in columns), strict=True)
    return np.array([",".join(row) or '""' for row in rows], dtype=object)


def _joined(header: str, lines) -> str:
    return "\n".join([header, *lines]) + "\n"


def positions(labels: pd.Index, rows: pd.DataFrame) -> np.ndarray:
    """The positions among a table's row `labels` of `rows` (known by their labels, each one
    of the table's)."""
    at = labels.get_indexer(rows.index)
    if (at < 0).any():
        raise KeyError(f"{list(rows.index[at < 0][:5])}: not a row of the table")
    return at


class RowsText:
    """A table's rows as CSV lines: `csv(subset)` is `subset.to_csv(index=False,
    lineterminator="\\n", float_format=float_format)` for rows selected from the table,
    unmodified, with all its columns (the rows are known by their index labels). Each
    column is formatted once, when first needed, for the table and any of its `columns`."""

    def __init__(
        self,
        frame: pd.DataFrame,
        float_format: str | None = None,
        done: dict[str, np.ndarray] | None = None,
    ):
        if not frame.index.is_unique:
            raise ValueError("a table's rows need labels of their own")
        self.frame = frame
        self.float_format = float_format
        #: column -> its cells, shared with the text of the table's other columns (in arrays,
        #: which the garbage collector does not go through: a run holds millions of cells)
        self.done: dict[str, np.ndarray] = {} if done is None else done

    def columns(self, names: list[str]) -> RowsText:
        """The text of the table's `names` columns, from the same cells."""
        return RowsText(self.frame[names], self.float_format, self.done)

    def cells(self, name: str) -> np.ndarray:
        if name not in self.done:
            self.done[name] = cells(self.frame[name], self.float_format)
        return self.done[name]

    @cached_property
    def _text(self) -> tuple[str, np.ndarray]:
        header = _lines(self.frame.iloc[:0])[0]
        return header, _rows([self.cells(c) for c in self.frame.columns])

    def csv(self, subset: pd.DataFrame) -> str:
        if not subset.columns.equals(self.frame.columns):
            raise ValueError("not a subset of the table's columns")
        header, rows = self._text
        return _joined(header, rows[positions(self.frame.index, subset)].tolist())


def layout(
    la_rows: pd.DataFrame,
    areas: pd.DataFrame,
    la_names: dict[str, str],
    area_names: dict[str, str],
    catalogue: Catalogue,
) -> pd.DataFrame:
    """LA rows and area rows in the figures CSV's columns (`relation` aside), LA rows first,
    each part in its own order. `area_names`: region code -> name (England is named here)."""
    la = la_rows.assign(area_type="la", area_name=la_rows["la_code"].map(la_names)).rename(
        columns={"la_code": "area_code"}
    )
    ar = areas.assign(area_name=areas["area_code"].map({**area_names, "england": "England"}))
    extra = [c for c in OPTIONAL if c in la_rows.columns]
    ar = ar.assign(**{c: "" for c in extra if c not in ar.columns})
    cols = [c for c in HEAD if c != "indicator"]
    df = pd.concat(
        [
            la[cols + LIMITS + LA_ONLY + MOVED + extra],
            ar[cols + LIMITS + MOVED + AREA_ONLY + extra],
        ],
        ignore_index=True,
    )
    df.insert(5, "indicator", df["indicator_id"].map({i.id: i.label for i in catalogue}))
    for col in COUNTS:
        df[col] = df[col].astype("Int64")
    for col in TEXT:  # names and labels come from outside: a spreadsheet must not run them
        df[col] = _each_once(df[col], inert)
    return df


def _sort_keys(columns: list[list], domains: list) -> np.ndarray:
    """Each row's place in an order by `columns` (each a list of values, one a row, compared as
    Python compares them), as one integer: each value ranked among its column's `domain`."""
    key, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for values, domain in zip(columns, domains, strict=True):
        rank = {v: i for i, v in enumerate(sorted(set(domain)))}
        size *= len(rank)
        if size >= 2**63:
            raise ValueError("too many distinct keys to order rows by one integer")
        key = key * len(rank) + np.array([rank[v] for v in values], dtype=np.int64)
    return key


class FiguresText:
    """The figures CSV of any report, from the run's benchmarked `las` and published `areas`:
    one row per area, period and indicator, in order of period, then the LA (or every LA), its
    neighbours (their own figures and band only), the region and England, then area and
    indicator."""

    def __init__(
        self,
        las: pd.DataFrame,
        areas: pd.DataFrame,
        la_names: dict[str, str],
        area_names: dict[str, str],
        catalogue: Catalogue,
        neighbour_columns: list[str],
    ):
        whole = layout(las, areas, la_names, area_names, catalogue)
        tail_columns = TAIL + [c for c in OPTIONAL if c in las.columns]
        self.las, self.areas, n = las.index, areas.index, len(las)
        text = {c: cells(whole[c], FLOATS) for c in HEAD + tail_columns}
        self.head = _rows([text[c] for c in HEAD])
        self.tail = _rows([text[c] for c in tail_columns])
        # a neighbour's row shows its own figures and band, not its comparisons: its other
        # cells are blank
        blank = np.full(n, "", dtype=object)
        self.near = _rows([text[c][:n] if c in neighbour_columns else blank for c in tail_columns])
        self.header = (_lines(whole[HEAD].iloc[:0])[0], _lines(whole[tail_columns].iloc[:0])[0])
        self.area_type = whole["area_type"].to_numpy()
        # each row's place by period, area type (an area type it does not know: an error), area
        # and indicator; and each LA row's as a neighbour's
        ordinal = {p: parse_slug(p).ordinal for p in whole["period"].unique()}
        periods = whole["period"].map(ordinal).tolist()
        codes, indicators = whole["area_code"].tolist(), whole["indicator_id"].tolist()
        domains = [periods, ORDER.values(), codes, indicators]
        orders = [ORDER[t] for t in whole["area_type"]]
        self.key = _sort_keys([periods, orders, codes, indicators], domains)
        near = [periods[:n], [ORDER["neighbour"]] * n, codes[:n], indicators[:n]]
        self.near_key = _sort_keys(near, domains)

    def csv(
        self,
        la_rows: pd.DataFrame,
        areas: pd.DataFrame,
        neighbours: pd.DataFrame | None = None,
    ) -> str:
        """A regional report's CSV (`neighbours` None), or a pack's: then `la_rows` are the
        LA's own and a `relation` column says 'this LA', 'neighbour', 'region' or 'england'."""
        pack = neighbours is not None
        own = positions(self.las, la_rows)
        at = positions(self.areas, areas) + len(self.las)
        lines = [self.head[own] + (",this LA," if pack else ",") + self.tail[own]]
        keys = [self.key[own]]
        if pack:
            near = positions(self.las, neighbours)
            lines.append(self.head[near] + ",neighbour," + self.near[near])
            keys.append(self.near_key[near])
        lines.append(
            self.head[at] + ("," + self.area_type[at] + "," if pack else ",") + self.tail[at]
        )
        keys.append(self.key[at])
        order = np.argsort(np.concatenate(keys), kind="stable")  # stable: as listed, when equal
        head, tail = self.header
        header = head + (",relation" if pack else "") + "," + tail
        return _joined(header, np.concatenate(lines)[order].tolist())
