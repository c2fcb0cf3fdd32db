"""LA rows as DfE's files really hold them (``pipeline.edges.ees`` reads the files): one row for
a jointly run service, no row at all for some LAs, and rows no LA of the reference matches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.core.vocabulary import MISSING


def left_out(left: list[tuple]) -> pd.DataFrame:
    """The LA rows no LA of the reference matched: one row per file, code and name, with
    the rows it is on, the indicators that read them and why they were left out."""
    cols = ["file", "row", "la_code", "la_name", "held", "indicator_id"]
    df = pd.DataFrame(left, columns=cols)
    keys = ["file", "la_code", "la_name"]
    out = df.groupby(keys, sort=True).agg(
        held=("held", "any"),
        rows=("row", lambda r: ", ".join(map(str, sorted(set(r))))),
        indicators=("indicator_id", lambda i: ", ".join(sorted(set(i)))),
    )
    out["reason"] = np.where(
        out["held"],
        "not in the reference list of LAs nor a former LA: its figures are left out of "
        "every figure and sum",
        "not in the reference list of LAs, and has no figures",
    )
    return out.reset_index()[[*keys, "reason", "rows", "indicators"]]


def partners(figures: pd.DataFrame) -> pd.DataFrame:
    """A jointly run service's figure for each of its LAs: the first LA's row copied to the
    others, every copy naming all of them in `shared`."""
    joint = figures[figures["shared"].ne("")]
    copies = []
    for code, rows in joint.groupby(joint["shared"].str.split(" / ").str[1:].map(tuple)):
        for partner in code:
            copies.append(rows.assign(la_code=partner))
    return pd.concat([figures, *copies], ignore_index=True) if copies else figures


def every_la(figures: pd.DataFrame, las: Sequence[str]) -> pd.DataFrame:
    """Every current LA has a row in each of the indicator's years: an LA the file has no
    row for is missing (and counts as missing wherever LAs with a figure are counted)."""
    if not len(las) or figures.empty:
        return figures
    have = pd.MultiIndex.from_frame(figures[["la_code", "period"]])
    grid = pd.MultiIndex.from_product(
        [list(las), sorted(figures["period"].unique())], names=["la_code", "period"]
    )
    absent = grid.difference(have)
    if absent.empty:
        return figures
    extra = absent.to_frame(index=False).assign(
        indicator_id=figures["indicator_id"].iloc[0], status=MISSING, shared=""
    )
    return pd.concat([figures, extra], ignore_index=True)
