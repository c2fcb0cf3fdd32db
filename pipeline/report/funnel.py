"""Funnel plots' figures (Spiegelhalter 2005), for any report: which LAs are plotted, the
control limits around a target on a grid of denominators, and which LAs lie outside them.

`prepare` takes a plain frame of LA figures for one indicator and period and returns a `Funnel`;
its `chart_data` is what ``pipeline.edges.charts.funnel_chart`` draws, its `rows` the figures'
table, and `summary` the description's counts. Only published figures are plotted (status ''
with a value and a denominator): a withheld figure is never drawn, tabled or counted.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Indicator
from pipeline.core.significance import LEVELS, funnel_limits, level_name
from pipeline.core.vocabulary import OK

#: how many denominators the drawn limits are computed at (spaced evenly on a log scale, so the
#: funnel's curved mouth is drawn as finely as its straight tail)
GRID = 50
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
    """The limits at both levels around `target` at each of `denominators` (columns as
    `_columns` names them). Every region's report of a run plots the same LAs around the same
    England figure, so a worker works them out once and its next reports reuse them."""
    d = np.asarray(denominators, dtype=float)
    return _limits_of(ind, float(target), d.tobytes())


@functools.lru_cache(maxsize=256)
def _limits_of(ind: Indicator, target: float, denominators: bytes) -> dict[str, np.ndarray]:
    """`_limits` from what they are worked out from (the denominators as float64 bytes); the
    arrays are read-only: every report that asks for them shares them."""
    d = np.frombuffer(denominators, dtype=float)
    out = {}
    for level in LEVELS:
        for col, limit in zip(_columns(level), funnel_limits(target, d, ind, level), strict=True):
            limit.flags.writeable = False
            out[col] = limit
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


# --------------------------------------------------------------------------- a report's figure
POLARITY_WORDS = {
    "high": "A higher value is better.",
    "low": "A lower value is better.",
    "neutral": "There is no judgement: a higher or lower value is neither better nor worse.",
}


def axis_titles(ind: Indicator) -> tuple[str, str]:
    """The x and y axes' titles of `ind`'s funnel plot."""
    x = (
        "Denominator (children in the population)"
        if ind.count_model == "poisson"
        else ("Denominator (number counted)")
    )
    return x, f"{ind.short_label} ({ind.unit_suffix or ind.unit})"


def draw(f: Funnel, named: str, england: str) -> str:
    """The funnel plot's SVG: `named` and `england` as the legend names them."""
    from pipeline.edges.charts import funnel_chart

    x, y = axis_titles(f.ind)
    return funnel_chart(f.chart_data(), named=named, england=england, x_title=x, y_title=y)


def _named_words(f: Funnel, named_as: str, missing: list[str]) -> str:
    """Where each named LA lies, outside the limits first; those without a figure last."""
    pts = f.points[f.points["named"]]
    far = pts[pts["position"].ne(WITHIN)].sort_values(["la"], kind="stable")
    parts = [f"{r.la} {position_text(r.position)}" for r in far.itertuples()]
    inside = len(pts) - len(far)
    if not parts:
        text = (
            f"{named_as}: all {inside} within the 95% limits."
            if inside
            else f"{named_as}: none has a figure to plot."
        )
    else:
        rest = f"; the other {inside} within the 95% limits" if inside else ""
        text = f"{named_as}: {', '.join(parts)}{rest}."
    if missing:
        text += f" Not plotted (no published figure): {', '.join(sorted(missing))}."
    return text


def description(
    f: Funnel, period_label: str, named_as: str, england: str, missing=(), note: str = ""
) -> str:
    """What the funnel plot shows, in words: what is drawn, how many LAs lie outside the limits
    and where each named LA lies (`named_as`: who they are, e.g. "North Vale's LAs";
    `missing`: the names of named LAs without a figure; `note`: what else the reader should
    know, e.g. what the comparator is as at)."""
    ind, s = f.ind, f.summary()
    out95 = s["above95"] + s["below95"]
    return (
        f"Funnel plot of {ind.label}, {period_label}: each of the {s['las']} LAs with a "
        f"published figure by its denominator (the grey dots; {named_as} are blue diamonds, "
        f"named), against {england} at {ind.format(f.target)} (the dashed orange line) and its "
        "95% (dashed grey) and 99.8% (solid black) control limits, which narrow as the "
        "denominator grows. A figure outside the 95% limits would happen by chance 1 time in "
        f"20, outside the 99.8% limits 1 time in 500. {POLARITY_WORDS[ind.polarity]} "
        f"{out95} of the {s['las']} LAs lie outside the 95% limits ({s['above95']} above, "
        f"{s['below95']} below), {s['above998'] + s['below998']} of them outside the 99.8% "
        f"limits. {_named_words(f, named_as, list(missing))} {note + ' ' if note else ''}"
        "The figures are in the table below the chart."
    )


def _limits_text(ind: Indicator, lower: float, upper: float) -> str:
    """A pair of limits to one decimal place more than the indicator's figures, so that a
    figure shown equal to a limit can be told apart from it: '21.65% to 24.70%'."""
    unit = "%" if ind.unit == "percentage" else ""
    d = ind.decimals + 1
    return f"{lower:,.{d}f}{unit} to {upper:,.{d}f}{unit}"


def figures_table(f: Funnel, caption: str, named_as: str) -> str:
    """The funnel plot's figures: each LA plotted (the named first, then the others, by name)
    with its denominator, value, the limits at its denominator and where it lies."""
    from pipeline.html.base import table

    ind = f.ind
    pts = f.points.sort_values(["named", "la"], ascending=[False, True], kind="stable")
    rows = [
        [
            r.la,
            "yes" if r.named else "",
            f"{r.denominator:,.0f}",
            ind.format(r.value),
            _limits_text(ind, r.lower95, r.upper95),
            _limits_text(ind, r.lower998, r.upper998),
            position_text(r.position),
        ]
        for r in pts.itertuples()
    ]
    return table(
        caption,
        [
            "Local authority",
            named_as,
            "Denominator",
            "Value",
            "95% limits",
            "99.8% limits",
            "Against the limits",
        ],
        rows,
        numeric=[False, False, True, True, True, True, False],
    )
