"""The rug as a workbook (regional-benchmark.xlsx): the regional report's rug, what it is and
where it came from, and its figures as a tidy table.

Three sheets. "Rug": the HTML rug's rows (the region's LAs by name, each followed by its
statistical neighbours' mean, then the region and England) and its columns (indicators under
their themes). Each figure is a number, as the report shows it (23.4 for 23.4%), whose number
format shows it with its unit and its band letter ("23.4% A"), in the report's band colour, so
the letter is there whatever the colour. Withheld figures are ``c``; an LA without a figure is
``x`` (not available), as DfE's statistics mark them. "About": the period, the comparators and
their dates, the rules, the disclosure rule, the protective marking and the page's provenance.
"Data": one row per area and indicator of the period, for filtering and pivoting.
"""

from __future__ import annotations

import textwrap
from datetime import datetime

import pandas as pd

from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import BANDS, MISSING, NOT_ACCEPTED, OK, STATUS_SYMBOLS
from pipeline.edges.workbook import Book, Cell, Merge, Printing, Sheet, Style, write
from pipeline.html.base import BAND_COLOURS
from pipeline.html.rug import provisional_key, shown_names
from pipeline.html.sections import BAND_RULE, RANK_RULE

#: a figure not available: no figure returned, the return not accepted, no neighbour's figure
NOT_AVAILABLE = "x"
#: what each symbol in a cell means
SYMBOLS = {
    **STATUS_SYMBOLS,
    NOT_AVAILABLE: "not available: no figure returned, the LA's return for the period was not "
    "accepted, or (for a neighbours' mean or a comparator) no figure to show",
}
#: England's ONS code, as DfE's published statistics give it (the slice calls it 'england')
ENGLAND_CODE = "E92000001"
#: how a heading states an indicator's unit and which way is better
UNIT_WORDS = {"percentage": "%", "rate per 10,000": "per 10,000 children", "ratio": "ratio"}
POLARITY_WORDS = {"high": "higher is better", "low": "lower is better", "neutral": "no judgement"}
#: the Data sheet's headings, in order ({level}: the report's confidence level; {noun}: quarter
#: or year)
DATA_HEADINGS = (  # noqa: SIM905 (one heading after another, as they read)
    "Area name; Area type; Area code; Period; Theme; Indicator; Short label; Indicator ID; Unit; "
    "Polarity; Value; Status; Status meaning; Numerator; Denominator; Band; Rank in region; "
    "LAs ranked in region; Rank in England; LAs ranked in England; SN mean; SN median; "
    "Neighbours with a figure; Compared with England; Compared with the region; "
    "Compared with the SN mean; {level} interval lower; {level} interval upper; "
    "Previous {noun}'s value; Change since the previous {noun}; Change significant?; Trend; "
    "Note; Joint service (LA codes)"
).split("; ")
#: an indicator column's width (characters) and a line's height (points)
WIDTH, LINE = 12, 15.0
GREY = "#505a5f"

TITLE = Style(bold=True, size=14, valign="")
SUBTITLE = Style(valign="")
MARKING = Style(bold=True, colour="#d4351c", valign="")
THEME = Style(bold=True, align="center", valign="vcenter", border=True, fill="#dee0e2")
HEADING = Style(bold=True, wrap=True, border=True, align="center", valign="top")
NOTE = Style(italic=True, wrap=True, border=True, size=9, colour=GREY, align="center")
LA = Style(border=True, wrap=True)
SN = Style(border=True, wrap=True, italic=True, colour=GREY, indent=1)
COMPARATOR = Style(border=True, wrap=True, bold=True)
SYMBOL = Style(border=True, align="right")
SN_SYMBOL = Style(border=True, align="right", colour=GREY, italic=True)
KEY = Style(valign="")
HEADER = Style(bold=True, wrap=True, fill="#dee0e2", border=True)
SECTION = Style(bold=True, size=12, valign="")
LABEL = Style(bold=True, wrap=True)
TEXT = Style(wrap=True)


