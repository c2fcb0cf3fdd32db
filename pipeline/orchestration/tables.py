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


def _floats_as_text(frame: pd.DataFrame, float_format: str) -> pd.DataFrame:
    """`frame` with each float column as the text `to_csv` writes of it with `float_format`
    ('' for NaN): formatted in one pass, a few times faster than pandas' formatter, which
    checks every value on its own."""
    floats = [c for c, t in frame.dtypes.items() if isinstance(t, np.dtype) and t.kind == "f"]
    return frame.assign(
        **{c: [float_format % v if v == v else "" for v in frame[c].tolist()] for c in floats}
    )


def _lines(frame: pd.DataFrame, float_format: str | None = None) -> tuple[str, np.ndarray]:
    """The header and each row's text in `frame.to_csv`, by position (without line ends)."""
    if float_format:
        frame = _floats_as_text(frame, float_format)
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


def _joined(header: str, lines) -> str:
    return header + "\n" + "".join(line + "\n" for line in lines)


class RowsText:
    """A table's rows as CSV lines: `csv(subset)` is `subset.to_csv(index=False,
    lineterminator="\\n", float_format=float_format)` for rows selected from the table,
    unmodified, with all its columns (the rows are known by their index labels)."""

    def __init__(self, frame: pd.DataFrame, float_format: str | None = None):
        if not frame.index.is_unique:
            raise ValueError("a table's rows need labels of their own")
        self.frame = frame
        self.float_format = float_format
        self.at = pd.Series(np.arange(len(frame)), index=frame.index)

    @cached_property
    def _text(self) -> tuple[str, np.ndarray]:
        return _lines(self.frame, self.float_format)

    def csv(self, subset: pd.DataFrame) -> str:
        if not subset.columns.equals(self.frame.columns):
            raise ValueError("not a subset of the table's columns")
        header, rows = self._text
        return _joined(header, rows[self.at.loc[subset.index].to_numpy()])


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
        df[col] = df[col].map(inert)
    return df


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
        self.la_at = pd.Series(np.arange(len(las)), index=las.index)
        self.area_at = pd.Series(np.arange(len(las), len(whole)), index=areas.index)
        head = _lines(whole[HEAD], FLOATS)
        tail = _lines(whole[tail_columns], FLOATS)
        # a neighbour's row shows its own figures and band, not its comparisons: its other
        # cells are blank
        n = len(las)
        blank = np.full(n, "", dtype=object)
        cells = [
            self._cells(whole[col].iloc[:n]) if col in neighbour_columns else blank
            for col in tail_columns
        ]
        self.near = np.array([",".join(row) for row in zip(*cells, strict=True)], dtype=object)
        self.header = (head[0], tail[0])
        self.head, self.tail = head[1], tail[1]
        self.area_type = whole["area_type"].to_numpy()
        ordinal = {p: parse_slug(p).ordinal for p in whole["period"].unique()}
        self.key = list(
            zip(
                whole["period"].map(ordinal),
                [ORDER[t] for t in whole["area_type"]],  # an area type it does not know: an error
                whole["area_code"],
                whole["indicator_id"],
                strict=True,
            )
        )

    @staticmethod
    def _cells(column: pd.Series) -> np.ndarray:
        """Each value's text as a cell among others (alone on its line, the csv module writes an
        empty value as \"\", to tell it from a blank line)."""
        cells = _lines(column.to_frame(), FLOATS)[1]
        cells[cells == '""'] = ""
        return cells

    def csv(
        self,
        la_rows: pd.DataFrame,
        areas: pd.DataFrame,
        neighbours: pd.DataFrame | None = None,
    ) -> str:
        """A regional report's CSV (`neighbours` None), or a pack's: then `la_rows` are the
        LA's own and a `relation` column says 'this LA', 'neighbour', 'region' or 'england'."""
        pack = neighbours is not None
        rows = []
        for i in self.la_at.loc[la_rows.index]:
            rel = ",this LA" if pack else ""
            rows.append((self.key[i], self.head[i] + rel + "," + self.tail[i]))
        if pack:
            for i in self.la_at.loc[neighbours.index]:
                period, _, code, ind = self.key[i]
                key = (period, ORDER["neighbour"], code, ind)
                rows.append((key, self.head[i] + ",neighbour," + self.near[i]))
        for i in self.area_at.loc[areas.index]:
            rel = "," + self.area_type[i] if pack else ""
            rows.append((self.key[i], self.head[i] + rel + "," + self.tail[i]))
        rows.sort(key=lambda r: r[0])
        head, tail = self.header
        return _joined(head + (",relation" if pack else "") + "," + tail, (r[1] for r in rows))
