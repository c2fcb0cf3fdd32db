"""Words follow the statistics (issue 23, item 4): a figure is better or worse than a benchmark,
and a change an improvement or a deterioration, only when the test says so; otherwise similar,
or a rise or fall that could be chance. Hand-worked numbers, through the real benchmark core
and its tests (``benchmark`` then ``significance.judge``).

Six LAs in three regions: S (small, 20 children) alone in region R1, L (large, 2,000 children)
alone in R2, and four others (4,495 children each) in R3; every LA is every other's
statistical neighbour. England is the ratio of sums of all six.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import chi2

from pipeline.core.assessment import assess
from pipeline.core.benchmark import benchmark
from pipeline.core.catalogue import Catalogue
from pipeline.core.narrative import movers, region_against_england, region_profile
from pipeline.core.narrative import regional_narrative as story
from pipeline.core.significance import change_p, judge
from pipeline.core.vocabulary import OK
from tests.catalogues import catalogue as hand_made

PREV, NOW = "2026-27-Q1", "2026-27-Q2"
LAS = {"S": "R1", "L": "R2", "O1": "R3", "O2": "R3", "O3": "R3", "O4": "R3"}
NAMES = {"S": "Smallbrook", "L": "Largeham", "O1": "Oakby", "O2": "Otley", "O3": "Ousby"}
NAMES |= {"O4": "Orton"}
#: the four other LAs: 948 or 949 of 4,495 children (about 21.1%), the same every quarter
OTHERS = {"O1": (948, 4495), "O2": (948, 4495), "O3": (949, 4495), "O4": (949, 4495)}
#: the words that judge a figure or a change
JUDGING = ("better", "worse", "improvement", "deterioration", "improving", "worsening")


def bench(counts: dict, cat: Catalogue, level: float = 95, trend_steps: int | None = None):
    """The benchmark frames of `counts` ((la, period, indicator) -> (numerator, denominator))
    through ``benchmark`` and ``judge`` at `level`."""
    rows = [
        (la, period, ind, n, d, cat[ind].compute(n, d), OK)
        for (la, period, ind), (n, d) in counts.items()
    ]
    columns = ["la_code", "period", "indicator_id", "numerator", "denominator", "value", "status"]
    las = pd.DataFrame({"la_code": list(LAS), "region_code": list(LAS.values())})
    sn = pd.DataFrame(
        [(a, b) for a in LAS for b in LAS if a != b], columns=["la_code", "neighbour_la_code"]
    )
    frames = benchmark(
        pd.DataFrame(rows, columns=columns), las, cat, sn, trend_steps=trend_steps, level=level
    )
    return judge(frames["las"], frames["areas"], cat, level)


# --------------------------------------------------------------------------- against England


def against_england(polarity: str):
    """Re-referrals this quarter: S 6 of 20 (30%) and L 600 of 2,000 (30%); England
    (6 + 600 + 3,794) / 20,000 = 22.0%: both 8 points from England."""
    cat = hand_made("rereferrals_pct", rereferrals_pct={"polarity": polarity})
    counts = {(la, NOW, "rereferrals_pct"): c for la, c in OTHERS.items()}
    counts |= {("S", NOW, "rereferrals_pct"): (6, 20), ("L", NOW, "rereferrals_pct"): (600, 2000)}
    las, areas = bench(counts, cat)
    return cat, las, areas


def test_the_same_gap_from_england_is_similar_on_20_children_and_significant_on_2000():
    """Wilson at 95% (z = 1.96, z^2 = 3.8416), by hand: 6/20 has centre (0.3 + z^2/40) /
    (1 + z^2/20) = 0.3322 and half-width z sqrt(0.3 x 0.7/20 + z^2/1,600) / (1 + z^2/20) =
    0.1868, so 14.5% to 51.9%, which holds England's 22.0%: similar. 600/2000: centre 0.3004,
    half-width 0.0201, so 28.0% to 32.0%, wholly above 22.0%: worse when lower is better,
    better when higher is."""
    for polarity, word in (("low", "worse"), ("high", "better")):
        _, las, areas = against_england(polarity)
        now = las.set_index("la_code")
        assert now.at["S", "ci95_lower"] == pytest.approx(14.55, abs=0.01)
        assert now.at["S", "ci95_upper"] == pytest.approx(51.90, abs=0.01)
        assert now.at["L", "ci95_lower"] == pytest.approx(28.03, abs=0.01)
        assert now.at["L", "ci95_upper"] == pytest.approx(32.04, abs=0.01)
        assert float(areas.set_index("area_code").at["england", "value"]) == 22.0
        assert now.at["S", "vs_england"] == "similar"
        assert now.at["L", "vs_england"] == word


def test_a_small_region_8_points_from_england_is_similar_and_a_large_one_is_not():
    for polarity, word in (("low", "worse"), ("high", "better")):
        cat, _, areas = against_england(polarity)
        small = region_against_england(areas, cat, NOW, "R1", "Smallshire")
        large = region_against_england(areas, cat, NOW, "R2", "Largeshire")
        assert small.points == [
            "Re-referrals (%): 30.0% in the region against 22.0% in England, 8.0 percentage "
            "points (36%) higher: similar to England (the difference could be chance)."
        ]
        assert small.lead == (
            "As at 2026-27 Q2, Smallshire was significantly better than England on 0 and "
            "significantly worse on 0 of the 1 indicators where higher or lower is better (at "
            "95%: the region's confidence interval excludes England's figure), and similar on 1 "
            "(the difference could be chance). The largest differences, significant ones first:"
        )
        assert "better" not in small.points[0] and "worse" not in small.points[0]
        assert large.points[0].endswith(
            f"8.0 percentage points (36%) higher: significantly {word} "
            f"(a {'lower' if polarity == 'low' else 'higher'} value is better)."
        )


def test_evidence_statements_call_the_small_la_similar_and_the_large_one_worse_or_better():
    # lower is better: both LAs are in band D (the worst quarter), each an area for development
    cat, las, areas = against_england("low")
    small = assess(las[las["la_code"] == "S"], areas, cat, NOW, "R1")
    large = assess(las[las["la_code"] == "L"], areas, cat, NOW, "R2")
    (s,), (q,) = small.development, small.questions
    assert s.text == (
        "Re-referrals (%): 30.0% (95% CI 14.5% to 51.9%), in band D, among the worst 25% of all "
        "LAs; similar to the SN mean of 22.9% (7.1 percentage points higher; the difference "
        "could be chance) (region 30.0%, England 22.0%). Its 95% interval includes the SN mean, "
        "the region's figure and England's figure: the differences could be chance."
    )
    assert "similar to England's 22.0% (8.0 percentage points higher" in q.text
    assert not any(w in s.text + q.text for w in ("better", "worse than"))
    (s,), (q,) = large.development, large.questions
    assert "(95% CI 28.0% to 32.0%)" in s.text
    assert "7.1 percentage points worse than the SN mean of 22.9%" in s.text
    assert "8.0 percentage points worse than England's 22.0%" in q.text
    assert "could be chance" not in s.text
    # higher is better: band A, a strength for both; only the large LA's is better than its SN
    cat, las, areas = against_england("high")
    (s,) = assess(las[las["la_code"] == "S"], areas, cat, NOW, "R1").strengths
    assert s.reasons == ["band_a"] and "better" not in s.text
    assert "similar to the SN mean of 22.9%" in s.text
    (s,) = assess(las[las["la_code"] == "L"], areas, cat, NOW, "R2").strengths
    assert "7.1 percentage points better than the SN mean of 22.9%" in s.text


# --------------------------------------------------------------------------- since last quarter


def changes(level: float = 95, trend_steps: int | None = None):
    """Visits in time (higher is better): S 5 -> 9 of 20 and L 500 -> 900 of 2,000, both
    25% -> 45%; the others unchanged. Average caseload (no count model): L 20.0 -> 18.0, the
    others 15.0 throughout."""
    cat = hand_made("visits_pct", "caseload")
    counts = {}
    for period, (s, big) in ((PREV, (5, 500)), (NOW, (9, 900))):
        counts |= {(la, period, "visits_pct"): c for la, c in OTHERS.items()}
        counts[("S", period, "visits_pct")] = (s, 20)
        counts[("L", period, "visits_pct")] = (big, 2000)
        counts |= {(la, period, "caseload"): (300, 20) for la in LAS}
    counts[("L", PREV, "caseload")] = (400, 20)
    counts[("L", NOW, "caseload")] = (360, 20)
    return cat, *bench(counts, cat, level, trend_steps)


def test_the_chi_squared_test_of_the_two_changes_by_hand():
    """Pooled proportion 14/40 = 0.35 for both: z = 0.2 / sqrt(0.35 x 0.65 x (1/20 + 1/20)) =
    1.326 for S (chi-squared 1.76, p = 0.185) and 0.2 / sqrt(0.35 x 0.65 x 2/2,000) = 13.26 for
    L (p far below 0.05)."""
    p, direction = change_p([9, 900], [20, 2000], [5, 500], [20, 2000], "binomial")
    assert p[0] == pytest.approx(chi2.sf(1.326**2, 1), abs=0.001)
    assert p[0] == pytest.approx(0.185, abs=0.001)
    assert p[1] < 1e-30 and list(direction) == [1, 1]
    _, las, _ = changes()
    sig = las[las["period"] == NOW].set_index(["la_code", "indicator_id"])["change_previous_sig"]
    assert sig[("S", "visits_pct")] == "not significant"
    assert sig[("L", "visits_pct")] == "significant"
    assert sig[("L", "caseload")] == ""  # no count model: no test


def test_movers_count_the_large_change_and_the_untested_caseload_not_the_small_change():
    cat, las, _ = changes()
    spread = {"visits_pct": 10.0, "caseload": 2.0}
    up, down = movers(las, cat, NOW, NAMES, spread)
    assert up.lead == (
        "2 LA figures improved since 2026-27 Q1: 1 significantly (chi-squared test, 95%), and 1 "
        "by 5% or more of the previous figure, among figures that cannot be tested; the 2 "
        "largest, relative to how much LAs differ nationally, significant ones first:"
    )
    assert up.points == [
        "Largeham: Visits in time (%) rose from 25.0% to 45.0%, a significant improvement "
        "(a higher value is better).",
        "Largeham: Average caseload fell from 20.0 to 18.0, an improvement of 5% or more, not "
        "tested (no count model; a lower value is better).",
        "Not counted: 1 further change of 5% or more of the previous figure that was not "
        "significant (chi-squared test, 95%): it could be chance.",
    ]
    assert "Smallbrook" not in " ".join(up.points + down.points)
    assert (up.count, up.untested, up.chance) == (2, 1, 1)
    assert down.count == 0


def test_the_summary_states_the_test_and_the_level():
    for level in (95, 99.8):
        cat, las, areas = changes(level)
        paragraphs = story(
            las,
            areas,
            cat,
            NOW,
            "R2",
            "Largeshire",
            NAMES,
            dict.fromkeys(LAS, "accepted"),
            {"visits_pct": 10.0, "caseload": 2.0},
            level=level,
        )
        summary = paragraphs[0].points[1]
        assert summary == (
            f"Since 2026-27 Q1, 2 LA figures improved and 0 deteriorated significantly "
            f"(chi-squared test, {level:g}%), counting 1 figure that cannot be tested and moved "
            "by 5% or more of the previous figure; 1 further change of 5% or more was not "
            "significant (could be chance)."
        )
        assert f"(at {level:g}%: the region's confidence interval" in paragraphs[0].points[0]


def test_the_quarter_change_of_the_small_la_is_a_rise_that_could_be_chance():
    cat, las, areas = changes()
    small = assess(las[las["la_code"] == "S"], areas, cat, NOW, "R1")
    large = assess(las[las["la_code"] == "L"], areas, cat, NOW, "R2")
    text = {c.indicator_id: c.text for c in small.changes}
    assert text["visits_pct"] == (
        "Visits in time (%) rose from 25.0% to 45.0% (20.0 percentage points) since 2026-27 Q1: "
        "a rise that is not significant (chi-squared test, 95%): it could be chance."
    )
    assert not any(w in text["visits_pct"] for w in JUDGING)
    text = {c.indicator_id: c.text for c in large.changes}
    assert text["visits_pct"] == (
        "Visits in time (%) rose from 25.0% to 45.0% (20.0 percentage points) since 2026-27 Q1: "
        "a significant improvement (chi-squared test, 95%; a higher value is better)."
    )
    assert text["caseload"] == (
        "Average caseload fell from 20.0 to 18.0 (2.0) since 2026-27 Q1: an improvement of 5% "
        "or more (no count model, so not tested; a lower value is better)."
    )


def test_the_profile_judges_the_region_by_the_tests_and_the_caseload_by_size():
    cat, _, areas = changes(trend_steps=1)
    small = region_profile(areas, cat, NOW, "R1", "Smallshire", "England", 1)
    england = areas[(areas["area_code"] == "england") & (areas["period"] == NOW)]
    visits = float(england.set_index("indicator_id").at["visits_pct", "value"])
    assert visits == 23.5  # (9 + 900 + 3,794) / 20,000 = 23.515%, shown to one decimal
    # 9 of 20 is 45.0% (Wilson 95%: 25.8% to 65.8%), wholly above England's 23.5%
    assert small.points == [
        "Visits in time (%): 45.0%, 21.5 percentage points higher than England (23.5%), "
        "significantly better; rose from 25.0% in 2026-27 Q1 (no significant change by the "
        "chi-squared test at 95%).",
        "Average caseload: 15.0, 0.5 lower than England (15.5), better by size; no count model, "
        "so not tested; unchanged since 2026-27 Q1.",
    ]
    large = region_profile(areas, cat, NOW, "R2", "Largeshire", "England", 1)
    assert large.points[0].endswith(
        "rose from 25.0% in 2026-27 Q1 (improving, significant by the chi-squared test at 95%)."
    )
    assert large.points[1].endswith(
        "fell from 20.0 in 2026-27 Q1 (improving: 5% or more of the earlier figure; no count "
        "model, so not tested)."
    )


def test_nothing_is_said_to_be_significant_without_a_test():
    """A published England without counts and a region without an interval: the difference is
    described by size, never called significant or similar."""
    cat, _, areas = against_england("low")
    areas = areas.assign(vs_england="")
    para = region_against_england(areas, cat, NOW, "R1", "Smallshire")
    assert para.points == [
        "Re-referrals (%): 30.0% in the region against 22.0% in England, 8.0 percentage points "
        "(36%) higher: worse by size, not tested (no interval for the region's figure; a lower "
        "value is better)."
    ]
    assert para.lead == (
        "As at 2026-27 Q2, none of the 1 indicators where higher or lower is better could be "
        "tested against England (no interval for the region's figure): by size, Smallshire was "
        "better on 0 and worse on 1. The largest differences, significant ones first:"
    )
    assert "significantly" not in " ".join(para.points)


def test_a_figure_without_a_count_model_is_compared_by_size_and_says_so_once():
    """Average caseload has no count model (no interval, no test): L's 18.0 against its
    neighbours' 15.0 is worse by size, and the statement says once that it was not tested."""
    cat, las, areas = changes()
    (s,) = assess(las[las["la_code"] == "L"], areas, cat, NOW, "R2").development
    assert s.text == (
        "Average caseload: 18.0 (no count model: compared by size, not tested), in band D, "
        "among the worst 25% of all LAs, for 2 quarters running; 3.0 worse than the SN mean of "
        "15.0 (region 18.0, England 15.5)."
    )
