"""Is a difference real? Confidence intervals, comparisons with a benchmark, tests of change and
funnel-plot limits. Pure numpy and pandas on top of statsmodels and scipy.

Conventions (stated in every report's method):
- **Intervals** at 95% and 99.8% for every figure with a count model (``Indicator.count_model``):
  the Wilson score interval (Wilson 1927) for a percentage of children, and the exact Poisson
  interval (Garwood 1936; Byar's method, in Breslow and Day 1987, approximates it) for a rate
  per 10,000; statsmodels computes both. A measure with no count model (a mean caseload, or
  staff counted in full-time equivalents) has no interval, and is compared by size alone.
- **Compared with a benchmark** (England, the region, the SN mean): *better* or *worse* when the
  LA's interval at the chosen level lies wholly above or below the benchmark's figure, by
  polarity (*higher* or *lower* for neutral indicators); otherwise *similar*: the difference
  could be chance. As OHID's Fingertips does, the benchmark's own uncertainty is not counted.
- **Change** between two periods: the chi-squared test on the two periods' counts (a percentage:
  children with and without; a rate: events in the two populations, the Poisson score test).
  Quarterly figures over the rolling 12 months share months with the quarter before, which makes
  the test conservative: a change it finds is larger than chance alone would make.
- **Trend** over several periods (the annual datapack's five years): the chi-squared test for
  trend (Cochran 1954, Armitage 1955; the Poisson score test for a trend in rates), with the
  periods as equally spaced scores.
- **Funnel plots** (Spiegelhalter 2005): control limits around a target for every denominator,
  from the binomial or Poisson distribution with Spiegelhalter's interpolation between counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue, Indicator

#: the two levels every interval is given at, as percentages
LEVELS = (95.0, 99.8)
#: the level comparisons and tests use unless the dataset chooses 99.8
DEFAULT_LEVEL = 95.0
BETTER, SIMILAR, WORSE = "better", "similar", "worse"
HIGHER, LOWER = "higher", "lower"
SIGNIFICANT, NOT_SIGNIFICANT = "significant", "not significant"
#: how each count model's interval is named in the reports
METHODS = {
    "binomial": "Wilson score interval",
    "poisson": "exact Poisson interval",
    "none": "no interval (no count model)",
}


def level_name(level: float) -> str:
    """'95' or '99.8', as columns and sentences name a level."""
    return f"{level:g}"


def interval_columns(level: float) -> tuple[str, str]:
    """The figures' columns holding the interval at `level`: ('ci95_lower', 'ci95_upper')."""
    tag = level_name(level).replace(".", "")
    return f"ci{tag}_lower", f"ci{tag}_upper"


#: every interval column, in the order the figures CSV gives them
INTERVAL_COLUMNS = [c for level in LEVELS for c in interval_columns(level)]


def check_level(level: float) -> float:
    """`level` when it is one of LEVELS, else ValueError naming them."""
    if level not in LEVELS:
        raise ValueError(f"significance level {level!r} is not one of 95 or 99.8")
    return float(level)


