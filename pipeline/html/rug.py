"""The tartan rug: every LA x every indicator for one period, coloured by quartile band.

Rows are the region's LAs (by name), each followed by the mean of its statistical neighbours,
then the region and England as comparators, each labelled with the period it is as at. Columns
are indicators grouped by theme. Each cell shows the value and its band letter; neutral indicators
are uncoloured; suppressed, missing and not-accepted cells say so in words.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, OK, STATUS_SYMBOLS
from pipeline.html.base import esc
from pipeline.html.tracker import PROVISIONAL_MEANS, marked

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
    f = _by_key(la_figures, "la_code")
    body = []
    names = zip(las["la_code"], las["la_name"], shown_names(las), strict=True)
    for la_code, la_name, shown in names:
        cells = []
        for ind in inds:
            key = (la_code, ind.id)
            if key in f:
                r = f[key]
                joint = isinstance(r.get("shared"), str) and bool(r["shared"])
                cells.append(_cell(ind, r["value"], r["status"], r["band"], joint))
            else:
                cells.append(_cell(ind, None, MISSING, None))
        body.append(f'<tr><th scope="row">{esc(shown)}</th>{"".join(cells)}</tr>')
        if "sn_mean" in la_figures.columns:
            body.append(_sn_row(la_code, la_name, inds, f, sn_as_at))
    a = _by_key(area_figures, "area_code")
    for code, label in comparators:
        cells = []
        for ind in inds:
            r = a.get((code, ind.id))
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
        + provisional_note(las)
    )


def shown_names(las: pd.DataFrame) -> list[str]:
    """The LAs' names as a report lists them: '(provisional)' after each whose figures are
    provisional (column `provisional`, when there is one)."""
    provisional = las["provisional"].eq(True) if "provisional" in las.columns else None
    if provisional is None:
        return list(las["la_name"])
    return [marked(n, p) for n, p in zip(las["la_name"], provisional, strict=True)]


def la_label(la: Mapping) -> str:
    """One LA's name as a report lists it (`shown_names`), from its record."""
    return marked(la["la_name"], la.get("provisional") is True)


def provisional_key(las: pd.DataFrame) -> str:
    """The key's words on '(provisional)' after a name, as plain text after a space ('' when
    no LA's figures are provisional)."""
    if "provisional" not in las.columns or not las["provisional"].eq(True).any():
        return ""
    return f" (provisional) after a name: {PROVISIONAL_MEANS}"


