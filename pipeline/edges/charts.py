"""Charts: altair specifications rendered offline to inline SVG by vl-convert (no CDN, no JS).

Each kind of chart is specified once per process with altair, against a named dataset; a call
fills in its data and renders. Building altair objects cost more than rendering them.
"""

from __future__ import annotations

import contextlib
import json
import re
from functools import cache

import pandas as pd

from pipeline.edges.svg_clean import clean
from pipeline.html.base import BAND_COLOURS as RUG_BANDS
from pipeline.html.base import esc

#: colour-blind-safe pair (Okabe-Ito blue and vermilion), with line dash as a second signal
SERIES_COLOURS = {"Region": "#0072B2", "England": "#D55E00"}
SERIES_DASH = {"Region": [1, 0], "England": [6, 3]}
FONT = "Arial, Helvetica, sans-serif"
LA_COLOUR = "#949494"
EACH_LA = "Each LA in the region"
#: the rug's own band colours, so a band looks the same in the rug and the charts; no band: grey
BAND_COLOURS = {band: bg for band, (bg, _) in RUG_BANDS.items()} | {"": "#bfc1c3"}
#: a pack's series: the LA itself, its neighbours' mean, the region and England; each with its
#: own colour, dash and weight, so no series rests on colour alone
PACK_SERIES = {
    "LA": ("#0b0c0c", [1, 0], 3.0),
    "SN mean": ("#882255", [2, 2], 2.0),
    "Region": (SERIES_COLOURS["Region"], SERIES_DASH["Region"], 2.0),
    "England": (SERIES_COLOURS["England"], SERIES_DASH["England"], 2.0),
}
NEIGHBOUR_COLOUR = "#6f777b"
#: stands for the LA's name in a pack's chart specification until a call fills it in
_THIS_LA = "__this_la__"
DATA = "table"
#: the kinds of chart, each specified once per process (see _template)
KINDS = ("trend", "ranking", "pack-trend", "neighbours", "funnel")
#: the stage of a run's profile that drawing charts counts to
DRAWING = "chart drawing"


def _ordered(data: pd.DataFrame) -> pd.DataFrame:
    """Panels and periods keep the order they come in (`order`, `t`), whatever their names."""
    panel = {k: i for i, k in enumerate(dict.fromkeys(data["indicator"]))}
    out = data.assign(order=data["indicator"].map(panel))
    if "period" in out:
        t = {k: i for i, k in enumerate(dict.fromkeys(data["period"]))}
        out = out.assign(t=out["period"].map(t))
    return out


def _render(
    kind: str, data: pd.DataFrame, names: dict[str, str] | None = None, key: str = ""
) -> str:
    """One chart of `kind` with `data`; `names` fills placeholders of the specification. It is
    kept by its specification's hash, or by `key` (see funnel_chart)."""
    import vl_convert as vlc

    from pipeline.core.stopwatch import stage
    from pipeline.edges import chart_cache

    rows, names = _ordered(data).to_json(orient="records"), names or {}
    text = _filled(_vega(kind), names)
    k = key or chart_cache.key("svg", text, rows)
    if (kept := chart_cache.get(k)) is not None:
        return kept.decode("utf-8")
    with stage(DRAWING):
        if any(placeholder in text for placeholder in names):
            # a name the compiled specification cannot take: the chart compiled with it
            spec = json.loads(_filled(_template(kind), names, in_expressions=False))
            spec["datasets"] = {DATA: json.loads(rows)}
            svg = vlc.vegalite_to_svg(spec)
        else:
            spec = json.loads(text)
            next(d for d in spec["data"] if d.get("name") == DATA)["values"] = json.loads(rows)
            svg = vlc.vega_to_svg(spec)
        svg = clean(svg)
    chart_cache.put(k, svg.encode("utf-8"))
    return svg


@cache
def _vega(kind: str) -> str:
    """The kind's specification compiled to Vega once per process, without data: the data and
    the names are filled in chart by chart. Compiling is a tenth to a fifth of drawing a
    chart, and its result does not depend on the data."""
    import vl_convert as vlc

    spec = json.loads(_template(kind))
    spec["datasets"] = {DATA: []}
    return json.dumps(vlc.vegalite_to_vega(spec))


def _filled(text: str, names: dict[str, str], in_expressions: bool = True) -> str:
    """A specification's text with each placeholder given its name: as a JSON string, and in
    a compiled one also as a string literal inside an expression (Vega-Lite writes a scale's
    domain into its filters' tests). A placeholder left anywhere else stays as it is."""
    for placeholder, value in names.items():
        literal = json.dumps(placeholder)
        text = text.replace(literal, json.dumps(value))
        if in_expressions:
            text = text.replace(json.dumps(literal)[1:-1], json.dumps(json.dumps(value))[1:-1])
    return text