def _counts(numerator, denominator, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numerators and denominators as floats, and which rows can have an interval: whole
    counts, a positive denominator, and (binomial) no more events than trials."""
    n = pd.to_numeric(pd.Series(numerator), errors="coerce").to_numpy(dtype=float)
    d = pd.to_numeric(pd.Series(denominator), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(n) & np.isfinite(d) & (n >= 0) & (d > 0) & (n == np.round(n))
        if model == "binomial":
            ok &= (n <= d) & (d == np.round(d))
    return n, d, ok


def interval(numerator, denominator, model: str, scale: float, level: float):
    """(lower, upper) arrays of the interval at `level` (e.g. 95) of each figure numerator /
    denominator x `scale`; NaN where there is no count model or no usable count."""
    n, d, ok = _counts(numerator, denominator, model)
    lower = np.full(n.shape, np.nan)
    upper = np.full(n.shape, np.nan)
    if model == "none" or not ok.any():
        return lower, upper
    alpha = 1 - level / 100
    if model == "binomial":
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(n[ok], d[ok], alpha=alpha, method="wilson")
        # the ends exactly: none of n runs from 0, all of n to 1 (not a rounding error away)
        lo = np.where(n[ok] == 0, 0.0, lo)
        hi = np.where(n[ok] == d[ok], 1.0, hi)
    elif model == "poisson":
        from statsmodels.stats.rates import confint_poisson

        lo, hi = confint_poisson(n[ok], d[ok], method="exact-c", alpha=alpha)
    else:
        raise ValueError(f"unknown count model {model!r}")
    lower[ok] = np.asarray(lo, dtype=float) * scale
    upper[ok] = np.asarray(hi, dtype=float) * scale
    return lower, upper


def add_intervals(frame: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """`frame` (indicator_id, numerator, denominator, status) with INTERVAL_COLUMNS: each
    figure's interval at 95% and 99.8%, blank for a figure without one (no count model, no
    counts, or withheld)."""
    out = frame.copy()
    for col in INTERVAL_COLUMNS:
        out[col] = np.nan
    usable = out["status"].eq("") & out["numerator"].notna() & out["denominator"].notna()
    for ind_id, idx in out[usable].groupby("indicator_id", sort=False).groups.items():
        if ind_id not in catalogue:
            continue
        ind = catalogue[ind_id]
        for level in LEVELS:
            lo, hi = interval(
                out.loc[idx, "numerator"],
                out.loc[idx, "denominator"],
                ind.count_model,
                ind.scale,
                level,
            )
            lo_col, hi_col = interval_columns(level)
            out.loc[idx, lo_col] = lo
            out.loc[idx, hi_col] = hi
    return out


def compare(lower, upper, benchmark, polarity: str) -> np.ndarray:
    """Each figure against its benchmark by its interval (lower, upper): 'better', 'similar' or
    'worse' by polarity ('higher', 'similar', 'lower' for neutral); '' where either is missing."""
    lo = pd.to_numeric(pd.Series(lower), errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(pd.Series(upper), errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(pd.Series(benchmark), errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(b)
    up, down = {"high": (BETTER, WORSE), "low": (WORSE, BETTER)}.get(polarity, (HIGHER, LOWER))
    out = np.full(lo.shape, "", dtype=object)
    out[known] = SIMILAR
    with np.errstate(invalid="ignore"):
        out[known & (lo > b)] = up
        out[known & (hi < b)] = down
    return out


def judge(
    las: pd.DataFrame, areas: pd.DataFrame, catalogue: Catalogue, level: float = DEFAULT_LEVEL
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmarked LA rows with each figure's intervals and its comparison with England
    (``vs_england``), its region (``vs_region``) and its SN mean (``vs_sn``) at `level`; and the
    area rows with their intervals and (regions) ``vs_england``.

    `las` has la_code, region_code, period, indicator_id, numerator, denominator, status and
    sn_mean; `areas` has area_code, area_type, period, indicator_id, value (England's published
    figure in published mode) and, where known, numerator, denominator and status."""
    check_level(level)
    lo_col, hi_col = interval_columns(level)
    las = add_intervals(las, catalogue)
    areas = add_intervals(areas, catalogue)
    eng = areas[areas["area_type"].eq("england")].set_index(["period", "indicator_id"])["value"]
    reg = areas[areas["area_type"].eq("region")]
    reg = reg.set_index(["area_code", "period", "indicator_id"])["value"]
    keys = pd.MultiIndex.from_frame(las[["period", "indicator_id"]])
    rkeys = pd.MultiIndex.from_frame(las[["region_code", "period", "indicator_id"]])
    bench = {
        "vs_england": eng.reindex(keys).to_numpy(),
        "vs_region": reg.reindex(rkeys).to_numpy(),
        "vs_sn": las["sn_mean"].to_numpy(),
    }
    for col in bench:
        las[col] = ""
    areas["vs_england"] = ""
    akeys = pd.MultiIndex.from_frame(areas[["period", "indicator_id"]])
    area_eng = eng.reindex(akeys).to_numpy()
    is_region = areas["area_type"].eq("region").to_numpy()
    for ind in catalogue:
        rows = (las["indicator_id"] == ind.id).to_numpy()
        for col, b in bench.items():
            las.loc[rows, col] = compare(
                las.loc[rows, lo_col], las.loc[rows, hi_col], b[rows], ind.polarity
            )
        arows = (areas["indicator_id"] == ind.id).to_numpy() & is_region
        areas.loc[arows, "vs_england"] = compare(
            areas.loc[arows, lo_col], areas.loc[arows, hi_col], area_eng[arows], ind.polarity
        )
    return las, areas


