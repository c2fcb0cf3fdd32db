"""Charts: altair specifications rendered offline to inline SVG by vl-convert (no CDN, no JS)."""

from __future__ import annotations

import re

import pandas as pd

#: colour-blind-safe pair (Okabe-Ito blue and vermilion), with line dash as a second signal
SERIES_COLOURS = {"Region": "#0072B2", "England": "#D55E00"}
SERIES_DASH = {"Region": [1, 0], "England": [6, 3]}
FONT = "Arial, Helvetica, sans-serif"


def _svg(chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())


def trend_small_multiples(data: pd.DataFrame, width: int = 170, height: int = 110) -> str:
    """One small line chart per indicator: the region and England over the periods given.

    `data` has columns indicator (label), period (label, in order), series ('Region' or
    'England') and value. Returns an SVG string.
    """
    import altair as alt

    order = list(dict.fromkeys(data["period"]))
    domain = list(SERIES_COLOURS)
    base = alt.Chart(data.dropna(subset=["value"])).encode(
        x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45, labelFontSize=9)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color(
            "series:N",
            scale=alt.Scale(domain=domain, range=[SERIES_COLOURS[s] for s in domain]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        strokeDash=alt.StrokeDash(
            "series:N",
            scale=alt.Scale(domain=domain, range=[SERIES_DASH[s] for s in domain]),
            legend=None,
        ),
    )
    chart = (
        (base.mark_line(strokeWidth=2) + base.mark_point(filled=True, size=28))
        .properties(width=width, height=height)
        .facet(
            facet=alt.Facet("indicator:N", title=None, sort=list(dict.fromkeys(data["indicator"]))),
            columns=3,
        )
        .resolve_scale(y="independent")
        .configure(font=FONT)
        .configure_header(labelFontSize=11, labelLimit=220)
        .configure_view(stroke="#b1b4b6")
    )
    return _clean(_svg(chart))


def _clean(svg: str) -> str:
    """Drop the XML prolog so the SVG can sit inline in HTML."""
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg.strip())
