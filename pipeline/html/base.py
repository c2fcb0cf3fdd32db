"""HTML building blocks shared by every page: escaping, the page shell, tables, the footer.

Pure string building. Everything an LA supplied passes through `esc` before it reaches HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

#: band -> (background, text colour). A blue-to-red scale readable with the common colour-vision
#: deficiencies; the band letter is always printed in the cell, so colour is never the only signal.
BAND_COLOURS = {
    "A": ("#2166ac", "#ffffff"),
    "B": ("#d1e5f0", "#0b0c0c"),
    "C": ("#fddbc7", "#0b0c0c"),
    "D": ("#b2182b", "#ffffff"),
}


#: control characters (bar tab and line ends), which HTML may not hold: shown as their pictures
#: (U+2400...), e.g. a stray \x01 in an LA's cell as ␁, and C1 controls as U+FFFD
_CONTROLS = {c: 0x2400 + c for c in range(32) if chr(c) not in "\t\n\r"}
_CONTROLS |= {0x7F: 0x2421} | {c: 0xFFFD for c in range(0x80, 0xA0)}


def esc(value: object) -> str:
    """Text as HTML shows it, never as markup: escaped, with control characters made visible."""
    text = "" if value is None else str(value)
    return html.escape(text.translate(_CONTROLS), quote=True)


def table(
    caption: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    row_headers: bool = True,
    numeric: Sequence[bool] | None = None,
    class_: str = "tartan-table",
) -> str:
    """A table with a caption, column headers (scope=col) and row headers (scope=row)."""
    numeric = numeric or [False] * len(columns)
    head = "".join(
        f'<th scope="col"{" class=num" if n else ""}>{esc(c)}</th>'
        for c, n in zip(columns, numeric, strict=True)
    )
    body = []
    for row in rows:
        cells = []
        for i, (v, n) in enumerate(zip(row, numeric, strict=True)):
            cls = ' class="num"' if n else ""
            if i == 0 and row_headers:
                cells.append(f'<th scope="row">{esc(v)}</th>')
            else:
                cells.append(f"<td{cls}>{esc(v)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="{esc(class_)}"><caption>{esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def footer(facts: Iterable[tuple[str, str]], heading: str = "About this report's data") -> str:
    """A page's provenance as a definition list: `facts` are (label, words) pairs in order
    (``pipeline.orchestration.provenance.facts``)."""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    return f"<h2>{esc(heading)}</h2><dl>{items}</dl>"


def banner(text: str, kind: str = "demo") -> str:
    return f'<p class="banner banner-{esc(kind)}" role="note"><strong>{esc(text)}</strong></p>'


def page(
    title: str,
    body: str,
    css: str,
    banners: Sequence[tuple[str, str]] = (),
    footer: str = "",
    breadcrumbs: Sequence[tuple[str, str]] = (),
) -> str:
    """A complete, self-contained page: inline CSS, no scripts, no external requests.

    A banner of kind ``marking`` (a protective marking such as OFFICIAL-SENSITIVE) is printed
    at the top and at the foot of the page, as government security classifications are.
    """
    marking = "".join(
        f'<p class="marking">{esc(text)}</p>' for text, kind in banners if kind == "marking"
    )
    banners = [(text, kind) for text, kind in banners if kind != "marking"]
    crumbs = ""
    if breadcrumbs:
        items = "".join(
            f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for text, href in breadcrumbs
        )
        crumbs = f'<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>{items}</ol></nav>'
    # Notices sit in a labelled region, so every part of the page is inside a landmark.
    notices = (
        '<div class="notices" role="region" aria-label="Notices">'
        + "".join(banner(text, kind) for text, kind in banners)
        + "</div>\n"
        if banners
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{esc(title)}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
        '<a class="skip-link" href="#main">Skip to main content</a>\n'
        f'<header class="site-header">{marking}<p class="service">Tartan: regional '
        f"children's services benchmarking</p>{crumbs}</header>\n"
        f'{notices}<main id="main">\n{body}\n</main>\n'
        f'<footer class="site-footer">{footer}{marking}</footer>\n</body>\n</html>\n'
    )
