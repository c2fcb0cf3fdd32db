"""The self-assessment pack's evidence rules on hand-made figures, through the real benchmark core
and its tests (``significance.judge``).

Five LAs in one region, each the others' statistical neighbours, over four quarters. LA "A"'s
re-referral rate climbs 18 -> 20 -> 22 -> 24% while its neighbours stay at 21%: with lower
better that is a worsening run into band D; with higher better it is an improving band A.
Each figure is out of 10,000 children (``BIG``) unless a test says otherwise, so that these
differences are significant and the rules read as the pack prints them; on 100 or 30 children
the same percentages are similar to their comparators (the differences could be chance).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.core.assessment import assess, worsening_run
from pipeline.core.benchmark import benchmark
from pipeline.core.catalogue import Catalogue
from pipeline.core.scorecard import scorecard, value_series
from pipeline.core.significance import judge
from pipeline.core.vocabulary import OK
from tests.catalogues import catalogue as hand_made

PERIODS = ["2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2"]
NOW = PERIODS[-1]
#: children behind every figure unless a test says otherwise: enough for these differences to
#: be significant
BIG = 10_000
LAS = ["A", "B", "C", "D", "E"]
#: re-referral percentages by period, LA "A" first
RISING = {
    "2025-26-Q3": [18, 21, 20, 22, 21],
    "2025-26-Q4": [20, 21, 21, 21, 21],
    "2026-27-Q1": [22, 21, 21, 21, 21],
    "2026-27-Q2": [24, 20, 21, 22, 21],
}


def figures(values: dict[str, dict[str, list]], denominator: float = BIG) -> pd.DataFrame:
    """indicator -> period -> one value per LA (None: suppressed 'c'). Numerator = value% of
    `denominator`, so each value is exact and the region is the mean of the five."""
    rows = []
    for ind, by_period in values.items():
        for period, vals in by_period.items():
            for la, v in zip(LAS, vals, strict=True):
                if v is None:
                    rows.append((la, period, ind, math.nan, math.nan, math.nan, "c"))
                else:
                    num = v * denominator / 100
                    rows.append((la, period, ind, num, denominator, float(v), OK))
    columns = ["la_code", "period", "indicator_id", "numerator", "denominator", "value"]
    return pd.DataFrame(rows, columns=[*columns, "status"])


def assessed(cat: Catalogue, values: dict, denominator: float = BIG, la: str = "A"):
    las = pd.DataFrame({"la_code": LAS, "region_code": "R1"})
    sn = pd.DataFrame(
        [(a, b) for a in LAS for b in LAS if a != b], columns=["la_code", "neighbour_la_code"]
    )
    bench = benchmark(figures(values, denominator), las, cat, sn)
    bench["las"], bench["areas"] = judge(bench["las"], bench["areas"], cat)
    rows = bench["las"][bench["las"]["la_code"] == la]
    return assess(rows, bench["areas"], cat, NOW, "R1", PERIODS[0]), rows, bench


def test_a_worsening_run_into_band_d_is_an_area_for_development_with_its_question():
    a, _, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": RISING})
    assert [s.reasons for s in a.development] == [["band_d", "worsening"]]
    assert a.development[0].text == (
        "Re-referrals (%): 24.0% (95% CI 23.2% to 24.8%), in band D, among the worst 25% of all "
        "LAs, for 2 quarters running; 3.0 percentage points worse than the SN mean of 21.0%; "
        "worse in each of the last 3 quarters, from 18.0% in 2025-26 Q3 (region 21.6%, "
        "England 21.6%)."
    )
    # the question quotes the run, its start and end, and the neighbours over the same quarters,
    # asks what drives it, and closes with the bank's first question (here the general one)
    assert [q.text for q in a.questions] == [
        "Re-referrals (%) rose from 18.0% to 24.0% over 3 quarters (2025-26 Q3 to 2026-27 Q2) "
        "while the SN mean stayed near 21.0%, and is in band D (among the worst 25% of all "
        "LAs): what is driving the rise? What is the plan to turn this round, and how will the "
        "LA know it is working?"
    ]
    assert a.strengths == []


def test_flipping_polarity_turns_the_same_figures_into_a_strength():
    cat = hand_made("rereferrals_pct", rereferrals_pct={"polarity": "high"})
    a, _, _ = assessed(cat, {"rereferrals_pct": RISING})
    assert a.development == []
    assert [s.reasons for s in a.strengths] == [["band_a", "improving_above_sn"]]
    # a strength gets a question too: what makes it work, quoting its figures
    assert [(q.reasons, q.text) for q in a.questions] == [
        (
            ["band_a", "improving_above_sn"],
            "Re-referrals (%) is in band A (among the best 25% of all LAs) and improving, from "
            "18.0% in 2025-26 Q3; at 24.0% it is 3.0 percentage points better than the SN mean "
            "of 21.0% and 2.4 percentage points better than England's 21.6%: what makes it work, "
            "and could it be shared with the region?",
        )
    ]
    assert a.strengths[0].text == (
        "Re-referrals (%): 24.0% (95% CI 23.2% to 24.8%), in band A, among the best 25% of all "
        "LAs; 3.0 percentage points better than the SN mean of 21.0%; improving significantly "
        "(chi-squared test, 95%), from 18.0% in 2025-26 Q3 (region 21.6%, England 21.6%)."
    )
    # and the quarter's change is judged the other way round
    assert [c.text for c in a.changes] == [
        "Re-referrals (%) rose from 22.0% to 24.0% (2.0 percentage points) since 2026-27 Q1: "
        "a significant improvement (chi-squared test, 95%; a higher value is better)."
    ]


def test_the_quarter_change_is_a_deterioration_when_lower_is_better():
    a, _, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": RISING})
    assert [c.text for c in a.changes] == [
        "Re-referrals (%) rose from 22.0% to 24.0% (2.0 percentage points) since 2026-27 Q1: "
        "a significant deterioration (chi-squared test, 95%; a lower value is better)."
    ]


def test_improving_but_still_worse_than_neighbours_is_not_a_strength():
    # visits: higher is better; A improves 60 -> 70 but its neighbours sit at 80
    values = {
        "visits_pct": {
            "2025-26-Q3": [60, 80, 80, 80, 80],
            "2025-26-Q4": [63, 80, 80, 80, 80],
            "2026-27-Q1": [66, 80, 80, 80, 80],
            "2026-27-Q2": [70, 80, 81, 79, 80],
        }
    }
    a, rows, _ = assessed(hand_made("visits_pct"), values)
    now = rows[rows["period"] == NOW].iloc[0]
    assert now["trend"] == "improving" and now["band"] == "D"
    assert a.strengths == []
    # in band D, but not worsening: the question asks about the improvement
    assert [s.reasons for s in a.development] == [["band_d"]]
    assert a.questions[0].text == (
        "Visits in time (%) has been in band D (among the worst 25% of all LAs) in every quarter "
        "held (4); at 70.0% it is 10.0 percentage points worse than the SN mean of 80.0% and "
        "8.0 percentage points worse than England's 78.0%. It is improving, from 60.0% in "
        "2025-26 Q3: what will keep the improvement going until it leaves band D? What is the "
        "plan to turn this round, and how will the LA know it is working?"
    )


def test_improving_and_better_than_neighbours_without_band_a_is_a_strength():
    values = {
        "visits_pct": {
            "2025-26-Q3": [70, 60, 90, 65, 95],
            "2025-26-Q4": [72, 60, 90, 65, 95],
            "2026-27-Q1": [74, 60, 90, 65, 95],
            "2026-27-Q2": [80, 60, 90, 65, 95],
        }
    }
    a, rows, _ = assessed(hand_made("visits_pct"), values)
    now = rows[rows["period"] == NOW].iloc[0]
    # 80 is the median: in the quarter below it (C), as LAIT bands
    assert now["band"] == "C" and now["sn_mean"] == 77.5
    assert [s.reasons for s in a.strengths] == [["improving_above_sn"]]
    assert a.strengths[0].figures["trend_from"] == 70.0
    assert "2.5 percentage points better than the SN mean of 77.5%" in a.strengths[0].text


def test_a_slow_drift_is_not_a_worsening_run():
    # worse every quarter, but by 1.5% of the starting figure in all: within noise
    drift = {
        "2025-26-Q3": [20.0, 30, 10, 15, 25],
        "2025-26-Q4": [20.1, 30, 10, 15, 25],
        "2026-27-Q1": [20.2, 30, 10, 15, 25],
        "2026-27-Q2": [20.3, 30, 10, 15, 25],
    }
    a, rows, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": drift})
    cat = hand_made("rereferrals_pct")
    series = value_series(rows, "rereferrals_pct")
    assert worsening_run(series, max(series), cat["rereferrals_pct"]) == 3
    assert a.development == [] and a.questions == []


def test_a_gap_ends_a_worsening_run():
    gap = dict(RISING) | {"2025-26-Q4": [None, 21, 21, 21, 21]}
    a, _, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": gap})
    # 22 -> 24 is one worsening quarter after the gap: band D only
    assert [s.reasons for s in a.development] == [["band_d"]]


def test_neutral_indicators_are_described_never_judged():
    a, _, _ = assessed(
        hand_made("cla_rate"), {"cla_rate": {p: [v * 3 for v in RISING[p]] for p in PERIODS}}
    )
    assert a.strengths == [] and a.development == [] and a.questions == []
    assert [c.text for c in a.changes] == [
        "Children looked after per 10,000 rose from 66 to 72 per 10,000 children (6 per 10,000 "
        "children) since 2026-27 Q1: a significant rise (chi-squared test, 95%; no judgement is "
        "made on this measure)."
    ]


def test_a_figure_on_a_handful_of_children_is_similar_to_everything_and_says_so():
    """The same percentages out of 50 children (24% of 50 is 12): the Wilson interval at 95%
    runs from 14.3% to 37.4% (by hand, z = 1.96: centre (0.24 + z^2/100) / (1 + z^2/50) =
    0.2586; half-width z sqrt(0.24 x 0.76/50 + z^2/10,000) / (1 + z^2/50) = 0.1156), so A is
    similar to the SN mean, the region and England, and the rise since last quarter is not
    significant. This replaces the old note on a count under 10: the test decides."""
    a, rows, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": RISING}, 50)
    now = rows[rows["period"] == NOW].iloc[0]
    assert (now["vs_sn"], now["vs_region"], now["vs_england"]) == ("similar",) * 3
    (statement,) = a.development  # still in band D, and worse three quarters running
    assert statement.text.startswith("Re-referrals (%): 24.0% (95% CI 14.3% to 37.4%), in band D")
    assert "similar to the SN mean of 21.0% (3.0 percentage points higher; the difference " in (
        statement.text
    )
    assert statement.text.endswith(
        " Its 95% interval includes the SN mean, the region's figure and England's figure: the "
        "differences could be chance."
    )
    assert a.changes[0].text == (
        "Re-referrals (%) rose from 22.0% to 24.0% (2.0 percentage points) since 2026-27 Q1: "
        "a rise that is not significant (chi-squared test, 95%): it could be chance."
    )
    assert "deterioration" not in a.changes[0].text


def test_a_lost_figure_and_a_band_change_are_changes():
    values = {
        "rereferrals_pct": dict(RISING) | {"2026-27-Q2": [None, 20, 21, 22, 21]},
        "visits_pct": {
            "2025-26-Q3": [80, 70, 90, 60, 85],
            "2025-26-Q4": [80, 70, 90, 60, 85],
            "2026-27-Q1": [80, 70, 90, 60, 85],
            # 80 -> 81: small, but band C -> B (80 was the median, 81 is the upper quartile:
            # each in the quarter below it, as LAIT bands)
            "2026-27-Q2": [81, 70, 90, 60, 79],
        },
    }
    a, _, _ = assessed(hand_made("rereferrals_pct", "visits_pct"), values)
    assert [(c.indicator_id, c.reasons) for c in a.changes] == [
        ("rereferrals_pct", ["lost_figure"]),
        ("visits_pct", ["band_changed"]),
    ]
    assert a.changes[0].text == (
        "Re-referrals (%): no figure this quarter (suppressed as confidential), against 22.0% in "
        "2026-27 Q1."
    )
    assert a.changes[1].text == (
        "Visits in time (%) rose from 80.0% to 81.0% (1.0 percentage points) since 2026-27 Q1: "
        "a rise that is not significant (chi-squared test, 95%): it could be chance; band C to B."
    )


def test_scorecard_has_every_indicator_with_its_comparators_and_ranks():
    cat = hand_made("rereferrals_pct", "visits_pct")
    values = {"rereferrals_pct": RISING}  # no visits figures at all
    _, rows, bench = assessed(cat, values)
    card = scorecard(rows, bench["areas"], cat, NOW, "R1").set_index("indicator_id")
    assert list(card.index) == ["rereferrals_pct", "visits_pct"]
    r = card.loc["rereferrals_pct"]
    assert (r["value"], r["previous_value"], r["sn_mean"], r["sn_median"]) == (24, 22, 21, 21)
    assert (r["region"], r["england"], r["band"], r["trend"]) == (21.6, 21.6, "D", "worsening")
    assert (r["rank_national"], r["las_ranked_national"]) == (5, 5)
    assert card.loc["visits_pct", "status"] == "missing"
    assert math.isnan(card.loc["visits_pct", "region"])


@pytest.mark.parametrize("polarity", ["low", "high"])
def test_the_same_figures_always_give_the_same_words(polarity):
    cat = hand_made("rereferrals_pct", rereferrals_pct={"polarity": polarity})
    first, _, _ = assessed(cat, {"rereferrals_pct": RISING})
    again, _, _ = assessed(cat, {"rereferrals_pct": RISING})
    assert first.to_json() == again.to_json()


def test_band_a_but_worsening_is_one_area_for_development_not_also_a_strength():
    # lower is better; A is the best of the five throughout but slips 10 -> 12 -> 14 -> 16
    values = {
        "rereferrals_pct": {
            "2025-26-Q3": [10, 30, 25, 28, 27],
            "2025-26-Q4": [12, 30, 25, 28, 27],
            "2026-27-Q1": [14, 30, 25, 28, 27],
            "2026-27-Q2": [16, 30, 25, 28, 27],
        }
    }
    a, _, _ = assessed(hand_made("rereferrals_pct"), values)
    assert a.strengths == []
    assert [s.reasons for s in a.development] == [["worsening"]]
    assert a.development[0].text == (
        "Re-referrals (%): 16.0% (95% CI 15.3% to 16.7%), in band A, among the best 25% of all "
        "LAs; 11.5 percentage points better than the SN mean of 27.5%, but worse in each of the "
        "last 3 quarters, from 10.0% in 2025-26 Q3 (region 25.2%, England 25.2%)."
    )
    # the neighbours did not move at all: they "stayed near" their figure
    assert "while the SN mean stayed near 27.5%" in a.questions[0].text
    assert a.questions[0].text.endswith(
        "27.5%: what is driving the rise? What is the plan to turn this round, and how will the "
        "LA know it is working?"
    )


def test_a_question_quotes_both_ends_when_the_neighbours_moved_too():
    # A rises 18 -> 24 (6 points) while its neighbours' mean rises 21 -> 24 (3 points)
    values = {
        "rereferrals_pct": {
            "2025-26-Q3": [18, 21, 20, 22, 21],
            "2025-26-Q4": [20, 22, 22, 22, 22],
            "2026-27-Q1": [22, 23, 23, 23, 23],
            "2026-27-Q2": [24, 24, 24, 24, 24],
        }
    }
    a, _, _ = assessed(hand_made("rereferrals_pct"), values)
    assert a.questions[0].text.startswith(
        "Re-referrals (%) rose from 18.0% to 24.0% over 3 quarters (2025-26 Q3 to 2026-27 Q2) "
        "while the SN mean rose from 21.0% to 24.0%: what is driving the rise"
    )


def test_a_worsening_run_is_one_only_when_the_test_finds_the_change():
    """18% -> 24% over three quarters, worse each quarter: on 10,000 children significantly
    worse in all (an area for development for it, besides band D); on 50 children (9 -> 12)
    it could be chance, so only band D remains."""
    many, _, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": RISING})
    few, _, _ = assessed(hand_made("rereferrals_pct"), {"rereferrals_pct": RISING}, 50)
    assert [s.reasons for s in many.development] == [["band_d", "worsening"]]
    assert [s.reasons for s in few.development] == [["band_d"]]
    assert "worse in each of the last" not in few.development[0].text
