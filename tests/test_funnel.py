"""Funnel plots: the control limits and the LAs outside them, worked by hand; the chart (named
LAs by shape, colour and label; the same bytes twice); the regional report's funnel figures,
each with a title, a description and its table, against England from the returns or DfE's
published England."""

from __future__ import annotations

import html as html_lib
import re

import numpy as np
import pandas as pd
import pytest

from pipeline.core.significance import funnel_limits
from pipeline.edges import charts
from pipeline.orchestration.settings import Settings
from pipeline.report import REPORTS, funnel
from tests.catalogues import catalogue
from tests.conftest import ROOT, TINY_PERIODS
from tests.internals import prepare_plan, regional_job
from tests.test_comparator_labels import _make_published as make_published

CAT = catalogue("rereferrals_pct", "cla_rate", "caseload")
PCT, RATE, RATIO = CAT["rereferrals_pct"], CAT["cla_rate"], CAT["caseload"]


def _figures(rows) -> pd.DataFrame:
    """LA figures of one indicator: (code, numerator, denominator, status); value computed."""
    f = pd.DataFrame(rows, columns=["la_code", "numerator", "denominator", "status"])
    f["la_name"] = "LA " + f["la_code"]
    f["value"] = (f["numerator"] / f["denominator"] * 100).round(1).where(f["status"].eq(""))
    return f


# --------------------------------------------------------------------------- the limits


def test_the_limits_interpolate_between_counts_as_spiegelhalter_does():
    """Target 50% on 100 children, 95%: the binomial's 2.5% point is 40 children (P(X <= 39) =
    0.01760, P(X <= 40) = 0.02844), so the limit is 40 - (0.02844 - 0.025) / (0.02844 -
    0.01760) = 39.682 children: 39.68%; by symmetry the upper is 60.32 - 1 = 59.32%."""
    lo, hi = funnel_limits(50.0, [100], PCT, 95.0)
    assert lo[0] == pytest.approx(39.6824, abs=1e-4)
    assert hi[0] == pytest.approx(59.3176, abs=1e-4)
    lo, hi = funnel_limits(50.0, [100], PCT, 99.8)
    assert (lo[0], hi[0]) == pytest.approx((34.1216, 64.8784), abs=1e-4)


def test_the_limits_narrow_as_the_denominator_grows_and_rates_use_poisson():
    lo, hi = funnel_limits(20.0, [100, 400], PCT, 95.0)
    assert lo == pytest.approx([11.9742, 16.0272], abs=1e-4)
    assert hi == pytest.approx([27.6476, 23.8694], abs=1e-4)
    lo, hi = funnel_limits(50.0, [10_000], RATE, 95.0)  # 50 per 10,000 in 10,000 children
    assert (lo[0], hi[0]) == pytest.approx((36.1217, 63.8305), abs=1e-4)


# --------------------------------------------------------------------------- who is outside

#: England 20%; limits at 100 children: 95% 11.97-27.65, 99.8% 8.10-32.68; at 400: 95%
#: 16.03-23.87, 99.8% 13.91-26.25
HAND = [
    ("A", 40, 100, ""),  # 40%: above 99.8%
    ("B", 30, 100, ""),  # 30%: above 95%, within 99.8%
    ("C", 20, 100, ""),  # on England
    ("D", 10, 100, ""),  # 10%: below 95%
    ("E", 5, 100, ""),  # 5%: below 99.8%
    ("F", 100, 400, ""),  # 25% on 400: above 95% (on 100 it would be within)
    ("G", 25, 100, ""),  # 25% on 100: within
    ("H", None, 3, "c"),  # withheld: never plotted, tabled or counted
]


def test_each_la_is_placed_against_the_limits_at_its_own_denominator():
    f = funnel.prepare(_figures(HAND), PCT, 20.0, named=["A", "D", "H"])
    where = dict(zip(f.points["la_code"], f.points["position"], strict=True))
    assert where == {
        "A": funnel.ABOVE_998,
        "B": funnel.ABOVE_95,
        "C": funnel.WITHIN,
        "D": funnel.BELOW_95,
        "E": funnel.BELOW_998,
        "F": funnel.ABOVE_95,
        "G": funnel.WITHIN,
    }
    assert f.summary() == {"las": 7, "above95": 3, "below95": 2, "above998": 1, "below998": 1}
    assert list(f.outside(95.0, named=True)["la_code"]) == ["A", "D"]
    assert list(f.outside(99.8)["la_code"]) == ["A", "E"]
    assert f.points.set_index("la_code").loc["F", "upper95"] == pytest.approx(23.8694, abs=1e-4)
    assert funnel.position_text(funnel.ABOVE_95) == "above the 95% limit (within 99.8%)"