def warm_up() -> None:
    """Build every kind of chart's specification and start vl-convert's JavaScript engine,
    so that a worker's first report draws as fast as its next."""
    import vl_convert as vlc

    for kind in KINDS:
        _vega(kind)
    vlc.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 1}]}})


#: specifications another process built (see `write_templates` and `use_templates`)
_LOADED: dict[str, str] = {}


def write_templates(path) -> None:
    """Every kind's specification, built here once, for worker processes to read: a worker
    that uses them never imports altair."""
    from pathlib import Path

    text = json.dumps({kind: _template(kind) for kind in KINDS}, sort_keys=True)
    Path(path).write_text(text, encoding="utf-8")


def use_templates(path) -> None:
    """Use the specifications `write_templates` wrote (when it cannot be read, build them)."""
    from pathlib import Path

    with contextlib.suppress(OSError, ValueError):
        _LOADED.update(json.loads(Path(path).read_text(encoding="utf-8")))


@cache
def _template(kind: str) -> str:
    if kind in _LOADED:
        return _LOADED[kind]
    spec = {
        "trend": _trend_spec,
        "ranking": _ranking_spec,
        "pack-trend": _pack_trend_spec,
        "neighbours": _neighbours_spec,
        "funnel": _funnel_spec,
    }[kind]()
    return json.dumps(spec.to_dict(), sort_keys=True)


def _facet(chart, columns: int, label_limit: int):
    import altair as alt

    return (
        chart.facet(
            facet=alt.Facet(
                "indicator:N", title=None, sort=alt.EncodingSortField("order", op="min")
            ),
            columns=columns,
        )
        .configure(font=FONT)
        .configure_header(labelFontSize=11, labelLimit=label_limit)
        .configure_view(stroke="#b1b4b6")
    )


#: a trend chart's value axis: numbers, never truncated, so not measured for it
_VALUE_AXIS = {"labelLimit": 0}


def _period_axis():
    import altair as alt

    return alt.X(
        "period:N",
        sort=alt.EncodingSortField("t", op="min"),
        title=None,
        # quarter labels are short: no limit, so they are not measured for truncation (a third
        # of a trend chart's drawing time)
        axis=alt.Axis(labelAngle=-45, labelFontSize=9, labelLimit=0),
    )


def trend_small_multiples(data: pd.DataFrame) -> str:
    """One small line chart per indicator: each LA (thin grey), the region and England.

    `data` has columns indicator (label), period (label, in order), series ('Region',
    'England' or 'LA'), la (the LA's name, for 'LA' rows) and value. Returns an SVG string.
    """
    # Missing figures stay, so that lines break at a gap instead of bridging it.
    return _render("trend", data.assign(series=data["series"].replace({"LA": EACH_LA})))


def _trend_spec(width: int = 170, height: int = 110):
    import altair as alt

    domain = [*SERIES_COLOURS, EACH_LA]
    x, y = (
        _period_axis(),
        alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=_VALUE_AXIS),
    )
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=domain, range=[*SERIES_COLOURS.values(), LA_COLOUR]),
        legend=alt.Legend(title=None, orient="top", symbolType="stroke", symbolStrokeWidth=3),
    )
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=domain, range=[*SERIES_DASH.values(), [1, 0]]),
        legend=None,
    )
    las = (
        alt.Chart()
        .transform_filter(alt.datum.series == EACH_LA)
        .mark_line(strokeWidth=1, invalid="break-paths-filter-domains")
        .encode(x=x, y=y, color=colour, strokeDash=dash, detail="la:N")
    )
    areas = (
        alt.Chart()
        .transform_filter(alt.datum.series != EACH_LA)
        .encode(x=x, y=y, color=colour, strokeDash=dash)
    )
    chart = alt.layer(
        las,
        areas.mark_line(strokeWidth=2.5, invalid="break-paths-filter-domains"),
        areas.mark_point(filled=True, size=28),
        data=alt.NamedData(DATA),
    ).properties(width=width, height=height)
    # Each panel its own axes: a shared x axis would hang under empty cells of the last row.
    return _facet(chart, 3, 220).resolve_scale(y="independent").resolve_axis(x="independent")


def ranking_chart(data: pd.DataFrame) -> str:
    """Per indicator, the region's LAs ranked best first (dots), with the region and England as
    reference lines; each dot carries its band letter, so colour is never the only signal.

    `data` has columns indicator (label), la, value, rank (1 = best within the region), band
    ('A'-'D' or '' for neutral), region and england (the comparators' values).
    """
    return _render(
        "ranking", data.dropna(subset=["value"]).assign(band=lambda d: d["band"].fillna(""))
    )


