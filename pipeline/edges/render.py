"""Rendering: an executed notebook to one self-contained HTML page, and deterministic notebooks.

nbconvert renders the notebook body with Tartan's own template (``pipeline/templates/tartan``: no
code, prompts or tracebacks, nothing from a CDN); the page shell and stylesheet are shared with
every other page Tartan writes.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from importlib import resources
from pathlib import Path

import nbformat

from pipeline.html.base import page

TEMPLATES = Path(str(resources.files("pipeline") / "templates"))


@cache
def stylesheet() -> str:
    return (TEMPLATES / "tartan" / "tartan.css").read_text(encoding="utf-8")


@cache
def exporter():
    """nbconvert's HTML exporter with Tartan's template, made once per process."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class Exporter(HTMLExporter):
        """nbconvert's HTML exporter without its last pass, which re-parses the whole page with
        BeautifulSoup to give images alt text and output areas a tabindex. Tartan's template
        emits neither (charts are inline SVG with their own title and description), and the
        pass cost about a second per report."""

        def from_notebook_node(self, nb, resources=None, **kw):
            lang = nb.metadata.get("language_info", {})
            lexer = lang.get("pygments_lexer", lang.get("name"))
            self.register_filter(
                "highlight_code",
                self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
                ),
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = Exporter(
        template_name="tartan",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    return exporter


def normalise(nb: nbformat.NotebookNode, input_path: str) -> nbformat.NotebookNode:
    """Strip what changes between identical runs: timings, kernel and run ids, random cell ids."""
    nb = copy.deepcopy(nb)
    pm = nb.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration", "exception", "environment_variables"):
        pm.pop(key, None)
    pm["input_path"] = input_path
    pm["output_path"] = None
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("execution", None)
        for key in ("start_time", "end_time", "duration", "exception", "status"):
            cell.metadata.get("papermill", {}).pop(key, None)
        if cell.metadata.get("papermill") == {}:
            cell.metadata.pop("papermill")
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


#: nbconvert's heading permalinks: empty links once their pilcrow is gone, so they are removed
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#[^"]*"\s*(?:/>|>[^<]*</a>)')


def notebook_body(nb: nbformat.NotebookNode) -> str:
    body, _ = exporter().from_notebook_node(nb)
    return _ANCHOR_LINK.sub("", body).strip()


def to_html(
    nb: nbformat.NotebookNode,
    title: str,
    banners: list[tuple[str, str]],
    footer: str,
    breadcrumbs: list[tuple[str, str]],
) -> str:
    return page(title, notebook_body(nb), stylesheet(), banners, footer, breadcrumbs)