# --------------------------------------------------------------------------- change and trend


def trend_p(counts: np.ndarray, denominators: np.ndarray, model: str) -> np.ndarray:
    """The two-sided p-value of the chi-squared test for trend of each row of `counts` over
    `denominators` (rows x periods, equally spaced; NaN where a period has no figure), and the
    direction of the trend (+1 rising, -1 falling, 0 none) as a second array.

    Binomial: Cochran-Armitage (children with and without, period by period). Poisson: the score
    test for a linear trend in rates. Two periods: the chi-squared test of a change. NaN where
    fewer than two periods have counts."""
    from scipy.stats import chi2

    r = np.asarray(counts, dtype=float)
    n = np.asarray(denominators, dtype=float)
    held = np.isfinite(r) & np.isfinite(n) & (n > 0)
    if model == "binomial":  # no more children counted than children
        held &= r <= n
    r = np.where(held, r, 0.0)
    n = np.where(held, n, 0.0)
    x = np.broadcast_to(np.arange(r.shape[1], dtype=float), r.shape)
    big_n = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_bar = r.sum(axis=1) / big_n
        t = (x * (r - n * p_bar[:, None])).sum(axis=1)
        spread = (n * x**2).sum(axis=1) - (n * x).sum(axis=1) ** 2 / big_n
        var = (p_bar * (1 - p_bar) if model == "binomial" else p_bar) * spread
        stat = t**2 / var
    p = np.where(var > 0, chi2.sf(stat, 1), 1.0)
    p = np.where(held.sum(axis=1) >= 2, p, np.nan)
    return p, np.sign(np.where(var > 0, t, 0.0))


def change_p(now_n, now_d, then_n, then_d, model: str) -> tuple[np.ndarray, np.ndarray]:
    """The chi-squared test of the change from (then_n / then_d) to (now_n / now_d): p-values
    and directions, as ``trend_p`` gives them for two periods; NaN without counts at both."""
    cols = [then_n, now_n], [then_d, now_d]
    counts = np.column_stack([pd.to_numeric(pd.Series(c), errors="coerce") for c in cols[0]])
    denoms = np.column_stack([pd.to_numeric(pd.Series(c), errors="coerce") for c in cols[1]])
    if model == "none":
        return np.full(len(counts), np.nan), np.zeros(len(counts))
    return trend_p(counts, denoms, model)


def alpha(level: float) -> float:
    """The chance of calling a difference real when it is not, at `level`: 0.05 at 95%."""
    return 1 - check_level(level) / 100


# --------------------------------------------------------------------------- funnel plots


def funnel_limits(
    target: float, denominators, ind: Indicator, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits at `level` around `target` (in the indicator's units) for
    each denominator: Spiegelhalter's (2005) exact limits with interpolation between counts,
    from the binomial (percentages) or Poisson (rates) distribution."""
    from scipy.stats import binom, poisson

    d = np.asarray(denominators, dtype=float)
    theta = float(target) / ind.scale
    out = []
    for p in ((1 - level / 100) / 2, 1 - (1 - level / 100) / 2):
        if ind.count_model == "binomial":
            theta = min(max(theta, 0.0), 1.0)
            dist = binom(np.round(d), theta)
        elif ind.count_model == "poisson":
            dist = poisson(d * theta)
        else:
            raise ValueError(f"{ind.id}: no count model, so no funnel plot")
        r_p = dist.ppf(p)
        below = dist.cdf(r_p - 1)
        at = dist.cdf(r_p)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(at > below, (at - p) / (at - below), 0.0)
            out.append((r_p - step) / d * ind.scale)
    return out[0], out[1]
