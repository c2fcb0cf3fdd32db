"""The member briefing's markup: one plain page per LA and quarter (``pipeline.report.briefing``
chooses what it says), printable on two A4 pages. Headings in order, a list per measure (every
judgement in words, never colour alone), no script and no request."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.briefing import NOT_JUDGED, MeasureWords
from pipeline.html.base import esc, page

#: the briefing's own style, after the shared stylesheet: compact on screen, and on paper two A4
#: pages at 10pt or more
CSS = """
.briefing { max-width: 52em; }
.briefing h1 { font-size: 1.7rem; }
.briefing h2 { margin-top: 24px; }
.briefing .measure { border-left: 4px solid var(--border); padding: 0 0 0 12px; margin: 12px 0; }
.briefing .measure h3 { margin: 0 0 2px; font-size: 1.1rem; }
.briefing .measure .why { margin: 0 0 4px; font-style: italic; }
.briefing .measure ul { margin: 0; padding-left: 1.2em; }
.briefing .measure li { margin: 0; }
.briefing .figure { font-weight: bold; }
.briefing dl.glossary dt { font-weight: bold; }
.briefing dl.glossary dd { margin: 0 0 4px; }
.briefing ol.questions li { margin-bottom: 4px; }
@page { size: A4; margin: 11mm 13mm; }
@media print {
  html { font-size: 10pt; line-height: 1.25; }
  main { padding: 0; max-width: none; }
  .site-header { padding: 0 0 2px; }
  .site-header .service { font-size: 10pt; }
  .briefing { max-width: none; }
  .briefing h1 { font-size: 15pt; margin: 2px 0 4px; }
  .briefing h2 { font-size: 12.5pt; margin: 8px 0 3px; padding-top: 3px; border-top-width: 1px; }
  .briefing p { margin: 2px 0; }
  .briefing .measure { margin: 5px 0; padding-left: 8px; break-inside: avoid; }
  .briefing .measure h3 { font-size: 11pt; margin: 0; }
  .briefing .measure .why { margin: 0; }
  .briefing ol.questions, .briefing ul.rules { margin: 2px 0; }
  .briefing ol.questions li { margin-bottom: 1px; }
  .briefing dl.glossary { columns: 2; column-gap: 8mm; margin: 2px 0; }
  .briefing dl.glossary dt { break-after: avoid; }
  .briefing dl.glossary dd { margin: 0 0 2px; break-inside: avoid; }
  .site-footer { padding: 3px 0 0; font-size: 10pt; background: #fff; }
  .site-footer h2 { font-size: 10pt; margin: 0; }
  .site-footer dl { display: block; margin: 0; }
  .site-footer dt, .site-footer dd { display: inline; margin: 0; overflow-wrap: anywhere; }
  .site-footer dt::after { content: ": "; }
  .site-footer dd::after { content: ". "; }
  .banner { margin: 2px 0; padding: 2px 6px; }
}
"""


def _measure(m: MeasureWords) -> str:
    """One measure: its plain name, why it matters, and what its figure says."""
    hid = f"m-{esc(m.id)}"
    now = f'<span class="figure">{esc(m.now)}</span>'
    if m.has_figure:
        points = [
            f"<strong>This quarter:</strong> {now}. "
            f"<strong>Average over the year:</strong> {esc(m.average)}.",
            f"<strong>Since last quarter:</strong> {esc(m.since_last)}. "
            f"<strong>Over the year:</strong> {esc(m.over_year)}.",
            f"<strong>Compared with others:</strong> {esc(_cap(m.vs_similar))}. "
            f"{esc(_cap(m.vs_england))}.",
        ]
    else:
        points = [
            f"<strong>This quarter:</strong> {esc(_cap(m.now))}, so we cannot compare it. "
            f"<strong>Average over the year:</strong> {esc(m.average)}."
        ]
    items = "".join(f"<li>{p}</li>" for p in points)
    return (
        f'<section class="measure" aria-labelledby="{hid}"><h3 id="{hid}">{esc(m.name)}</h3>'
        f'<p class="why">Why it matters: {esc(m.why)}{"" if m.judged else " " + NOT_JUDGED}'
        f"</p><ul>{items}</ul></section>"
    )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _paragraphs(texts: Sequence[str]) -> str:
    return "".join(f"<p>{esc(t)}</p>" for t in texts)


def body(
    title: str,
    intro: Sequence[str],
    measures: Sequence[MeasureWords],
    rules: Sequence[str],
    questions: tuple[Sequence[str], str],
    glossary: Sequence[tuple[str, str]],
    links: tuple[str, str],
) -> str:
    """The briefing's main content. `questions`: the questions and a line on any more (''
    for none); `links`: (the pack's href, its name)."""
    pack_href, pack_name = links
    asked, more = questions
    out = [f'<div class="briefing"><h1>{esc(title)}</h1>', _paragraphs(intro)]
    out.append(
        f'<p>There is more detail in the <a href="{esc(pack_href)}">{esc(pack_name)}</a>.</p>'
    )
    if measures:
        out.append("<h2>Key measures</h2>")
        out += [_measure(m) for m in measures]
        out.append("<h2>How to read this briefing</h2>")
        out.append('<ul class="rules">' + "".join(f"<li>{esc(r)}</li>" for r in rules) + "</ul>")
    out.append("<h2>Questions you might ask</h2>")
    out.append('<ol class="questions">' + "".join(f"<li>{esc(q)}</li>" for q in asked) + "</ol>")
    if more:
        out.append(f"<p>{esc(more)}</p>")
    if glossary:
        out.append("<h2>Words used in this briefing</h2>")
        terms = "".join(f"<dt>{esc(t)}</dt><dd>{esc(d)}</dd>" for t, d in glossary)
        out.append(f'<dl class="glossary">{terms}</dl>')
    out.append("</div>")
    return "\n".join(out)


def briefing_page(
    title: str,
    content: str,
    css: str,
    banners: Sequence[tuple[str, str]],
    footer: str,
    breadcrumbs: Sequence[tuple[str, str]],
) -> str:
    """The whole page: the site's shell and stylesheet with the briefing's own style."""
    return page(title, content, css + CSS, banners, footer, breadcrumbs)
