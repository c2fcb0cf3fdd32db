"""The one place Tartan writes HTML: every page and every report section is marked up here.

The layers above (orchestration, report, edges) decide what a page shows and hand it over as
plain data: records, rows and words. This package turns them into markup, escaping everything
an LA or a published file supplied (`esc`). It imports only ``pipeline.core`` (import-linter
keeps it so) and no I/O, notebook or chart library; importing the package itself loads only
`base`, which needs nothing but the standard library.

Modules: `base` (escaping, the page shell, tables, banners, the footer), `sections` (what every
report's sections share), `rug` (the tartan rug), `crosscheck` (the published cross-check's
table), `regional`, `pack` and `datapack` (each report's own sections), `site` (the index and
the datapack's index) and `validation` (the validation report and each LA's feedback).
"""

from pipeline.html.base import BAND_COLOURS, banner, esc, footer, page, table

__all__ = ["BAND_COLOURS", "banner", "esc", "footer", "page", "table"]
