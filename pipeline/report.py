"""The light facade a report notebook imports.

A notebook kernel receives the path of a slice the driver prepared (context.json, figures.csv,
areas.csv) and lays out the story with a few calls here. Nothing expensive or fallible happens in
the kernel: validation, benchmarking and banding were done once, before any notebook ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.benchmark import NOT_ACCEPTED, OK
from pipeline.core.catalogue import Catalogue
from pipeline.core.html import esc, table
from pipeline.core.periods import parse_slug
from pipeline.core.rug import rug_key, rug_table


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


def _read_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(
        path,
        dtype={"status": str, "band": str},
        keep_default_na=False,
        na_values={"value": [""], "numerator": [""], "denominator": [""]},
    )
    for col in ("value", "numerator", "denominator"):
        if col in df:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    if "band" in df:
        df["band"] = df["band"].replace("", None)
    return df


@dataclass
class RegionalBenchmark:
    """One region and period: the data a regional benchmarking report shows."""

    context: dict
    figures: pd.DataFrame
    areas: pd.DataFrame
    catalogue: Catalogue

    @classmethod
    def load(cls, slice_dir: str | Path) -> RegionalBenchmark:
        d = Path(slice_dir)
        context = json.loads((d / "context.json").read_text(encoding="utf-8"))
        return cls(
            context=context,
            figures=_read_csv(d / "figures.csv"),
            areas=_read_csv(d / "areas.csv"),
            catalogue=Catalogue.from_records(context["catalogue"], context["catalogue_version"]),
        )

    # ------------------------------------------------------------------ facts
    @property
    def period(self) -> str:
        return self.context["period"]

    @property
    def period_label(self) -> str:
        return parse_slug(self.period).label

    @property
    def region_name(self) -> str:
        return self.context["region"]["name"]

    @property
    def las(self) -> pd.DataFrame:
        return pd.DataFrame(self.context["las"])

    def _comparators(self) -> list[tuple[str, str]]:
        return [
            (self.context["region"]["code"], f"{self.region_name} (region)"),
            ("england", self.context["england_label"]),
        ]

    # ------------------------------------------------------------------ sections
    def headline(self) -> HTML:
        las = self.las
        accepted = las[las["return_status"] == "accepted"]
        rejected = las[las["return_status"] == NOT_ACCEPTED]
        missing = las[las["return_status"] == "missing"]
        now = self.figures[self.figures["period"] == self.period]
        cells = now[now["la_code"].isin(accepted["la_code"])]
        valued = int((cells["status"] == OK).sum())
        parts = [
            f"{len(accepted)} of {len(las)} local authorities in the region had a return "
            f"accepted for {esc(self.period_label)}, giving {valued:,} figures across "
            f"{len(self.catalogue)} indicators."
        ]
        if len(rejected):
            names = ", ".join(esc(n) for n in rejected["la_name"])
            parts.append(
                f"Return not accepted for this period: {names}. Their figures are shown as "
                "'not accepted' rather than using older or partial data."
            )
        if len(missing):
            parts.append(
                f"No return received from: {', '.join(esc(n) for n in missing['la_name'])}."
            )
        return HTML(
            f"<h1>{esc(self.region_name)}: quarterly benchmarking, {esc(self.period_label)}</h1>"
            f'<p class="lede">{" ".join(parts)}</p>'
        )

    def rug(self) -> HTML:
        now_la = self.figures[self.figures["period"] == self.period]
        now_area = self.areas[self.areas["period"] == self.period]
        las = self.las.sort_values("la_name", kind="stable")
        return HTML(
            rug_table(las, now_la, now_area, self.catalogue, self.period_label, self._comparators())
            + rug_key()
        )

    def trends(self) -> HTML:
        """Per theme: the region against England over the last periods, with the figures."""
        from pipeline.edges.charts import trend_small_multiples

        region = self.context["region"]["code"]
        periods = self.context["periods"]
        labels = {p: parse_slug(p).label for p in periods}
        a = self.areas[self.areas["period"].isin(periods)]
        out = []
        for theme in self.catalogue.themes:
            inds = self.catalogue.in_theme(theme)
            rows = []
            for ind in inds:
                for p in periods:
                    for code, series in ((region, "Region"), ("england", "England")):
                        hit = a[
                            (a["area_code"] == code)
                            & (a["indicator_id"] == ind.id)
                            & (a["period"] == p)
                        ]
                        v = hit["value"].iloc[0] if len(hit) else float("nan")
                        rows.append((ind.short_label, labels[p], series, v))
            data = pd.DataFrame(rows, columns=["indicator", "period", "series", "value"])
            title = f"{theme}: {self.region_name} and {self.context['england_label']}"
            svg = trend_small_multiples(data)
            desc = (
                f"Line charts, one per indicator in {theme}, of the region's value (solid blue) "
                f"and England's (dashed orange) for each quarter from {labels[periods[0]]} to "
                f"{labels[periods[-1]]}. The figures are in the table below the charts."
            )
            wide = data.pivot_table(
                index=["indicator", "series"], columns="period", values="value", sort=False
            ).reindex(columns=[labels[p] for p in periods])
            fmt = {i.short_label: i for i in inds}
            trows = [
                [f"{ind} ({series})"] + [fmt[ind].format(v) for v in wide.loc[(ind, series)]]
                for ind, series in wide.index
            ]
            tbl = table(
                f"{theme}: figures behind the chart",
                ["Indicator (area)"] + [labels[p] for p in periods],
                trows,
                numeric=[False] + [True] * len(periods),
            )
            slug = theme.lower().replace(" ", "-")
            out.append(
                f"<h3>{esc(theme)}</h3>"
                f'<figure aria-labelledby="fig-{esc(slug)}"><figcaption id="fig-{esc(slug)}">'
                f"{esc(title)}</figcaption>"
                f'<div role="img" aria-label="{esc(desc)}">{svg}</div>'
                f"<p>{esc(desc)}</p>"
                f"<details><summary>Show the figures for {esc(theme)}</summary>{tbl}</details>"
                "</figure>"
            )
        return HTML("".join(out))

    def method(self) -> HTML:
        c = self.context
        return HTML(
            "<ul>"
            f"<li>Local authority figures are as returned for {esc(self.period_label)} and "
            "accepted by validation against the data contract "
            f"{esc(c['contract'])}.</li>"
            f"<li>The region and {esc(c['england_label'])} are as at {esc(self.period_label)}, "
            "computed as the sum of numerators over the sum of denominators of the LAs with "
            "figures (not an average of rates).</li>"
            "<li>Bands are quartiles of all LAs with a value, by R's default (type 7) quantile "
            "as DfE's LAIT does: A is the best quarter given the indicator's polarity; a value "
            "on a boundary takes the better band. Indicators with no polarity are not banded."
            "</li>"
            f"<li>Indicator catalogue version {esc(c['catalogue_version'])}.</li>"
            "</ul>"
        )
