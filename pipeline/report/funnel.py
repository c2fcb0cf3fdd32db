"""Funnel plots' figures (Spiegelhalter 2005), for any report: which LAs are plotted, the
control limits around a target on a grid of denominators, and which LAs lie outside them.

`prepare` takes a plain frame of LA figures for one indicator and period and returns a `Funnel`;
its `chart_data` is what ``pipeline.edges.charts.funnel_chart`` draws, its `rows` the figures'
table, and `summary` the description's counts. Only published figures are plotted (status ''
with a value and a denominator): a withheld figure is never drawn, tabled or counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Indicator
from pipeline.core.significance import LEVELS, funnel_limits, level_name
from pipeline.core.vocabulary import OK

#: how many denominators the drawn limits are computed at (spaced evenly on a log scale, so the
#: funnel's curved mouth is drawn as finely as its straight tail)
GRID = 80
#: where an LA lies against the limits, outermost first
ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998 = (
    "above the 99.8% limit",
    "above the 95% limit",
    "within the 95% limits",
    "below the 95% limit",
    "below the 99.8% limit",
)
#: the words of a position outside the 95% limits and inside the 99.8%
INSIDE_998 = " (within 99.8%)"


def _columns(level: float) -> tuple[str, str]:
    tag = level_name(level).replace(".", "")
    return f"lower{tag}", f"upper{tag}"


@dataclass
class Funnel:
    """One indicator's funnel plot: `points` (la_code, la, named, numerator, denominator,
    value, the limits at each LA's own denominator: lower95, upper95, lower998, upper998, and
    position, one of ABOVE_998 ... BELOW_998), in the order given; `limits` (denominator and
    the four limits) on the drawn grid; `target` the figure the limits are around."""

    ind: Indicator
    target: float
    points: pd.DataFrame
    limits: pd.DataFrame

    def chart_data(self) -> pd.DataFrame:
        """What ``charts.funnel_chart`` draws: the LAs, each limit's two sides on the grid,
        and England's line across it (columns series, denominator, value, la, side)."""
        pts = self.points
        parts = [
            pd.DataFrame(
                {
                    "series": np.where(pts["named"], "named", "LA"),
                    "denominator": pts["denominator"],
                    "value": pts["value"],
                    "la": pts["la"],
                    "side": "",
                }
            )
        ]
        grid = self.limits["denominator"]
        for level in LEVELS:
            for side, col in zip(("lower", "upper"), _columns(level), strict=True):
                parts.append(
                    pd.DataFrame(
                        {
                            "series": f"{level_name(level)}%",
                            "denominator": grid,
                            "value": self.limits[col],
                            "la": "",
                            "side": side,
                        }
                    )
                )
        ends = [grid.iloc[0], grid.iloc[-1]]
        parts.append(
            pd.DataFrame(
                {"series": "England", "denominator": ends, "value": self.target, "la": ""}
            ).assign(side="")
        )
        return pd.concat(parts, ignore_index=True)

    def outside(self, level: float, named: bool | None = None) -> pd.DataFrame:
        """The points outside the limits at `level` (95: outside the 95% limits, the 99.8%
        ones among them); `named`: only the named LAs (True) or only the others (False)."""
        pts = self.points
        far = (ABOVE_998, BELOW_998)
        out = pts["position"].isin(far if level != 95 else (*far, ABOVE_95, BELOW_95))
        if named is not None:
            out &= pts["named"].eq(named)
        return pts[out]

    def summary(self) -> dict[str, int]:
        """How many LAs are plotted and how many lie above or below each limit."""
        pos = self.points["position"]
        return {
            "las": len(pos),
            "above95": int(pos.isin((ABOVE_95, ABOVE_998)).sum()),
            "below95": int(pos.isin((BELOW_95, BELOW_998)).sum()),
            "above998": int(pos.eq(ABOVE_998).sum()),
            "below998": int(pos.eq(BELOW_998).sum()),
        }


def plotted(figures: pd.DataFrame) -> pd.DataFrame:
    """The figures a funnel plot may show: published (status ''), with a value and a positive
    denominator."""
    den = pd.to_numeric(figures["denominator"], errors="coerce")
    keep = figures["status"].eq(OK) & figures["value"].notna() & den.gt(0)
    return figures[keep.to_numpy()]


def grid(denominators, size: int = GRID, whole: bool = False) -> np.ndarray:
    """The denominators the drawn limits are computed at: from a little below the least LA's
    to a little above the greatest, evenly on a log scale; `whole`: whole numbers only (a
    percentage's denominator is children counted)."""
    d = np.asarray(denominators, dtype=float)
    lo, hi = max(d.min() / 1.2, 1.0), d.max() * 1.05
    g = np.geomspace(lo, max(hi, lo * 1.01), size)
    return np.unique(np.round(g)) if whole else g


def position(observed, limits: dict[str, np.ndarray]) -> np.ndarray:
    """Where each observed figure lies against the limits (columns as `_columns` names them):
    ABOVE_998 ... BELOW_998."""
    lo95, hi95 = (limits[c] for c in _columns(95.0))
    lo998, hi998 = (limits[c] for c in _columns(99.8))
    x = np.asarray(observed, dtype=float)
    out = np.full(x.shape, WITHIN, dtype=object)
    out[x > hi95] = ABOVE_95
    out[x < lo95] = BELOW_95
    out[x > hi998] = ABOVE_998
    out[x < lo998] = BELOW_998
    return out


def _limits(target: float, denominators, ind: Indicator) -> dict[str, np.ndarray]:
    out = {}
    for level in LEVELS:
        lo, hi = funnel_limits(target, denominators, ind, level)
        out |= dict(zip(_columns(level), (lo, hi), strict=True))
    return out


def prepare(
    figures: pd.DataFrame, ind: Indicator, target: float, named=(), size: int = GRID
) -> Funnel | None:
    """The funnel plot of `ind` around `target` (England's figure, in the indicator's units).

    `figures`: one row per LA for the indicator and period, with la_code, la_name, numerator,
    denominator, value and status; only published figures are plotted (`plotted`). `named`:
    the LA codes named on the chart (e.g. the region's). Each LA is placed against the limits at
    its own denominator by its figure as counted (numerator / denominator x scale; its value
    where the numerator is blank). None when the indicator has no count model, there is no
    target, or no LA has a figure to plot."""
    if ind.count_model == "none" or target is None or not math.isfinite(float(target)):
        return None
    pts = plotted(figures)
    if pts.empty:
        return None
    den = pd.to_numeric(pts["denominator"]).to_numpy(dtype=float)
    num = (
        pd.to_numeric(pts["numerator"], errors="coerce").to_numpy(dtype=float)
        if "numerator" in pts
        else np.full(den.shape, np.nan)
    )
    value = pts["value"].to_numpy(dtype=float)
    observed = np.where(np.isfinite(num), num / den * ind.scale, value)
    at_own = _limits(target, den, ind)
    points = pd.DataFrame(
        {
            "la_code": pts["la_code"].to_numpy(),
            "la": pts["la_name"].to_numpy(),
            "named": pts["la_code"].isin(list(named)).to_numpy(),
            "numerator": num,
            "denominator": den,
            "value": value,
            **at_own,
            "position": position(observed, at_own),
        }
    )
    g = grid(den, size, whole=ind.count_model == "binomial")
    limits = pd.DataFrame({"denominator": g, **_limits(target, g, ind)})
    return Funnel(ind, float(target), points, limits)


def position_text(where: str) -> str:
    """A position as a table says it: outside the 95% limits but not the 99.8% ones says so."""
    return where + INSIDE_998 if where in (ABOVE_95, BELOW_95) else where
