"""Charts compiled to Vega once per kind: a chart drawn from the compiled specification, its
names filled in, is the chart Vega-Lite draws when compiled with those names, even for names
with quotes in them and names inside the funnel's legend filters; where a name cannot be
filled into the compiled specification, the chart is compiled with it."""

from __future__ import annotations

import pandas as pd
import pytest
import vl_convert as vlc

from pipeline.edges import chart_cache, charts

NAMES = ["Kingston upon Thames", 'King\'s Lynn "West" & Norfolk', "Brighton\\Hove"]


def _pack_trend() -> pd.DataFrame:
    periods = ["2025-26 Q1", "2025-26 Q2", "2025-26 Q3"]
    series = (("LA", 510.0), ("SN mean", 480.0), ("Region", 500.0), ("England", 470.0))
    rows = [("Referrals rate", p, s, v + i) for i, p in enumerate(periods) for s, v in series]
    return pd.DataFrame(rows, columns=["indicator", "period", "series", "value"])


def _funnel() -> pd.DataFrame:
    rows = [("LA", 800, 21.0, "Other one", ""), ("LA", 2500, 25.5, "Other two", "")]
    rows += [("named", 1200, 28.0, "Ours", ""), ("England", 500, 23.0, "", "")]
    rows += [("England", 3000, 23.0, "", "")]
    for level, width in (("95%", 2.0), ("99.8%", 3.1)):
        for d in (500, 1500, 3000):
            spread = width * 100 / d**0.5
            rows += [(level, d, 23.0 - spread, "", "lower"), (level, d, 23.0 + spread, "", "upper")]
    return pd.DataFrame(rows, columns=["series", "denominator", "value", "la", "side"])


DRAWN = {
    "pack trend": lambda name: charts.pack_trend_chart(_pack_trend(), name),
    "funnel": lambda name: charts.funnel_chart(_funnel(), named=name, england=f"{name}'s England"),
}


def _not_compiled(*args, **kwargs):
    raise AssertionError("a chart was compiled from Vega-Lite: the compiled one was not used")


def _compiled_with_names(monkeypatch, draw, name: str) -> str:
    """The chart as Vega-Lite draws it compiled with its names: the compiled specification
    made one its names cannot be filled into."""
    with monkeypatch.context() as m:
        compiled = charts._vega
        m.setattr(charts, "_vega", lambda kind: compiled(kind) + " " + " ".join(PLACEHOLDERS))
        return draw(name)


PLACEHOLDERS = ["__this_la__", "__named__", "__england__"]


@pytest.fixture(autouse=True)
def nowhere():
    chart_cache.use(None)  # every chart drawn, none found


@pytest.mark.parametrize("kind", DRAWN)
@pytest.mark.parametrize("name", NAMES)
def test_a_chart_from_the_compiled_specification_is_the_chart_vega_lite_draws(
    kind, name, monkeypatch
):
    draw = DRAWN[kind]
    expected = _compiled_with_names(monkeypatch, draw, name)
    monkeypatch.setattr(vlc, "vegalite_to_svg", _not_compiled)
    drawn = draw(name)
    assert drawn == expected
    assert not any(p in drawn for p in PLACEHOLDERS)


def test_the_placeholders_are_the_charts_own():
    assert {charts._THIS_LA, charts._NAMED, charts._ENGLAND} == set(PLACEHOLDERS)
