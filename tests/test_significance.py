"""Confidence intervals, comparisons and funnel limits against published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.significance import (
    add_intervals,
    change_p,
    compare,
    funnel_limits,
    interval,
    judge,
    trend_p,
)


# Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17: 857-872, Table II, method 3 (Wilson score).
@pytest.mark.parametrize(
    ("r", "n", "lower", "upper"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombes_worked_examples(r, n, lower, upper):
    lo, hi = interval([r], [n], "binomial", 1, 95)
    assert lo[0] == pytest.approx(lower, abs=5e-5)
    assert hi[0] == pytest.approx(upper, abs=5e-5)


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_wilson_interval_at_zero_and_full_on_tiny_denominators(n):
    """Wilson's closed forms at the ends: 0 of n runs from 0 to z^2 / (n + z^2); n of n from
    n / (n + z^2) to 1 (z = 1.959964 at 95%, 3.090232 at 99.8%). Never outside 0-100%."""
    for level, z in ((95, 1.959964), (99.8, 3.090232)):
        lo, hi = interval([0, n], [n, n], "binomial", 100, level)
        assert lo[0] == 0.0
        assert hi[0] == pytest.approx(100 * z**2 / (n + z**2), abs=1e-4)
        assert lo[1] == pytest.approx(100 * n / (n + z**2), abs=1e-4)
        assert hi[1] == pytest.approx(100.0)


# The exact Poisson limits of an observed count, as tabulated (e.g. Garwood 1936; the tables in
# Breslow and Day 1987, appendix; PHE's "Technical guide: confidence intervals", 2018).
@pytest.mark.parametrize(
    ("count", "lower", "upper"),
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (2, 0.2422, 7.225), (5, 1.6235, 11.668),
     (10, 4.7954, 18.390)],
)  # fmt: skip
def test_exact_poisson_interval_matches_the_tables(count, lower, upper):
    lo, hi = interval([count], [1], "poisson", 1, 95)
    assert lo[0] == pytest.approx(lower, abs=5e-4)
    assert hi[0] == pytest.approx(upper, abs=5e-4)


def test_poisson_interval_of_a_rate_per_10000_and_at_998():
    """0 events in 5,000 children: at 99.8% the upper limit is -ln(0.001) = 6.908 events, i.e.
    13.8 per 10,000; 10 in 5,000 (20.0 per 10,000) runs from 9.6 to 36.8 at 95%."""
    lo, hi = interval([0, 10], [5000, 5000], "poisson", 10_000, 99.8)
    assert (lo[0], hi[0]) == (0.0, pytest.approx(6.9078 / 5000 * 10_000, abs=1e-3))
    lo, hi = interval([10], [5000], "poisson", 10_000, 95)
    assert (lo[0], hi[0]) == (pytest.approx(9.59, abs=0.01), pytest.approx(36.78, abs=0.01))


def test_no_interval_without_a_count_model_or_whole_counts():
    assert np.isnan(interval([5.5], [40.0], "none", 1, 95)).all()
    assert np.isnan(interval([5.5], [40.0], "binomial", 100, 95)).all()  # FTEs, not children
    assert np.isnan(interval([12], [10], "binomial", 100, 95)).all()  # more than all
    assert np.isnan(interval([3], [0], "poisson", 10_000, 95)).all()


@pytest.mark.parametrize(
    ("lower", "upper", "bench", "polarity", "word"),
    [
        (20.0, 30.0, 35.0, "high", "worse"),
        (20.0, 30.0, 35.0, "low", "better"),
        (20.0, 30.0, 15.0, "high", "better"),
        (20.0, 30.0, 30.0, "high", "similar"),  # touching the benchmark: could be chance
        (20.0, 30.0, 25.0, "low", "similar"),
        (20.0, 30.0, 35.0, "neutral", "lower"),
        (20.0, 30.0, 15.0, "neutral", "higher"),
        (math.nan, math.nan, 15.0, "high", ""),  # no interval: not compared
        (20.0, 30.0, math.nan, "high", ""),  # no benchmark
    ],
)
def test_compare_by_whether_the_interval_excludes_the_benchmark(
    lower, upper, bench, polarity, word
):
    assert compare([lower], [upper], [bench], polarity)[0] == word


def _catalogue(model: str | None = None) -> Catalogue:
    entry = {
        "id": "ind",
        "label": "Re-referrals (%)",
        "theme": "T",
        "unit": "percentage",
        "polarity": "low",
        "decimals": 1,
        "valid_range": [0, 100],
    }
    if model:
        entry["count_model"] = model
    return Catalogue.from_records([entry])


def test_judge_a_big_gap_on_few_children_is_similar_and_on_many_is_worse():
    """England 22%. 6 of 20 (30%, 8 points above) has a 95% interval of 14.5% to 51.9%:
    similar. 600 of 2,000 (also 30%) runs from 28.0% to 32.1%: worse (lower is better)."""
    las = pd.DataFrame(
        {
            "la_code": ["S", "L"],
            "region_code": ["R", "R"],
            "period": "2026-27-Q2",
            "indicator_id": "ind",
            "numerator": [6.0, 600.0],
            "denominator": [20.0, 2000.0],
            "value": [30.0, 30.0],
            "status": "",
            "sn_mean": [29.0, 29.0],
        }
    )
    areas = pd.DataFrame(
        {
            "area_code": ["R", "england"],
            "area_type": ["region", "england"],
            "period": "2026-27-Q2",
            "indicator_id": "ind",
            "numerator": [606.0, 22_000.0],
            "denominator": [2020.0, 100_000.0],
            "value": [30.0, 22.0],
            "status": "",
        }
    )
    out, out_areas = judge(las, areas, _catalogue())
    small, large = out.iloc[0], out.iloc[1]
    assert (small["ci95_lower"], small["ci95_upper"]) == (
        pytest.approx(14.55, abs=0.01),
        pytest.approx(51.90, abs=0.01),
    )
    assert small["vs_england"] == "similar" and large["vs_england"] == "worse"
    assert large["ci95_lower"] == pytest.approx(28.03, abs=0.01)
    # against the region (30.0%) and the SN mean (29.0%) both are similar
    assert set(out["vs_region"]) == {"similar"} and set(out["vs_sn"]) == {"similar"}
    assert out_areas.set_index("area_code").loc["R", "vs_england"] == "worse"
    # at 99.8% the large LA's interval (27.2% to 32.9%) still excludes England
    assert judge(las, areas, _catalogue(), 99.8)[0].iloc[1]["vs_england"] == "worse"


def test_withheld_and_missing_figures_get_no_interval():
    frame = pd.DataFrame(
        {
            "indicator_id": "ind",
            "numerator": [3.0, math.nan, 40.0],
            "denominator": [50.0, 50.0, 50.0],
            "status": ["c", "missing", ""],
        }
    )
    out = add_intervals(frame, _catalogue())
    assert out["ci95_lower"].isna().tolist() == [True, True, False]
    assert out["ci998_upper"].isna().tolist() == [True, True, False]


def test_count_model_is_checked_in_the_catalogue():
    assert _catalogue()["ind"].count_model == "binomial"
    assert _catalogue("none")["ind"].count_model == "none"
    with pytest.raises(ConfigError, match="count_model 'normal' is not one of"):
        _catalogue("normal")


def test_trend_test_matches_statsmodels_linear_by_linear_association():
    """Cochran-Armitage is N r^2; statsmodels' linear-by-linear association is (N - 1) r^2."""
    from statsmodels.stats.contingency_tables import Table

    r = np.array([[10, 15, 20, 31]])
    n = np.array([[60, 62, 58, 61]])
    p, sign = trend_p(r, n, "binomial")
    table = np.column_stack([r[0], n[0] - r[0]])
    z = Table(table).test_ordinal_association().zscore
    from scipy.stats import chi2

    big_n = n.sum()
    assert p[0] == pytest.approx(chi2.sf(z**2 * big_n / (big_n - 1), 1))
    assert sign[0] == 1


