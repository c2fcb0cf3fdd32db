"""Small numbers never reach an output by implication: a value with its denominator (or the LA's
child population) is a count; a row the LA marked publishes no number; the findings on a return
not accepted quote c where its figures would be withheld; findings stay bounded whatever the
input; a broken disclosure rule is refused. Checked against cells worked out by hand, through the
command line, and by a property over generated figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.core.disclosure import Rule, Screen, suppress
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import FIGURE_COLUMNS, OK
from pipeline.orchestration.validation import Validation
from tests.catalogues import catalogue
from tests.conftest import cli

NAN = np.nan
P = "2026-27-Q1"
CATALOGUE = catalogue("visits_pct", "cla_rate", "caseload", cla_rate={"decimals": 1})
RULE = Rule(version="t", exempt=frozenset({"caseload"}))
REGION_OF = pd.Series({"A1": "R1", "A2": "R1", "A3": "R1", "B1": "R2", "B2": "R2", "B3": "R2"})
POPULATION = pd.DataFrame(
    {
        "la_code": ["A1", "A1", "A2", "B1"],
        "year": [2025, 2026, 2026, 2026],
        "population_0_17": [43_051, 43_390, 430_510, 9_000],
    }
)
SCALE = {"visits_pct": 100, "cla_rate": 10_000, "caseload": 1}


def frame(rows) -> pd.DataFrame:
    """rows: (la_code, indicator_id, numerator, denominator, value, status), None for blank."""
    return pd.DataFrame(
        [
            (la, P, ind, *(NAN if x is None else float(x) for x in (num, den, val)), status)
            for la, ind, num, den, val, status in rows
        ],
        columns=FIGURE_COLUMNS,
    )


def row_of(p: pd.DataFrame, la: str, ind: str = "visits_pct") -> pd.Series:
    hit = p[p["la_code"].eq(la) & p["indicator_id"].eq(ind)]
    assert len(hit) == 1
    return hit.iloc[0]


def shown(r: pd.Series) -> tuple:
    return tuple(None if pd.isna(r[c]) else r[c] for c in ("numerator", "denominator", "value"))


# ------------------------------------------------------------------ 1. implied counts, by hand


def test_a_percentage_and_its_denominator_with_the_numerator_blank_are_judged_as_a_count():
    f = frame(
        [
            ("A1", "visits_pct", None, 40, 7.5, OK),  # 7.5% of 40 can only be 3
            ("A2", "visits_pct", None, 40, 12.5, OK),  # 5
            ("A3", "visits_pct", None, 40, 15.0, OK),  # 6: shown
            ("B1", "visits_pct", None, 40, 0.0, OK),  # zero alone: shown
            ("B2", "visits_pct", None, 1000, 0.3, OK),  # 2.5 to 3.5: 3 is possible
            ("B3", "visits_pct", None, 1000, 0.6, OK),  # 5.5 to 6.5: 6 only, shown
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    p = d.published
    for la in ("A1", "A2", "B2"):
        assert shown(row_of(p, la)) == (None, 40 if la != "B2" else 1000, None), la
        assert row_of(p, la)["status"] == "c"
    assert shown(row_of(p, "A3")) == (None, 40, 15.0) and row_of(p, "A3")["status"] == OK
    assert shown(row_of(p, "B1"))[2] == 0.0 and shown(row_of(p, "B3"))[2] == 0.6
    values = d.removed[d.removed["field"].eq("value")]
    assert dict(zip(values["la_code"], values["value"], strict=True)) == {
        "A1": 7.5,
        "A2": 12.5,
        "B2": 0.3,
    }
    assert set(values["reason"]) == {"primary"}


def test_a_rate_per_10000_children_is_judged_on_its_denominator_and_on_the_population():
    f = frame(
        [
            ("A1", "cla_rate", None, 43_051, 0.9, OK),  # 0.9 per 10,000 of 43,051: 4
            ("A2", "cla_rate", None, 430_510, 0.9, OK),  # 38.7: shown
            ("A3", "cla_rate", None, 43_051, 9.0, OK),  # 38.7: shown
        ]
    )
    p = suppress(f, REGION_OF, RULE, CATALOGUE).published
    assert shown(row_of(p, "A1", "cla_rate")) == (None, 43_051, None)
    assert shown(row_of(p, "A2", "cla_rate")) == (None, 430_510, 0.9)
    assert shown(row_of(p, "A3", "cla_rate")) == (None, 43_051, 9.0)
    # no denominator in the return: the LA's child population (printed in its pack) gives it
    f = frame(
        [
            ("A1", "cla_rate", None, None, 0.9, OK),  # 43,051 to 43,390 children: 4
            ("A2", "cla_rate", None, None, 0.9, OK),  # 430,510 children: 38.7
            ("A3", "cla_rate", None, None, 0.9, OK),  # no population held: no count to judge
            ("B1", "visits_pct", None, None, 0.9, OK),  # a percentage of no known cohort
        ]
    )
    p = suppress(f, REGION_OF, RULE, CATALOGUE, POPULATION).published
    assert math.isnan(row_of(p, "A1", "cla_rate")["value"])
    assert row_of(p, "A1", "cla_rate")["status"] == "c"
    assert row_of(p, "A2", "cla_rate")["value"] == 0.9
    assert row_of(p, "A3", "cla_rate")["value"] == 0.9
    assert row_of(p, "B1")["value"] == 0.9


def test_a_value_and_its_numerator_with_the_denominator_blank_are_judged_as_a_denominator():
    f = frame(
        [
            ("A1", "visits_pct", 6, None, 75.0, OK),  # 6 of 8: the 2 not visited
            ("A2", "visits_pct", 30, None, 60.0, OK),  # 30 of 50: shown
            ("A3", "visits_pct", 0, None, 0.0, OK),  # 0 of any number: shown
            ("B1", "visits_pct", 10, None, 100.0, OK),  # 10 of 10: shown (not below 10)
            ("B2", "visits_pct", 9, None, 100.0, OK),  # 9 of 9: below 10
        ]
    )
    p = suppress(f, REGION_OF, RULE, CATALOGUE).published
    for la in ("A1", "B2"):
        assert shown(row_of(p, la)) == (None, None, None) and row_of(p, la)["status"] == "c"
    assert shown(row_of(p, "A2")) == (30, None, 60.0)
    assert shown(row_of(p, "A3")) == (0, None, 0.0)
    assert shown(row_of(p, "B1")) == (10, None, 100.0)


def test_exempt_indicators_are_not_judged_on_what_their_values_imply():
    f = frame([("A1", "caseload", None, 2, 1.5, OK)])
    assert row_of(suppress(f, REGION_OF, RULE, CATALOGUE).published, "A1", "caseload")[
        "value"
    ] == pytest.approx(1.5)


# ------------------------------------------------------------------- 2. rows the LA marked


@pytest.mark.parametrize("symbol", ["c", "low", "x", "z", "k", "u"])
def test_a_row_the_la_marked_publishes_no_number_whatever_it_left_in(symbol):
    f = frame(
        [
            ("A1", "visits_pct", 3, 40, 7.5, symbol),  # small numbers left in
            ("A2", "visits_pct", 20, 40, 50.0, symbol),  # large ones too
            ("A3", "caseload", 30, 2, 15.0, symbol),  # exempt: still the LA's mark
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    for la, ind in (("A1", "visits_pct"), ("A2", "visits_pct"), ("A3", "caseload")):
        r = row_of(d.published, la, ind)
        assert shown(r) == (None, None, None), (la, symbol)
        assert r["status"] == symbol  # the LA's own symbol is kept
    mine = d.removed[d.removed["la_code"].eq("A2")]
    assert set(mine["field"]) == {"numerator", "denominator", "value"}
    assert set(mine["reason"]) == {"primary"}


def test_a_run_publishes_no_count_a_value_implies_nor_a_number_left_in_a_marked_row(tiny, tmp_path):
    from pipeline.orchestration.settings import Settings
    from tests.internals import published, validate

    data, path = _one_bad_return(
        tiny,
        tmp_path,
        {
            "cla_missing_pct": ["", "40", "7.5", ""],  # 7.5% of 40: 3 children
            "care_leavers_eet_pct": ["20", "40", "50", "c"],  # marked c, numbers left in
            "cla_3_placements_pct": ["14", "191", "7.3", "u"],  # low reliability: no figure
            "cin_visits_pct": ["", "315", "86.3", ""],  # 272 of 315: shown
        },
    )
    s = Settings(data=data.data, contracts=data.contracts, out=tmp_path / "out")
    v, inputs = validate(s)
    assert not v.rejected
    _, sdc = published(s, v, inputs)
    p = sdc.published.set_index(["la_code", "period", "indicator_id"])
    period = path.parent.name

    def at(ind: str) -> tuple:
        return shown(p.loc[("ZL101", period, ind)]), p.loc[("ZL101", period, ind), "status"]

    assert at("cla_missing_pct") == ((None, 40, None), "c")
    assert at("care_leavers_eet_pct") == ((None, None, None), "c")
    assert at("cla_3_placements_pct") == ((None, None, None), "u")
    assert at("cin_visits_pct") == ((None, 315, 86.3), OK)


# -------------------------------------------------------------------- 5. the rule's settings


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"min_denominator": math.nan}, "min_denominator must be a finite number of zero or more"),
        ({"min_denominator": -1}, "min_denominator must be a finite number of zero or more"),
        ({"min_denominator": math.inf}, "min_denominator must be a finite number"),
        ({"counts": {"smallest": math.nan, "largest": 5}}, "counts.smallest must be a finite"),
        ({"counts": {"smallest": 1, "largest": math.inf}}, "counts.largest must be a finite"),
        ({"counts": {"smallest": 1, "largest": 2.5}}, "counts.largest must be a whole number"),
        (
            {"counts": {"smallest": True, "largest": 5}},
            "counts and min_denominator must be numbers: counts.smallest is True",
        ),
    ],
)
def test_a_rule_with_a_setting_that_is_not_a_count_is_refused_naming_it(raw, words):
    with pytest.raises(ConfigError, match=rf"^disclosure\.yaml: {words}"):
        Rule.from_mapping(raw, "disclosure.yaml", CATALOGUE)


def test_a_nan_min_denominator_in_the_yaml_is_exit_2_naming_the_file(capfd, tiny, tmp_path):
    import shutil

    contracts = tmp_path / "contracts"
    shutil.copytree(tiny.contracts, contracts)
    path = contracts / "disclosure.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("min_denominator: 10", "min_denominator: .nan"),
        encoding="utf-8",
    )
    r = cli(
        capfd, "validate", "--data", tiny.data, "--contracts", contracts, "--out", tmp_path / "o"
    )
    assert r.returncode == 2, r.stderr
    assert f"{path}: min_denominator must be a finite number of zero or more" in r.stderr
    assert "Traceback" not in r.stderr


# -------------------------------------------------- 3 and 4. validation findings, as published


def _one_bad_return(tiny, tmp_path, rows: dict[str, list[str]], extra: list[list[str]] = ()):
    """A copy of the tiny dataset whose latest ZL101 return has `rows` (indicator_id ->
    numerator, denominator, value, status) and `extra` rows added; returns (data, path)."""
    data = tiny.copy(tmp_path / "data")
    path = sorted((data.data / "returns").rglob("ZL101_*.csv"))[-1]
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for ind, cells in rows.items():
        at = table["indicator_id"].eq(ind)
        table.loc[at, ["numerator", "denominator", "value", "status"]] = cells
    if extra:
        table = pd.concat([table, pd.DataFrame(extra, columns=table.columns)], ignore_index=True)
    table.to_csv(path, index=False)
    return data, path


def test_a_rejected_returns_findings_quote_c_where_its_figures_would_be_withheld(
    capfd, tiny, tmp_path
):
    data, path = _one_bad_return(
        tiny,
        tmp_path,
        {
            # 3 of 40 given as 75: two findings quote 75 and 7.5
            "cin_visits_pct": ["3", "40", "75", ""],
            # a count of 3 sent with a % sign
            "cla_missing_pct": ["3%", "40", "7.5", ""],
            # numerator blank, 7.5% of 40: the value's format finding quotes '7.5%' (3)
            "care_leavers_eet_pct": ["", "40", "7.5%", ""],
            # not a number at all, on a row of large figures: quoted as sent
            "cin_plan_up_to_date_pct": ["abc", "394", "87.1", ""],
            # 33 of 57 sent as 57.90%: shown (33 is not small)
            "cla_long_term_stability_pct": ["33", "57", "57.90%", ""],
        },
    )
    out = tmp_path / "out"
    r = cli(capfd, "validate", *data.args, "--out", out)
    assert r.returncode == 1, r.stderr
    # the LA's own terminal (its CI) still quotes its cells, for it to find them
    assert "'3%'" in r.stdout or "'7.5%'" in r.stdout or "75" in r.stdout
    vjson = json.loads((out / "validation" / "validation.json").read_text(encoding="utf-8"))
    assert [o["status"] for o in vjson["returns"] if o["file"].endswith(path.name)] == [
        "quarantined"
    ]
    mine = [f for f in vjson["findings"] if f["file"].endswith(path.name)]
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    line = {ind: i + 2 for i, ind in enumerate(table["indicator_id"])}

    def at(ind: str) -> list[dict]:
        return [f for f in mine if f["row"] == line[ind]]

    for ind in ("cin_visits_pct", "cla_missing_pct", "care_leavers_eet_pct"):
        assert at(ind), ind
        for f in at(ind):
            assert f["value"] == "c", f
            assert not any(t in f["message"] for t in ("75", "7.5", "3%")), f
    assert [f["value"] for f in at("cin_plan_up_to_date_pct")] == ["abc"]
    assert [f["value"] for f in at("cla_long_term_stability_pct")] == ["57.90%"]
    # and so do the JUnit XML and the LA's feedback page, from the same findings
    junit = (out / "validation" / "junit.xml").read_text(encoding="utf-8")
    feedback = (out / "validation" / "feedback" / "ZL101.html").read_text(encoding="utf-8")
    for text in (junit, feedback):
        assert "&#x27;3%&#x27;" not in text and "'3%'" not in text
        assert "7.5%" not in text and "value 75 " not in text
        assert "abc" in text
    # an unsuppressed (internal) run quotes them as sent
    out = tmp_path / "unsuppressed"
    assert cli(capfd, "validate", *data.args, "--out", out, "--unsuppressed").returncode == 1
    vjson = json.loads((out / "validation" / "validation.json").read_text(encoding="utf-8"))
    assert {"3%", "7.5%", "75"} <= {f["value"] for f in vjson["findings"]}


def test_a_return_of_many_bad_rows_gives_a_bounded_list_of_findings(capfd, tiny, tmp_path):
    bad = [["ZL101", "202627", "Financial year Q2", "cin_visits_pct", "n/a", "", "", "", ""]] * 400
    data, path = _one_bad_return(tiny, tmp_path, {}, extra=bad)
    out = tmp_path / "out"
    assert cli(capfd, "validate", *data.args, "--out", out).returncode == 1
    vjson = json.loads((out / "validation" / "validation.json").read_text(encoding="utf-8"))
    mine = [
        f
        for f in vjson["findings"]
        if f["file"].endswith(path.name) and f["check_id"] == "number_format"
    ]
    assert len(mine) == 51
    first_left_out = mine[50]
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    last_line = len(table) + 1
    assert first_left_out["message"] == (
        f"and 350 more rows like this, up to row {last_line}, not listed"
    )
    assert first_left_out["row"] == mine[49]["row"] + 1
    # the counts are every row's: 400 rows with a bad numerator
    outcome = next(o for o in vjson["returns"] if o["file"].endswith(path.name))
    assert outcome["errors"] >= 400
    assert vjson["summary"]["errors"] == sum(o["errors"] for o in vjson["returns"])
    feedback = (out / "validation" / "feedback" / "ZL101.html").read_text(encoding="utf-8")
    assert "and 350 more rows like this" in feedback
    assert len(feedback) < 200_000


# ------------------------------------------------------------------ 6. nothing can be worked out

RATE_DECIMALS = 1


def _possible_counts(num, den, val, ind, population) -> set[int] | None:
    """Every whole count consistent with a published row (None: infinitely many)."""
    if not math.isnan(num):
        return {int(num)} if float(num).is_integer() else set()
    if math.isnan(val):
        return None
    cohorts = [den] if not math.isnan(den) else []
    if ind == "cla_rate" and population is not None:
        cohorts += [population]
    if not cohorts:
        return None
    h = 0.5 * 10**-RATE_DECIMALS
    out: set[int] = set()
    for cohort in cohorts:
        lo, hi = (val - h) * cohort / SCALE[ind], (val + h) * cohort / SCALE[ind]
        out |= set(range(max(0, math.ceil(lo)), math.floor(hi) + 1))
    return out


figure = st.tuples(
    st.sampled_from(["A1", "A2", "A3", "B1", "B2", "B3"]),
    st.sampled_from(["visits_pct", "cla_rate"]),
    st.integers(0, 60),  # count
    st.one_of(st.integers(0, 120), st.integers(1_000, 60_000)),  # cohort
    st.sampled_from(["numerator blank", "denominator blank", "all", "both blank"]),
    st.sampled_from([OK, OK, OK, "c", "u", "k"]),
)


def _returned(rows) -> pd.DataFrame:
    out = []
    for la, ind, count, cohort, shape, status in rows:
        count = min(count, cohort) if ind == "visits_pct" else count
        value = round(count / cohort * SCALE[ind], RATE_DECIMALS) if cohort else None
        num, den = count, cohort
        if shape in ("numerator blank", "both blank"):
            num = None
        if shape in ("denominator blank", "both blank"):
            den = None
        out.append((la, ind, num, den, value, status))
    return frame(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(figure, min_size=1, max_size=12, unique_by=lambda c: (c[0], c[1])))
@example([("A1", "visits_pct", 3, 40, "numerator blank", OK)])
@example([("A1", "cla_rate", 4, 43_051, "both blank", OK)])
@example([("A1", "visits_pct", 3, 40, "all", "c")])
def test_no_published_row_lets_a_count_of_one_to_five_be_worked_out(rows):
    f = _returned(rows)
    p = suppress(f, REGION_OF, RULE, CATALOGUE, POPULATION).published
    pops = POPULATION.groupby("la_code")["population_0_17"]
    for r, marked in zip(p.itertuples(), f["status"].ne(OK), strict=True):
        assert not 1 <= r.numerator <= 5 and not 1 <= r.denominator <= 5, r
        if marked:  # the LA's own mark: no number at all, whatever it left in
            assert all(math.isnan(x) for x in (r.numerator, r.denominator, r.value)), r
        for pop in (pops.min().get(r.la_code), pops.max().get(r.la_code), None):
            counts = _possible_counts(r.numerator, r.denominator, r.value, r.indicator_id, pop)
            assert counts is None or not counts <= {1, 2, 3, 4, 5} or not counts, (r, counts)
        if math.isnan(r.denominator) and r.numerator > 0 and not math.isnan(r.value):
            # nor can a denominator below 10 be worked out from the value and its numerator
            h = 0.5 * 10**-RATE_DECIMALS
            scale = SCALE[r.indicator_id]
            low = r.numerator * scale / (r.value + h)
            high = r.numerator * scale / (r.value - h) if r.value > h else 10.0
            assert not set(range(math.ceil(low), min(math.floor(high), 9) + 1)), r


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(figure, min_size=1, max_size=8, unique_by=lambda c: (c[0], c[1])))
# sent as "103333" (31 of 3 per 10,000, rounded more coarsely than published): no whole
# denominator fits it exactly, but it still shows one of about 3 (found by Hypothesis)
@example([("A1", "cla_rate", 31, 3, "denominator blank", OK)])
def test_a_rejected_returns_findings_quote_no_figure_a_count_could_be_worked_out_from(rows):
    """Each row of a return not accepted with a finding quoting its value: published, the
    finding quotes a figure only where the row's figures as sent would all be published."""
    f = _returned(rows)
    cells = pd.DataFrame(
        {
            "file": "r.csv",
            "row": range(2, len(f) + 2),
            "la_code": f["la_code"],
            "indicator_id": f["indicator_id"],
            **{c: [_text(x) for x in f[c]] for c in ("numerator", "denominator", "value")},
            "status": f["status"].replace(OK, None),
        }
    )
    findings = pd.DataFrame(
        {
            "file": "r.csv",
            "row": cells["row"],
            "column": "value",
            "value": cells["value"].fillna(""),
            "check_id": "value_in_range",
            "severity": "error",
            "message": [f"value {v} is outside the valid range" for v in cells["value"]],
        }
    )
    v = Validation(
        outcomes=[],
        findings=findings,
        accepted_rows=pd.DataFrame(),
        contract="t",
        rules=[],
        window="",
        quarantined_rows=cells,
        screen=Screen.of(RULE, CATALOGUE, POPULATION),
    )
    published = v.published(pd.DataFrame()).findings
    p = suppress(f, REGION_OF, Rule(version="t", secondary=False), CATALOGUE, POPULATION)
    untouched = (
        p.published[["numerator", "denominator", "value"]]
        .fillna(-1)
        .eq(f[["numerator", "denominator", "value"]].fillna(-1))
    )
    for i, r in published.iterrows():
        if r["value"] == "c":
            assert r["message"] == "a figure here is withheld by disclosure control (c)"
        elif r["value"]:
            assert untouched.iloc[i].all(), (f.iloc[i], r["message"])
            assert r["message"] == findings.at[i, "message"]


def _text(x: float) -> str | None:
    return None if math.isnan(x) else f"{x:g}"


@pytest.mark.parametrize(
    ("numerator", "denominator", "value", "hidden"),
    [
        (None, "40", "7", True),  # 3 of 40 is 7.5%, sent as "7": about 2.8 children, so 3
        (None, "400", "7", False),  # about 28 children
        ("31", None, "103333", True),  # 31 of 3 per 10,000, sent as "103333": about 3
        ("31", None, "1033", False),  # about 300 children
    ],
)
def test_a_value_sent_more_coarsely_rounded_than_published_still_hides_a_small_count(
    numerator, denominator, value, hidden
):
    """No whole count fits such a value exactly, but a reader still sees one near it: the
    whole numbers either side are judged."""
    ind = "visits_pct" if denominator else "cla_rate"
    cells = pd.DataFrame(
        {
            "la_code": ["A1"],
            "indicator_id": [ind],
            "numerator": [numerator],
            "denominator": [denominator],
            "value": [value],
            "status": [None],
        }
    )
    screen = Screen.of(RULE, CATALOGUE, POPULATION)
    assert bool(screen.primary(cells).value[0]) is hidden
