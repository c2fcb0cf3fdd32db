"""The peer-challenge group pack's sections (``pipeline.report.group`` chooses what they show):
the group's LAs side by side on the headline indicators, each one's evidence, who moderates
whom, prompts for the moderators and ruled boxes for their notes, which print; and the list of
a region's group packs that its regional report and the index show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from pipeline.html.base import esc, table
from pipeline.html.sections import items, note

#: ruled lines in each LA's box for moderation notes (about a third of an A4 page, printed)
NOTE_LINES = 12


class Cell(NamedTuple):
    """One LA's figure on one indicator, as shown: its value ('' without one), band letter
    ('' unbanded) and, without a value, why (``'c'``, 'no figure', 'return not accepted')."""

    value: str
    band: str
    why: str = ""


class Row(NamedTuple):
    """One indicator across the group: its label, each LA's cell and SN mean, then the region's
    and England's figures."""

    label: str
    cells: Sequence[Cell]
    sn_means: Sequence[str]
    region: str
    england: str


class Member(NamedTuple):
    """One LA of the group as the pack lists it: its name, its evidence pack's href (None when
    not built) and its return in words."""

    name: str
    href: str | None
    words: str


def headline(title: str, lede: str, points: list[str], members: Sequence[Member]) -> str:
    """The title, the lede, its points and a link to each LA's evidence pack."""
    links = "".join(
        f'<li><a href="{esc(m.href)}">{esc(m.name)}: self-assessment evidence pack</a>'
        f"{esc(m.words)}</li>"
        if m.href
        else f"<li>{esc(m.name)}: no evidence pack built{esc(m.words)}</li>"
        for m in members
    )
    return (
        f'<h1>{esc(title)}</h1><p class="lede">{esc(lede)}</p>'
        f'<ul class="lede">{items(points)}</ul>'
        f'<p>Each local authority\'s own pack:</p><ul class="packs">{links}</ul>'
    )


def _cell(c: Cell) -> str:
    if c.value and c.band:
        return (
            f'<td class="band-{esc(c.band)}"><span class="v">{esc(c.value)}</span>'
            f'<span class="b">band {esc(c.band)}</span></td>'
        )
    if c.value:
        return f'<td><span class="v">{esc(c.value)}</span><span class="b">no band</span></td>'
    cls = "na" if c.why == "return not accepted" else "st"
    return f'<td class="{cls}">{esc(c.why)}</td>'