def _ranked_dots(label_limit: int):
    """The y (LAs, best first), x (values) and band letters of a ranking chart."""
    import altair as alt

    y = alt.Y(
        "la:N",
        title=None,
        sort=alt.EncodingSortField("rank", order="ascending"),
        axis=alt.Axis(labelLimit=label_limit, labelFontSize=10),
    )
    # Few ticks, and labels that would touch are dropped: "1,200" and "1,400" ran together.
    x = alt.X(
        "value:Q",
        title=None,
        scale=alt.Scale(zero=False),
        axis=alt.Axis(tickCount=5, labelOverlap="greedy", labelSeparation=6),
    )
    letters = (
        alt.Chart()
        .mark_text(align="left", dx=9, fontSize=10, fontWeight="bold")
        .encode(x=x, y=y, text="band:N")
    )
    return x, y, letters


def _rule(value: str, colour: str, dash: list[int]):
    import altair as alt

    return alt.Chart().mark_rule(color=colour, strokeWidth=2, strokeDash=dash).encode(x=value)


def _ranked_panels(reference, dots, letters, width: int):
    """A ranking chart's panels: a reference line, England's line, the dots and band letters."""
    import altair as alt

    chart = alt.layer(
        reference,
        _rule("mean(england):Q", SERIES_COLOURS["England"], SERIES_DASH["England"]),
        dots,
        letters,
        data=alt.NamedData(DATA),
    ).properties(width=width, height=alt.Step(16))
    return _facet(chart, 2, 300).resolve_scale(x="independent", y="independent")


def _ranking_spec(width: int = 230):
    import altair as alt

    x, y, letters = _ranked_dots(130)
    colour = alt.Color(
        "band:N",
        scale=alt.Scale(domain=[*BAND_COLOURS], range=[*BAND_COLOURS.values()]),
        legend=None,
    )
    dots = (
        alt.Chart()
        .mark_circle(size=70, opacity=1, stroke="#0b0c0c", strokeWidth=0.5)
        .encode(x=x, y=y, color=colour)
    )
    region = _rule("mean(region):Q", SERIES_COLOURS["Region"], SERIES_DASH["Region"])
    return _ranked_panels(region, dots, letters, width)


def pack_trend_chart(data: pd.DataFrame, la_name: str) -> str:
    """One small line chart per indicator: the LA against its neighbours' mean, the region and
    England over the trend periods.

    `data` has columns indicator (label), period (label, in order), series ('LA', 'SN mean',
    'Region', 'England') and value. Returns an SVG string.
    """
    shown = data.assign(
        series=data["series"].map(_pack_names(la_name)), this_la=data["series"].eq("LA")
    )
    return _render("pack-trend", shown, {_THIS_LA: la_name})


def _pack_names(la_name: str) -> dict[str, str]:
    return {
        "LA": la_name,
        "SN mean": "Statistical neighbours' mean",
        "Region": "Region",
        "England": "England",
    }


def _pack_trend_spec(width: int = 170, height: int = 110):
    import altair as alt

    domain = list(_pack_names(_THIS_LA).values())
    styles = list(PACK_SERIES.values())
    x, y = (
        _period_axis(),
        alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=_VALUE_AXIS),
    )
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=domain, range=[c for c, _, _ in styles]),
        legend=alt.Legend(
            title=None, orient="top", symbolType="stroke", symbolStrokeWidth=3, columns=2
        ),
    )
    dash = alt.StrokeDash(
        "series:N", scale=alt.Scale(domain=domain, range=[d for _, d, _ in styles]), legend=None
    )
    weight = alt.StrokeWidth(
        "series:N", scale=alt.Scale(domain=domain, range=[w for _, _, w in styles]), legend=None
    )
    base = alt.Chart().encode(x=x, y=y, color=colour, strokeDash=dash)
    chart = alt.layer(
        base.mark_line(invalid="break-paths-filter-domains").encode(strokeWidth=weight),
        base.transform_filter(alt.datum.this_la).mark_point(filled=True, size=30),
        data=alt.NamedData(DATA),
    ).properties(width=width, height=height)
    return _facet(chart, 3, 220).resolve_scale(y="independent").resolve_axis(x="independent")


def neighbour_ranking_chart(data: pd.DataFrame) -> str:
    """Per indicator, the LA and its statistical neighbours ranked best first: the LA a large
    black diamond (and labelled 'this LA'), neighbours grey circles, each with its band letter;
    the neighbours' mean and England as reference lines.

    `data` has columns indicator (label), la (name), value, rank, band ('A'-'D' or ''),
    this_la (bool), sn_mean and england.
    """
    valued = data.dropna(subset=["value"]).assign(
        band=lambda d: d["band"].fillna(""),
        who=lambda d: d["this_la"].map({True: "This LA", False: "Neighbour"}),
    )
    return _render("neighbours", valued)