def test_an_la_is_judged_on_its_counts_not_its_rounded_value():
    """27.65% is the upper 95% limit at 100 children of 20%: 2765 of 10000 lies above the
    limit at 10000 (far narrower), whatever the rounding of its value."""
    f = funnel.prepare(_figures([("A", 2765, 10_000, "")]), PCT, 20.0)
    assert f.points["position"].iloc[0] == funnel.ABOVE_998


def test_no_funnel_without_a_count_model_a_target_or_a_figure():
    figures = _figures(HAND)
    assert funnel.prepare(figures, RATIO, 20.0) is None
    assert funnel.prepare(figures, PCT, float("nan")) is None
    assert funnel.prepare(figures[figures["status"].ne("")], PCT, 20.0) is None


def test_the_grid_spans_the_las_and_the_chart_data_has_every_series():
    f = funnel.prepare(_figures(HAND), PCT, 20.0, named=["A"])
    g = f.limits["denominator"]
    assert g.iloc[0] < 3 * 100 / 3 and g.iloc[-1] > 400 and g.is_monotonic_increasing
    data = f.chart_data()
    assert set(data["series"]) == {"LA", "named", "95%", "99.8%", "England"}
    assert list(data.loc[data["series"].eq("named"), "la"]) == ["LA A"]
    assert (data.loc[data["series"].eq("England"), "value"] == 20.0).all()
    assert not data["la"].eq("LA H").any(), "the withheld figure is not drawn"
    assert set(data.loc[data["series"].eq("95%"), "side"]) == {"lower", "upper"}


# --------------------------------------------------------------------------- the chart


def _svg(named=("A", "D")) -> str:
    f = funnel.prepare(_figures(HAND), PCT, 20.0, named=list(named))
    return charts.funnel_chart(
        f.chart_data(), named="LAs in North Vale", x_title="Referrals", y_title="Re-referrals"
    )


def test_the_chart_names_the_regions_las_by_label_shape_and_colour():
    svg = _svg()
    assert svg.startswith("<svg") and "<script" not in svg
    text = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"LA A", "LA D", "LAs in North Vale", "Other LAs", "Referrals", "Re-referrals"} <= set(
        text
    )
    assert {"95% control limits", "99.8% control limits", "England"} <= set(text)
    assert "LA B" not in text, "only the named LAs are labelled"
    assert charts.NAMED_COLOUR.lower() in svg.lower() and charts.LA_COLOUR.lower() in svg.lower()
    assert _svg() == svg, "the same figures, the same bytes"


def test_labels_are_placed_clear_of_each_other():
    from pipeline.edges.funnel_spec import label_anchors

    data = pd.DataFrame(
        {
            "series": ["named", "named", "LA"],
            "denominator": [100.0, 100.0, 5000.0],
            "value": [20.0, 20.0, 10.0],
            "la": ["Aldermoor", "Brackenford", "Other"],
        }
    )
    anchors = label_anchors(data)
    assert anchors.iloc[2] == "" and anchors.iloc[0] != anchors.iloc[1]


def test_the_chart_data_is_numbers_only_where_published():
    f = funnel.prepare(_figures(HAND), PCT, 20.0)
    assert np.isfinite(f.chart_data()["value"]).all()


# --------------------------------------------------------------------------- the regional report

LATEST, REGION = "2026-27-Q2", "ZR1"


def _text(markup) -> str:
    """A section as a reader reads it: no tags, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", str(markup))))


def regional_report(plan, period=LATEST, region=REGION, name="Northmoor Demonstration Region"):
    """A regional report's facade, its slice written as a run writes it."""
    planned = regional_job(plan, period, region, name, {})
    planned.write_slice()
    return REPORTS["regional-benchmark"].implementation().load(planned.job.slice_dir)


def national_report(demo_data, out):
    """The demo's ZR1 report of the latest quarter (and its plan): every LA in England from
    the returns."""
    plan = prepare_plan(Settings(data=demo_data, out=out, contracts=ROOT / "data_contracts"))
    return plan, regional_report(plan)


def published_report(tiny, out):
    """The tiny dataset's report (and its plan) against a made-up published England (see
    test_comparator_labels): rereferrals_pct, cla_rate and sw_vacancy_pct have one."""
    plan = prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))
    make_published(plan)
    return plan, regional_report(plan, TINY_PERIODS[-1], "ZR1", "North Vale")


@pytest.fixture(scope="module")
def national(demo_data, tmp_path_factory):
    return national_report(demo_data, tmp_path_factory.mktemp("national"))


@pytest.fixture(scope="module")
def published(tiny, tmp_path_factory):
    return published_report(tiny, tmp_path_factory.mktemp("published"))


