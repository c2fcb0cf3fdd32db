"""Questions for peer challenge drawn from the bank (``data_contracts/questions.yaml``): each kind
worked by hand (band D, worsening, both, a strength), how a closing is chosen so that none repeats
in a pack, each combination of related indicators firing and not firing, every check of the bank
(exit 2 naming the file and line), and no repeated closing in any pack of the demo's latest
quarter.

Five LAs in one region, each the others' statistical neighbours, over four quarters; LA "A" is
the one assessed. Figures are out of 10,000 children unless a test says otherwise, so that the
differences below are significant.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.assessment import assess
from pipeline.core.benchmark import benchmark
from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.questions import (
    DEFAULT_BANK,
    DEVELOPMENT,
    STRENGTH,
    Asker,
    Bank,
    Texts,
    closing_of,
    kind_of,
)
from pipeline.core.significance import judge
from pipeline.core.vocabulary import OK
from pipeline.edges import question_bank
from pipeline.edges.contracts import load_catalogue
from pipeline.html.pack import questions as questions_html
from pipeline.orchestration.inputs import config_hash
from pipeline.orchestration.products.quarterly_jobs import la_assessment, la_figures
from pipeline.orchestration.settings import Settings
from tests.catalogues import catalogue as hand_made
from tests.conftest import ROOT, Tiny, cli
from tests.internals import prepare_plan

PERIODS = ["2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2"]
NOW = PERIODS[-1]
LAS = ["A", "B", "C", "D", "E"]
BIG = 10_000
#: the other four LAs' figure in every test: their mean (the SN mean of A) is 25
OTHERS = [24, 25, 26, 25]
CATALOGUE = load_catalogue(ROOT / "data_contracts" / "indicators.yaml")
BANK = question_bank.default_bank(CATALOGUE)


def assessed(cat: Catalogue, values: dict, bank: Bank | None = None, denominator: float = BIG):
    """LA A's assessment. `values`: indicator -> A's figure (the same every quarter; the others'
    are OTHERS) or -> period -> the five LAs' figures."""
    rows = []
    for ind_id, given in values.items():
        scale = cat[ind_id].scale
        by_period = given if isinstance(given, dict) else {p: [given, *OTHERS] for p in PERIODS}
        for period, vals in by_period.items():
            for la, v in zip(LAS, vals, strict=True):
                num = v * denominator / scale
                rows.append((la, period, ind_id, num, denominator, float(v), OK))
    columns = ["la_code", "period", "indicator_id", "numerator", "denominator", "value", "status"]
    las = pd.DataFrame({"la_code": LAS, "region_code": "R1"})
    sn = pd.DataFrame(
        [(a, b) for a in LAS for b in LAS if a != b], columns=["la_code", "neighbour_la_code"]
    )
    bench = benchmark(pd.DataFrame(rows, columns=columns), las, cat, sn)
    bench["las"], bench["areas"] = judge(bench["las"], bench["areas"], cat)
    mine = bench["las"][bench["las"]["la_code"] == "A"]
    return assess(mine, bench["areas"], cat, NOW, "R1", PERIODS[0], bank=bank)


# --------------------------------------------------------------------------- each kind, by hand


def test_band_d_quotes_its_gaps_and_closes_with_the_indicators_own_question():
    """A's re-referrals 40% against 24, 25, 26, 25: band D in every quarter; SN mean 25.0%,
    England (ratio of sums, equal denominators) (40 + 100) / 5 = 28.0%."""
    (q,) = assessed(CATALOGUE, {"rereferrals_pct": 40}, BANK).questions
    assert q.reasons == ["band_d"] and kind_of(q.reasons) == DEVELOPMENT
    assert q.text == (
        "Re-referrals within 12 months of a previous referral (%) has been in band D (among the "
        "worst 25% of all LAs) in every quarter held (4); at 40.0% it is 15.0 percentage points "
        "worse than the SN mean of 25.0% and 12.0 percentage points worse than England's 28.0%: "
        "what does the LA's audit of re-referred families say about why they come back, and was "
        "the first piece of work finished?"
    )


