"""The tartan rug: every LA x every indicator for one period, coloured by quartile band.

Rows are the region's LAs (by name), each followed by the mean of its statistical neighbours,
then the region and England as comparators, each labelled with the period it is as at. Columns
are indicators grouped by theme. Each cell shows the value and its band letter; neutral indicators
are uncoloured; suppressed, missing and not-accepted cells say so in words.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, OK, STATUS_SYMBOLS
from pipeline.html.base import esc

STATUS_TEXT = {MISSING: "no figure", NOT_ACCEPTED: "return not accepted", **STATUS_SYMBOLS}


def _cell(ind, value, status, band, joint: bool = False) -> str:
    if status == OK and pd.notna(value):
        text = f'<span class="v">{esc(ind.format(value))}</span>'
        if joint:  # one figure published for LAs that run their service together
            text += "<small> joint</small>"
        if isinstance(band, str) and band:
            return f'<td class="band-{esc(band)}">{text}<span class="b">{esc(band)}</span></td>'
        return f"<td>{text}</td>"
    if status == NOT_ACCEPTED:
        return '<td class="na">not accepted</td>'
    label = status if status in STATUS_SYMBOLS else "–"
    return f'<td class="st">{esc(label)}</td>'


def rug_table(
    las: pd.DataFrame,
    la_figures: pd.DataFrame,
    area_figures: pd.DataFrame,
    catalogue: Catalogue,
    period_label: str,
    comparators: list[tuple[str, str]],
    notes: dict[str, str] | None = None,
    sn_as_at: str | None = None,
) -> str:
    """HTML for the rug.

    `las`: la_code, la_name (row order). `la_figures`: la_code, indicator_id, value, status, band
    for the period. `area_figures`: area_code, indicator_id, value, status for the period.
    `comparators`: (area_code, row label) in order, e.g. the region then England. When
    `la_figures` has sn_mean and sn_count, each LA row is followed by its neighbours' mean;
    when it has `shared`, a jointly run service's figure is marked joint. `notes`: indicator
    id -> what its column's figures or comparators are as at, where not the period, as shown
    under its heading (e.g. 'as at 30 September 2025'). `sn_as_at`: what the neighbours' means
    are as at, after their rows' label (default: 'as at' the period).
    """
    sn_as_at = sn_as_at or f"as at {period_label}"
    inds = [i for t in catalogue.themes for i in catalogue.in_theme(t)]
    f = la_figures.set_index(["la_code", "indicator_id"])
    body = []
    for la_code, la_name in zip(las["la_code"], las["la_name"], strict=True):
        cells = []
        for ind in inds:
            key = (la_code, ind.id)
            if key in f.index:
                r = f.loc[key]
                joint = isinstance(r.get("shared"), str) and bool(r["shared"])
                cells.append(_cell(ind, r["value"], r["status"], r["band"], joint))
            else:
                cells.append(_cell(ind, None, MISSING, None))
        body.append(f'<tr><th scope="row">{esc(la_name)}</th>{"".join(cells)}</tr>')
        if "sn_mean" in la_figures.columns:
            body.append(_sn_row(la_code, la_name, inds, f, sn_as_at))
    a = area_figures.set_index(["area_code", "indicator_id"])
    for code, label in comparators:
        cells = []
        for ind in inds:
            r = a.loc[(code, ind.id)] if (code, ind.id) in a.index else None
            value = r["value"] if r is not None else None
            status = r["status"] if r is not None else MISSING
            cells.append(_cell(ind, value, status, None))
        body.append(
            f'<tr class="comparator"><th scope="row">{esc(label)}</th>{"".join(cells)}</tr>'
        )
    return (
        '<div class="rug-wrap" role="region" aria-label="Tartan rug" tabindex="0">'
        f'<table class="rug"><caption>Tartan rug, {esc(period_label)}: each LA\'s value and '
        "quartile band (A best to D worst) for every indicator</caption>"
        f"{_head(catalogue, inds, notes or {})}<tbody>{''.join(body)}</tbody></table></div>"
    )


def _head(catalogue: Catalogue, inds, notes: dict[str, str]) -> str:
    """The rug's column groups and its two header rows: the themes, then their indicators
    (each with its note, if any)."""
    theme_row = "".join(
        f'<th scope="colgroup" colspan="{len(catalogue.in_theme(t))}" class="theme">{esc(t)}</th>'
        for t in catalogue.themes
    )
    ind_row = "".join(
        f'<th scope="col" class="ind">{esc(i.short_label)}'
        f"{'' if i.judged else ' <small>(no judgement)</small>'}"
        f"{f' <small>({esc(notes[i.id])})</small>' if i.id in notes else ''}</th>"
        for i in inds
    )
    colgroups = "<col>" + "".join(
        f'<colgroup span="{len(catalogue.in_theme(t))}"></colgroup>' for t in catalogue.themes
    )
    return (
        f"{colgroups}<thead><tr><td></td>{theme_row}</tr>"
        f'<tr><th scope="col">Local authority</th>{ind_row}</tr></thead>'
    )


def _sn_row(la_code: str, la_name: str, inds, f: pd.DataFrame, as_at: str) -> str:
    cells = []
    for ind in inds:
        key = (la_code, ind.id)
        r = f.loc[key] if key in f.index else None
        if r is None or pd.isna(r["sn_mean"]):
            cells.append('<td class="st">–</td>')
            continue
        # How many neighbours had a figure is in the CSV (sn_count): never in a tooltip alone.
        cells.append(f'<td><span class="v">{esc(ind.format(r["sn_mean"]))}</span></td>')
    return (
        f'<tr class="sn"><th scope="row"><span class="visually-hidden">{esc(la_name)}: </span>'
        f"statistical neighbours' mean, {esc(as_at)}</th>{''.join(cells)}</tr>"
    )


def rug_key(returns: bool = True, published: bool = False) -> str:
    """The rug's key; `returns` False for published statistics (no returns to accept);
    `published`: returns against DfE's published comparators."""
    bands = "".join(
        f'<li class="band-{b}"><strong>{b}</strong> {esc(t)}</li>'
        for b, t in (
            ("A", "best quarter of all LAs"),
            ("B", "second quarter"),
            ("C", "third quarter"),
            ("D", "worst quarter"),
        )
    )
    statuses = "; ".join(f"<strong>{esc(k)}</strong> {esc(v)}" for k, v in STATUS_SYMBOLS.items())
    return (
        f'<ul class="key" aria-label="Band key">{bands}</ul>'
        f"<p>Other cells: {statuses}; "
        + (
            "<strong>–</strong> no figure returned; <strong>not accepted</strong> the LA's "
            "return for this period failed validation, so none of its figures are used. "
            if returns
            else "<strong>–</strong> no figure published. "
        )
        + "Indicators marked (no judgement) are not banded. "
        + (
            ""
            if returns
            else "An indicator marked (as at ...) is of that date, not the period's. "
            "<strong>joint</strong>: one figure DfE publishes for LAs that run their service "
            "together, shown for each of them and counted once in bands, ranks and sums. "
        )
        + (PUBLISHED_KEY if published else SN_KEY)
    )


SN_KEY = (
    "Under each LA, the mean of its statistical neighbours' figures for the same period "
    "(neighbours without a figure are left out); comparator rows are not banded.</p>"
)
#: the key's last sentences with DfE's published comparators
PUBLISHED_KEY = (
    "Under each column heading, the date of its DfE published comparators: England's figure, "
    "the mean of each LA's statistical neighbours' published figures (the row under the LA) "
    "and the band, which places the LA's figure among all LAs' published figures of that "
    "date (LAIT's quartiles). <strong>no published comparator</strong>: no England figure; "
    "the band and the neighbours' mean are among the region's LAs with an accepted return. "
    "The region is the sum of its LAs' accepted returns for the quarter; comparator rows are "
    "not banded.</p>"
)
