"""A pack's exceptions: the figures the LA is asked to explain, each with its own words or
"no commentary received"; and the index's list of LAs that still owe commentary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.core.findings import plural
from pipeline.html.base import esc

#: what a pack says of an exception the LA has not yet written about
NOT_RECEIVED = "No commentary received."


def _words(words: Mapping | None) -> str:
    """The LA's words on one indicator (already safe HTML), or that none came."""
    if not words or not words.get("html", "").strip():
        return f'<p class="no-commentary"><strong>{NOT_RECEIVED}</strong></p>'
    return f'<div class="commentary-body">{words["html"]}</div>'


def _item(item: Mapping) -> str:
    why = "; ".join(item["why"])
    band = f", band {item['band']}" if item.get("band") else ""
    return (
        f'<section class="exception" aria-labelledby="exc-{esc(item["indicator_id"])}">'
        f'<h3 id="exc-{esc(item["indicator_id"])}">{esc(item["label"])}: '
        f"{esc(item['value'])}{esc(band)}</h3>"
        f'<p class="why">An exception: {esc(why)}.</p>'
        + _words(item.get("commentary"))
        + "</section>"
    )


def exceptions(la_name: str, period_label: str, ctx: Mapping) -> str:
    """The section: the rule, how much commentary came, each exception with the LA's words,
    then what it wrote on other indicators."""
    items, note = ctx["items"], ctx.get("note")
    head = (
        f"<p>The regional group asks each LA to explain, in its own words, every figure "
        f"{esc(ctx['rule']['words'])}. The words are the LA's, shown as written, from "
        f"<code>{esc(ctx['file'])}</code> (one section per indicator, headed "
        "<code>## indicator id</code>); they are not generated from the figures.</p>"
    )
    if not items:
        return head + (
            f"<p>None of {esc(la_name)}'s figures for {esc(period_label)} is an exception.</p>"
            + _other(ctx)
        )
    received = len(items) - ctx["owed"]
    status = (
        f"<p><strong>Commentary received on {received} of "
        f"{plural(len(items), 'exception')}"
        + (f"; {ctx['owed']} still owed" if ctx["owed"] else "")
        + ".</strong>"
        + (f" Written by {esc(note['author'])}, {esc(note['date'])}." if note else "")
        + "</p>"
    )
    intro = ""
    if note and note.get("html", "").strip():
        intro = f'<div class="commentary-body">{note["html"]}</div>'
    return head + status + intro + "".join(_item(i) for i in items) + _other(ctx)


def _other(ctx: Mapping) -> str:
    """What the LA wrote on indicators that are not exceptions this period."""
    other = ctx.get("other") or []
    if not other:
        return ""
    parts = "".join(
        f'<h4>{esc(o["label"])}</h4><div class="commentary-body">{o["html"]}</div>' for o in other
    )
    return (
        '<section class="other-commentary" aria-labelledby="other-commentary">'
        '<h3 id="other-commentary">Commentary on other indicators</h3>'
        f"{parts}</section>"
    )


def owed_list(label: str, owed: Sequence[Mapping]) -> str:
    """The index's line on one period: which LAs still owe commentary on their exceptions."""
    if not owed:
        return ""
    names = ", ".join(f"{o['la_name']} ({o['owed']} of {o['exceptions']})" for o in owed)
    return (
        f'<p class="owed"><strong>Commentary on exceptions still owed for {esc(label)}:</strong> '
        f"{plural(len(owed), 'LA')}: {esc(names)}.</p>"
    )
