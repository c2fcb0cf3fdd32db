"""The generated narrative: hand-made figures, the sentences a reviewer reads, polarity flips.

Each hand-made change says whether the chi-squared test found it significant
(``change_previous_sig``, as the benchmark core gives it); the rules that turn those into words
are tested on real counts in tests/test_significant_words.py."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import norm

from pipeline.core.catalogue import Catalogue
from pipeline.core.narrative import (
    data_gaps,
    movers,
    national_spread,
    persistent_worst_band,
    region_against_england,
    regional_narrative,
)
from pipeline.core.significance import NOT_SIGNIFICANT, SIGNIFICANT, change_p, compare, interval
from pipeline.core.vocabulary import NOT_ACCEPTED, OK
from tests.catalogues import catalogue as hand_made

NOW, PREV = "2026-27-Q2", "2026-27-Q1"
NAMES = {"A": "Aldermoor", "B": "Brackenford", "C": "Carrowdale"}


def catalogue(rereferral_polarity: str = "low") -> Catalogue:
    return hand_made(
        "rereferrals_pct",
        "visits_pct",
        "cla_rate",
        rereferrals_pct={"polarity": rereferral_polarity},
    )


def las(rows) -> pd.DataFrame:
    """(la_code, indicator_id, value, previous_value[, status[, worst_band_run[,
    change_previous_sig]]]) for NOW; a change is significant unless it says otherwise."""
    out = []
    for r in rows:
        la, ind, value, prev, *rest = r
        status = rest[0] if rest else OK
        run = rest[1] if len(rest) > 1 else 0
        sig = rest[2] if len(rest) > 2 else SIGNIFICANT
        out.append((la, NOW, ind, value, prev, status, run, sig))
    return pd.DataFrame(
        out,
        columns=[
            "la_code",
            "period",
            "indicator_id",
            "value",
            "previous_value",
            "status",
            "worst_band_run",
            "change_previous_sig",
        ],
    )


MOVES = las(
    [
        # re-referrals (lower is better): A fell 24.0 -> 18.0, B rose 20.0 -> 23.0
        ("A", "rereferrals_pct", 18.0, 24.0),
        ("B", "rereferrals_pct", 23.0, 20.0),
        # visits (higher is better): C rose 80.0 -> 82.0 (2.5%), not significant
        ("C", "visits_pct", 82.0, 80.0, OK, 0, NOT_SIGNIFICANT),
        # neutral: a big move, never called better or worse
        ("A", "cla_rate", 90.0, 60.0),
    ]
)
SPREAD = {"rereferrals_pct": 4.0, "visits_pct": 10.0, "cla_rate": 30.0}


def test_movers_name_the_figures_and_judge_them_by_polarity():
    up, down = movers(MOVES, catalogue("low"), NOW, NAMES, SPREAD)
    assert up.points == [
        "Aldermoor: Re-referrals (%) fell from 24.0% to 18.0%, a significant improvement "
        "(a lower value is better)."
    ]
    assert down.points == [
        "Brackenford: Re-referrals (%) rose from 20.0% to 23.0%, a significant deterioration "
        "(a lower value is better)."
    ]
    assert up.count == 1 and down.count == 1
    assert up.lead == "1 LA figure improved significantly (chi-squared test, 95%) since 2026-27 Q1:"


def test_flipping_polarity_flips_the_wording():
    """The same figures with re-referrals marked higher-is-better swap improvement and
    deterioration, and the stated reason changes with them."""
    up, down = movers(MOVES, catalogue("high"), NOW, NAMES, SPREAD)
    assert up.points == [
        "Brackenford: Re-referrals (%) rose from 20.0% to 23.0%, a significant improvement "
        "(a higher value is better)."
    ]
    assert down.points == [
        "Aldermoor: Re-referrals (%) fell from 24.0% to 18.0%, a significant deterioration "
        "(a higher value is better)."
    ]


def judged_areas(cat: Catalogue, ind: str, region: tuple[int, int], england: float):
    """The region R's figure of `ind` from its counts and England's figure, with the region's
    ``vs_england`` as ``significance.judge`` makes it (its Wilson interval at 95% against
    England's figure, by polarity)."""
    n, d = region
    lo, hi = interval([n], [d], "binomial", 100, 95)
    vs = compare(lo, hi, [england], cat[ind].polarity)[0]
    return pd.DataFrame(
        [("R", NOW, ind, n / d * 100, vs), ("england", NOW, ind, england, "")],
        columns=["area_code", "period", "indicator_id", "value", "vs_england"],
    )


def test_flipping_polarity_flips_region_against_england():
    # 250 of 1,000 is 25.0% (95% interval 22.4% to 27.8%), wholly above England's 20.0%
    low = region_against_england(
        judged_areas(catalogue("low"), "rereferrals_pct", (250, 1000), 20.0),
        catalogue("low"),
        NOW,
        "R",
        "Northmoor",
    )
    high = region_against_england(
        judged_areas(catalogue("high"), "rereferrals_pct", (250, 1000), 20.0),
        catalogue("high"),
        NOW,
        "R",
        "Northmoor",
    )
    # (25 - 20) / 20 = 25% higher
    assert low.points == [
        "Re-referrals (%): 25.0% in the region against 20.0% in England, 5.0 percentage points "
        "(25%) higher: significantly worse (a lower value is better)."
    ]
    assert high.points[0].endswith("(25%) higher: significantly better (a higher value is better).")
    assert (
        "significantly better than England on 0 and significantly worse on 1 of the 1 indicators "
        "where higher or lower is better (at 95%: the region's confidence interval excludes "
        "England's figure)." in low.lead
    )
    assert "significantly better than England on 1 and significantly worse on 0" in high.lead


def test_neutral_and_small_moves_are_not_judged():
    up, down = movers(MOVES, catalogue(), NOW, NAMES, SPREAD)
    text = " ".join(up.points + down.points)
    assert "Children looked after" not in text, "neutral indicators are never better or worse"
    assert "Carrowdale" not in text, "a 2.5% move that is not significant"
    assert "Not counted" not in text, "nor is it among those of 5% or more that could be chance"


def test_movers_rank_by_size_against_the_national_spread_and_keep_the_top_three():
    rows = las(
        [
            # each a deterioration on re-referrals (spread 4.0): sizes 1.0, 2.0, 0.5, 3.0
            ("A", "rereferrals_pct", 24.0, 20.0),
            ("B", "rereferrals_pct", 28.0, 20.0),
            ("C", "rereferrals_pct", 22.0, 20.0),
            # visits (spread 10.0): 70 -> 50 is 20 points, size 2.0; ties B's re-referrals
            ("D", "visits_pct", 50.0, 70.0),
            ("E", "rereferrals_pct", 32.0, 20.0),
        ]
    )
    names = NAMES | {"D": "Dunmere", "E": "Elmsworth"}
    _, down = movers(rows, catalogue(), NOW, names, SPREAD)
    assert down.count == 5
    # E (3.0) then the tie at 2.0 broken by name (Brackenford before Dunmere); A and C dropped
    assert [p.split(":")[0] for p in down.points] == ["Elmsworth", "Brackenford", "Dunmere"]


def test_missing_or_suppressed_figures_never_move():
    rows = las(
        [
            ("A", "rereferrals_pct", math.nan, 24.0, "c"),
            ("B", "rereferrals_pct", 23.0, math.nan),
        ]
    )
    up, down = movers(rows, catalogue(), NOW, NAMES, SPREAD)
    assert up.points == down.points == []
    assert up.lead == (
        "No LA figure improved significantly (chi-squared test, 95%), or by 5% or more of the "
        "previous figure, among figures that cannot be tested, since 2026-27 Q1."
    )


def test_persistent_band_d_groups_by_la_and_states_since_when():
    rows = las(
        [
            ("A", "rereferrals_pct", 31.0, 30.0, OK, 5),
            ("A", "visits_pct", 60.0, 61.0, OK, 3),
            ("B", "visits_pct", 55.0, 54.0, OK, 2),  # two quarters: not yet persistent
        ]
    )
    p = persistent_worst_band(rows, catalogue(), NOW, NAMES)
    assert p.points == [
        "Aldermoor: Re-referrals (%), 31.0%, for 5 quarters, since 2025-26 Q2; "
        "Visits in time (%), 60.0%, for 3 quarters, since 2025-26 Q4."
    ]
    assert p.count == 2
    assert p.lead.startswith("1 LA has 2 figures that have been in the worst quarter of all LAs")
    # a run that starts with the first quarter held may be longer: it says so
    held = persistent_worst_band(rows, catalogue(), NOW, NAMES, first_period="2025-26-Q2")
    assert held.points[0].startswith(
        "Aldermoor: Re-referrals (%), 31.0%, in every quarter held, since 2025-26 Q2 (5 quarters);"
    )


def test_data_gaps_name_missing_not_accepted_and_suppressed():
    rows = las(
        [
            ("A", "rereferrals_pct", math.nan, math.nan, "c"),
            ("A", "visits_pct", 80.0, 80.0),
            ("B", "rereferrals_pct", math.nan, math.nan, NOT_ACCEPTED),
        ]
    )
    status = {"A": "accepted", "B": NOT_ACCEPTED, "C": "missing"}
    gaps = data_gaps(rows, catalogue(), NOW, NAMES, status)
    assert gaps.points == [
        "Aldermoor: 1 indicator without a figure: Re-referrals (%) (suppressed (confidential)).",
        "Brackenford: the return for 2026-27 Q2 was not accepted by validation, so none of its "
        "figures are used (see the validation report).",
        "Carrowdale: no return received for 2026-27 Q2.",
    ]
    assert gaps.lead.startswith("0 of 3 LAs have an accepted return with a figure for every")


def test_whole_narrative_is_deterministic_and_independent_of_row_order():
    areas = pd.DataFrame(
        [("R", NOW, "visits_pct", 80.0), ("england", NOW, "visits_pct", 85.0)],
        columns=["area_code", "period", "indicator_id", "value"],
    )
    status = {"A": "accepted", "B": "accepted", "C": "accepted"}
    args = (catalogue(), NOW, "R", "Northmoor", NAMES, status, SPREAD)
    one = regional_narrative(MOVES, areas, *args)
    two = regional_narrative(MOVES.iloc[::-1].reset_index(drop=True), areas, *args)
    assert [p.to_json() for p in one] == [p.to_json() for p in two]
    assert [p.key for p in one] == [
        "summary",
        "improvements",
        "deteriorations",
        "persistent",
        "england",
        "gaps",
    ]
    assert one[0].points[1] == (
        "Since 2026-27 Q1, 1 LA figure improved and 1 deteriorated significantly (chi-squared "
        "test, 95%)."
    )


def test_national_spread_is_the_type_7_interquartile_range_of_ok_values():
    rows = pd.DataFrame(
        {
            "la_code": list("ABCDE"),
            "period": [NOW] * 5,
            "indicator_id": ["visits_pct"] * 5,
            "value": [10.0, 20.0, 30.0, 40.0, 1000.0],
            "status": [OK, OK, OK, OK, "c"],  # the suppressed row does not count
        }
    )
    # [10, 20, 30, 40]: q1 = 17.5, q3 = 32.5
    assert national_spread(rows, NOW) == {"visits_pct": pytest.approx(15.0)}


def test_movers_count_only_significant_changes_and_say_how_many_could_be_chance():
    """The old rule left out a change resting on fewer than 10 children; the test replaces it.
    Re-referrals (lower is better) rose by 5 percentage points at three LAs. By hand, the
    chi-squared test (z^2) with the pooled proportion p and n children at each end:
    A, 3 -> 8 of 100: p = 0.055, z = 0.05 / sqrt(0.055 x 0.945 x 2/100) = 1.55;
    B, 20 -> 25 of 100: p = 0.225, z = 0.05 / sqrt(0.225 x 0.775 x 2/100) = 0.85;
    C, 200 -> 250 of 1,000: p = 0.225, z = 0.05 / sqrt(0.225 x 0.775 x 2/1,000) = 2.68.
    Only C's is beyond 1.96 (95%): one deterioration, and two that could be chance."""
    counts = {"A": (3, 8, 100), "B": (20, 25, 100), "C": (200, 250, 1000)}
    p, _ = change_p(
        [c[1] for c in counts.values()],
        [c[2] for c in counts.values()],
        [c[0] for c in counts.values()],
        [c[2] for c in counts.values()],
        "binomial",
    )
    z = [1.55, 0.85, 2.68]
    assert list(p) == pytest.approx([2 * norm.sf(x) for x in z], rel=0.02)
    rows = las(
        [
            (la, "rereferrals_pct", now / d * 100, then / d * 100, OK, 0, sig)
            for (la, (then, now, d)), sig in zip(
                counts.items(), [NOT_SIGNIFICANT, NOT_SIGNIFICANT, SIGNIFICANT], strict=True
            )
        ]
    )
    assert list(p < 0.05) == [False, False, True]
    _, down = movers(rows, catalogue(), NOW, NAMES, SPREAD)
    assert down.count == 1 and down.chance == 2
    assert down.points == [
        "Carrowdale: Re-referrals (%) rose from 20.0% to 25.0%, a significant deterioration "
        "(a lower value is better).",
        "Not counted: 2 further changes of 5% or more of the previous figure that were not "
        "significant (chi-squared test, 95%): they could be chance.",
    ]