def side_by_side(caption: str, names: Sequence[str], rows: Sequence[Row], england: str) -> str:
    """The group's LAs side by side: a row per indicator; per LA its figure with its band
    (the band's colour and its letter) and its statistical neighbours' mean; then the region
    and England."""
    head = "".join(
        f'<th scope="col">{esc(n)}</th><th scope="col" class="sn">{esc(n)}: SN mean</th>'
        for n in names
    )
    body = []
    for r in rows:
        cells = "".join(
            _cell(c) + f'<td class="sn">{esc(sn or "–")}</td>'
            for c, sn in zip(r.cells, r.sn_means, strict=True)
        )
        body.append(
            f'<tr><th scope="row">{esc(r.label)}</th>{cells}'
            f'<td class="cmp">{esc(r.region or "–")}</td>'
            f'<td class="cmp">{esc(r.england or "–")}</td></tr>'
        )
    return (
        '<div class="rug-wrap" role="region" aria-label="The group side by side" tabindex="0">'
        f'<table class="rug group"><caption>{esc(caption)}</caption><thead><tr>'
        f'<th scope="col">Indicator</th>{head}<th scope="col">Region</th>'
        f'<th scope="col">{esc(england)}</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def band_key() -> str:
    """What the bands and the cells' words mean."""
    return (
        '<ul class="key"><li class="band-A">band A: among the best 25% of LAs</li>'
        '<li class="band-B">band B</li><li class="band-C">band C</li>'
        '<li class="band-D">band D: among the worst 25%</li>'
        "<li>no band: no better or worse direction</li>"
        "<li>c: withheld by disclosure control</li><li>–: no figure</li></ul>"
    )


def moderation(rows: Sequence[Sequence[str]], caption: str) -> str:
    """Who moderates whom: per LA, its moderator and the LAs it moderates."""
    return table(caption, ["Local authority", "Moderated by", "Moderates"], rows)


def evidence(la_name: str, href: str | None, groups: Sequence[tuple[str, list[str], str]]) -> str:
    """One LA's evidence: per kind (heading, statements, what to say without any) its
    statements, as its pack states them."""
    link = (
        f'<p>As stated in <a href="{esc(href)}">{esc(la_name)}\'s self-assessment evidence '
        "pack</a>.</p>"
        if href
        else ""
    )
    parts = []
    for heading, texts, none in groups:
        body = f"<ul>{items(texts)}</ul>" if texts else f"<p>{esc(none)}</p>"
        parts.append(f"<h4>{esc(heading)}</h4>{body}")
    return f'<h3>{esc(la_name)}</h3>{link}<div class="narrative">{"".join(parts)}</div>'


def no_figures(la_name: str, why: str) -> str:
    """An LA of the group without figures: its heading and why."""
    return f"<h3>{esc(la_name)}</h3>{note(why)}"


def prompts(la_name: str, moderator: str | None, texts: list[str]) -> str:
    """One LA's prompts for its moderator."""
    who = (
        f"For {esc(moderator)}, moderating {esc(la_name)}'s self-assessment:"
        if moderator
        else f"For whoever moderates {esc(la_name)}'s self-assessment (no moderator is named in "
        "peer_challenge.yaml):"
    )
    return f'<h3>{esc(la_name)}</h3><p>{who}</p><ol class="questions">{items(texts)}</ol>'


def notes_box(la_name: str, moderator: str | None) -> str:
    """A blank ruled box for the moderator's notes on one LA, printed."""
    by = f" (moderator: {esc(moderator)})" if moderator else ""
    rules = '<div class="rule"></div>' * NOTE_LINES
    return (
        f'<div class="notes-box"><h3>Notes on {esc(la_name)}{by}</h3>'
        f'<p class="meta">Agreed strengths, areas for development and actions.</p>'
        f'<div class="rules" aria-hidden="true">{rules}</div></div>'
    )


def group_links(groups: Sequence[dict], period_label: str) -> str:
    """A region's peer-challenge group packs (name, href, las), as its regional report lists
    them; nothing without any."""
    if not groups:
        return ""
    lines = "".join(
        f'<li><a href="{esc(g["href"])}">{esc(g["name"])}: peer-challenge group pack, '
        f"{esc(period_label)}</a> ({esc(', '.join(g['las']))})</li>"
        for g in groups
    )
    return (
        '<h3 id="peer-challenge">Peer-challenge group packs</h3>'
        "<p>The region's peer-challenge groups, each with its local authorities side by side, "
        f'their evidence and prompts for the moderators.</p><ul class="packs">{lines}</ul>'
    )


def index_section(groups: Sequence[dict], label, note: str = "") -> str:
    """The index's section of group packs, a table per period (`label`: slug -> label);
    `groups`: dicts with period, region_name, name, href, status, error, las; `note`: why
    there are none, when the dataset has groups."""
    if not groups and not note:
        return ""
    periods = sorted({g["period"] for g in groups}, reverse=True)
    out = ['<h2 id="peer-challenge">Peer challenge</h2>']
    if note:
        out.append(f"<p>{esc(note)}</p>")
    for period in periods:
        rows = []
        for g in (x for x in groups if x["period"] == period):
            name = f"{g['name']}: peer-challenge group pack, {label(period)}"
            link = (
                f'<a href="{esc(g["href"])}">{esc(name)}</a>' if g["status"] == "ok" else esc(name)
            )
            rows.append(
                f'<tr><th scope="row">{link}</th><td>{esc(g["region_name"])}</td>'
                f"<td>{esc(', '.join(g['las']))}</td>"
                f'<td class="status-{esc(g["status"])}">{esc(g["status"])}</td>'
                f"<td>{esc(g.get('error') or '')}</td></tr>"
            )
        out.append(
            f'<table class="tartan-table"><caption>Peer-challenge group packs, '
            f"{esc(label(period))}</caption><thead><tr>"
            '<th scope="col">Group pack</th><th scope="col">Region</th>'
            '<th scope="col">Local authorities</th><th scope="col">Status</th>'
            f'<th scope="col">Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    return "".join(out)


def paragraph(text: str) -> str:
    """A paragraph of text; nothing without any."""
    return f"<p>{esc(text)}</p>" if text else ""


def method(points: list[str]) -> str:
    return f"<ul>{items(points)}</ul>"