def workbook(report, about: dict) -> bytes:
    """The workbook of `report` (a ``RegionalBenchmark``); `about`: what its page says of
    itself (title, banners, facts)."""
    title = about.get("title") or f"{report.region_name}: benchmarking, {report.period_label}"
    marking = _marking(about)
    book = Book(
        sheets=[
            _rug(report, title, about),
            _about(report, title, about),
            _data(report, title, marking),
        ],
        created=period_end(report.period),
        title=title,
        subject=f"Tartan rug, {report.region_name}, {report.period_label}",
        author="Tartan",
        keywords="tartan rug, benchmarking, children's social care",
        comments=marking,
        custom=[("Protective marking", marking)] if marking else [],
    )
    return write(book)


def period_end(slug: str) -> datetime:
    """The last day of a period (the date the workbook says it was made, so that the same
    figures make the same bytes): a quarter's last day, a year's 31 March."""
    p = parse_slug(slug)
    later, month, day = {1: (0, 6, 30), 2: (0, 9, 30), 3: (0, 12, 31)}.get(p.quarter, (1, 3, 31))
    return datetime(p.start_year + later if p.quarter else p.start_year, month, day)


def _marking(about: dict) -> str:
    return " ".join(t for t, kind in about.get("banners", []) if kind == "marking")


def _printing(title: str, marking: str, **kw) -> Printing:
    """A sheet on A4: the marking at the top and foot of each page, the title at its foot."""
    return Printing(header=marking, footer_left=title, footer_centre=marking, **kw)


def _digits(decimals: int) -> str:
    """An Excel number format with `decimals` places and a thousands separator."""
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def number_format(ind, suffix: str = "") -> str:
    """The Excel number format showing a figure of `ind` as the report does (its decimals, a
    thousands separator, % for a percentage) followed by `suffix` (e.g. ' A')."""
    base = _digits(ind.decimals)
    text = ("%" if ind.unit == "percentage" else "") + suffix
    return f'{base}"{text}"' if text else base


def shown(ind, value) -> float | None:
    """A figure as the report shows it, rounded to its decimals (None: no figure)."""
    if value is None or pd.isna(value):
        return None
    return round(float(value), ind.decimals)


def symbol(status: str) -> str:
    """What a cell without a figure says: the status symbol an LA returned or disclosure
    control gave (c, ...), else x (no figure returned, return not accepted)."""
    return status if status in STATUS_SYMBOLS else NOT_AVAILABLE


def _indicators(catalogue) -> list:
    return [i for t in catalogue.themes for i in catalogue.in_theme(t)]


def _heading(ind) -> str:
    return f"{ind.short_label}\n{UNIT_WORDS[ind.unit]}, {POLARITY_WORDS[ind.polarity]}"


def _lines(text: str, width: int = WIDTH - 1) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (about)."""
    return sum(max(1, len(textwrap.wrap(part, width))) for part in text.split("\n"))


def _records(frame: pd.DataFrame, key: str, period: str) -> dict[tuple[str, str], dict]:
    """(code, indicator id) -> the row of the period."""
    now = frame[frame["period"] == period]
    return {(r[key], r["indicator_id"]): r for r in now.to_dict("records")}


# --------------------------------------------------------------------------- the rug


def _figure(ind, r: dict | None) -> Cell:
    """An LA's cell: its figure with its band letter and colour, or its symbol."""
    if r is None or r["status"] != OK or pd.isna(r["value"]):
        return Cell(symbol(MISSING if r is None else r["status"]), SYMBOL)
    band = r.get("band") if ind.judged else None
    band = band if band in BANDS else ""
    joint = isinstance(r.get("shared"), str) and bool(r["shared"])
    suffix = (f" {band}" if band else "") + (" joint" if joint else "")
    fill, colour = BAND_COLOURS.get(band, ("", ""))
    style = Style(number=number_format(ind, suffix), fill=fill, colour=colour, border=True)
    return Cell(shown(ind, r["value"]), style)


def _plain(ind, value, status: str = OK, grey: bool = False) -> Cell:
    """A comparator's cell: its figure, never banded, or its symbol."""
    if status != OK or shown(ind, value) is None:
        return Cell(symbol(status or MISSING), SN_SYMBOL if grey else SYMBOL)
    style = Style(number=number_format(ind), border=True, italic=grey, colour=GREY if grey else "")
    return Cell(shown(ind, value), style)


