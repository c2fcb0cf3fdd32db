"""Commentary people add to a quarter: a Markdown file per region and period in the dataset.

``commentary/<period>/<region_code>.md`` (e.g. ``commentary/2026-27-Q2/ZR1.md``) holds the
assistant directors' narrative on the region's quarter, with its author and date in YAML front
matter::

    ---
    author: Assistant directors' network, Northmoor
    date: 2026-11-20
    ---
    The quarter's referrals rose again ...

The regional report shows it, attributed, below the generated narrative. It is rendered safely:
Markdown through markdown-it-py with raw HTML off (``<script>`` is shown as text), links and
images shown as their text and address (the pages are read offline), nothing else reaching the
page unescaped. A file for a region or period the dataset does not have, a file that is not
UTF-8 or too large, or front matter without an author and an ISO date, is refused with exit 2
naming it. (An LA's own commentary, ``<la_code>.md`` beside it, is read by the packs.)
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.exceptions import ExceptionRule
from pipeline.core.periods import parse_slug
from pipeline.edges.yaml_files import parse_yaml

#: the dataset's commentary folder
FOLDER = "commentary"
#: no commentary file is larger (a few pages of text are a few kilobytes)
MAX_BYTES = 200_000
FRONT = "---"


@dataclass(frozen=True)
class Commentary:
    """One region's (or LA's) commentary on one period: who wrote it, when, and its body as
    safe HTML."""

    file: str  # relative to the dataset, e.g. commentary/2026-27-Q2/ZR1.md
    author: str
    date: str  # ISO, e.g. 2026-11-20
    html: str
    sha256: str
    #: the body as plain-text paragraphs (a list item starts "• "; links as "text (address)"),
    #: for slides and spreadsheets
    paragraphs: tuple[str, ...] = ()
    #: an LA's file: its sections, one per indicator, as (indicator id, html, paragraphs); the
    #: words before the first section are the body above
    sections: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "author": self.author,
            "date": self.date,
            "html": self.html,
            "paragraphs": list(self.paragraphs),
            "sections": {
                ind: {"html": html_, "paragraphs": list(paras)}
                for ind, html_, paras in self.sections
            },
        }


def render(markdown: str) -> str:
    """Markdown as HTML with raw HTML off, and links and images as their text and address."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.disable(["image"])

    def link_open(renderer, tokens, idx, options, env):
        env.setdefault("href", []).append(tokens[idx].attrGet("href") or "")
        return ""

    def link_close(renderer, tokens, idx, options, env):
        href = env["href"].pop()
        shown = tokens[idx - 1].content if idx and tokens[idx - 1].type == "text" else ""
        return f" ({html.escape(href)})" if href and shown != href else ""

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    tokens = md.parse(markdown, {})
    for t in tokens:  # the report's own headings run to h3: the commentary's sit below them
        if t.type in ("heading_open", "heading_close"):
            t.tag = f"h{min(int(t.tag[1]) + 3, 6)}"
    return md.renderer.render(tokens, md.options, {})


def _inline_text(token) -> str:
    """An inline token's words as plain text, a link as "text (address)"."""
    out, hrefs = [], []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            hrefs.append((child.attrGet("href") or "", len(out)))
        elif child.type == "link_close" and hrefs:
            href, start = hrefs.pop()
            if href and "".join(out[start:]) != href:
                out.append(f" ({href})")
    return "".join(out).strip()


