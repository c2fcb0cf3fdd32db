"""The funnel plot's specification (``charts.funnel_chart`` draws it) and where its named
LAs' labels go, so that they overlap neither each other nor the named points."""

from __future__ import annotations

import pandas as pd

from pipeline.edges.charts import (
    _ENGLAND,
    _NAMED,
    _VALUE_AXIS,
    _X_TITLE,
    _Y_TITLE,
    DATA,
    FONT,
    FUNNEL_LIMITS,
    LA_COLOUR,
    NAMED_COLOUR,
    SERIES_COLOURS,
    SERIES_DASH,
)

#: where a named LA's label may go, in the order tried: (align, dx, dy) from its point
_ANCHORS = {
    "right": ("left", 7, 0),
    "left": ("right", -7, 0),
    "above": ("center", 0, -11),
    "below": ("center", 0, 12),
}
FUNNEL_SIZE = (440, 300)


def label_anchors(data: pd.DataFrame, size=FUNNEL_SIZE, font: int = 10) -> pd.Series:
    """Where each named LA's label goes (a key of _ANCHORS; blank for other rows): the first
    place, tried in order, that overlaps no label already placed, no named LA's point and
    stays inside the plot; else the place that overlaps least. Positions are estimated from
    the data's extent and the plot's size, as the chart's scales will place them."""
    width, height = size
    x, y = data["denominator"].astype(float), data["value"].astype(float)
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    px = (x - x0) / ((x1 - x0) or 1) * width
    py = height - (y - y0) / ((y1 - y0) or 1) * height
    named = data.index[data["series"].eq("named")]
    boxes = [(px[i] - 6, py[i] - 6, px[i] + 6, py[i] + 6) for i in named]
    out = pd.Series("", index=data.index, dtype=object)
    for i in sorted(named, key=lambda i: (px[i], py[i])):
        w, h = 0.56 * font * len(str(data.at[i, "la"])), font + 2
        cx, cy = px[i], py[i]
        places = {
            "right": (cx + 7, cy - h / 2, cx + 7 + w, cy + h / 2),
            "left": (cx - 7 - w, cy - h / 2, cx - 7, cy + h / 2),
            "above": (cx - w / 2, cy - 11 - h / 2, cx + w / 2, cy - 11 + h / 2),
            "below": (cx - w / 2, cy + 12 - h / 2, cx + w / 2, cy + 12 + h / 2),
        }
        own = (cx - 6, cy - 6, cx + 6, cy + 6)

        def cost(box, own=own, h=h):
            clash = sum(_overlap(box, b) for b in boxes if b != own)
            outside = max(0, -box[0]) + max(0, box[2] - width)
            outside += max(0, -box[1]) + max(0, box[3] - height)
            return clash + outside * h

        best = min(places, key=lambda k: (cost(places[k]) > 0, cost(places[k])))
        out[i] = best
        boxes.append(places[best])
    return out


def _overlap(a, b) -> float:
    """The area two boxes (left, top, right, bottom) share."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _axes():
    import altair as alt

    x = alt.X(
        "denominator:Q",
        title=_X_TITLE,
        scale=alt.Scale(zero=False, nice=False),
        axis=alt.Axis(tickCount=6, labelOverlap="greedy", labelSeparation=6, format=",~r"),
    )
    y = alt.Y("value:Q", title=_Y_TITLE, scale=alt.Scale(zero=False), axis=_VALUE_AXIS)
    return x, y


def _lines(x, y):
    """The control limits (each side a line of its own) and England's line."""
    import altair as alt

    lines = ["95% control limits", "99.8% control limits", _ENGLAND]
    styles = [*FUNNEL_LIMITS.values(), (SERIES_COLOURS["England"], SERIES_DASH["England"])]
    key = alt.Legend(
        title=None, orient="top", symbolType="stroke", symbolStrokeWidth=2, labelLimit=0, columns=1
    )

    def scale(values):
        return alt.Scale(domain=lines, range=values)

    return (
        alt.Chart()
        .transform_filter(alt.FieldOneOfPredicate(field="series", oneOf=lines))
        .mark_line(interpolate="linear")
        .encode(
            x=x,
            y=y,
            detail="side:N",
            color=alt.Color("series:N", scale=scale([c for c, _ in styles]), legend=key),
            strokeDash=alt.StrokeDash("series:N", scale=scale([d for _, d in styles]), legend=None),
            strokeWidth=alt.StrokeWidth("series:N", scale=scale([1.5, 1.5, 2]), legend=None),
        )
    )


def _points(x, y):
    """The LAs: the others small grey circles, the named larger blue diamonds (one legend)."""
    import altair as alt

    who = ["Other LAs", _NAMED]
    key = alt.Legend(title=None, orient="top", labelLimit=0, columns=1)

    def scale(values):
        return alt.Scale(domain=who, range=values)

    return (
        alt.Chart()
        .transform_filter(alt.FieldOneOfPredicate(field="series", oneOf=who))
        .mark_point(filled=True, opacity=1, stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            fill=alt.Fill("series:N", scale=scale([LA_COLOUR, NAMED_COLOUR]), legend=key),
            shape=alt.Shape("series:N", scale=scale(["circle", "diamond"]), legend=key),
            size=alt.Size("series:N", scale=scale([30, 110]), legend=key),
            order=alt.Order("front:Q"),
        )
    )


def spec(width: int = FUNNEL_SIZE[0], height: int = FUNNEL_SIZE[1]):
    """The funnel plot: its lines, its LAs and the named LAs' labels, each label layer placing
    its labels one way (``label_anchors`` chooses)."""
    import altair as alt

    x, y = _axes()
    labels = [
        alt.Chart()
        .transform_filter(alt.FieldEqualPredicate(field="anchor", equal=anchor))
        .mark_text(align=align, dx=dx, dy=dy, fontSize=10, color="#0b0c0c")
        .encode(x=x, y=y, text="la:N")
        for anchor, (align, dx, dy) in _ANCHORS.items()
    ]
    return (
        alt.layer(_lines(x, y), _points(x, y), *labels, data=alt.NamedData(DATA))
        .properties(width=width, height=height)
        .resolve_scale(color="independent")
        .configure(font=FONT)
        .configure_view(stroke="#b1b4b6")
        .configure_axis(titleFontWeight="normal", titleFontSize=11)
    )
