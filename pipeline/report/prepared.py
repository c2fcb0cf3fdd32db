"""Reports laid out ahead of their notebook: what a kernel imports (no pandas, no charts).

The job's worker process, where pandas, altair and vl-convert stay loaded from one report to the
next, calls every section of the report's facade once and writes the HTML to the slice's
``sections.json``. The notebook's kernel then only lays those sections out, in the notebook's
order: it starts in about half the time and draws nothing. A slice without ``sections.json`` (an
analyst running a notebook by hand in JupyterLab) gets the full facade, computing as it goes, and
so does any use of a prepared report beyond its sections.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

#: the file of a slice holding its report's sections, laid out ahead
SECTIONS = "sections.json"


class HTML:
    """An HTML fragment a notebook displays (rendered as text/html, no JavaScript)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:  # the text/plain fallback: stable, so notebooks are deterministic
        return f"<HTML fragment, {len(self.html):,} characters>"


class Prepared:
    """A report whose sections were laid out ahead; anything else loads the full facade."""

    def __init__(self, sections: dict[str, str], slice_dir: Path, facade):
        self._sections, self._slice_dir, self._facade = sections, slice_dir, facade
        self._full = None

    def __getattr__(self, name: str):
        sections = self.__dict__.get("_sections", {})
        if name in sections:
            return lambda: HTML(sections[name])
        if self._full is None:
            self._full = self._facade.implementation().load(self._slice_dir)
        return getattr(self._full, name)


class Facade:
    """What a notebook imports for one kind of report: `load` gives the prepared report when
    the slice has one, else the full facade (`IMPLEMENTATION`, imported only then)."""

    IMPLEMENTATION: tuple[str, str]  # (module, class)
    #: the report `prepare` last laid out in this process, (slice folder, report): its
    #: artefacts reuse what it drew
    _kept: tuple[str, object] | None = None

    @classmethod
    def implementation(cls):
        module, name = cls.IMPLEMENTATION
        return getattr(importlib.import_module(module), name)

    @classmethod
    def load(cls, slice_dir: str | Path):
        d = Path(slice_dir)
        if (d / SECTIONS).is_file():
            return Prepared(json.loads((d / SECTIONS).read_text("utf-8")), d, cls)
        return cls.implementation().load(d)

    @classmethod
    def prepare(cls, slice_dir: str | Path) -> list[str]:
        """Lay out every section of the report ahead of its notebook, into the slice's
        sections.json. Returns the sections' names."""
        full = cls.implementation()
        report = full.load(slice_dir)
        Facade._kept = (str(slice_dir), report)
        sections = {name: str(getattr(report, name)()) for name in full.SECTIONS}
        text = json.dumps(sections, sort_keys=True, ensure_ascii=False)
        (Path(slice_dir) / SECTIONS).write_text(text, encoding="utf-8")
        return list(sections)

    @classmethod
    def artefacts(cls, slice_dir: str | Path, about: dict) -> dict[str, bytes]:
        """The files the report is also published as beside its page (suffix -> bytes: a
        workbook, a slide deck), from the report `prepare` laid out when it is this slice's.
        `about`: what the page says of itself (title, banners, facts)."""
        full = cls.implementation()
        if not full.ARTEFACTS:
            return {}
        kept = Facade._kept
        report = kept[1] if kept and kept[0] == str(slice_dir) else full.load(slice_dir)
        return {suffix: getattr(report, name)(about) for suffix, name in full.ARTEFACTS.items()}