def plain(markdown: str) -> tuple[str, ...]:
    """Markdown as plain-text paragraphs: each heading, paragraph and list item one (a list
    item starting "• "); raw HTML stays as the text it is."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.disable(["image"])
    out, in_item = [], 0
    for t in md.parse(markdown, {}):
        if t.type == "list_item_open":
            in_item += 1
            out.append("• ")
        elif t.type == "list_item_close":
            in_item -= 1
        elif t.type in ("inline", "code_block", "fence"):
            text = _inline_text(t) if t.type == "inline" else t.content.rstrip("\n")
            if in_item and out and out[-1].endswith("• "):
                out[-1] += text
            elif text:
                out.append(text)
    return tuple(p for p in out if p.strip() not in ("", "•"))


def _front(text: str, where: str) -> tuple[dict, str, int]:
    """The front matter and the body of a commentary file's text, and the body's first line
    (counted from 1)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FRONT or FRONT not in (x.strip() for x in lines[1:]):
        raise ConfigError(
            f"{where}: no front matter; expected the file to start with '---', then author: "
            "and date: (YYYY-MM-DD) lines, then '---'"
        )
    end = next(i for i, x in enumerate(lines[1:], start=1) if x.strip() == FRONT)
    meta = parse_yaml("\n".join(lines[1:end]), where)
    if not isinstance(meta, dict):
        raise ConfigError(f"{where}: front matter must be author: and date: lines")
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _attribution(meta: dict, where: str) -> tuple[str, str]:
    """The author and the ISO date the front matter gives."""
    unknown = sorted(set(map(str, meta)) - {"author", "date"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown front matter {', '.join(unknown)}; expected author, date"
        )
    author = meta.get("author")
    if not isinstance(author, str) or not author.strip():
        raise ConfigError(f"{where}: front matter has no author; expected e.g. author: ADCS North")
    date = meta.get("date")
    if isinstance(date, datetime.date) and not isinstance(date, datetime.datetime):
        return author.strip(), date.isoformat()
    raise ConfigError(f"{where}: date {date!r} is not a date; expected e.g. date: 2026-11-20")


def read(path: Path, dataset: Path, indicators: set[str] | None = None) -> Commentary:
    """One commentary file, checked and rendered; with `indicators`, an LA's, in sections
    headed by those indicator ids."""
    import hashlib

    where = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_BYTES // 1000} kB; expected a few pages")
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text; save it as UTF-8 Markdown") from None
    meta, body, first = _front(text, where)
    author, date = _attribution(meta, where)
    sections: tuple = ()
    if indicators is not None:  # an LA's file: a section per indicator
        body, parts = _sections(body, first, indicators, where)
        sections = tuple((ind, render(words), plain(words)) for ind, words in parts)
    return Commentary(
        path.relative_to(dataset).as_posix(),
        author,
        date,
        render(body),
        hashlib.sha256(raw).hexdigest(),
        plain(body),
        sections,
    )


def load(
    dataset: Path, regions: set[str], las: set[str], periods: set[str], indicators: set[str]
) -> dict:
    """Every commentary file of the dataset: {(period, code): Commentary}, `code` a region's
    or an LA's (whose sections are headed by the ids of `indicators`). A folder that is not a
    period the dataset has, or a file that is not a known region's or LA's, is refused naming
    it."""
    root = dataset / FOLDER
    if not root.is_dir():
        return {}
    out = {}
    for folder in sorted(root.iterdir()):
        if folder.name.startswith("."):
            continue
        if not folder.is_dir() or folder.is_symlink() or folder.name not in periods:
            raise ConfigError(
                f"{folder}: not a period this dataset holds returns for; expected a folder "
                f"named after one, e.g. {FOLDER}/{max(periods, key=_order, default='2026-27-Q2')}/"
            )
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            code = path.name.removesuffix(".md")
            if path.suffix != ".md" or path.is_symlink() or not path.is_file():
                raise ConfigError(f"{path}: expected a Markdown file <region or LA code>.md")
            if code not in regions | las:
                raise ConfigError(
                    f"{path}: {code!r} is not a region or LA of this dataset; expected "
                    f"<region code>.md (e.g. {min(regions, default='E12000001')}.md) or "
                    "<LA code>.md"
                )
            out[(folder.name, code)] = read(path, dataset, indicators if code in las else None)
    return out


def _sections(
    body: str, first: int, indicators: set[str], where: str
) -> tuple[str, list[tuple[str, str]]]:
    """An LA's commentary split at its level-2 headings, each naming an indicator id (then
    anything, e.g. '## cla_rate: children looked after'): (the words before the first, [(id,
    words)]). An unknown or repeated id is refused naming its line."""
    from markdown_it import MarkdownIt

    lines = body.split("\n")
    tokens = MarkdownIt("commonmark").parse(body)
    heads = []  # (line index in body, indicator id)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h2" and tok.map:
            words = tokens[i + 1].content.strip()
            ind = words.split()[0].rstrip(":") if words else ""
            line = first + tok.map[0]
            if ind not in indicators:
                example = min(indicators, default="cla_rate")
                raise ConfigError(
                    f"{where}, line {line}: {ind!r} is not an indicator id of the catalogue; "
                    f"expected each section headed '## <indicator id>', e.g. '## {example}'"
                )
            if ind in (h[1] for h in heads):
                earlier = first + next(h[0] for h in heads if h[1] == ind)
                raise ConfigError(
                    f"{where}, line {line}: a second section for {ind} (the first is at line "
                    f"{earlier}); expected one section per indicator"
                )
            heads.append((tok.map[0], ind, tok.map[1]))
    parts = []
    for n, (_, ind, end) in enumerate(heads):
        stop = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        parts.append((ind, "\n".join(lines[end:stop])))
    intro = "\n".join(lines[: heads[0][0]]) if heads else body
    return intro, parts


def _order(slug: str) -> int:
    return parse_slug(slug).ordinal


#: dataset.yaml's key for which figures an LA is asked to explain
RULE_KEY = "commentary_exceptions"


def exception_rule(meta: object, where: str) -> ExceptionRule:
    """dataset.yaml's `commentary_exceptions` ({bands: [D], percent: 20}, the default): the
    figures an LA's pack asks it to explain."""
    if meta is None:
        return ExceptionRule()
    expected = "expected e.g. {bands: [D], percent: 20} (percent: top and bottom, 0 for none)"
    if not isinstance(meta, dict) or set(map(str, meta)) - {"bands", "percent"}:
        raise ConfigError(f"{where}: {RULE_KEY} {meta!r} is not understood; {expected}")
    bands = meta.get("bands", ["D"])
    if not isinstance(bands, list) or not set(map(str, bands)) <= set("ABCD"):
        raise ConfigError(f"{where}: {RULE_KEY} bands {bands!r} must be a list of A-D; {expected}")
    percent = meta.get("percent", 20)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 50:
        raise ConfigError(
            f"{where}: {RULE_KEY} percent {percent!r} must be a whole number from 0 to 50; "
            f"{expected}"
        )
    return ExceptionRule(tuple(sorted(set(map(str, bands)))), percent)


def rule_of(dataset: Path) -> ExceptionRule:
    """The dataset's exception rule, from its dataset.yaml (the default without one)."""
    from pipeline.edges.yaml_files import load_yaml

    path = dataset / "dataset.yaml"
    meta = load_yaml(path) if path.is_file() else {}
    return exception_rule(meta.get(RULE_KEY) if isinstance(meta, dict) else None, str(path))