def _figures_of(section: str) -> dict[str, str]:
    return dict(re.findall(r'<figure id="(funnel-[^"]+)">(.*?)</figure>', section, re.S))


def test_a_funnel_plot_per_indicator_with_a_count_model_each_described_and_tabled(national):
    _plan, report = national
    themes = str(report.themes())
    figures = _figures_of(themes)
    counted = [i for i in report.catalogue if i.count_model != "none"]
    assert list(figures) == [f"funnel-{i.id}" for i in counted]
    for ind in counted:
        body = figures[f"funnel-{ind.id}"]
        title = f"{ind.short_label}: funnel plot, {report.period_label}"
        assert f"<figcaption>{html_lib.escape(title)}</figcaption>" in body
        svg = re.search(r"<svg\b[^>]*>", body).group(0)
        assert 'role="img"' in svg and "<title>" in body and "<desc>" in body
        assert f"Show the figures: {html_lib.escape(title)}" in body and "<table" in body
        desc = _text(re.search(r"</svg><p>(.*?)</p>", body, re.S).group(1))
        assert desc.startswith(f"Funnel plot of {ind.label}, {report.period_label}: each of")
        assert "95% (dashed grey) and 99.8% (solid black) control limits" in desc
        assert "Northmoor Demonstration Region's LAs:" in desc
    assert 'id="funnels-front-door"' in themes and 'href="#funnel-rereferrals_pct"' in themes


def test_the_description_counts_what_the_table_shows(national):
    _plan, report = national
    body = _figures_of(str(report.themes()))["funnel-rereferrals_pct"]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", body, re.S)
    cells = {html_lib.unescape(la): re.findall(r"<td[^>]*>(.*?)</td>", r) for la, r in rows}
    where = {la: c[-1] for la, c in cells.items()}
    outside = [la for la, w in where.items() if w != funnel.WITHIN]
    desc = _text(re.search(r"</svg><p>(.*?)</p>", body, re.S).group(1))
    assert f"{len(outside)} of the {len(where)} LAs lie outside the 95% limits" in desc
    mine = [la for la, c in cells.items() if c[0] == "yes"]
    assert sorted(mine) == sorted(
        report.la_names[c] for c in report.la_names if report.la_names[c] in cells
    )
    for la in mine:
        if where[la] != funnel.WITHIN:
            assert f"{la} {html_lib.unescape(where[la])}" in desc
    assert len(where) > len(mine), "every LA in England is plotted, the region's named"


def test_no_withheld_figure_reaches_a_funnel_plot(national):
    """ZL201 returns its own small numbers as c: none of its withheld figures is plotted,
    tabled or even in the slice."""
    plan, report = national
    assert set(report.funnel["status"]) == {""} and report.funnel["value"].notna().all()
    las = plan.bench["las"]
    withheld = las[las["period"].eq(LATEST) & las["status"].ne("")]
    assert len(withheld), "the demo withholds some figures"
    figures = _figures_of(str(report.themes()))
    names = plan.inputs.reference.la_names
    for r in withheld.itertuples():
        body = figures.get(f"funnel-{r.indicator_id}", "")
        assert f'<th scope="row">{html_lib.escape(names[r.la_code])}</th>' not in body, (
            f"{r.la_code}'s withheld {r.indicator_id} is in its funnel plot's table"
        )
    slice_keys = set(zip(report.funnel["la_code"], report.funnel["indicator_id"], strict=True))
    assert not slice_keys & set(zip(withheld["la_code"], withheld["indicator_id"], strict=True))


def test_the_funnel_plots_are_the_same_bytes_twice(national):
    plan, report = national
    again = regional_report(plan)
    assert str(again.themes()) == str(report.themes())


def test_published_mode_plots_the_regions_las_against_published_england(published):
    _plan, report = published
    figures = _figures_of(str(report.themes()))
    assert set(figures) == {"funnel-rereferrals_pct", "funnel-cla_rate"}, (
        "only indicators with a count model and a published England"
    )
    body = figures["funnel-rereferrals_pct"]
    desc = _text(re.search(r"</svg><p>(.*?)</p>", body, re.S).group(1))
    assert "against England (DfE published, year to 31 March 2026) at 5.0%" in desc
    assert (
        "only North Vale's LAs have figures for 2026-27 Q2 (no other LA's quarter is held), "
        "so they alone are plotted, against limits around England's published figure (year "
        "to 31 March 2026)." in desc
    )
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td>', body)
    assert rows and all(mine == "yes" for _, mine in rows), "the region's LAs only"
    assert "England (DfE published, year to 31 March 2026)" in _text(body)
    themes = _text(report.themes())
    assert "Referrals rate: no funnel plot (no England figure)." in themes
