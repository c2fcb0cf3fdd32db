"""Rows looked up in a table grouped once are the rows filtering the whole table gives."""

import numpy as np
import pandas as pd

from pipeline.orchestration.grouped import Grouped


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 200
    return pd.DataFrame(
        {
            "la_code": rng.choice(["A", "B", "C", "D"], n),
            "period": rng.choice(["2025-26-Q1", "2025-26-Q2", "2025-26-Q3"], n),
            "value": rng.normal(size=n),
            "rank": pd.array(rng.integers(1, 9, n), dtype="Int64"),
        },
        index=rng.permutation(np.arange(1000, 1000 + n)),
    ).astype({"la_code": "str", "period": "str"})


def test_rows_are_the_filtered_rows_in_the_tables_order_with_their_labels_and_dtypes():
    t = _table()
    g = Grouped(t, ["la_code", "period"])
    for las, periods in [
        (["B"], ["2025-26-Q2"]),
        (["C", "A", "C"], ["2025-26-Q3", "2025-26-Q1"]),
        (["A", "B", "C", "D"], ["2025-26-Q1", "2025-26-Q2", "2025-26-Q3"]),
    ]:
        want = t[t["la_code"].isin(las) & t["period"].isin(periods)]
        pd.testing.assert_frame_equal(g.rows(las, periods), want)


def test_one_key_column_and_keys_that_are_not_there():
    t = _table()
    g = Grouped(t, ["la_code"])
    pd.testing.assert_frame_equal(g.rows(["D"]), t[t["la_code"] == "D"])
    none = g.rows(["Z"])
    assert none.empty and list(none.columns) == list(t.columns)
    assert (none.dtypes == t.dtypes).all()
    assert Grouped(t, ["la_code", "period"]).rows(["A"], []).empty