def _body(report, inds) -> list[list[Cell | None]]:
    """The rug's rows: each LA by name, then its neighbours' mean; then the region and
    England, labelled as the HTML rug labels them."""
    figures = _records(report.figures, "la_code", report.period)
    with_sn = "sn_mean" in report.figures.columns
    rows: list[list[Cell | None]] = []
    las = report.las.sort_values("la_name", kind="stable")
    for code, name, shown in zip(las["la_code"], las["la_name"], shown_names(las), strict=True):
        mine = [(i, figures.get((code, i.id))) for i in inds]
        rows.append([Cell(shown, LA), *(_figure(i, r) for i, r in mine)])
        if with_sn:
            sn = [_plain(i, r and r.get("sn_mean"), grey=True) for i, r in mine]
            rows.append([Cell(f"{name}: statistical neighbours' mean", SN), *sn])
    areas = _records(report.areas, "area_code", report.period)
    for code, label in report._comparators():
        cells = []
        for ind in inds:
            r = areas.get((code, ind.id))
            cells.append(_plain(ind, *((r["value"], r["status"]) if r else (None, MISSING))))
        rows.append([Cell(label, COMPARATOR), *cells])
    return rows


def _width(cell: Cell | None) -> int:
    """How many characters a rug cell shows: its figure as formatted, or its symbol."""
    if cell is None or not isinstance(cell.value, float):
        return len(str(cell.value if cell else ""))
    quoted = cell.style.number.split('"')
    return len(f"{cell.value:,.{len(quoted[0].partition('.')[2])}f}") + len("".join(quoted[1:]))


def _title_block(report, title: str, about: dict) -> list[list[Cell | None]]:
    """The rug's title, what it shows, the marking and other notices, and its key."""
    rows: list[list[Cell | None]] = [
        [Cell(title, TITLE)],
        [
            Cell(
                f"Tartan rug, {report.period_label}: each LA's value and quartile band (A best "
                "to D worst) for every indicator",
                SUBTITLE,
            )
        ],
    ]
    marking = _marking(about)
    if marking:
        rows.append([Cell(marking, MARKING)])
    others = [t for t, kind in about.get("banners", []) if kind != "marking"]
    if others:
        rows.append([Cell(" ".join(others), MARKING)])
    sn_at = "DfE published" if report.published else f"as at {report.period_label}"
    key = (
        "The letter after a figure is its band; no colour: no judgement, or a comparator. "
        f"c suppressed; {NOT_AVAILABLE} not available. Under each LA: its statistical "
        f"neighbours' mean, {sn_at}. More on the About sheet; every figure on the Data sheet."
    ) + provisional_key(report.las)
    bands = [("A", "A (best)"), ("B", "B"), ("C", "C"), ("D", "D (worst)")]
    cells: list[Cell | None] = [Cell("Key", Style(bold=True, valign=""))]
    for band, text in bands:
        fill, colour = BAND_COLOURS[band]
        cells.append(Cell(text, Style(fill=fill, colour=colour, bold=True, align="center")))
    rows.append([*cells, Cell(key, KEY)])
    return rows


def _rug(report, title: str, about: dict) -> Sheet:
    """The "Rug" sheet: title block, themes over their indicators, the rows, for screen and
    A4 landscape."""
    inds = _indicators(report.catalogue)
    notes = report._rug_notes()
    rows = _title_block(report, title, about)
    top = len(rows)
    merges, col = [], 1
    for theme in report.catalogue.themes:
        n = len(report.catalogue.in_theme(theme))
        merges.append(Merge(top, col, top, col + n - 1, Cell(theme, THEME)))
        col += n
    rows.append([Cell(None, THEME)])
    rows.append([Cell("Local authority", HEADING), *(Cell(_heading(i), HEADING) for i in inds)])
    heights = {top: 20.0, top + 1: LINE * (1 + max(_lines(_heading(i)) for i in inds))}
    if notes:
        said = [notes.get(i.id, "") for i in inds]
        rows.append([Cell("Note", NOTE), *(Cell(s, NOTE) for s in said)])
        heights[top + 2] = 12.0 * (1 + max(_lines(s) for s in said))
    first = len(rows)
    rows += _body(report, inds)
    labels = [str(r[0].value) for r in rows[first:] if r and r[0] is not None]
    # wide enough for every label, and for every figure with its letter (Excel shows ### for a
    # number that does not fit)
    widths = [min(max(18, *map(len, labels)) + 2, 60)]
    widths += [max(WIDTH, *(_width(r[c]) + 2 for r in rows[first:])) for c in range(1, col)]
    marking = _marking(about)
    return Sheet(
        "Rug",
        rows,
        merges,
        widths=widths,
        heights=heights,
        freeze=(first, 1),
        printing=_printing(title, marking, repeat_rows=(top, first - 1), repeat_cols=(0, 0)),
    )


