"""Tartan's core vocabulary: the words and shapes every layer shares, in one place.

What belongs here: the status words a figure carries (``OK``, ``MISSING``, ``NOT_ACCEPTED``,
``WITHHELD`` and the EES symbols an LA may return), the quartile band letters, the columns of a
figures frame, and the ratio of sums by which every rate is computed from its numerator and
denominator. Everything here is a constant or a small pure function that every other module, in
core and above it, may import.

What does not: anything that computes comparators, bands, trends or wording (``benchmark``,
``trends``, ``narrative``, ...). This module imports nothing from ``pipeline``, so it sits at the
bottom of core's layers (checked by import-linter in ``pyproject.toml``) and can never take part
in an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd

#: status of a figure that holds a number
OK = ""
MISSING = "missing"
NOT_ACCEPTED = "not accepted"
#: status of a figure withheld by disclosure control (``pipeline.core.disclosure``)
WITHHELD = "c"
#: suppression and availability symbols an LA may return (EES conventions)
STATUS_SYMBOLS = {
    "c": "suppressed (confidential)",
    "x": "not available",
    "z": "not applicable",
    "low": "suppressed (low numbers)",
    "k": "rounds to zero",
    "u": "low reliability",
}
#: quartile bands, best first (``pipeline.core.benchmark.bands``)
BANDS = ("A", "B", "C", "D")
#: the columns of a figures frame: one row per (LA, period, indicator)
FIGURE_COLUMNS = [
    "la_code",
    "period",
    "indicator_id",
    "numerator",
    "denominator",
    "value",
    "status",
]

#: a figures frame's optional column naming, for a jointly run service's one figure, the codes
#: of all its LAs joined by " / " (the first LA's row holds it; blank for every other figure)
SHARED = "shared"


def owner(figures: pd.DataFrame) -> pd.Series:
    """Whose figure each row is: its own LA's, or for a jointly run service's figure, the first
    LA's of the service (the same figure must count once wherever figures are counted)."""
    if SHARED not in figures.columns:
        return figures["la_code"]
    shared = figures[SHARED].fillna("").astype(str)
    return figures["la_code"].where(shared.eq(""), shared.str.split(" / ").str[0])


class Scaled(Protocol):
    """What the ratio of sums needs of an indicator (``pipeline.core.catalogue.Indicator``)."""

    @property
    def id(self) -> str: ...

    @property
    def scale(self) -> int: ...

    @property
    def decimals(self) -> int: ...


def ratio(
    numerator: pd.Series,
    denominator: pd.Series,
    indicator_id: pd.Series,
    catalogue: Iterable[Scaled],
) -> pd.Series:
    """numerator / denominator x each indicator's scale, rounded to its decimals as published.

    `catalogue` is a ``pipeline.core.catalogue.Catalogue`` (any iterable of indicators will do).
    """
    scale = indicator_id.map({i.id: i.scale for i in catalogue})
    decimals = indicator_id.map({i.id: i.decimals for i in catalogue})
    raw = numerator / denominator * scale
    return pd.Series(
        [round(x, int(d)) if pd.notna(x) else np.nan for x, d in zip(raw, decimals, strict=True)],
        index=numerator.index,
        dtype=float,
    )