def _neighbours_spec(width: int = 230):
    import altair as alt

    x, y, letters = _ranked_dots(170)
    who = ["This LA", "Neighbour"]
    dots = (
        alt.Chart()
        .mark_point(filled=True, opacity=1, stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "who:N",
                scale=alt.Scale(domain=who, range=["#0b0c0c", NEIGHBOUR_COLOUR]),
                legend=None,
            ),
            shape=alt.Shape(
                "who:N", scale=alt.Scale(domain=who, range=["diamond", "circle"]), legend=None
            ),
            size=alt.Size("who:N", scale=alt.Scale(domain=who, range=[160, 60]), legend=None),
        )
    )
    sn_colour, sn_dash, _ = PACK_SERIES["SN mean"]
    return _ranked_panels(_rule("mean(sn_mean):Q", sn_colour, sn_dash), dots, letters, width)


# --------------------------------------------------------------------------- funnel plots
#: a funnel plot's series (the `series` column of its data), each drawn its own way
FUNNEL_SERIES = ("LA", "named", "95%", "99.8%", "England")
#: stand for the words a call fills in: the named LAs' legend entry, England's, and the axes'
_NAMED, _ENGLAND, _X_TITLE, _Y_TITLE = "__named__", "__england__", "__x_title__", "__y_title__"
#: the control limits: 95% dark grey and dashed, 99.8% black and solid
FUNNEL_LIMITS = {"95%": ("#505a5f", [5, 3]), "99.8%": ("#0b0c0c", [1, 0])}
NAMED_COLOUR = SERIES_COLOURS["Region"]


def _funnel_spec():
    from pipeline.edges.funnel_spec import spec

    return spec()


def funnel_chart(
    data: pd.DataFrame,
    named: str = "LAs in the region",
    england: str = "England",
    x_title: str = "Denominator",
    y_title: str = "Value",
) -> str:
    """A funnel plot of one indicator (Spiegelhalter 2005): each LA's figure (y) by its
    denominator (x), England's figure as a dashed vermilion line, and its 95% (dashed grey) and
    99.8% (solid black) control limits. Other LAs are small grey circles; the LAs `named` (e.g.
    the region's) are larger blue diamonds with their names beside them, so shape, colour and
    a label each tell them apart. Returns an SVG string.

    `data` (``pipeline.report.funnel.Funnel.chart_data`` makes it) has one row per point:
    - series: 'LA' (an LA), 'named' (an LA named on the chart), '95%' or '99.8%' (a point of
      that control limit on a grid of denominators), 'England' (England's line: a point at the
      least and one at the greatest denominator);
    - denominator and value: where the point is;
    - la: the LA's name ('LA' and 'named' rows; blank otherwise);
    - side: 'lower' or 'upper' for a control limit's points (blank otherwise).
    `named` and `england` are the legend's words for the named LAs and England's line;
    `x_title` and `y_title` the axes' titles.
    """
    from pipeline.edges import chart_cache
    from pipeline.edges.funnel_spec import label_anchors

    # Kept by what it is drawn from: where the labels go is worked out only to draw it again.
    fills = {_NAMED: named, _ENGLAND: england, _X_TITLE: x_title, _Y_TITLE: y_title}
    k = chart_cache.key("funnel", data.to_csv(index=False), json.dumps(fills, sort_keys=True))
    if (kept := chart_cache.get(k)) is not None:
        return kept.decode("utf-8")
    names = {
        "LA": "Other LAs",
        "named": named,
        "95%": "95% control limits",
        "99.8%": "99.8% control limits",
        "England": england,
    }
    shown = data.assign(
        series=data["series"].map(names),
        la=data["la"].fillna("").astype(str),
        side=data["side"].fillna("").astype(str),
        front=data["series"].eq("named").astype(int),  # the named LAs drawn over the others
    )
    shown = shown.reset_index(drop=True)
    shown["anchor"] = label_anchors(shown.assign(series=data["series"].to_numpy()))
    return _render("funnel", shown.assign(indicator=""), fills, key=k)


def labelled(svg: str, title: str, desc: str) -> str:
    """The SVG as one image for assistive technology: role img, a <title> and a <desc>.

    The page shows the same title as the figure's caption and the description beside it; these
    travel with the SVG if it is copied out, and name the image for screen readers.
    """
    opening = re.match(r"<svg\b[^>]*>", svg)
    if not opening:
        raise ValueError("not an SVG document")
    tag = opening.group(0)[:-1] + ' role="img"'
    return f"{tag}><title>{esc(title)}</title><desc>{esc(desc)}</desc>{svg[opening.end() :]}"
