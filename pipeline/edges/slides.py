"""Slide decks (python-pptx): a plain deck model in, deterministic .pptx bytes out.

A deck is 16:9. Every slide has a real title (the outline and screen readers read it), the
protective marking at its top, the run's other notices and "n of N" at its bottom, and its speaker
notes; text is text (python-pptx writes it escaped, so nothing in it is ever markup or a
formula); a picture carries its title and description as alt text; a table's status cells carry
their word as well as their colour. The same model gives the same bytes: fixed document
properties, and the package's zip entries rewritten in a fixed order with a fixed time.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

#: the slide, in inches: PowerPoint's 16:9 (12192000 by 6858000 EMU)
WIDTH, HEIGHT = 12192000 / 914400, 7.5
MARGIN = 0.5
#: where a slide's body goes, below its title and above its footer (inches)
BODY_TOP, BODY_BOTTOM = 1.35, 6.85
#: text sizes a text slide tries, largest first (points); below the last it continues
TEXT_SIZES = (24, 20, 18, 16, 14)
#: a table's rows on one slide; more continue on the next
TABLE_ROWS = 3
#: a paragraph starting with this is a point (shown with a bullet)
BULLET = "• "
TEXT_COLOUR = "0b0c0c"
SECONDARY = "505a5f"
#: a table's header row (white on it: 5.2:1)
HEADER = "1d70b8"
#: the time every zip entry and the document's properties carry
FIXED = datetime(1980, 1, 1)


@dataclass(frozen=True)
class Picture:
    """A PNG picture, its title and the description that is its alt text, and the caption
    shown above it."""

    png: bytes
    title: str
    descr: str
    caption: str = ""  # shown above it (its title when none)


@dataclass(frozen=True)
class Table:
    """A table: its header row, its rows of text (a cell's lines split at newlines), each
    column's relative width, and the cells filled: (row, column) -> (background, text colour)
    as '#rrggbb' (the word in the cell says what the colour says)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float]
    fills: Mapping[tuple[int, int], tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Slide:
    """A slide: its title, its text (paragraphs; one starting '• ' is a point), then a table
    or pictures side by side, and its speaker notes. `cover`: the deck's title slide, its text
    the subtitle."""

    title: str
    text: Sequence[str] = ()
    table: Table | None = None
    pictures: Sequence[Picture] = ()
    notes: str = ""
    cover: bool = False


@dataclass(frozen=True)
class Deck:
    """A deck: its document title and subject, the marking at the top of every slide, the
    notices at the bottom of every slide (e.g. demonstration data), and its slides."""

    title: str
    subject: str
    marking: str
    notices: Sequence[str]
    slides: Sequence[Slide]


def build(deck: Deck) -> bytes:
    """The deck as .pptx bytes, the same for the same deck."""
    from pptx import Presentation
    from pptx.util import Emu

    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)
    _widen_layouts(prs)
    pages = [page for s in deck.slides for page in _pages(s)]
    for number, page in enumerate(pages, start=1):
        slide = prs.slides.add_slide(prs.slide_layouts[0 if page.cover else 5])
        _title(slide, page)
        if page.text and not page.cover:
            _text(slide, page.text, page.table is None and not page.pictures)
        if page.table:
            _table(slide, page.table, BODY_TOP + (0.9 if page.text else 0))
        if page.pictures:
            _pictures(slide, page.pictures)
        _furniture(slide, deck, f"{number} of {len(pages)}")
        if page.notes:
            slide.notes_slide.notes_text_frame.text = page.notes
    _properties(prs, deck)
    out = io.BytesIO()
    prs.save(out)
    return _fixed_zip(out.getvalue())


def _widen_layouts(prs) -> None:
    """The template's master and layouts are 4:3: stretch their shapes across 16:9."""
    factor = prs.slide_width / 9144000
    for shapes in [prs.slide_master.shapes, *(layout.shapes for layout in prs.slide_layouts)]:
        for shape in shapes:
            if shape.left is not None and shape.width is not None:
                shape.left, shape.width = round(shape.left * factor), round(shape.width * factor)


def _pages(slide: Slide) -> list[Slide]:
    """The slide as it is shown: text or table rows that do not fit continue on further
    slides, each titled '(continued)'."""
    if slide.table and len(slide.table.rows) > TABLE_ROWS:
        rows, fills = slide.table.rows, slide.table.fills
        chunks = []
        for start in range(0, len(rows), TABLE_ROWS):
            part = {
                (r - start, c): f for (r, c), f in fills.items() if start <= r < start + TABLE_ROWS
            }
            table = replace(slide.table, rows=rows[start : start + TABLE_ROWS], fills=part)
            chunks.append(replace(slide, table=table, text=slide.text if not start else ()))
        return _continued(chunks)
    if slide.cover or slide.table or slide.pictures or _fits(slide.text, TEXT_SIZES[-1]):
        return [slide]
    chunks, part = [], []
    for para in slide.text:
        if part and not _fits([*part, para], TEXT_SIZES[-1]):
            chunks.append(replace(slide, text=part))
            part = []
        part.append(para)
    return _continued([*chunks, replace(slide, text=part)])