WORSENING = {  # lower is better; A slips 10 -> 12 -> 14 -> 16 while staying the best
    "2025-26-Q3": [10, 30, 25, 28, 27],
    "2025-26-Q4": [12, 30, 25, 28, 27],
    "2026-27-Q1": [14, 30, 25, 28, 27],
    "2026-27-Q2": [16, 30, 25, 28, 27],
}
RISING = {  # A climbs 18 -> 24 into band D while its neighbours stay near 21
    "2025-26-Q3": [18, 21, 20, 22, 21],
    "2025-26-Q4": [20, 21, 21, 21, 21],
    "2026-27-Q1": [22, 21, 21, 21, 21],
    "2026-27-Q2": [24, 20, 21, 22, 21],
}


def test_worsening_asks_what_drives_it_then_closes_with_the_bank():
    (q,) = assessed(CATALOGUE, {"rereferrals_pct": WORSENING}, BANK).questions
    assert q.reasons == ["worsening"]
    assert q.text == (
        "Re-referrals within 12 months of a previous referral (%) rose from 10.0% to 16.0% over "
        "3 quarters (2025-26 Q3 to 2026-27 Q2) while the SN mean stayed near 27.5%: what is "
        "driving the rise? What does the LA's audit of re-referred families say about why they "
        "come back, and was the first piece of work finished?"
    )
    assert closing_of(q.text).startswith("what does the la's audit of re-referred families")


def test_band_d_and_worsening_say_both():
    (q,) = assessed(CATALOGUE, {"rereferrals_pct": RISING}, BANK).questions
    assert q.reasons == ["band_d", "worsening"]
    assert q.text.startswith(
        "Re-referrals within 12 months of a previous referral (%) rose from 18.0% to 24.0% over "
        "3 quarters (2025-26 Q3 to 2026-27 Q2) while the SN mean stayed near 21.0%, and is in "
        "band D (among the worst 25% of all LAs): what is driving the rise? What does the LA's"
    )


def test_a_strength_asks_what_makes_it_work():
    """Assessments in 45 days (higher is better) at 40% against 24, 25, 26, 25: band A."""
    a = assessed(CATALOGUE, {"assessments_45_days_pct": 40}, BANK)
    assert [s.reasons for s in a.strengths] == [["band_a"]]
    (q,) = a.questions
    assert kind_of(q.reasons) == STRENGTH
    assert q.text == (
        "Assessments completed within 45 working days (%) is in band A (among the best 25% of "
        "all LAs); at 40.0% it is 15.0 percentage points better than the SN mean of 25.0% and "
        "12.0 percentage points better than England's 28.0%: how are assessments kept both "
        "timely and good, and what would another LA need to copy it?"
    )


def test_without_a_bank_the_general_questions_close():
    """Assessments in 45 days is fourth in the catalogue (place 3), so the general list starts
    at its fourth question."""
    (q,) = assessed(CATALOGUE, {"assessments_45_days_pct": 40}).questions
    assert q.text.endswith(
        ": how does the LA know children and families feel the difference, not only the figure?"
    )
    (q,) = assessed(CATALOGUE, {"assessments_45_days_pct": 10}).questions
    assert q.text.endswith(
        ": what has the LA tried already, and what did it learn from what did not work?"
    )


# --------------------------------------------------------------------------- choosing a closing


def test_a_closing_comes_from_the_indicator_then_its_theme_then_the_default_never_twice():
    """Re-referrals (place 0 in the Front door theme and the catalogue) and visits moved into
    the same theme (place 1 in both): the theme's list starts at each one's place in the theme,
    the default's at its place in the catalogue; a used closing is skipped."""
    cat = hand_made("rereferrals_pct", "visits_pct", visits_pct={"theme": "Front door"})
    bank = Bank(
        indicators={"rereferrals_pct": Texts(development=("own?",))},
        themes={"Front door": Texts(development=("t1?", "t2?"))},
        default=Texts(development=("d1?", "d2?", "d3?")),
    )
    rr, visits = cat["rereferrals_pct"], cat["visits_pct"]
    asker = Asker(bank, cat, NOW)
    assert [asker.closing(rr, DEVELOPMENT) for _ in range(6)] == [
        "own?",
        "t1?",
        "t2?",
        "d1?",
        "d2?",
        "d3?",
    ]
    asker = Asker(bank, cat, NOW)
    assert asker.closing(visits, DEVELOPMENT) == "t2?"  # theme list started at place 1
    assert asker.closing(rr, DEVELOPMENT) == "own?"
    assert asker.closing(rr, DEVELOPMENT) == "t1?"
    assert asker.closing(visits, DEVELOPMENT) == "d2?"  # theme used up: default from place 1
    # every closing used: one naming the indicator, so none repeats
    asker = Asker(Bank(default=Texts()), cat, NOW)
    assert (
        asker.closing(rr, STRENGTH) == "what makes Re-referrals (%) work, and could it be shared?"
    )
    assert asker.closing(visits, DEVELOPMENT) == (
        "what is the plan for Visits in time (%), and how will the LA know it works?"
    )