# --------------------------------------------------------------------------- about


def _about_report(report, title: str, about: dict) -> list:
    """What the workbook is: its report, period, region, LAs and comparators."""
    las = report.context["las"]
    status = {"missing": "no return", NOT_ACCEPTED: "return not accepted"}
    said = [(la["la_name"], status.get(la.get("return_status", ""), "")) for la in las]
    late = [f"{name} ({words})" for name, words in said if words]
    region = report.context["region"]
    items = [
        "About this workbook",
        ("Report", title),
        ("Period", report.period_label),
        ("Region", f"{region['name']} ({region['code']})"),
        ("Local authorities", f"{len(las)}: " + ", ".join(sorted(la["la_name"] for la in las))),
    ]
    if late:
        items.append(("Without figures this period", "; ".join(late)))
    items += [
        (
            "Sheets",
            "Rug: every LA and indicator for the period, as in the report's tartan rug. "
            "About: this sheet. Data: every figure the rug shows, one row per area and "
            "indicator, with its band, ranks, neighbours' mean and comparisons.",
        ),
        "Comparators",
        *(
            ("England row" if code == "england" else "Region row", label)
            for code, label in report._comparators()
        ),
        (
            "Statistical neighbours' mean",
            "The row under each LA: the mean of its statistical neighbours' figures, "
            + ("DfE published" if report.published else f"as at {report.period_label}")
            + "; neighbours without a figure are left out.",
        ),
    ]
    catalogue = report.catalogue
    notes = report._rug_notes()
    items += [(f"As at: {catalogue[i].short_label}", n) for i, n in notes.items()]
    return items


def _about_rules(report) -> list:
    """How the rug is made and read: bands, ranks, symbols, disclosure, significance."""
    items = [
        "How to read the rug",
        ("Bands", BAND_RULE),
        (
            "Band letters and colours",
            "Each LA's figure is a number (a percentage as 23.4, not 0.234): its cell's number "
            "format shows its unit and band letter (e.g. 23.4% A) and the cell is coloured as "
            "in the report (A dark blue, B light blue, C light red, D dark red), so the letter "
            "is always there; no colour: no judgement, or a comparator row.",
        ),
        ("Ranks", RANK_RULE),
        "Symbols (DfE's conventions for official statistics)",
        *((f"Symbol: {s}", words) for s, words in SYMBOLS.items()),
        "Disclosure control and significance",
        ("Disclosure rule", report.context.get("disclosure") or "Not stated for this report."),
        (
            "Significance level",
            f"{report.level:g}%: better, similar or worse (higher, similar or lower where "
            "there is no judgement) than England, the region and the statistical neighbours' "
            "mean, in the Data sheet, are judged at this level.",
        ),
    ]
    return items


def _about_provenance(report, about: dict) -> list:
    """The marking and notices, where the figures came from, and the indicators."""
    marking = _marking(about)
    items: list = ["Protective marking and notices"]
    items.append(("Protective marking", marking or "None set for this run."))
    items += [("Notice", t) for t, kind in about.get("banners", []) if kind != "marking"]
    items.append("Provenance")
    items += [(label, text) for label, text in about.get("facts", [])]
    items.append("Indicators")
    for ind in _indicators(report.catalogue):
        words = [
            f"{ind.label}.",
            ind.description,
            f"Theme: {ind.theme}. Unit: {ind.unit}; {POLARITY_WORDS[ind.polarity]}; shown "
            f"to {ind.decimals} decimal place{'s' if ind.decimals != 1 else ''}.",
            f"Source: {ind.source}" if ind.source else "",
        ]
        items.append((ind.short_label, " ".join(w for w in words if w)))
    return items


def _about(report, title: str, about: dict) -> Sheet:
    """The "About" sheet: headings, then (what, details) rows."""
    items = _about_report(report, title, about)
    items += _about_rules(report) + _about_provenance(report, about)
    rows: list[list[Cell | None]] = [[Cell(title, TITLE)]]
    marking = _marking(about)
    if marking:
        rows.append([Cell(marking, MARKING)])
    for item in items:
        if isinstance(item, str):
            rows += [[], [Cell(item, SECTION)]]
        else:
            rows.append([Cell(item[0], LABEL), Cell(item[1], TEXT)])
    return Sheet(
        "About",
        rows,
        widths=[34, 110],
        printing=_printing(title, marking, landscape=False),
    )