def _continued(chunks: list[Slide]) -> list[Slide]:
    first, *rest = chunks
    more = "Continued from the previous slide."
    return [first] + [replace(c, title=f"{c.title} (continued)", notes=more) for c in rest]


def _lines(text: Sequence[str], size: int, width: float = WIDTH - 2 * MARGIN) -> float:
    """About how many lines `text` takes at `size` points across `width` inches (a character
    is about half the size wide), with the space between paragraphs."""
    per_line = max(1, int(width * 72 / (size * 0.5)))
    return sum(math.ceil(max(len(p), 1) / per_line) + 0.5 for p in text)


def _fits(text: Sequence[str], size: int, height: float = BODY_BOTTOM - BODY_TOP) -> bool:
    return _lines(text, size) * size * 1.2 <= height * 72


def _title(slide, page: Slide) -> None:
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches

    title = slide.shapes.title
    if page.cover:
        title.left, title.top, title.width, title.height = _box(1.6, 1.6)
        _fill(title.text_frame, [page.title], 40, bold=True)
        sub = slide.placeholders[1]
        sub.left, sub.top, sub.width, sub.height = _box(3.4, 3.2)
        _fill(sub.text_frame, page.text, 24)
        return
    title.left, title.top = Inches(MARGIN), Inches(0.45)
    title.width, title.height = Inches(WIDTH - 2 * MARGIN), Inches(0.85)
    _fill(title.text_frame, [page.title], 30, bold=True)
    title.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT


def _box(top: float, height: float) -> tuple:
    from pptx.util import Inches

    return Inches(MARGIN), Inches(top), Inches(WIDTH - 2 * MARGIN), Inches(height)


def _fill(frame, text: Sequence[str], size: int, bold: bool = False, colour: str = "") -> None:
    """`frame`'s paragraphs, one per text (British English; a point hangs from its bullet)."""
    from pptx.dml.color import RGBColor
    from pptx.enum.lang import MSO_LANGUAGE_ID
    from pptx.util import Pt

    frame.word_wrap = True
    for i, words in enumerate(text or [""]):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = words.removeprefix(BULLET)
        run.font.size, run.font.bold = Pt(size), bold or None
        run.font.language_id = MSO_LANGUAGE_ID.ENGLISH_UK
        if colour:
            run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))
        if i:
            para.space_before = Pt(size * 0.5)
        if words.startswith(BULLET):
            _bullet(para, Pt(size))


def _bullet(para, size: int) -> None:
    """The paragraph as a point: a bullet, its lines hanging from it (`size` in EMU)."""
    from pptx.oxml.ns import qn

    props = para._p.get_or_add_pPr()
    props.set("marL", str(int(size * 1.2)))
    props.set("indent", str(-int(size * 1.2)))
    props.append(props.makeelement(qn("a:buChar"), {"char": "•"}))


def _text(slide, text: Sequence[str], alone: bool) -> None:
    """The slide's text under its title: as large as fits when it is all the slide shows,
    else a line or two above the table or pictures."""
    from pptx.util import Inches

    size = next((s for s in TEXT_SIZES if _fits(text, s)), TEXT_SIZES[-1]) if alone else 16
    height = (BODY_BOTTOM - BODY_TOP) if alone else 0.8
    box = slide.shapes.add_textbox(*_box(BODY_TOP, height))
    box.name = "Text"
    _fill(box.text_frame, text, size, colour=TEXT_COLOUR)
    box.text_frame.margin_left = box.text_frame.margin_right = Inches(0)


