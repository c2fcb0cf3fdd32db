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

    def to_json(self) -> dict:
        return {"file": self.file, "author": self.author, "date": self.date, "html": self.html}


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


def _front(text: str, where: str) -> tuple[dict, str]:
    """The front matter and the body of a commentary file's text."""
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
    return meta, "\n".join(lines[end + 1 :])


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


def read(path: Path, dataset: Path) -> Commentary:
    """One commentary file, checked and rendered."""
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
    meta, body = _front(text, where)
    author, date = _attribution(meta, where)
    return Commentary(
        path.relative_to(dataset).as_posix(),
        author,
        date,
        render(body),
        hashlib.sha256(raw).hexdigest(),
    )


def load(dataset: Path, regions: set[str], las: set[str], periods: set[str]) -> dict:
    """Every commentary file of the dataset: {(period, code): Commentary}, `code` a region's
    or an LA's. A folder that is not a period the dataset has, or a file that is not a known
    region's or LA's, is refused naming it."""
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
            out[(folder.name, code)] = read(path, dataset)
    return out


def _order(slug: str) -> int:
    return parse_slug(slug).ordinal