def test_two_figures_in_one_pack_never_share_a_closing():
    """Two indicators in band D with the same theme list: each takes a different closing."""
    cat = hand_made("rereferrals_pct", "visits_pct", visits_pct={"theme": "Front door"})
    bank = Bank(themes={"Front door": Texts(development=("t1?",))}, default=Texts(("d1?", "d2?")))
    a = assessed(cat, {"rereferrals_pct": 40, "visits_pct": 10}, bank)
    assert [closing_of(q.text) for q in a.questions] == ["t1?", "d2?"]


# --------------------------------------------------------------------------- combinations


def _direction(ind_id: str, value: str) -> int:
    """+1 for A's figure above the others', -1 below, to meet a condition's word."""
    polarity = 1 if CATALOGUE[ind_id].polarity == "high" else -1
    return {
        "higher": 1,
        "lower": -1,
        "better": polarity,
        "worse": -polarity,
        "strength": polarity,
        "development": -polarity,
        "A": polarity,
        "D": -polarity,
    }[value]


def _meeting(combination, flip_second: bool = False) -> dict:
    """A's figure for each indicator of a combination: 40 to be above the others, 10 below."""
    out = {}
    for i, c in enumerate(combination.when):
        way = _direction(c.indicator, c.values[0])
        if flip_second and i == 1:
            way = -way
        out[c.indicator] = 40 if way > 0 else 10
    return out


@pytest.mark.parametrize("combination", BANK.combinations, ids=lambda c: c.id)
def test_each_combination_fires_when_both_conditions_hold_and_only_then(combination):
    first, second = (CATALOGUE[c.indicator] for c in combination.when)
    a = assessed(CATALOGUE, _meeting(combination), BANK)
    fired = {q.figures.get("combination"): q for q in a.questions}
    q = fired.get(combination.id)
    assert q is not None, [x.text for x in a.questions]
    assert q.reasons == ["combination", combination.kind]
    assert kind_of(q.reasons) == combination.kind
    # it quotes both figures, then its topic and question
    figures = _meeting(combination)
    assert q.text.startswith(f"{first.label} at {first.with_unit(figures[first.id])} (")
    assert f", with {second.label} at {second.with_unit(figures[second.id])} (" in q.text
    assert q.text.endswith(f", points to {combination.topic}: {combination.question}")
    assert set(q.figures["indicators"]) == {first.id, second.id}
    # the second condition turned round: not asked
    a = assessed(CATALOGUE, _meeting(combination, flip_second=True), BANK)
    assert combination.id not in {q.figures.get("combination") for q in a.questions}


def test_thresholds_at_the_front_door_by_hand():
    """Re-referrals 40% (lower is better: band D, 15.0 points worse than the SN mean of 25.0%)
    with referrals ending in NFA 10% (neutral: 15.0 points lower)."""
    a = assessed(CATALOGUE, {"rereferrals_pct": 40, "referrals_nfa_pct": 10}, BANK)
    (q,) = [q for q in a.questions if q.reasons[0] == "combination"]
    assert q.text == (
        "Re-referrals within 12 months of a previous referral (%) at 40.0% (band D, among the "
        "worst 25% of all LAs; 15.0 percentage points worse than the SN mean of 25.0%), with "
        "Referrals resulting in no further action (%) at 10.0% (15.0 percentage points lower "
        "than the SN mean of 25.0%), points to thresholds at the front door: are families taken "
        "in whose needs could be met by early help, and do those assessed get help that lasts?"
    )
    assert q.figures["combination"] == "front_door_thresholds"
    assert q.figures["indicators"]["referrals_nfa_pct"]["value"] == 10.0


