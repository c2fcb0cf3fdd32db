"""The annual datapack: one region's LAs against their statistical neighbours, the region and
England, from DfE's published statistics (see ``pipeline.orchestration.datapack``)."""

from __future__ import annotations

import pandas as pd

from pipeline.core.crosscheck import AGREES, DIFFERS, INCOMPLETE, crosscheck_table
from pipeline.core.html import esc, table
from pipeline.core.periods import parse_slug
from pipeline.core.rug import STATUS_TEXT
from pipeline.core.vocabulary import OK
from pipeline.report.common import HTML
from pipeline.report.regional import RegionalBenchmark

#: the notebook's section headings, in order (the page's contents links to them)
HEADINGS_SHOWN = ("The tartan rug", "What the year shows", "Each local authority")
HEADINGS_SHOWN += (
    "Themes: trends and rankings",
    "Published cross-check",
    "How the figures are made",
)


class AnnualDatapack(RegionalBenchmark):
    """One region and year: the rug, the narrative, each LA's comparisons, the themes' trends
    and ranks, and the published cross-check."""

    SECTIONS = ("headline", "rug", "narrative", "local_authorities", "themes", "crosscheck")
    SECTIONS += ("method",)

    def _comparators(self) -> list[tuple[str, str]]:
        return [
            (self.context["region"]["code"], f"{self.region_name} (region), {self.period_label}"),
            ("england", f"England, {self.period_label}"),
        ]

    #: published statistics: no returns to accept (the rug's key says so)
    RETURNS = False

    # ------------------------------------------------------------------ sections

    def headline(self) -> HTML:
        c = self.context
        now = self.figures[self.figures["period"] == self.period]
        valued = int((now["status"] == OK).sum())
        first, last = (parse_slug(y).label for y in c["years_held"])
        files = len(c["sources"])
        story = {p["key"]: p for p in c.get("narrative", [])}
        summary = story["summary"]["points"] if "summary" in story else []
        lede = (
            f"The {len(c['las'])} local authorities of {esc(self.region_name)} against their "
            f"statistical neighbours, the region and England in {esc(self.period_label)}: "
            f"{valued:,} figures across {len(self.catalogue)} indicators from DfE's published "
            f"statistics ({files} files, {first} to {last}), with {c['trend_years']}-year trends."
        )
        return HTML(
            f"<h1>{esc(self.region_name)}: annual datapack, {esc(self.period_label)}</h1>"
            f'<p class="lede">{lede}</p>'
            + (
                f'<ul class="lede">{"".join(f"<li>{esc(x)}</li>" for x in summary)}</ul>'
                if summary
                else ""
            )
            + '<nav aria-label="Sections"><ul class="periods">'
            + "".join(
                f'<li><a href="#{esc(h.replace(" ", "-"))}">{esc(h)}</a></li>'
                for h in HEADINGS_SHOWN
            )
            + "</ul></nav>"
        )

    def local_authorities(self) -> HTML:
        """Per LA: each indicator against its neighbours' mean and median, the region and
        England, with its ranks, band and trend over the datapack's years."""
        c = self.context
        periods = c["periods"]
        labels = [parse_slug(p).label for p in periods]
        first = labels[0]
        region = c["region"]["code"]
        a = self.areas.set_index(["area_code", "indicator_id", "period"])["value"]
        f = self.figures.set_index(["la_code", "indicator_id", "period"])
        las = sorted(c["las"], key=lambda x: (x["la_name"], x["la_code"]))
        nav = "".join(
            f'<li><a href="#la-{esc(la["la_code"])}">{esc(la["la_name"])}</a></li>' for la in las
        )
        out = [
            f'<nav aria-label="Local authorities"><ul class="packs">{nav}</ul></nav>',
            "<p>For each local authority, every indicator in "
            f"{esc(self.period_label)} against the mean and median of its 10 statistical "
            f"neighbours, {esc(self.region_name)} and England; its rank among all LAs with a "
            "figure (1 is best, or highest where no judgement is made) and in the region; its "
            f"quartile band; and its trend from {esc(first)} (the figures of each year are in "
            "the last columns).</p>",
        ]
        heads = ["Indicator", self.period_label, "SN mean", "SN median", self.region_name]
        heads += ["England", "Rank in England", "Rank in region", "Band"]
        heads += [f"Trend since {first}", *labels[:-1]]
        numeric = [False, True, True, True, True, True, True, True, False, False]
        numeric += [True] * (len(labels) - 1)
        for la in las:
            code = la["la_code"]
            rows = []
            for ind in self.catalogue:
                key = (code, ind.id, self.period)
                r = f.loc[key] if key in f.index else None

                def rank(r, col: str, of: str) -> str:
                    if r is None or pd.isna(r[col]):
                        return ""
                    return f"{int(r[col])} of {int(r[of])}"

                if r is None:
                    value, status = "", "no figure"
                else:
                    value = ind.format(r["value"]) if r["status"] == OK else ""
                    status = STATUS_TEXT.get(r["status"], r["status"])
                earlier = [
                    ind.format(f.at[(code, ind.id, p), "value"])
                    if (code, ind.id, p) in f.index and f.at[(code, ind.id, p), "status"] == OK
                    else ""
                    for p in periods[:-1]
                ]
                trend = ""
                if r is not None and isinstance(r["trend"], str) and pd.notna(r["trend_from"]):
                    trend = f"{r['trend']} (from {ind.format(r['trend_from'])})"
                band = r["band"] if r is not None and isinstance(r["band"], str) else ""
                rows.append(
                    [
                        ind.short_label,
                        value or status,
                        "" if r is None else ind.format(r["sn_mean"]),
                        "" if r is None else ind.format(r["sn_median"]),
                        ind.format(a.get((region, ind.id, self.period))),
                        ind.format(a.get(("england", ind.id, self.period))),
                        rank(r, "rank_national", "las_ranked_national"),
                        rank(r, "rank_region", "las_ranked_region"),
                        band or ("" if ind.judged else "no judgement"),
                        trend,
                        *earlier,
                    ]
                )
            neighbours = c.get("neighbours", {}).get(code, [])
            out.append(
                f'<h3 id="la-{esc(code)}">{esc(la["la_name"])} ({esc(code)})</h3>'
                + (
                    f"<p>Statistical neighbours, closest first: {esc(', '.join(neighbours))}.</p>"
                    if neighbours
                    else "<p>No statistical neighbours in the model.</p>"
                )
                + table(
                    f"{la['la_name']} against its statistical neighbours, the region and "
                    f"England, {self.period_label}",
                    heads,
                    rows,
                    numeric=numeric,
                )
            )
        return HTML("".join(out))

    def crosscheck(self) -> HTML:
        """DfE's own region and England figures against the sums of the LA rows."""
        c = self.context["crosscheck"]
        counts = c["summary"]
        total = sum(counts.values())
        rows = c["rows"]
        names = {self.context["region"]["code"]: self.region_name}
        first, last = (parse_slug(p).label for p in (self.context["periods"][0], self.period))
        text = (
            f"DfE publishes its own figures for {esc(self.region_name)} and England beside the "
            f"LA rows. Tartan added up the LA rows and compared, for {esc(first)} to "
            f"{esc(last)}: {total:,} comparisons, {counts[AGREES]:,} agree within the "
            f"publication's rounding, {counts[INCOMPLETE]:,} incomplete (some LAs' figures are "
            "withheld, so their sum falls short of DfE's total) and "
            f"<strong>{counts[DIFFERS]:,} differ</strong>."
        )
        if counts[DIFFERS]:
            text += (
                " A figure that differs means the published region or England figure does not "
                "add up from its LAs: check the file, and tell DfE if the file is as published."
            )
        parts = [f"<p>{text}</p>"]
        differs = [r for r in rows if r["outcome"] == DIFFERS]
        if differs:
            parts.append(
                crosscheck_table(
                    "Published figures that differ from the sum of their LAs",
                    differs,
                    names,
                    self.catalogue,
                )
            )
        if rows:
            parts.append(
                "<details><summary>Show every comparison</summary>"
                + crosscheck_table(
                    f"Published cross-check, {self.region_name} and England",
                    rows,
                    names,
                    self.catalogue,
                )
                + "</details>"
            )
        return HTML("".join(parts))

    def method(self) -> HTML:
        c = self.context
        sources = "".join(
            f"<li><code>{esc(s['file'])}</code> ({esc(', '.join(s['indicators']))}), SHA-256 "
            f"<code>{esc(s['sha256'][:12])}</code></li>"
            for s in c["sources"]
        )
        years = c["trend_years"]
        return HTML(
            "<ul>"
            "<li>Every figure is from DfE's published statistics, read as downloaded from "
            "Explore Education Statistics through the mapping "
            f"<code>{esc(c['mapping']['file'])}</code> version {esc(c['mapping']['version'])}. "
            f"Files read:<ul>{sources}</ul></li>"
            "<li>Local authority figures are as DfE publishes them (LAs under their current "
            "codes; an LA's figures under an earlier code count as its own).</li>"
            f"<li>{esc(self.region_name)} and England are DfE's own published figures; where "
            "DfE publishes the counts but not the rate, the rate is worked out from DfE's "
            "counts; only where DfE publishes neither is it the sum of the LAs' numerators over "
            "the sum of their denominators. The areas CSV says which for each figure.</li>"
            "<li>Statistical neighbours: each LA's 10 most similar LAs in DfE's 2025 model. "
            "The mean and median are of the neighbours with a figure for the year.</li>"
            "<li>Bands are quartiles of all LAs with a value, by R's default (type 7) quantile "
            "as DfE's LAIT does: A is the best quarter given the indicator's polarity, taken "
            "from LAIT's dictionary; indicators LAIT makes no judgement on are not banded."
            "</li>"
            "<li>Ranks: 1 is best by polarity (highest first where there is no judgement); tied "
            "values share the lowest rank; LAs without a figure are not ranked.</li>"
            f"<li>Trend compares the year's figure with the figure {years - 1} years earlier "
            f"({years} years in all): a change of less than 5% of the earlier figure is stable; "
            "otherwise improving or worsening by polarity (rising or falling where there is no "
            "judgement).</li>"
            "<li>Biggest improvements and deteriorations: LA figures that changed by 5% or more "
            "since the year before, the largest first measured against the national spread "
            "(the interquartile range of all LAs that year).</li>"
            f"<li>Disclosure control: {esc(c['disclosure'])}</li>"
            "<li>Published cross-check: a rate or percentage agrees when Tartan's unrounded "
            "figure is within half a unit of DfE's last published decimal; a count when it is "
            "within 5 (DfE rounds regional and national counts to the nearest 10).</li>"
            "</ul>"
        )
