"""An LA's exceptions: the figures it is asked to explain in its own words.

A regional group asks each LA for a narrative on every indicator where it stands out: in band D
(the worst quarter of LAs, by the indicator's polarity), or among the top or bottom fifth of LAs
nationally by rank. Both are configurable (dataset.yaml ``commentary_exceptions``). Only a
published figure can be an exception: a withheld or missing one is never named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.vocabulary import OK

#: the cells of a figure the rule reads
READ = ["band", "rank_national", "las_ranked_national", "value"]


@dataclass(frozen=True)
class ExceptionRule:
    """Which figures are exceptions: those in `bands`, and those ranked in the top or bottom
    `percent` of LAs nationally (0: rank makes no exception)."""

    bands: tuple[str, ...] = ("D",)
    percent: int = 20

    def describe(self) -> str:
        """The rule in words, e.g. 'in band D, or in the top or bottom 20% of LAs nationally'."""
        parts = []
        if self.bands:
            parts.append("in band " + " or ".join(self.bands))
        if self.percent:
            parts.append(f"in the top or bottom {self.percent}% of LAs nationally by rank")
        return ", or ".join(parts) if parts else "none (no rule set)"

    def to_json(self) -> dict:
        return {"bands": list(self.bands), "percent": self.percent, "words": self.describe()}


def cut(ranked: int, percent: int) -> int:
    """How many ranks the top (or bottom) `percent` of `ranked` LAs covers: at least one when
    any LA is ranked, never more than half of them."""
    if not percent or ranked <= 0:
        return 0
    return max(1, min(math.floor(ranked * percent / 100), ranked // 2))


def _reasons(row: dict, ind, rule: ExceptionRule) -> list[str]:
    """Why one figure is an exception, in words ([] when it is not)."""
    out = []
    band = row["band"] if isinstance(row["band"], str) else ""
    if band and band in rule.bands:
        out.append(f"band {band}")
    rank, of = row["rank_national"], row["las_ranked_national"]
    if rule.percent and pd.notna(rank) and pd.notna(of):
        n = cut(int(of), rule.percent)
        # rank 1 is the best by polarity, or the highest where there is no judgement
        top, bottom = ("best", "worst") if ind.judged else ("highest", "lowest")
        where = f"(rank {int(rank)} of {int(of)})"
        if int(rank) <= n:
            out.append(f"among the {top} {rule.percent}% of LAs nationally {where}")
        elif int(rank) > int(of) - n:
            out.append(f"among the {bottom} {rule.percent}% of LAs nationally {where}")
    return out


def _first_rows(figures: pd.DataFrame, at: np.ndarray) -> dict[str, dict]:
    """Indicator id -> the cells the rule reads of its figure, of the rows at positions `at`
    (one figure per indicator; the first, should there be more)."""
    out: dict[str, dict] = {}
    ids = figures["indicator_id"].to_numpy()[at].tolist()
    for ind, *cells in zip(ids, *(figures[c].iloc[at] for c in READ), strict=True):
        out.setdefault(ind, dict(zip(READ, cells, strict=True)))
    return out


def exceptions(
    figures: pd.DataFrame, catalogue: Catalogue, period: str, rule: ExceptionRule
) -> list[dict]:
    """One LA's exceptions in `period`, in catalogue order: indicator_id, label, value (as
    shown), band and why (reasons in words). `figures`: its rows with band, rank_national and
    las_ranked_national."""
    # the rows' positions, then the cells read of them: not every column's values taken
    keep = (figures["period"].to_numpy() == period) & (figures["status"].to_numpy() == OK)
    keep &= pd.notna(figures["value"].to_numpy())
    now = _first_rows(figures, np.flatnonzero(keep))
    out = []
    for ind in catalogue:
        row = now.get(ind.id)
        if row is None:
            continue
        reasons = _reasons(row, ind, rule)
        if reasons:
            band = row["band"] if isinstance(row["band"], str) else ""
            out.append(
                {
                    "indicator_id": ind.id,
                    "label": ind.label,
                    "theme": ind.theme,
                    "value": ind.format(row["value"]),
                    "band": band,
                    "why": reasons,
                }
            )
    return out