def test_a_difference_that_could_be_chance_fires_no_combination():
    """30% of 50 children against 25%: similar to the SN mean (the interval includes it), so
    re-referrals are not 'worse' and the front door question is not asked."""
    values = {"rereferrals_pct": 30, "referrals_nfa_pct": 10}
    a = assessed(CATALOGUE, values, BANK, denominator=50)
    assert not [q for q in a.questions if q.reasons[0] == "combination"]


# --------------------------------------------------------------------------- the bank's checks


def test_the_shipped_bank_covers_every_judged_indicator_and_theme():
    judged = [i.id for i in CATALOGUE if i.judged]
    assert sorted(BANK.indicators) == sorted(judged)
    assert all(t.development and t.strength for t in BANK.indicators.values())
    assert sorted(BANK.themes) == sorted(CATALOGUE.themes)
    assert len(BANK.combinations) >= 8 and BANK.version == "1.0.0"


GOOD = """version: "1.0.0"
indicators:
  rereferrals_pct:
    development:
      - why do families come back?
"""
ASKED = '\n    development: ["a question?"]\n'
BAD = [
    (GOOD + "  no_such_id:" + ASKED, 6, "unknown indicator 'no_such_id'"),
    (GOOD + "themes:\n  Front dor:" + ASKED, 7, "unknown theme 'Front dor'"),
    (GOOD + "  referrals_rate:" + ASKED, 6, "'referrals_rate' is neutral"),
    (GOOD + "    strength:\n      - ''\n", 7, "missing question text"),
    (GOOD + "    strength: []\n", 6, "expected a list of strength questions"),
    (GOOD + "    strength:\n      - no question mark\n", 7, "is not one question"),
    (GOOD + "    strength:\n      - 'why: this?'\n", 7, "is not one question"),
    (GOOD + "    strength:\n      - Why do families come back?\n", 7, "is given twice (first at"),
    (GOOD + '    sideways: ["a question?"]\n', 6, "unknown key 'sideways'"),
    (GOOD + "colour: tartan\n", 6, "unknown key 'colour'"),
    (GOOD + "  rereferrals_pct:" + ASKED, 6, "key 'rereferrals_pct' is given twice"),
    (GOOD.replace('version: "1.0.0"\n', ""), 1, "missing version"),
]


def combination(condition: str, *, asks: str = "development", question: str = "right?") -> str:
    """A bank with one combination: re-referrals worse than the SN mean and `condition` (line
    8); its kind on line 5, its question on line 9."""
    return (
        'version: "1"\ncombinations:\n  - id: thresholds\n    topic: thresholds\n'
        f"    asks_about: {asks}\n    when:\n      - {{indicator: rereferrals_pct, vs_sn: worse}}\n"
        + (f"      - {condition}\n" if condition else "")
        + (f"    question: are thresholds {question}\n" if question else "")
    )


