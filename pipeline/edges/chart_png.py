"""Charts as PNG pictures (for slides), from the SVG the page already shows.

vl-convert (resvg) rasterises the chart's shapes; its words are drawn with FreeType (Pillow) in
the font resvg draws them in. resvg opens the font file again for every glyph it draws, about
four system calls a glyph: a region's dozen charts cost a second that way, a quarter of it
this way. An SVG whose text is laid out any other way than vega writes it is rasterised whole
by resvg. The same SVG gives the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from functools import cache


def png(svg: str, scale: float = 1.5) -> bytes:
    """A chart's SVG (as drawn for the page) as a PNG picture, `scale` times its size,
    without drawing the chart again."""
    import vl_convert as vlc
    from PIL import Image, ImageDraw

    words = _words(svg)
    if words is None:
        return vlc.svg_to_png(svg, scale=scale)
    shapes = Image.open(io.BytesIO(vlc.svg_to_png(_TEXT.sub("", svg), scale=scale)))
    shapes = shapes.convert("RGBA")
    if shapes.getextrema()[3][0] < 255:  # not all opaque: on white, as the page shows it
        shapes = Image.alpha_composite(Image.new("RGBA", shapes.size, "white"), shapes)
    image = shapes.convert("RGB")
    draw = ImageDraw.Draw(image)
    for (x, y, angle), text, size, bold, fill, anchor in words:
        font = _font(bold, size * scale)
        if angle:
            left, top, mask = _turned(text, font, anchor, angle)
            draw.bitmap((round(x * scale - left), round(y * scale - top)), mask, fill=fill)
        else:
            draw.text((x * scale, y * scale), text, font=font, fill=fill, anchor=anchor)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # the deck's zip compresses it again
    return out.getvalue()


def _turned(text: str, font, anchor: str, angle: float):
    """The text as a mask turned `angle` degrees clockwise, and where its anchor is in it."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(text, anchor=anchor)
    width, height = right - left + 2, bottom - top + 2
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=font, fill=255, anchor=anchor)
    turned = mask.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
    rad = math.radians(angle)
    vx, vy = 1 - left - width / 2, 1 - top - height / 2
    return (
        turned.width / 2 + vx * math.cos(rad) - vy * math.sin(rad),
        turned.height / 2 + vx * math.sin(rad) + vy * math.cos(rad),
        turned,
    )


#: a text element of a chart's SVG, as vega writes it
_TEXT = re.compile(r"<text\b[^>]*/>|<text\b[^>]*>[^<]*</text>")
_TRANSFORM = re.compile(r"\s*(translate|rotate)\(([-\d.e]+)(?:[ ,]+([-\d.e]+))?\)")
_TEXT_ATTRIBUTES = {"text-anchor", "transform", "font-size", "fill", "font-weight"}
_ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}


def _words(svg: str) -> list[tuple] | None:
    """Each text of the SVG: ((x, y, degrees turned), text, size in px, bold, colour, anchor),
    placed through its groups' translations; None when any is laid out otherwise."""
    import xml.etree.ElementTree as ET

    out: list[tuple] = []

    def walk(node, dx: float, dy: float) -> bool:
        for child in node:
            ops = _ops(child.get("transform", ""))
            if ops is not None and child.tag.rsplit("}", 1)[-1] == "text":
                out.append(_word(child, *_place(ops, dx, dy)))
                continue
            if ops is None or any(op != "translate" for op, *_ in ops):
                return False
            shift = [sum(op[k] for op in ops) for k in (1, 2)]
            if not walk(child, dx + shift[0], dy + shift[1]):
                return False
        return True

    try:
        laid_out = walk(ET.fromstring(svg), 0.0, 0.0)
    except ET.ParseError:
        return None
    if not laid_out or None in out or len(out) != len(_TEXT.findall(svg)):
        return None
    return out


def _word(text, x: float, y: float, angle: float) -> tuple | None:
    """A text element as `_words` gives it, or None when it holds what vega does not write."""
    from PIL import ImageColor

    size, fill = text.get("font-size", ""), text.get("fill", "#000")
    anchor = _ANCHORS.get(text.get("text-anchor", "start"))
    if set(text.attrib) - _TEXT_ATTRIBUTES or len(text) or not size.endswith("px") or not anchor:
        return None
    try:
        ImageColor.getrgb(fill)
        size_px = float(size[:-2])
    except ValueError:
        return None
    return (x, y, angle), text.text or "", size_px, text.get("font-weight") == "bold", fill, anchor


def _ops(transform: str) -> list[tuple[str, float, float]] | None:
    """A transform's translations and turns (about the origin), in order; None when it holds
    anything else."""
    ops, at = [], 0
    for match in _TRANSFORM.finditer(transform):
        if match.start() != at or (match.group(1) == "rotate" and match.group(3)):
            return None
        ops.append((match.group(1), float(match.group(2)), float(match.group(3) or 0)))
        at = match.end()
    return ops if transform[at:].strip() == "" else None


def _place(ops, x: float, y: float) -> tuple[float, float, float]:
    """Where a text's origin lands and how far it is turned (degrees, clockwise)."""
    angle = 0.0
    shift = [0.0, 0.0]  # the translation after the first turn, turned with it
    for name, a, b in ops:
        if name == "rotate":
            angle += a
        elif angle:
            rad = math.radians(angle)
            shift[0] += a * math.cos(rad) - b * math.sin(rad)
            shift[1] += a * math.sin(rad) + b * math.cos(rad)
        else:
            x, y = x + a, y + b
    return x + shift[0], y + shift[1], angle % 360


@cache
def _font(bold: bool, size: float):
    """Liberation Sans (Arial's metrics: what resvg draws the charts in here), else Arial,
    else DejaVu Sans."""
    from PIL import ImageFont

    names = (
        ("LiberationSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf", "DejaVuSans-Bold.ttf")
        if bold
        else ("LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf", "DejaVuSans.ttf")
    )
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)
