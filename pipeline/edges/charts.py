"""Charts: altair specifications rendered offline to inline SVG by vl-convert (no CDN, no JS)."""

from __future__ import annotations

import re

import pandas as pd

from pipeline.core.html import BAND_COLOURS as RUG_BANDS
from pipeline.core.html import esc

#: colour-blind-safe pair (Okabe-Ito blue and vermilion), with line dash as a second signal
SERIES_COLOURS = {"Region": "#0072B2", "England": "#D55E00"}
SERIES_DASH = {"Region": [1, 0], "England": [6, 3]}
FONT = "Arial, Helvetica, sans-serif"
LA_COLOUR = "#949494"
EACH_LA = "Each LA in the region"
#: the rug's own band colours, so a band looks the same in the rug and the charts; no band: grey
BAND_COLOURS = {band: bg for band, (bg, _) in RUG_BANDS.items()} | {"": "#bfc1c3"}


def _svg(chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())


def trend_small_multiples(data: pd.DataFrame, width: int = 170, height: int = 110) -> str:
    """One small line chart per indicator: each LA (thin grey), the region and England.

    `data` has columns indicator (label), period (label, in order), series ('Region',
    'England' or 'LA'), la (the LA's name, for 'LA' rows) and value. Returns an SVG string.
    """
    import altair as alt

    order = list(dict.fromkeys(data["period"]))
    # Keep missing figures so that lines break at a gap instead of bridging it.
    valued = data.assign(series=lambda d: d["series"].replace({"LA": EACH_LA}))
    domain = [*SERIES_COLOURS, EACH_LA]
    colours = [*SERIES_COLOURS.values(), LA_COLOUR]
    x = alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45, labelFontSize=9))
    y = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=domain, range=colours),
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
    chart = (
        alt.layer(
            las,
            areas.mark_line(strokeWidth=2.5, invalid="break-paths-filter-domains"),
            areas.mark_point(filled=True, size=28),
            data=valued,
        )
        .properties(width=width, height=height)
        .facet(
            facet=alt.Facet("indicator:N", title=None, sort=list(dict.fromkeys(data["indicator"]))),
            columns=3,
        )
        # Each panel its own axes: a shared x axis would hang under empty cells of the last row.
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")
        .configure(font=FONT)
        .configure_header(labelFontSize=11, labelLimit=220)
        .configure_view(stroke="#b1b4b6")
    )
    return _clean(_svg(chart))


def ranking_chart(data: pd.DataFrame, width: int = 230) -> str:
    """Per indicator, the region's LAs ranked best first (dots), with the region and England as
    reference lines; each dot carries its band letter, so colour is never the only signal.

    `data` has columns indicator (label), la, value, rank (1 = best within the region), band
    ('A'-'D' or '' for neutral), region and england (the comparators' values).
    """
    import altair as alt

    valued = data.dropna(subset=["value"]).assign(band=lambda d: d["band"].fillna(""))
    n = max(int(valued.groupby("indicator").size().max()) if len(valued) else 1, 1)
    height = max(60, 16 * n)
    y = alt.Y(
        "la:N",
        title=None,
        sort=alt.EncodingSortField("rank", order="ascending"),
        axis=alt.Axis(labelLimit=130, labelFontSize=10),
    )
    # Few ticks, and labels that would touch are dropped: "1,200" and "1,400" ran together.
    x = alt.X(
        "value:Q",
        title=None,
        scale=alt.Scale(zero=False),
        axis=alt.Axis(tickCount=5, labelOverlap="greedy", labelSeparation=6),
    )
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
    letters = (
        alt.Chart()
        .mark_text(align="left", dx=8, fontSize=10, fontWeight="bold")
        .encode(x=x, y=y, text="band:N")
    )
    region = (
        alt.Chart()
        .mark_rule(color=SERIES_COLOURS["Region"], strokeWidth=2)
        .encode(x="mean(region):Q")
    )
    england = (
        alt.Chart()
        .mark_rule(
            color=SERIES_COLOURS["England"], strokeWidth=2, strokeDash=SERIES_DASH["England"]
        )
        .encode(x="mean(england):Q")
    )
    chart = (
        alt.layer(region, england, dots, letters, data=valued)
        .properties(width=width, height=height)
        .facet(
            facet=alt.Facet("indicator:N", title=None, sort=list(dict.fromkeys(data["indicator"]))),
            columns=2,
        )
        .resolve_scale(x="independent", y="independent")
        .configure(font=FONT)
        .configure_header(labelFontSize=11, labelLimit=300)
        .configure_view(stroke="#b1b4b6")
    )
    return _clean(_svg(chart))


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


def _clean(svg: str) -> str:
    """Drop the XML prolog so the SVG can sit inline in HTML."""
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg.strip())
