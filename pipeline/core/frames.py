"""What the pipeline needs of a pandas frame that pandas does slowly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.core.dtypes.cast import maybe_box_native


def records(frame: pd.DataFrame) -> list[dict]:
    """``frame.to_dict(orient="records")`` made a column at a time (pandas goes row by row, a
    few times slower): each value a Python scalar, an object or extension column's as pandas
    boxes it (NA as None)."""
    columns = []
    for _, column in frame.items():
        values = column.tolist()
        if not isinstance(column.dtype, np.dtype) or column.dtype.kind == "O":
            values = [maybe_box_native(v) for v in values]
        columns.append(values)
    names = frame.columns.tolist()
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
