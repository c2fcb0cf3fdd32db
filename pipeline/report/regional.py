"""The regional benchmarking report: the rug, priorities, narrative, themes and method."""

from __future__ import annotations

import pandas as pd

from pipeline.core.html import esc, table
from pipeline.core.periods import parse_slug
from pipeline.core.rug import STATUS_TEXT, rug_key, rug_table
from pipeline.core.vocabulary import NOT_ACCEPTED, OK
from pipeline.report.common import HTML, Report, _figure


class RegionalBenchmark(Report):
    """One region and period: the data a regional benchmarking report shows."""

    SECTIONS = ("headline", "rug", "packs", "priorities", "narrative", "themes", "method")
    #: whether the figures come from LA returns (the rug's key speaks of returns accepted)
    RETURNS = True

    figures: pd.DataFrame  # the region's LAs for the trend periods
    areas: pd.DataFrame  # the region and England for the trend periods

    @property
    def las(self) -> pd.DataFrame:
        return pd.DataFrame(self.context["las"])

    @property
    def la_names(self) -> dict[str, str]:
        return {r["la_code"]: r["la_name"] for r in self.context["las"]}

    def _comparators(self) -> list[tuple[str, str]]:
        at = f"as at {self.period_label}"
        return [
            (self.context["region"]["code"], f"{self.region_name} (region), {at}"),
            ("england", f"{self.context['england_label']}, {at}"),
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
        story = {p["key"]: p for p in self.context.get("narrative", [])}
        summary = story["summary"]["points"] if "summary" in story else []
        return HTML(
            f"<h1>{esc(self.region_name)}: quarterly benchmarking, {esc(self.period_label)}</h1>"
            f'<p class="lede">{" ".join(parts)}</p>'
            + (
                f'<ul class="lede">{"".join(f"<li>{esc(x)}</li>" for x in summary)}</ul>'
                if summary
                else ""
            )
        )

    def packs(self) -> HTML:
        """A link to each LA's self-assessment evidence pack for the period (nothing when the
        packs were not built with this report)."""
        words = {"accepted": "", NOT_ACCEPTED: " (return not accepted)", "missing": " (no return)"}
        lines = []
        for la in sorted(self.context["las"], key=lambda x: (x["la_name"], x["la_code"])):
            name = f"{la['la_name']}: self-assessment evidence pack, {self.period_label}"
            if la.get("pack"):
                lines.append(
                    f'<li><a href="{esc(la["pack"])}">{esc(name)}</a>'
                    f"{esc(words.get(la['return_status'], ''))}</li>"
                )
            elif la.get("pack_failed"):
                lines.append(f"<li>{esc(name)}: not built (it failed; see the index)</li>")
        items = "".join(lines)
        if not items:
            return HTML("")
        return HTML(
            '<h2 id="packs">Self-assessment evidence packs</h2>'
            "<p>Each local authority's figures against its statistical neighbours, the region "
            "and England, with its strengths, areas for development and questions for peer "
            f'challenge.</p><ul class="packs">{items}</ul>'
        )

    def narrative(self) -> HTML:
        """The generated narrative: movers, persistent band D, region against England, gaps."""
        out = []
        for para in self.context.get("narrative", []):
            if para["key"] == "summary":
                continue
            points = "".join(f"<li>{esc(x)}</li>" for x in para["points"])
            out.append(
                f"<h3>{esc(para['heading'])}</h3><p>{esc(para['lead'])}</p>"
                + (f"<ul>{points}</ul>" if points else "")
            )
        return HTML(f'<div class="narrative">{"".join(out)}</div>')

    def priorities(self) -> HTML:
        """Each regional priority as red / amber / green, with its rule stated beside it."""
        items = self.context.get("priorities", [])
        source = esc(self.context.get("priorities_file", "priorities.yaml"))
        if not items:
            return HTML(
                f"<p>No priorities are set for {esc(self.region_name)} in {source}. "
                "A region's benchmarking group adds its priorities there.</p>"
            )
        rows = []
        for it in items:
            status = it["status"]
            trend = it["trend"] or "no trend yet"
            rows.append(
                "<tr>"
                f'<th scope="row">{esc(it["title"])}<br><small>{esc(it["indicator"])}</small></th>'
                f'<td><span class="rag rag-{esc(status.replace(" ", "-"))}">'
                f"{esc(status.capitalize())}</span></td>"
                f'<td class="num">{esc(it["value_text"])}</td>'
                f'<td class="num">{esc(it["target_text"])}</td>'
                f"<td>{esc(trend)}</td>"
                f'<td class="num">{it["las_meeting"]} of {it["las_with_value"]}</td>'
                f"<td>{esc(it['rule'])}</td>"
                "</tr>"
            )
        head = "".join(
            f'<th scope="col">{esc(h)}</th>'
            for h in (
                "Priority",
                "Status",
                f"Region, as at {self.period_label}",
                "Target",
                "Trend (against 3 quarters earlier)",
                "LAs meeting the target",
                "Rule",
            )
        )
        return HTML(
            f"<p>The priorities agreed for {esc(self.region_name)} (set in {source}), each "
            "judged on the region's own figure (sum of numerators over sum of denominators) "
            f"as at {esc(self.period_label)}. The status is written as well as coloured.</p>"
            f'<table class="tartan-table priorities"><caption>Regional priorities, '
            f"{esc(self.period_label)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def rug(self) -> HTML:
        now_la = self.figures[self.figures["period"] == self.period]
        now_area = self.areas[self.areas["period"] == self.period]
        las = self.las.sort_values("la_name", kind="stable")
        return HTML(
            rug_table(las, now_la, now_area, self.catalogue, self.period_label, self._comparators())
            + rug_key(returns=self.RETURNS)
        )

    def themes(self) -> HTML:
        """Per theme: trend charts (each LA, the region and England over the last periods) and a
        ranking chart (the region's LAs this period, best first), each with its figures."""
        from pipeline.edges.charts import trend_small_multiples

        region = self.context["region"]["code"]
        periods = self.context["periods"]
        labels = {p: parse_slug(p).label for p in periods}
        names = self.la_names
        england = self.context["england_label"]
        a = self.areas[self.areas["period"].isin(periods)].set_index(
            ["area_code", "indicator_id", "period"]
        )["value"]
        f = self.figures[self.figures["period"].isin(periods)]
        f = f.assign(shown=f["value"].where(f["status"] == OK))
        out = []
        for theme in self.catalogue.themes:
            inds = self.catalogue.in_theme(theme)
            slug = theme.lower().replace(" ", "-")
            rows = []
            for ind in inds:
                for p in periods:
                    for code, series in ((region, "Region"), ("england", "England")):
                        v = a.get((code, ind.id, p), float("nan"))
                        rows.append((ind.short_label, labels[p], series, "", v))
                mine = f[f["indicator_id"] == ind.id]
                for r in mine.itertuples():
                    rows.append(
                        (ind.short_label, labels[r.period], "LA", names[r.la_code], r.shown)
                    )
            data = pd.DataFrame(rows, columns=["indicator", "period", "series", "la", "value"])
            desc = (
                f"Line charts, one per indicator in {theme}: each local authority in the region "
                f"(thin grey lines), the region (solid blue line) and {england} (dashed orange "
                f"line) for each {self.noun} from {labels[periods[0]]} to {labels[periods[-1]]}. "
                "The figures are in the table below the charts."
            )
            out.append(f'<h3 id="theme-{esc(slug)}">{esc(theme)}</h3>')
            if len(periods) < 2:
                out.append(
                    f'<p class="no-chart">No trend chart: {esc(labels[periods[0]])} is the first '
                    f"{self.noun} held, so there is nothing yet to compare it with. The "
                    f"{self.noun}'s figures are in the rug and the ranking chart.</p>"
                )
            else:
                out.append(
                    _figure(
                        f"trend-{slug}",
                        f"{theme}: trends in {self.region_name}, its LAs and {england}",
                        trend_small_multiples(data),
                        desc,
                        self._trend_table(theme, inds, data, periods, labels),
                    )
                )
            out.append(self._ranking(theme, slug, inds, region))
        return HTML("".join(out))

    def _trend_table(self, theme, inds, data, periods, labels) -> str:
        fmt = {i.short_label: i for i in inds}
        keyed = data.assign(
            area=data["la"].where(data["series"] == "LA", data["series"])
        ).set_index(["indicator", "area", "period"])["value"]
        areas = [*sorted(self.la_names.values()), "Region", "England"]
        trows = []
        for ind in inds:
            for area in areas:
                vals = [keyed.get((ind.short_label, area, labels[p])) for p in periods]
                vals = [fmt[ind.short_label].format(v) if v is not None else "" for v in vals]
                shown = {"Region": self.region_name, "England": self.context["england_label"]}
                trows.append([f"{ind.short_label}: {shown.get(area, area)}", *vals])
        return table(
            f"{theme}: figures behind the trend charts (blank: no figure)",
            ["Indicator: area"] + [labels[p] for p in periods],
            trows,
            numeric=[False] + [True] * len(periods),
        )

    def _ranking(self, theme, slug, inds, region) -> str:
        from pipeline.edges.charts import ranking_chart

        now = self.figures[self.figures["period"] == self.period]
        a = self.areas[self.areas["period"] == self.period].set_index(["area_code", "indicator_id"])
        names = self.la_names
        rows, trows = [], []
        for ind in inds:
            reg = a["value"].get((region, ind.id), float("nan"))
            eng = a["value"].get(("england", ind.id), float("nan"))
            mine = now[now["indicator_id"] == ind.id].sort_values(
                ["rank_region", "la_code"], na_position="last"
            )
            for r in mine.itertuples():
                value = r.value if r.status == OK else float("nan")
                band = r.band if isinstance(r.band, str) else ""
                rows.append(
                    (ind.short_label, names[r.la_code], value, r.rank_region, band, reg, eng)
                )
                rank = (
                    ""
                    if pd.isna(r.rank_region)
                    else f"{int(r.rank_region)} of {int(r.las_ranked_region)}"
                )
                trows.append(
                    [
                        f"{ind.short_label}: {names[r.la_code]}",
                        ind.format(value) or STATUS_TEXT.get(r.status, r.status),
                        band or ("no judgement" if not ind.judged else ""),
                        rank,
                        ""
                        if pd.isna(r.rank_national)
                        else f"{int(r.rank_national)} of {int(r.las_ranked_national)}",
                    ]
                )
            for label, v in ((self.region_name, reg), (self.context["england_label"], eng)):
                shown = ind.format(v) or "no figure"
                trows.append([f"{ind.short_label}: {label}", shown, "", "", ""])
        data = pd.DataFrame(
            rows, columns=["indicator", "la", "value", "rank", "band", "region", "england"]
        )
        desc = (
            f"Dot charts, one per indicator in {theme}: the region's local authorities in "
            f"{self.period_label}, best first by the indicator's polarity (highest first where "
            "there is no judgement), each dot coloured and labelled with its quartile band; the "
            "solid blue line is the region and the dashed orange line "
            f"{self.context['england_label']}, both as at {self.period_label}. The figures are "
            "in the table below the charts."
        )
        tbl = table(
            f"{theme}: ranks in {self.period_label}",
            ["Indicator: local authority", "Value", "Band", "Rank in region", "Rank in England"],
            trows,
            numeric=[False, True, False, True, True],
        )
        return _figure(
            f"rank-{slug}",
            f"{theme}: where each LA ranks, {self.period_label}",
            ranking_chart(data),
            desc,
            tbl,
        )

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
            "<li>Statistical neighbours: each LA's 10 most similar LAs (DfE's model). The rug "
            "shows the <strong>mean</strong> of the neighbours' figures for the same period; the "
            "median is in the figures CSV. Neighbours without a figure (suppressed, missing or "
            "not accepted) are left out.</li>"
            "<li>Bands are quartiles of all LAs with a value, by R's default (type 7) quantile "
            "as DfE's LAIT does: A is the best quarter given the indicator's polarity; a value "
            "on a boundary takes the better band. Indicators with no polarity are not banded."
            "</li>"
            "<li>Ranks: 1 is best by polarity (highest first where there is no judgement); tied "
            "values share the lowest rank; LAs without a figure are not ranked.</li>"
            "<li>Trend compares the latest figure with the figure three quarters earlier (four "
            "quarters in all): a change of less than 5% of the earlier figure is stable; "
            "otherwise improving or worsening by polarity (rising or falling where there is no "
            "judgement).</li>"
            "<li>Biggest improvements and deteriorations: LA figures that changed by 5% or more "
            "since the previous quarter, the largest first measured against the national spread "
            "(the interquartile range of all LAs that quarter), so that different units compare."
            "</li>"
            + (
                f"<li>Disclosure control: {esc(c['disclosure'])}</li>"
                if c.get("disclosure")
                else ""
            )
            + f"<li>Indicator catalogue version {esc(c['catalogue_version'])}.</li>"
            "</ul>"
        )
