"""SN comparators, changes and trends against hand-worked numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.core.catalogue import Catalogue
from pipeline.core.trends import movement, sn_comparators
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, OK


def _cat(polarity: str = "low") -> Catalogue:
    return Catalogue.from_records(
        [
            {
                "id": "ind",
                "label": "An indicator",
                "theme": "T",
                "unit": "percentage",
                "polarity": polarity,
                "decimals": 1,
                "valid_range": [0, 100],
            }
        ]
    )


def _fig(rows):
    return pd.DataFrame(rows, columns=["la_code", "period", "indicator_id", "value", "status"])


NEIGHBOURS = pd.DataFrame(
    {
        "la_code": ["A", "A", "A", "A", "B"],
        "neighbour_la_code": ["B", "C", "D", "E", "A"],
    }
)


def test_sn_mean_and_median_count_only_neighbours_with_a_value():
    f = _fig(
        [
            ("A", "2026-27-Q2", "ind", 50.0, OK),
            ("B", "2026-27-Q2", "ind", 10.0, OK),
            ("C", "2026-27-Q2", "ind", 20.0, OK),
            ("D", "2026-27-Q2", "ind", 60.0, OK),
            ("E", "2026-27-Q2", "ind", None, "c"),  # suppressed: not a zero, not counted
        ]
    )
    out = sn_comparators(f, NEIGHBOURS).set_index("la_code")
    # A's neighbours with values: 10, 20, 60 -> mean 30, median 20
    assert out.loc["A", "sn_mean"] == pytest.approx(30.0)
    assert out.loc["A", "sn_median"] == pytest.approx(20.0)
    assert out.loc["A", "sn_count"] == 3
    # B's only neighbour is A (50)
    assert out.loc["B", "sn_mean"] == 50.0 and out.loc["B", "sn_count"] == 1
    # C has no neighbours listed: no comparator rather than zero
    assert math.isnan(out.loc["C", "sn_mean"]) and out.loc["C", "sn_count"] == 0


def test_sn_median_of_an_even_count_is_the_mean_of_the_middle_two():
    f = _fig(
        [
            ("B", "p", "ind", 10.0, OK),
            ("C", "p", "ind", 20.0, OK),
            ("D", "p", "ind", 30.0, OK),
            ("E", "p", "ind", 100.0, OK),
            ("A", "p", "ind", None, NOT_ACCEPTED),
        ]
    )
    out = sn_comparators(f, NEIGHBOURS).set_index("la_code")
    assert out.loc["A", "sn_median"] == pytest.approx(25.0)
    assert out.loc["A", "sn_mean"] == pytest.approx(40.0)


def test_changes_against_previous_period_and_a_year_earlier():
    f = _fig(
        [
            ("A", "2025-26-Q2", "ind", 20.0, OK),
            ("A", "2026-27-Q1", "ind", 22.0, OK),
            ("A", "2026-27-Q2", "ind", 25.5, OK),
        ]
    )
    out = movement(f, _cat()).set_index("period")
    row = out.loc["2026-27-Q2"]
    assert row["previous_value"] == 22.0 and row["change_previous"] == pytest.approx(3.5)
    assert row["year_earlier_value"] == 20.0 and row["change_year"] == pytest.approx(5.5)
    assert math.isnan(out.loc["2026-27-Q1", "year_earlier_value"])


@pytest.mark.parametrize(
    ("then", "now", "polarity", "trend"),
    [
        (20.0, 24.0, "low", "worsening"),  # up 20% where lower is better
        (20.0, 24.0, "high", "improving"),
        (20.0, 24.0, "neutral", "rising"),
        (20.0, 16.0, "low", "improving"),
        (20.0, 16.0, "neutral", "falling"),
        (20.0, 20.9, "low", "stable"),  # 4.5% < 5%
        (20.0, 21.0, "low", "worsening"),  # 5% is a move
        (0.0, 0.0, "high", "stable"),
        (0.0, 3.0, "high", "improving"),
    ],
)
def test_trend_over_four_periods_by_polarity(then, now, polarity, trend):
    f = _fig(
        [
            ("A", "2025-26-Q3", "ind", then, OK),
            ("A", "2025-26-Q4", "ind", 99.0, OK),  # the middle periods do not decide
            ("A", "2026-27-Q1", "ind", 1.0, OK),
            ("A", "2026-27-Q2", "ind", now, OK),
        ]
    )
    out = movement(f, _cat(polarity)).set_index("period")
    assert out.loc["2026-27-Q2", "trend"] == trend


def test_no_trend_or_change_when_an_end_is_missing_or_suppressed():
    f = _fig(
        [
            ("A", "2025-26-Q3", "ind", None, "c"),
            ("A", "2026-27-Q1", "ind", None, MISSING),
            ("A", "2026-27-Q2", "ind", 30.0, OK),
        ]
    )
    row = movement(f, _cat()).set_index("period").loc["2026-27-Q2"]
    assert row["trend"] is None
    assert math.isnan(row["change_previous"])


def test_area_trend_compares_the_same_las_at_both_ends():
    """Region of A (50 of 100 every quarter) and B (900 of 1,000). B's latest return is not
    accepted: the region's figure falls from 86.4% to 50.0%, but like for like (A alone) nothing
    moved: the change is zero and the test of it finds no significant change."""
    from pipeline.core.trends import area_movement
    from pipeline.core.vocabulary import FIGURE_COLUMNS

    quarters = ["2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2"]
    rows = []
    for q in quarters:
        rows.append(("A", q, "ind", 50.0, 100.0, 50.0, OK))
        if q == quarters[-1]:
            rows.append(("B", q, "ind", math.nan, math.nan, math.nan, NOT_ACCEPTED))
        else:
            rows.append(("B", q, "ind", 900.0, 1000.0, 90.0, OK))
    f = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    got = area_movement(f, pd.Series({"A": "R", "B": "R"}), _cat("high"))
    now = got[got["period"] == quarters[-1]].iloc[0]
    assert (now["previous_value"], now["change_previous"]) == (50.0, 0.0)
    assert (now["trend_from"], now["trend"]) == (50.0, "no significant change")
    assert now["change_previous_sig"] == "not significant"
    # a quarter where both LAs are present compares both: (950 / 1,100) at both ends
    q1 = got[got["period"] == quarters[2]].iloc[0]
    assert q1["previous_value"] == 86.4 and q1["change_previous"] == 0.0
    assert math.isnan(q1["trend_from"]) and pd.isna(q1["trend"])  # nothing 3 quarters earlier


def _counted(rows, polarity: str = "high", unit: str = "percentage") -> tuple:
    """Figures with counts: rows of (period, numerator, denominator)."""
    from pipeline.core.vocabulary import FIGURE_COLUMNS

    scale = 100 if unit == "percentage" else 10_000
    f = pd.DataFrame(
        [("A", p, "ind", n, d, round(n / d * scale, 1), OK) for p, n, d in rows],
        columns=FIGURE_COLUMNS,
    )
    cat = Catalogue.from_records(
        [
            {
                "id": "ind",
                "label": "An indicator",
                "theme": "T",
                "unit": "rate per 10,000" if unit == "rate" else unit,
                "polarity": polarity,
                "decimals": 1,
                "valid_range": [0, None if unit != "percentage" else 100],
            }
        ]
    )
    return f, cat


@pytest.mark.parametrize(
    ("then", "now", "trend", "sig"),
    [
        # 5 of 20 to 9 of 20 (25% to 45%): chi-squared 1.76, p = 0.18: could be chance
        ((5, 20), (9, 20), "no significant change", "not significant"),
        # the same percentages on 2,000 children: chi-squared 176, p < 0.001
        ((500, 2000), (900, 2000), "improving", "significant"),
        ((900, 2000), (500, 2000), "worsening", "significant"),
    ],
)
def test_a_change_is_an_improvement_only_when_the_test_finds_it(then, now, trend, sig):
    quarters = ["2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2"]
    f, cat = _counted(
        [(quarters[0], *then), (quarters[1], *then), (quarters[2], *then), (quarters[3], *now)]
    )
    row = movement(f, cat).set_index("period").loc[quarters[-1]]
    assert row["trend"] == trend
    assert row["change_previous_sig"] == sig


def test_yearly_trend_is_tested_over_every_year_between():
    """Five years drifting up 2 points a year on 400 children each: no single year's change
    is significant at 95%, but the chi-squared test for trend over all five is."""
    years = ["2021", "2022", "2023", "2024", "2025"]
    f, cat = _counted([(y, 100 + 8 * k, 400) for k, y in enumerate(years)])
    out = movement(f, cat, trend_steps=4).set_index("period").loc["2025"]
    assert out["change_previous_sig"] == "not significant"  # 124/400 against 132/400
    assert out["trend"] == "improving"


def test_trend_at_998_needs_stronger_evidence_than_at_95():
    """12 of 100 to 24 of 100: chi-squared 4.8, p = 0.028: significant at 95%, not at 99.8%."""
    f, cat = _counted([("2024", 12, 100), ("2025", 24, 100)], polarity="low")
    at95 = movement(f, cat, trend_steps=1).set_index("period").loc["2025"]
    at998 = movement(f, cat, trend_steps=1, level=99.8).set_index("period").loc["2025"]
    assert at95["trend"] == "worsening"
    assert at998["trend"] == "no significant change"


def test_a_rate_is_tested_as_events_in_a_population():
    """400 referrals in 10,000 children, then 480 (a neutral rate): the Poisson test says it
    rose; 4 then 5 in 10,000 could be chance."""
    big, cat = _counted([("2024", 400, 10_000), ("2025", 480, 10_000)], "neutral", "rate")
    small, _ = _counted([("2024", 4, 10_000), ("2025", 5, 10_000)], "neutral", "rate")
    assert movement(big, cat, trend_steps=1).set_index("period").loc["2025", "trend"] == "rising"
    row = movement(small, cat, trend_steps=1).set_index("period").loc["2025"]
    assert row["trend"] == "no significant change"
