"""Workbooks: a plain page model written as an .xlsx file by XlsxWriter, the same bytes for the
same model.

A `Book` is sheets of rows of `Cell`s, each a number, a text or blank with its `Style`; merged
cells, column widths, row heights, frozen panes, an autofilter and print setup per sheet; and
the document's properties with a fixed date. Numbers are written as numbers, text as text
(never as a formula, a number or a link, whatever it looks like), and text a spreadsheet would
run is made inert first, as in the CSVs (``pipeline.core.spreadsheet.inert``). XlsxWriter
stamps every part of the zip with 1 January 1980, so a fixed `created` date is all that
determinism needs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.core.spreadsheet import inert

#: XlsxWriter's paper size for A4
A4 = 9
#: the longest text Excel keeps in a page header or footer, and in a custom property
HEADER_LIMIT = 255
#: the grid lines drawn round a styled cell
BORDER_COLOUR = "#b1b4b6"


@dataclass(frozen=True)
class Style:
    """How a cell looks: its Excel number format ('' General), background and text colours
    ('#rrggbb', '' none), font, wrapping, alignment and a thin border all round."""

    number: str = ""
    fill: str = ""
    colour: str = ""
    bold: bool = False
    italic: bool = False
    size: float = 0
    wrap: bool = False
    align: str = ""
    valign: str = "top"
    border: bool = False
    indent: int = 0


Value = str | float | int | None


@dataclass(frozen=True)
class Cell:
    """A number, a text (shown as typed) or None (blank), with its style."""

    value: Value
    style: Style = Style()


@dataclass(frozen=True)
class Merge:
    """One cell spread over rows `row`..`last_row` and columns `col`..`last_col`."""

    row: int
    col: int
    last_row: int
    last_col: int
    cell: Cell


@dataclass(frozen=True)
class Printing:
    """A sheet on paper: A4, landscape or portrait, fitted to the page width or not, the rows
    and columns repeated on every page, and plain text for the top and foot of each page (the
    page number is added at the foot's right)."""

    landscape: bool = True
    fit_width: bool = True
    repeat_rows: tuple[int, int] | None = None
    repeat_cols: tuple[int, int] | None = None
    header: str = ""
    footer_left: str = ""
    footer_centre: str = ""


@dataclass
class Sheet:
    """A worksheet: `rows` from the top (None: an empty cell), merged cells, each column's width
    from the first, row heights by row, the frozen cell (rows above and columns left of it stay
    in view), an autofilter (first row, first column, last row, last column) and printing."""

    name: str
    rows: list[list[Cell | None]]
    merges: list[Merge] = field(default_factory=list)
    widths: Sequence[float] = ()
    heights: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None
    autofilter: tuple[int, int, int, int] | None = None
    printing: Printing | None = None


@dataclass
class Book:
    """The workbook: its sheets in order and its document properties (`created` fixes the
    date the file says it was made; `custom`: further (name, text) properties)."""

    sheets: list[Sheet]
    created: datetime
    title: str = ""
    subject: str = ""
    author: str = ""
    keywords: str = ""
    comments: str = ""
    custom: Sequence[tuple[str, str]] = ()


def write(book: Book) -> bytes:
    """The workbook's .xlsx bytes: the same for the same `book`."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties(
        {
            "title": _plain(book.title),
            "subject": _plain(book.subject),
            "author": _plain(book.author),
            "keywords": _plain(book.keywords),
            "comments": _plain(book.comments),
            "created": book.created,
        }
    )
    for name, text in book.custom:
        wb.set_custom_property(_plain(name)[:HEADER_LIMIT], _plain(text)[:HEADER_LIMIT])
    formats: dict[Style, object] = {}

    def fmt(style: Style):
        if style not in formats:
            formats[style] = wb.add_format(_properties(style))
        return formats[style]

    for sheet in book.sheets:
        _sheet(wb.add_worksheet(sheet.name), sheet, fmt)
    wb.close()
    return out.getvalue()


def _plain(text: str) -> str:
    """Text for a document property: inert, like every other text the workbook holds."""
    return str(inert(text))


def _properties(style: Style) -> dict:
    """An XlsxWriter format's properties for `style`."""
    p: dict[str, object] = {"valign": style.valign} if style.valign else {}
    if style.number:
        p["num_format"] = style.number
    if style.fill:
        p |= {"pattern": 1, "bg_color": style.fill}
    if style.colour:
        p["font_color"] = style.colour
    if style.size:
        p["font_size"] = style.size
    if style.align:
        p["align"] = style.align
    if style.border:
        p |= {"border": 1, "border_color": BORDER_COLOUR}
    if style.indent:
        p["indent"] = style.indent
    p |= {k: True for k in ("bold", "italic") if getattr(style, k)}
    if style.wrap:
        p["text_wrap"] = True
    return p


def _sheet(ws, sheet: Sheet, fmt) -> None:
    for col, width in enumerate(sheet.widths):
        ws.set_column(col, col, width)
    for row, height in sorted(sheet.heights.items()):
        ws.set_row(row, height)
    for r, cells in enumerate(sheet.rows):
        for c, cell in enumerate(cells):
            if cell is not None:
                _cell(ws, r, c, cell, fmt)
    for m in sheet.merges:
        if (m.row, m.col) == (m.last_row, m.last_col):
            _cell(ws, m.row, m.col, m.cell, fmt)
            continue
        # merged blank, then its text or number written as what it is (never `write`)
        ws.merge_range(m.row, m.col, m.last_row, m.last_col, None, fmt(m.cell.style))
        _cell(ws, m.row, m.col, m.cell, fmt)
    if sheet.freeze:
        ws.freeze_panes(*sheet.freeze)
    if sheet.autofilter:
        ws.autofilter(*sheet.autofilter)
    if sheet.printing:
        _printing(ws, sheet.printing)


def _cell(ws, row: int, col: int, cell: Cell, fmt) -> None:
    """One cell: a number as a number, text as text (inert), anything else blank."""
    value, style = cell.value, fmt(cell.style)
    if isinstance(value, bool):  # not a number a reader meant
        value = str(value)
    if isinstance(value, int | float) and math.isfinite(value):
        ws.write_number(row, col, value, style)
    elif isinstance(value, str) and value:
        ws.write_string(row, col, str(inert(value)), style)
    else:
        ws.write_blank(row, col, None, style)


def _header_text(text: str) -> str:
    """Plain text in a page header or footer: '&' is Excel's control character there."""
    return _plain(text).replace("&", "&&")


def _printing(ws, p: Printing) -> None:
    ws.set_paper(A4)
    if p.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    if p.fit_width:
        ws.fit_to_pages(1, 0)
    if p.repeat_rows:
        ws.repeat_rows(*p.repeat_rows)
    if p.repeat_cols:
        ws.repeat_columns(*p.repeat_cols)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
    # each part cut so that the whole stays within Excel's limit (a longer one is dropped)
    room = (HEADER_LIMIT - 40) // 2
    if p.header:
        ws.set_header("&C&B" + _header_text(p.header)[: HEADER_LIMIT - 8])
    left = _header_text(p.footer_left)[:room].rstrip("&")
    centre = _header_text(p.footer_centre)[:room].rstrip("&")
    ws.set_footer(f"&L{left}" + (f"&C&B{centre}" if centre else "") + "&RPage &P of &N")
