"""Disclosure control, checked against cells worked out by hand, and by its properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.benchmark import benchmark
from pipeline.core.disclosure import Rule, suppress
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import FIGURE_COLUMNS, OK
from tests.catalogues import catalogue

NAN = np.nan
P = "2026-27-Q1"
CATALOGUE = catalogue("visits_pct", "cla_rate", "caseload", cla_rate={"decimals": 1})
RULE = Rule(version="t", exempt=frozenset({"caseload"}))
#: LA -> region: two regions of three LAs, one of one
REGION_OF = pd.Series(
    {"A1": "R1", "A2": "R1", "A3": "R1", "B1": "R2", "B2": "R2", "B3": "R2", "C1": "R3"}
)
LAS = REGION_OF.rename("region_code").rename_axis("la_code").reset_index()


def figures(rows, period: str = P) -> pd.DataFrame:
    """rows: (la_code, indicator_id, numerator, denominator); value computed, status OK."""
    out = []
    for la, ind, num, den in rows:
        scale = {"visits_pct": 100, "cla_rate": 10_000, "caseload": 1}[ind]
        value = round(num / den * scale, 1) if den else NAN
        out.append((la, period, ind, float(num), float(den), value, OK))
    return pd.DataFrame(out, columns=FIGURE_COLUMNS)


def cell(frame: pd.DataFrame, la: str, ind: str = "visits_pct", period: str = P) -> pd.Series:
    hit = frame[
        frame["la_code"].eq(la) & frame["indicator_id"].eq(ind) & frame["period"].eq(period)
    ]
    assert len(hit) == 1
    return hit.iloc[0]


def test_a_count_of_one_to_five_and_its_percentage_are_withheld_zero_and_six_are_not():
    f = figures(
        [
            ("A1", "visits_pct", 3, 40),  # 3: withheld
            ("A2", "visits_pct", 0, 50),  # zero is shown
            ("A3", "visits_pct", 6, 60),  # 6 is shown
            ("B1", "visits_pct", 5, 45),  # 5: withheld
            ("B2", "visits_pct", 1, 30),  # 1: withheld
            ("B3", "visits_pct", 20, 80),
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    p = d.published
    a1 = cell(p, "A1")
    assert math.isnan(a1["numerator"]) and math.isnan(a1["value"]) and a1["status"] == "c"
    assert a1["denominator"] == 40  # the cohort's size is not small: it stays
    assert cell(p, "A2")["value"] == 0 and cell(p, "A2")["status"] == OK
    # R1 has one withheld count (A1): the next smallest numerator, A3's 6, goes with it (not
    # A2's zero: A1 + 0 would give A1 away)
    a3 = d.removed[d.removed["la_code"].eq("A3")]
    assert set(a3["reason"]) == {"secondary"} and set(a3["field"]) == {"numerator", "value"}
    assert cell(p, "A3")["status"] == "c"
    # R2 already has two withheld (B1, B2): nothing more is withheld there
    assert cell(p, "B3")["value"] == 25.0
    assert set(d.removed.loc[d.removed["la_code"].isin(["B1", "B2"]), "reason"]) == {"primary"}


def test_a_lone_withheld_count_takes_the_next_smallest_in_its_region_with_it():
    f = figures(
        [
            ("A1", "visits_pct", 3, 40),
            ("A2", "visits_pct", 30, 50),
            ("A3", "visits_pct", 12, 60),  # the next smallest numerator in R1
            ("B1", "visits_pct", 40, 45),
            ("B2", "visits_pct", 25, 30),
            ("B3", "visits_pct", 20, 80),
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    p = d.published
    assert cell(p, "A3")["status"] == "c" and math.isnan(cell(p, "A3")["value"])
    assert cell(p, "A2")["value"] == 60.0
    removed = d.removed.set_index(["la_code", "field"])
    assert removed.loc[("A1", "numerator"), "value"] == 3
    assert removed.loc[("A3", "numerator"), "reason"] == "secondary"
    assert d.cells == 2
    # the region's figure is still the whole region's, A1 and A3 included: 45 / 150
    b = benchmark(p, LAS, CATALOGUE, totals=f, withheld_areas=d.withheld_areas)["areas"]
    r1 = b[b["area_code"].eq("R1")].iloc[0]
    assert r1["value"] == 30.0 and r1["las_contributing"] == 3
    # and from it, with A2's published 30 of 50, only A1 + A3 together can be worked out
    hidden_sum = r1["value"] / 100 * (40 + 50 + 60) - 30
    assert hidden_sum == pytest.approx(15)  # 3 + 12: neither alone


def test_an_area_whose_only_contributor_is_withheld_has_its_own_figure_withheld():
    f = figures(
        [
            ("C1", "visits_pct", 2, 30),  # R3's only LA
            ("A1", "visits_pct", 30, 40),
            ("A2", "visits_pct", 31, 50),
            ("A3", "visits_pct", 32, 60),
            ("B1", "visits_pct", 40, 45),
            ("B2", "visits_pct", 25, 30),
            ("B3", "visits_pct", 20, 80),
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    assert ("R3", P, "visits_pct") in d.withheld_areas
    b = benchmark(d.published, LAS, CATALOGUE, totals=f, withheld_areas=d.withheld_areas)
    r3 = b["areas"][b["areas"]["area_code"].eq("R3")].iloc[0]
    assert math.isnan(r3["value"]) and r3["status"] == "c"
    # England would give C1 away by difference, so one more LA (the smallest numerator in
    # England, B3's 20) is withheld, and then one more in B3's region (B2's 25)
    withheld = set(d.removed.loc[d.removed["field"].eq("numerator"), "la_code"])
    assert withheld == {"C1", "B3", "B2"}
    england = b["areas"][b["areas"]["area_code"].eq("england")].iloc[0]
    assert england["value"] == round(180 / 335 * 100, 1)


def test_a_small_denominator_withholds_the_percentage_and_its_numerator():
    f = figures(
        [
            ("A1", "visits_pct", 7, 9),  # 7 of 9: 2 children not visited could be worked out
            ("A2", "visits_pct", 30, 50),
            ("A3", "visits_pct", 30, 60),
            ("B1", "visits_pct", 0, 4),  # denominator 4 is itself a small count
            ("B2", "visits_pct", 10, 20),
            ("B3", "visits_pct", 10, 30),
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    p = d.published
    a1, b1, b2 = cell(p, "A1"), cell(p, "B1"), cell(p, "B2")
    assert math.isnan(a1["numerator"]) and math.isnan(a1["value"]) and a1["denominator"] == 9
    assert math.isnan(b1["denominator"]) and math.isnan(b1["numerator"]) and b1["status"] == "c"
    # B1's is R2's only withheld denominator: the next smallest, B2's 20, is withheld with it
    assert math.isnan(b2["denominator"]) and math.isnan(b2["value"])
    second = d.removed[d.removed["reason"].eq("secondary")]
    assert ("B2", "denominator") in set(zip(second["la_code"], second["field"], strict=True))
    assert cell(p, "B3")["value"] == round(10 / 30 * 100, 1)


def test_exempt_indicators_and_rates_on_large_populations():
    f = figures(
        [
            ("A1", "caseload", 3, 2),  # exempt: staff, not children
            ("A2", "cla_rate", 4, 40_000),  # 4 children looked after: withheld
            ("A3", "cla_rate", 300, 40_000),
        ]
    )
    p = suppress(f, REGION_OF, RULE, CATALOGUE).published
    assert cell(p, "A1", "caseload")["value"] == 1.5
    assert cell(p, "A2", "cla_rate")["status"] == "c"
    assert math.isnan(cell(p, "A2", "cla_rate")["value"])


def test_what_is_published_is_computed_from_published_figures_only():
    f = figures(
        [
            ("A1", "visits_pct", 3, 40),
            ("A2", "visits_pct", 30, 50),
            ("A3", "visits_pct", 12, 60),
            ("B1", "visits_pct", 40, 45),
            ("B2", "visits_pct", 25, 30),
            ("B3", "visits_pct", 20, 80),
        ]
    )
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    sn = pd.DataFrame({"la_code": ["B1", "B1"], "neighbour_la_code": ["A1", "A2"]})
    las = benchmark(d.published, LAS, CATALOGUE, sn, totals=f, withheld_areas=d.withheld_areas)
    b1 = cell(las["las"], "B1")
    # A1 is withheld: B1's SN mean is A2's figure alone, so A1's cannot be worked back from it
    assert b1["sn_mean"] == 60.0 and b1["sn_count"] == 1
    a1 = cell(las["las"], "A1")
    assert pd.isna(a1["band"]) and pd.isna(a1["rank_national"])
    assert las["las"].loc[las["las"]["status"].eq(OK), "las_ranked_national"].max() == 4


def test_area_changes_compare_published_figures_only():
    now = figures(
        [("A1", "visits_pct", 3, 40), ("A2", "visits_pct", 30, 50), ("A3", "visits_pct", 12, 60)]
    )
    before = figures(
        [("A1", "visits_pct", 20, 40), ("A2", "visits_pct", 25, 50), ("A3", "visits_pct", 30, 60)],
        period="2025-26-Q4",
    )
    f = pd.concat([before, now], ignore_index=True)
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    areas = benchmark(d.published, LAS, CATALOGUE, totals=f)["areas"]
    r1 = areas[areas["area_code"].eq("R1") & areas["period"].eq(P)].iloc[0]
    # like for like on A2 alone (A1 and A3 are withheld now): 25 of 50 then, 30 of 50 now
    assert r1["previous_value"] == 50.0 and r1["change_previous"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"counts": {"smallest": 0, "largest": 5}}, "zero is never withheld"),
        ({"counts": {"smallest": 6, "largest": 5}}, "no more than"),
        ({"min_denominator": "ten"}, "must be numbers"),
        ({"exempt": ["nope"]}, "nope, not in the indicator catalogue"),
        ({"secondry": True}, "unknown setting secondry"),
    ],
)
def test_a_broken_rule_is_refused_with_what_was_expected(raw, words):
    with pytest.raises(ConfigError, match=words):
        Rule.from_mapping(raw, "disclosure.yaml", CATALOGUE)


def test_the_rule_is_stated_in_words():
    text = Rule.from_mapping({"version": "1.0.0"}, "x").statement()
    assert "counts from 1 to 5" in text and "below 10" in text and "version 1.0.0" in text


# ------------------------------------------------------------------------ properties

las_codes = list(REGION_OF.index)
cells = st.tuples(
    st.sampled_from(las_codes),
    st.sampled_from(["visits_pct", "cla_rate", "caseload"]),
    st.integers(0, 40),
    st.integers(0, 90),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cells, min_size=1, max_size=40, unique_by=lambda c: (c[0], c[1])))
def test_no_withheld_count_can_be_published_or_recovered(rows):
    rows = [
        (la, ind, min(num, den) if ind == "visits_pct" else num, den) for la, ind, num, den in rows
    ]
    f = figures(rows)
    d = suppress(f, REGION_OF, RULE, CATALOGUE)
    p = d.published
    ruled = ~p["indicator_id"].eq("caseload")
    # nothing from 1 to 5 is published, and no value rests on a denominator under 10
    for col in ("numerator", "denominator"):
        assert not (ruled & p[col].between(1, 5)).any()
    shown = ruled & p["value"].notna()
    assert (p.loc[shown, "denominator"] >= 10).all() and p.loc[shown, "numerator"].notna().all()
    # what is published is exactly what was returned
    same = p["value"].notna()
    assert (p.loc[same, "value"] == f.loc[same, "value"]).all()
    # in every region and in England, the withheld numerators of contributing LAs are none, or
    # at least two, or the area's own figure is withheld
    contrib = f["denominator"].gt(0) & ruled
    hidden = p["numerator"].isna() & f["numerator"].notna()
    for area_of in (f["la_code"].map(REGION_OF), pd.Series("england", index=f.index)):
        g = pd.DataFrame({"area": area_of, "ind": f["indicator_id"], "h": hidden})[contrib]
        for (area, ind), n in g.groupby(["area", "ind"])["h"].sum().items():
            assert n != 1 or (area, P, ind) in d.withheld_areas, (area, ind)
    # every number withheld is listed with its true value
    assert len(d.removed[d.removed["field"].eq("numerator")]) == int(hidden.sum())


# ------------------------------------------------------------- validation, as published


def test_a_validation_finding_on_a_withheld_figure_quotes_c(demo_data, tmp_path):
    import shutil

    from pipeline.orchestration.settings import Settings
    from tests.internals import published, validate

    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    path = data / "returns" / "2026-27-Q2" / "ZL101_2026-27-Q2.csv"
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    at = rows["indicator_id"].eq("cpp_2_years_pct")
    # 5 of 8: a large change from last quarter's figure, on a count that is withheld
    rows.loc[at, ["numerator", "denominator", "value", "status"]] = ["5", "8", "62.5", ""]
    rows.to_csv(path, index=False)
    s = Settings(data=data, out=tmp_path / "out")
    v, inputs = validate(s)
    _, sdc = published(s, v, inputs)
    before = v.findings[v.findings["check_id"].eq("plausible_change")]
    line = int(rows.index[at][0]) + 2  # the header is line 1
    mine = before[before["file"].str.endswith(path.name) & before["row"].eq(line)]
    assert len(mine) == 1 and "62.5" in mine.iloc[0]["message"]  # as the LA's own feedback had it
    after = v.published(sdc.removed).findings.loc[mine.index[0]]
    assert after["message"] == "c is a large change from c" and after["value"] == "c"
    # the findings on figures that are published are as they were
    others = v.findings.index[~v.findings["check_id"].eq("plausible_change")]
    published_findings = v.published(sdc.removed).findings
    assert published_findings.loc[others].equals(v.findings.loc[others])
