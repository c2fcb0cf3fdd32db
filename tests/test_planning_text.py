"""What planning writes into every job's slice, made faster, is what the slower way made: a
statement's figures as ``dataclasses.asdict`` copies them, rows in a run as the rows a table's
take gives, a table's records as ``to_dict`` gives them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pipeline.core.frames import records
from pipeline.core.statements import Statement
from pipeline.orchestration.grouped import Grouped


def test_a_statement_s_json_is_its_fields_copied():
    figures = {"combination": "c1", "indicators": {"a": {"value": 1.5, "band": None}}}
    s = Statement("a", ["combination", "strength"], "Text.", figures)
    out = s.to_json()
    assert out == dataclasses.asdict(s)
    out["figures"]["indicators"]["a"]["value"] = 0
    out["reasons"].append("x")
    assert s.figures["indicators"]["a"]["value"] == 1.5 and s.reasons[-1] == "strength"


def test_rows_in_one_run_are_the_rows_a_take_gives():
    t = pd.DataFrame(
        {"la_code": ["A"] * 3 + ["B"] * 3 + ["A"], "value": np.arange(7.0)},
        index=np.arange(10, 17),
    ).astype({"la_code": "str"})
    g = Grouped(t, ["la_code"])
    pd.testing.assert_frame_equal(g.rows(["B"]), t.iloc[[3, 4, 5]])
    pd.testing.assert_frame_equal(g.rows(["A"]), t.iloc[[0, 1, 2, 6]])
    pd.testing.assert_frame_equal(g.rows(["A", "B"]), t)


def test_a_table_s_records_are_what_to_dict_gives():
    frame = pd.DataFrame(
        {
            "value": [1.5, np.nan, -0.0],
            "rank": pd.array([1, None, 3], dtype="Int64"),
            "band": pd.Series(["A", None, "D"], dtype="str"),
            "mixed": [np.int64(3), None, "x"],
            "flag": [True, False, True],
            "known": pd.array([True, None, False], dtype="boolean"),
            "count": [1, 2, 3],
            "when": pd.to_datetime(["2020-01-01", None, "2021-06-30"]),
        }
    )
    mine, want = records(frame), frame.to_dict(orient="records")
    assert repr(mine) == repr(want)
    assert [[type(v) for v in row.values()] for row in mine] == [
        [type(v) for v in row.values()] for row in want
    ]
    assert records(frame.iloc[0:0]) == []
