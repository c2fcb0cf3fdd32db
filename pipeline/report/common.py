"""What every report facade shares: HTML fragments, reading a slice, figures with tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.html import esc


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


#: columns of a slice that hold text; every other column is a number (blank = none)
TEXT_COLUMNS = {"la_code", "area_code", "area_type", "period", "indicator_id", "region_code"}
TEXT_COLUMNS |= {"status", "band", "trend"}


def _read_csv(path: Path) -> pd.DataFrame:
    """A slice the driver wrote: blanks are missing numbers, but an empty status stays ''."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in df.columns:
        if col in TEXT_COLUMNS:
            continue
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce")
    for col in ("band", "trend"):
        if col in df:
            df[col] = df[col].replace("", None)
    return df


def _figure(fig_id: str, title: str, svg: str, desc: str, tbl: str) -> str:
    """A chart with its caption, a text description and its figures as a table."""
    from pipeline.edges.charts import labelled

    return (
        f'<figure id="{esc(fig_id)}"><figcaption>{esc(title)}</figcaption>'
        f"{labelled(svg, title, desc)}"
        f"<p>{esc(desc)}</p>"
        f"<details><summary>Show the figures: {esc(title)}</summary>{tbl}</details>"
        "</figure>"
    )
