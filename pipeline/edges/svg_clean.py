"""Vega's SVG made inline-ready and light: no XML prolog, coordinates to a tenth of a pixel,
no per-mark ARIA or classes, and the font set once on the root."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?\d+\.\d+")
_GEOMETRY = re.compile(r'(?<= )(?:d|transform|x|y|x1|y1|x2|y2)="[^"]*"')
#: what vega writes for interactive viewers and screen readers mark by mark: the page describes
#: each chart once (a title, a description and a table), so these only add weight
_NOISE = re.compile(r' (?:aria-[a-z]+|class|pointer-events|role)="[^"]*"| opacity="1"')
_EMPTY_PATH = re.compile(r'<path d="(?:M0,0h0v0h0Z)?"(?: display="none")?\s*(?:/>|></path>)')
_FONT = re.compile(r' font-family="([^"]*)"')


def _tenth(number: str) -> str:
    """A coordinate to a tenth of a pixel: '10.625' -> '10.6', '3.0' -> '3', '-0.04' -> '0'."""
    text = f"{float(number):.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _round(match: re.Match) -> str:
    return _NUMBER.sub(lambda n: _tenth(n.group(0)), match.group(0))


def clean(svg: str) -> str:
    """The SVG, inline-ready and light: no XML prolog, coordinates to a tenth of a pixel, no
    per-mark ARIA or classes, and the font set once on the root (every text used the same)."""
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg.strip())
    svg = _NOISE.sub("", svg)
    svg = _EMPTY_PATH.sub("", svg)
    svg = _GEOMETRY.sub(_round, svg)
    fonts = set(_FONT.findall(svg))
    if len(fonts) == 1:
        svg = _FONT.sub("", svg)
        svg = re.sub(r"^<svg\b", f'<svg font-family="{fonts.pop()}"', svg)
    return svg