def provisional_note(las: pd.DataFrame) -> str:
    """What '(provisional)' after an LA's name means, under the rug ('' when no LA's figures
    are provisional)."""
    if "provisional" not in las.columns or not las["provisional"].eq(True).any():
        return ""
    names = ", ".join(las.loc[las["provisional"].eq(True), "la_name"])
    return (
        f"<p><strong>(provisional)</strong> after a name: "
        f"{esc(PROVISIONAL_MEANS)} Provisional this period: {esc(names)}.</p>"
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


def _by_key(frame: pd.DataFrame, code: str) -> dict[tuple, dict]:
    """Each row of `frame` as a dict, by its (`code`, indicator_id): looked up cell by cell."""
    return {(r[code], r["indicator_id"]): r for r in frame.to_dict("records")}


def _sn_row(la_code: str, la_name: str, inds, f: dict[tuple, dict], as_at: str) -> str:
    cells = []
    for ind in inds:
        r = f.get((la_code, ind.id))
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


# --------------------------------------------------------------------------- significance rug
#: each comparison's cell: background and text colour (blue better and red worse, as the
#: bands; purples for a difference without judgement; grey similar). The word is always in
#: the cell, so colour is never the only signal.
SIG_STYLES = {
    "better": ("#2166ac", "#ffffff"),
    "similar": ("#f3f2f1", "#0b0c0c"),
    "worse": ("#b2182b", "#ffffff"),
    "higher": ("#6a3d9a", "#ffffff"),
    "lower": ("#e7d4e8", "#0b0c0c"),
}
#: a figure with no comparison: no count model, no counts; and what the benchmark's row is
NOT_TESTED, NO_COUNTS, BENCHMARK = "not tested", "no counts", "the benchmark"


def _style(word: str) -> str:
    bg, fg = SIG_STYLES[word]
    return f' style="background:{bg};color:{fg};print-color-adjust:exact"'


def _sig_cell(ind, r, missing: str, benchmark_row: bool = False) -> str:
    """One cell: its value and its comparison's word, or why there is none (`missing`: what
    the cell says when the benchmark has no figure)."""
    status = MISSING if r is None else r["status"]
    value = None if r is None else r["value"]
    if status != OK or pd.isna(value):
        return _cell(ind, value, status, None)
    text = f'<span class="v">{esc(ind.format(value))}</span>'
    word = r.get("word") if isinstance(r.get("word"), str) else ""
    if word in SIG_STYLES:
        return f'<td{_style(word)}>{text}<span class="b">{esc(word)}</span></td>'
    if benchmark_row:  # its row says what it is
        return f"<td>{text}</td>"
    if ind.count_model == "none":
        why = NOT_TESTED
    elif pd.isna(r.get("benchmark")):
        why = missing
    else:
        why = NO_COUNTS
    # wrapped, so that a word in every cell of a column does not widen the printed rug
    return f'<td style="white-space:normal">{text}<small>{esc(why)}</small></td>'


def significance_table(
    rows: list[tuple[str, str, str]],
    figures: pd.DataFrame,
    catalogue: Catalogue,
    caption: str,
    missing: str,
    notes: dict[str, str] | None = None,
    label: str = "Significance rug",
) -> str:
    """The significance rug: each row's value and whether it is better, similar or worse than
    a benchmark (higher, similar or lower where there is no judgement), by the word in the
    cell and its colour.

    `rows`: (key, row label, kind) in order, kind 'la', 'comparator' or 'benchmark' (the
    benchmark's own row: its value, 'the benchmark'). `figures`: key, indicator_id, value,
    status, word (the comparison, '' for none) and benchmark (the benchmark's figure for the
    row, blank when there is none: the cell says `missing`). `notes`: indicator id -> words
    under its heading. `label`: the scrolling region's name (unique on the page)."""
    inds = [i for t in catalogue.themes for i in catalogue.in_theme(t)]
    f = _by_key(figures, "key")
    body = []
    for key, row_label, kind in rows:
        cells = []
        for ind in inds:
            r = f.get((key, ind.id))
            cells.append(_sig_cell(ind, r, missing, kind == "benchmark"))
        cls = "" if kind == "la" else ' class="comparator"'
        if kind == "benchmark":
            row_label += f": {BENCHMARK}"
        body.append(f'<tr{cls}><th scope="row">{esc(row_label)}</th>{"".join(cells)}</tr>')
    return (
        f'<div class="rug-wrap" role="region" aria-label="{esc(label)}" tabindex="0">'
        f'<table class="rug sig"><caption>{esc(caption)}</caption>'
        f"{_head(catalogue, inds, notes or {})}<tbody>{''.join(body)}</tbody></table></div>"
    )


def significance_key(level: str, benchmark: str, missing: str, returns: bool = True) -> str:
    """The significance rug's key: each word with its colour and meaning at `level` (e.g.
    '95%'), against `benchmark` (e.g. 'England'), and the cells without a comparison
    (`missing`: what a cell says when the benchmark has no figure)."""
    means = {
        "better": f"the LA's {level} confidence interval lies wholly on the better side of "
        f"{benchmark}'s figure",
        "similar": f"the interval includes {benchmark}'s figure: the difference could be chance",
        "worse": "the interval lies wholly on the worse side",
        "higher": "no judgement: the interval lies wholly above",
        "lower": "no judgement: the interval lies wholly below",
    }
    words = "".join(
        f"<li{_style(w)}><strong>{esc(w)}</strong> {esc(t)}</li>" for w, t in means.items()
    )
    statuses = "; ".join(f"<strong>{esc(k)}</strong> {esc(v)}" for k, v in STATUS_SYMBOLS.items())
    absent = (
        "<strong>–</strong> no figure returned; <strong>not accepted</strong> the LA's return "
        "for this period failed validation. "
        if returns
        else "<strong>–</strong> no figure published. "
    )
    return (
        f'<ul class="key" aria-label="Significance key">{words}</ul>'
        f"<p>Cells without a comparison say why: <strong>{NOT_TESTED}</strong> the indicator "
        "has no count model (a mean caseload, or staff counted in full-time equivalents), so "
        "no interval: compare it by size in the quartile rug; "
        f"<strong>{esc(missing)}</strong> there is nothing to compare with; "
        f"<strong>{NO_COUNTS}</strong> the figure came without its numerator and "
        f"denominator. The row marked {BENCHMARK} holds the figures compared with. Withheld and "
        f"other figures: {statuses}; {absent}</p>"
    )