def _table(slide, table: Table, top: float) -> None:
    """A real table: its header row, its rows, status cells filled with their colours."""
    from pptx.dml.color import RGBColor
    from pptx.util import Inches

    width = WIDTH - 2 * MARGIN
    shape = slide.shapes.add_table(
        len(table.rows) + 1,
        len(table.columns),
        *_box(top, 0.4 * (len(table.rows) + 1))[:3],
        Inches(0.4 * (len(table.rows) + 1)),
    )
    shape.name = "Table"
    grid = shape.table
    total = sum(table.widths)
    for i, w in enumerate(table.widths):
        grid.columns[i].width = Inches(width * w / total)
    for c, head in enumerate(table.columns):
        _fill(grid.cell(0, c).text_frame, [head], 14, bold=True, colour="#ffffff")
        grid.cell(0, c).fill.solid()
        grid.cell(0, c).fill.fore_color.rgb = RGBColor.from_string(HEADER)
    for r, row in enumerate(table.rows):
        for c, words in enumerate(row):
            cell = grid.cell(r + 1, c)
            background, colour = table.fills.get((r, c), ("", TEXT_COLOUR))
            lines = words.split("\n")
            _fill(cell.text_frame, lines, 13, bold=bool(background), colour=colour)
            if background:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(background.lstrip("#"))
            else:
                cell.fill.background()


def _pictures(slide, pictures: Sequence[Picture]) -> None:
    """The pictures side by side, each as large as its share of the body allows, its caption
    above it, its title and description its alt text."""
    from pptx.util import Inches

    gap, caption = 0.3, 0.6
    share = (WIDTH - 2 * MARGIN - gap * (len(pictures) - 1)) / len(pictures)
    room = BODY_BOTTOM - BODY_TOP - caption
    for i, pic in enumerate(pictures):
        w, h = _size(pic.png)
        scale = min(share / w, room / h)
        left = MARGIN + i * (share + gap) + (share - w * scale) / 2
        label = slide.shapes.add_textbox(
            Inches(left), Inches(BODY_TOP), Inches(w * scale), Inches(caption)
        )
        label.name = "Caption"
        _fill(label.text_frame, [pic.caption or pic.title], 14, bold=True, colour=TEXT_COLOUR)
        shape = slide.shapes.add_picture(
            io.BytesIO(pic.png),
            Inches(left),
            Inches(BODY_TOP + caption),
            Inches(w * scale),
            Inches(h * scale),
        )
        shape.name = "Chart"
        props = shape._element.nvPicPr.cNvPr
        props.set("descr", pic.descr)
        props.set("title", pic.title)


def _size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _furniture(slide, deck: Deck, number: str) -> None:
    """The marking at the top of the slide; its notices and its number at the bottom."""
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches

    if deck.marking:
        top = slide.shapes.add_textbox(*_box(0.08, 0.35))
        top.name = "Protective marking"
        _fill(top.text_frame, [deck.marking], 14, bold=True, colour=TEXT_COLOUR)
        top.text_frame.paragraphs[0].alignment = PP_ALIGN.CENTER
    foot = slide.shapes.add_textbox(Inches(MARGIN), Inches(6.95), Inches(10.3), Inches(0.4))
    foot.name = "Notices"
    words = " · ".join(w for w in (deck.marking, *deck.notices) if w)
    _fill(foot.text_frame, [words], 11, colour=SECONDARY)
    count = slide.shapes.add_textbox(
        Inches(WIDTH - MARGIN - 2), Inches(6.95), Inches(2), Inches(0.4)
    )
    count.name = "Slide number"
    _fill(count.text_frame, [number], 11, colour=SECONDARY)
    count.text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT


def _properties(prs, deck: Deck) -> None:
    """Fixed document properties: nothing in them says when or where the deck was made."""
    props = prs.core_properties
    props.author = props.last_modified_by = "Tartan"
    props.title, props.subject = deck.title, deck.subject
    props.comments, props.keywords, props.category = "", "", ""
    props.created = props.modified = FIXED
    props.revision = 1
    props.language = "en-GB"


def _fixed_zip(data: bytes) -> bytes:
    """The package with every entry stamped at the fixed time and made by Unix, in its local
    header and in the central directory, without compressing anything again (python-pptx
    writes the entries in an order fixed by the deck, stamped with the time)."""
    out = bytearray(data)
    day = ((FIXED.year - 1980) << 9) | (FIXED.month << 5) | FIXED.day
    stamp = struct.pack("<HH", (FIXED.hour << 11) | (FIXED.minute << 5) | FIXED.second // 2, day)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        entries = package.infolist()
    end = data.rfind(b"PK\x05\x06")
    at = struct.unpack("<I", data[end + 16 : end + 20])[0]  # the central directory
    for info in entries:
        out[info.header_offset + 10 : info.header_offset + 14] = stamp
        if out[at : at + 4] != b"PK\x01\x02":
            raise ValueError("not a zip central directory entry")
        out[at + 5] = 3  # made by: Unix, wherever it was made
        out[at + 12 : at + 16] = stamp
        out[at + 38 : at + 42] = struct.pack("<I", 0o644 << 16)
        name, extra, comment = struct.unpack("<HHH", out[at + 28 : at + 34])
        at += 46 + name + extra + comment
    return bytes(out)
