"""A table's rows grouped by key columns once, for a run's many jobs to look up.

Planning a national quarter selects the same few tables' rows for every LA, period and region:
filtering a whole table (``df[df["la_code"] == la]``) once per job was most of the driver's
planning time. Here a table is grouped once, and a job's rows are taken by their positions: the
same rows, in the table's order, with the same index labels and dtypes as the filter gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import product

import numpy as np
import pandas as pd


class Grouped:
    """`frame`'s rows by the values of `columns`: `rows(values, ...)` is the frame filtered on
    each column's value being among `values` (``isin`` of each, combined with &)."""

    def __init__(self, frame: pd.DataFrame, columns: list[str]):
        self.frame = frame
        self.single = len(columns) == 1
        self.at = frame.groupby(columns[0] if self.single else columns, sort=False).indices

    def positions(self, *values: Iterable) -> np.ndarray:
        """The positions of the rows whose key columns take the values given, ascending."""
        keys = values[0] if self.single else product(*values)
        found = [self.at[k] for k in dict.fromkeys(keys) if k in self.at]
        return np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)

    def rows(self, *values: Iterable) -> pd.DataFrame:
        """The rows whose key columns take the values given (one iterable per column), in the
        frame's order. Rows that follow one another in the frame (an LA's, in a table in
        order of LA) are a slice of it, not a copy of each column's values."""
        at = self.positions(*values)
        if len(at) and at[-1] - at[0] == len(at) - 1:
            return self.frame.iloc[at[0] : at[-1] + 1]
        return self.frame.iloc[at]
