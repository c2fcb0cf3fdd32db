"""Pieces every report's sections share: figures with their tables, lede lists, the narrative,
theme headings and the note that stands where a chart or figure cannot be shown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.html.base import esc


def figure(fig_id: str, title: str, image: str, desc: str, tbl: str) -> str:
    """A chart with its caption, a text description and its figures as a table.

    `image`: the chart's SVG, already labelled for assistive technology
    (``pipeline.edges.charts.labelled``); `tbl`: the figures' table."""
    return (
        f'<figure id="{esc(fig_id)}"><figcaption>{esc(title)}</figcaption>'
        f"{image}"
        f"<p>{esc(desc)}</p>"
        f"<details><summary>Show the figures: {esc(title)}</summary>{tbl}</details>"
        "</figure>"
    )


def items(texts: Iterable[str]) -> str:
    """List items, one per text."""
    return "".join(f"<li>{esc(x)}</li>" for x in texts)


def lede_list(points: list[str]) -> str:
    """A report's headline points under its lede; nothing when there are none."""
    return f'<ul class="lede">{items(points)}</ul>' if points else ""


def note(text: str) -> str:
    """What stands where a chart or figures cannot be shown, and why."""
    return f'<p class="no-chart">{esc(text)}</p>'


def paragraph(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def theme_heading(theme: str, slug: str) -> str:
    return f'<h3 id="theme-{esc(slug)}">{esc(theme)}</h3>'


def narrative(paragraphs: Iterable[Mapping]) -> str:
    """The generated narrative: each paragraph's heading, lead and points
    (``pipeline.core.narrative.Paragraph`` as a record)."""
    out = []
    for para in paragraphs:
        points = items(para["points"])
        out.append(
            f"<h3>{esc(para['heading'])}</h3><p>{esc(para['lead'])}</p>"
            + (f"<ul>{points}</ul>" if points else "")
        )
    return f'<div class="narrative">{"".join(out)}</div>'


def disclosure_item(disclosure: str | None) -> str:
    """The method's line on disclosure control, when the report states one."""
    return f"<li>Disclosure control: {esc(disclosure)}</li>" if disclosure else ""


def subsection(heading: str, body: str) -> str:
    """A section's part: its heading, then its body (markup already)."""
    return f"<h3>{esc(heading)}</h3>{body}"


#: how every report bands and ranks (``pipeline.core.benchmark``), stated in each method
BAND_RULE = (
    "Bands and ranks are worked out on each figure as published and shown, rounded to the "
    "indicator's decimals, so two LAs showing the same figure share a band and a rank. Bands "
    "are quartiles of all LAs with a figure, by R's default (type 7) quantile, as DfE's LAIT "
    "does: A is the best quarter given the indicator's polarity, D the worst; each quarter "
    "includes its upper boundary, so a figure equal to a quartile falls in the quarter below "
    "it. Indicators with no polarity are not banded."
)
RANK_RULE = (
    "Ranks: 1 is best by polarity (highest first where there is no judgement); tied figures "
    "share the lowest rank; LAs without a figure are not ranked."
)