def test_change_test_is_pearsons_chi_squared_on_the_two_by_two_table():
    from scipy.stats import chi2_contingency

    p, sign = change_p([30], [100], [20], [100], "binomial")
    expected = chi2_contingency([[20, 80], [30, 70]], correction=False)[1]
    assert p[0] == pytest.approx(expected) and sign[0] == 1
    assert np.isnan(change_p([30], [100], [math.nan], [100], "binomial")[0][0])


def test_funnel_limits_narrow_with_the_denominator_and_hold_the_target():
    """Around 20%: at 2,500 children the 95% limits sit near 20% +/- 1.96 x sqrt(0.2 x 0.8 /
    2,500) = 18.4% to 21.6%; wider at 99.8%; far wider at 25 children."""
    ind = _catalogue()["ind"]
    lo, hi = funnel_limits(20.0, [25, 2500], ind, 95)
    assert lo[1] == pytest.approx(18.43, abs=0.1) and hi[1] == pytest.approx(21.57, abs=0.1)
    assert lo[0] < lo[1] < 20.0 < hi[1] < hi[0]
    lo998, hi998 = funnel_limits(20.0, [2500], ind, 99.8)
    assert lo998[0] < lo[1] and hi998[0] > hi[1]


def test_funnel_limits_interpolate_between_counts_spiegelhalter():
    """Spiegelhalter (2005): r_p is the binomial p-quantile, and the limit is (r_p - a) / n with
    a = (F(r_p) - p) / (F(r_p) - F(r_p - 1)). By hand for n = 40 at 30%, p = 0.975."""
    from scipy.stats import binom

    ind = _catalogue()["ind"]
    r_p = binom.ppf(0.975, 40, 0.3)
    a = (binom.cdf(r_p, 40, 0.3) - 0.975) / (binom.pmf(r_p, 40, 0.3))
    assert funnel_limits(30.0, [40], ind, 95)[1][0] == pytest.approx((r_p - a) / 40 * 100)