NFA = "{indicator: referrals_nfa_pct, "
RR = "{indicator: rereferrals_pct, "
BAD += [
    (combination("{indicator: nope, vs_sn: lower}"), 8, "unknown indicator 'nope'"),
    (combination(NFA + "vs_sn: sideways}"), 8, "vs_sn: sideways cannot be tested"),
    (combination(NFA + "vs_sn: worse}"), 8, "referrals_nfa_pct is neutral"),
    (combination(NFA + "is: strength}"), 8, "referrals_nfa_pct is neutral"),
    (combination(RR + "band: E}"), 8, "band: E cannot be tested"),
    (combination("{indicator: rereferrals_pct}"), 8, "expected a condition"),
    (combination(""), 6, "expected a list of two conditions"),
    (combination(RR + "is: strength}", asks="praise"), 5, "asks_about 'praise'"),
    (combination(RR + "is: strength}", question=""), 3, "combination is missing question"),
    (combination(RR + "is: strength}", question="right"), 9, "is not one question"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_each_problem_in_the_bank_is_refused_naming_the_file_and_line(
    tmp_path, text, line, message
):
    path = tmp_path / "questions.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as err:
        question_bank.load(path, CATALOGUE)
    said = str(err.value)
    assert f"{path}, line {line}: " in said and message in said, said


def test_without_a_bank_file_the_general_questions_are_asked(tmp_path):
    assert question_bank.load(tmp_path / "questions.yaml", CATALOGUE) is DEFAULT_BANK
    # a bank without a default section, or without one kind in it, keeps the general ones
    path = tmp_path / "questions.yaml"
    path.write_text(GOOD + "default:\n  strength:\n    - what works?\n", "utf-8")
    bank = question_bank.load(path, CATALOGUE)
    assert bank.default == Texts(DEFAULT_BANK.default.development, ("what works?",))
    path.write_text(GOOD, "utf-8")
    assert question_bank.load(path, CATALOGUE).default == DEFAULT_BANK.default


def test_a_bad_bank_stops_the_run_with_exit_2_naming_file_and_line(tiny, tmp_path, capfd):
    contracts = tmp_path / "contracts"
    shutil.copytree(tiny.contracts, contracts)
    bank = contracts / "questions.yaml"
    text = bank.read_text("utf-8").replace("  rereferrals_pct:\n", "  re_referrals:\n", 1)
    bank.write_text(text, "utf-8")
    line = text.splitlines().index("  re_referrals:") + 1
    r = cli(
        capfd,
        "report",
        *Tiny(tiny.data, contracts).args,
        "--out",
        tmp_path / "out",
        "--no-progress",
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{bank}, line {line}: unknown indicator 're_referrals'" in r.stderr
    assert "Traceback" not in r.stderr


def test_editing_the_bank_changes_the_configuration_hash(tiny, tmp_path):
    contracts = tmp_path / "contracts"
    shutil.copytree(tiny.contracts, contracts)
    s = Settings(data=tiny.data, out=tmp_path / "out", contracts=contracts)
    before = config_hash(s)
    bank = contracts / "questions.yaml"
    bank.write_text(bank.read_text("utf-8").replace("come back", "return"), "utf-8")
    assert config_hash(s) != before


# --------------------------------------------------------------------------- the pack


def test_the_pack_lists_questions_about_areas_for_development_and_strengths_apart():
    html = questions_html(["Why <this>?"], ["What works?", "Could it be shared?"])
    assert '<h3 id="questions-development">About areas for development (1)</h3>' in html
    assert '<h3 id="questions-strengths">About strengths (2)</h3>' in html
    assert html.count('<ol class="questions">') == 2 and "Why &lt;this&gt;?" in html
    only = questions_html([], ["What works?"])
    assert "No area for development meets the rules" in only
    assert "no question is generated" in questions_html([], [])


def test_no_two_questions_in_a_pack_share_their_closing_in_the_demo(demo_data, tmp_path):
    """Every LA of the demo's latest quarter, assessed as its pack is, with the shipped bank."""
    plan = prepare_plan(Settings(data=demo_data, out=tmp_path / "out"))
    period = plan.available[-1]
    las = plan.inputs.reference.local_authorities
    asked, closings, kinds = 0, set(), set()
    for la, region in zip(las["la_code"], las["region_code"], strict=True):
        mine, areas = la_figures(plan, period, la, region)
        questions = la_assessment(plan, period, region, mine, areas).questions
        ends = [closing_of(q.text) for q in questions]
        assert len(ends) == len(set(ends)), f"{la}: a closing repeats: {ends}"
        for q in questions:
            assert re.search(r"\d", q.text.split(": ")[0]), f"{la}: no figure in {q.text}"
            kinds.add(q.reasons[0] if q.reasons[0] == "combination" else kind_of(q.reasons))
        asked += len(questions)
        closings |= set(ends)
    assert kinds == {DEVELOPMENT, STRENGTH, "combination"}
    assert asked >= 200 and len(closings) >= 40, (asked, len(closings))


def test_the_plan_reads_the_bank_once_from_the_contracts_folder(tiny, tmp_path):
    plan = prepare_plan(Settings(data=tiny.data, out=tmp_path / "out", contracts=tiny.contracts))
    assert plan.questions.version == "1.0.0"
    assert plan.questions == question_bank.load(
        Path(tiny.contracts) / "questions.yaml", plan.inputs.catalogue
    )