# --------------------------------------------------------------------------- data


def _data_row(report, area: tuple[str, str, str], ind, r: dict | None, note: str) -> list:
    """One row of the Data sheet: (value, number format) per column, in `_columns` order."""
    r = r or {"status": MISSING}
    status = r["status"]
    has = status == OK and shown(ind, r.get("value")) is not None
    said = "" if has else symbol(status)
    figure, digits, fine = number_format(ind), _digits(ind.decimals), _digits(ind.decimals + 1)
    lv = "95" if report.level == 95 else "998"

    def num(col: str, f: str = "", rounded: bool = False) -> tuple:
        v = r.get(col)
        if v is None or pd.isna(v) or (col == "value" and not has):
            return (None, f)
        return (shown(ind, v) if rounded else float(v), f)

    def text(col: str) -> tuple:
        v = r.get(col)
        return (v if isinstance(v, str) else "", "")

    band = r.get("band") if has and ind.judged and r.get("band") in BANDS else ""
    unit = "percentage" if ind.unit == "percentage" else UNIT_WORDS[ind.unit]
    cells = [*area, report.period_label, ind.theme, ind.label, ind.short_label, ind.id, unit]
    return [
        *((v, "") for v in cells),
        (POLARITY_WORDS[ind.polarity], ""),
        num("value", figure, True),
        (said, ""),
        ("" if has else SYMBOLS[said], ""),
        num("numerator"),
        num("denominator"),
        (band, ""),
        *(num(c, "0") for c in ("rank_region", "las_ranked_region")),
        *(num(c, "0") for c in ("rank_national", "las_ranked_national")),
        num("sn_mean", figure, True),
        num("sn_median", figure, True),
        num("sn_count", "0"),
        *(text(c) for c in ("vs_england", "vs_region", "vs_sn")),
        num(f"ci{lv}_lower", fine),
        num(f"ci{lv}_upper", fine),
        num("previous_value", figure, True),
        num("change_previous", digits, True),
        text("change_previous_sig"),
        text("trend"),
        (note, ""),
        text("shared"),
    ]


def _data_rows(report) -> list[list]:
    """Every (area, indicator) the rug shows: the LAs by name, then the region and England."""
    inds = _indicators(report.catalogue)
    notes = report._rug_notes()
    figures = _records(report.figures, "la_code", report.period)
    areas = _records(report.areas, "area_code", report.period)
    las = report.las.sort_values("la_name", kind="stable")
    region = report.context["region"]
    england = report.context.get("england_label", "England")
    where = [
        (n, "Local authority", c, figures)
        for c, n in zip(las["la_code"], las["la_name"], strict=True)
    ]
    where += [(region["name"], "Region", region["code"], areas)]
    where += [(england, "England", "england", areas)]
    return [
        _data_row(
            report,
            (name, kind, ENGLAND_CODE if code == "england" else code),
            ind,
            rows.get((code, ind.id)),
            notes.get(ind.id, ""),
        )
        for name, kind, code, rows in where
        for ind in inds
    ]


def _data(report, title: str, marking: str) -> Sheet:
    """The "Data" sheet: a tidy table of the period's figures, filtered and frozen; each
    column as wide as its longest entry (up to 50 characters)."""
    lv = f"{report.level:g}%"
    headings = [h.format(level=lv, noun=report.noun) for h in DATA_HEADINGS]
    values = _data_rows(report)
    rows: list[list[Cell | None]] = [[Cell(h, HEADER) for h in headings]]
    rows += [[Cell(v, Style(number=f, valign="")) for v, f in row] for row in values]
    widths = [
        max(8, *(len(str(row[c][0] or "")) + 2 for row in values)) for c in range(len(headings))
    ]
    return Sheet(
        "Data",
        rows,
        widths=[min(w, 50) for w in widths],
        heights={0: LINE * 3},
        freeze=(1, 1),
        autofilter=(0, 0, len(rows) - 1, len(headings) - 1),
        printing=_printing(title, marking, repeat_rows=(0, 0), repeat_cols=(0, 0), fit_width=False),
    )
