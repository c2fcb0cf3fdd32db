"""The regional benchmarking report: the rug, priorities, narrative, themes and method."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import pandas as pd

from pipeline.core.narrative import england_of, published_when
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import NOT_ACCEPTED, OK
from pipeline.html import regional as markup
from pipeline.html.base import table
from pipeline.html.regional import Chart, ThemeCharts
from pipeline.html.rug import (
    STATUS_TEXT,
    la_label,
    rug_key,
    rug_table,
    shown_names,
    significance_key,
    significance_table,
)
from pipeline.html.sections import (
    NO_PUBLISHED,
    narrative,
    note,
    published_dates,
    published_method,
    significance_method,
    theme_heading,
)
from pipeline.report import funnel
from pipeline.report.common import HTML, Report, _figure, rank_text


class RegionalBenchmark(Report):
    """One region and period: the data a regional benchmarking report shows."""

    SECTIONS = ("headline", "rug", "packs", "priorities", "narrative", "themes", "method")
    CSVS = ("figures", "areas", "funnel")
    ARTEFACTS: ClassVar[dict[str, str]] = {".xlsx": "workbook", ".pptx": "deck"}
    #: whether the figures come from LA returns (the rug's key speaks of returns accepted)
    RETURNS = True

    figures: pd.DataFrame  # the region's LAs for the trend periods
    areas: pd.DataFrame  # the region and England for the trend periods
    funnel: pd.DataFrame  # every LA's published figure for the period (funnel plots)

    @property
    def level(self) -> float:
        """The confidence level of the report's comparisons and tests (95 or 99.8)."""
        return float(self.context.get("level", 95.0))

    @property
    def las(self) -> pd.DataFrame:
        return pd.DataFrame(self.context["las"])

    @property
    def la_names(self) -> dict[str, str]:
        return {r["la_code"]: r["la_name"] for r in self.context["las"]}

    def _comparators(self) -> list[tuple[str, str]]:
        at = f"as at {self.period_label}"
        england = (
            "England, DfE published (latest year: see each column)"
            if self.published
            else f"{self.context['england_label']}, {at}"
        )
        return [
            (self.context["region"]["code"], f"{self.region_name} (region), {at}"),
            ("england", england),
        ]

    def _column_notes(self) -> dict[str, str]:
        """Indicator id -> the date its figures are as at, where not the period's."""
        return {}

    def _rug_notes(self) -> dict[str, str]:
        """Indicator id -> the note under its rug column: its figures' date where not the
        period's; with published comparators, theirs."""
        notes = {i: f"as at {d}" for i, d in self._column_notes().items()}
        if self.published:
            for ind in self.catalogue:
                date = self.as_at.get(ind.id)
                notes[ind.id] = (
                    f"England, SN, band: {published_when(ind, date)}" if date else NO_PUBLISHED
                )
        return notes

    def _england(self, ind) -> str:
        """England as a table row or sentence about `ind` names it, with its date if
        published."""
        if self.published and ind.id not in self.as_at:
            return f"England ({NO_PUBLISHED})"
        return england_of(ind, self.as_at, self.context["england_label"])

    def _england_lines(self, inds, trend: bool = False) -> str:
        """What a chart's England line is: its name, and with published comparators their
        dates (`trend`: a line over the quarters, which a published figure holds level)."""
        england = self.context["england_label"]
        if not self.published:
            return england
        level = ", level across the quarters" if trend else ""
        return (
            f"{england}, each indicator's latest published year{level} "
            f"({published_dates(inds, self.as_at)})"
        )

    # ------------------------------------------------------------------ sections
    def headline(self) -> HTML:
        return HTML(markup.headline(self.region_name, self.period_label, *self.headline_facts()))

    def headline_facts(self) -> tuple[tuple[int, int, int, int], list, list, list[str]]:
        """What the headline says: (LAs with a return accepted, LAs in the region, figures,
        indicators), the LAs whose return was not accepted, those without one, and the
        narrative's summary points."""
        las = self.las
        accepted = las[las["return_status"] == "accepted"]
        now = self.figures[self.figures["period"] == self.period]
        cells = now[now["la_code"].isin(accepted["la_code"])]
        counts = (len(accepted), len(las), int((cells["status"] == OK).sum()), len(self.catalogue))
        story = {p["key"]: p for p in self.context.get("narrative", [])}
        return (
            counts,
            list(las[las["return_status"] == NOT_ACCEPTED]["la_name"]),
            list(las[las["return_status"] == "missing"]["la_name"]),
            story["summary"]["points"] if "summary" in story else [],
        )

    def packs(self) -> HTML:
        """A link to each LA's self-assessment evidence pack for the period (nothing when the
        packs were not built with this report)."""
        words = {"accepted": "", NOT_ACCEPTED: " (return not accepted)", "missing": " (no return)"}
        links = []
        for la in sorted(self.context["las"], key=lambda x: (x["la_name"], x["la_code"])):
            name = f"{la_label(la)}: self-assessment evidence pack, {self.period_label}"
            if la.get("pack"):
                links.append((name, la["pack"], words.get(la["return_status"], "")))
            elif la.get("pack_failed"):
                links.append((name, None, ""))
        return HTML(markup.packs(links, self.context.get("groups", ()), self.period_label))

    def narrative(self) -> HTML:
        """The generated narrative: movers, persistent band D, region against England, gaps."""
        paras = [p for p in self.context.get("narrative", []) if p["key"] != "summary"]
        return HTML(narrative(paras) + markup.commentary(self.context.get("commentary")))

    def priorities(self) -> HTML:
        """Each regional priority as red / amber / green, with its rule stated beside it."""
        return HTML(
            markup.priorities(
                self.region_name,
                self.context.get("priorities_file", "priorities.yaml"),
                self.period_label,
                self.context.get("priorities", []),
            )
        )

    def rug(self) -> HTML:
        now_la = self.figures[self.figures["period"] == self.period]
        now_area = self.areas[self.areas["period"] == self.period]
        las = self.las.sort_values("la_name", kind="stable")
        return HTML(
            rug_table(
                las,
                now_la,
                now_area,
                self.catalogue,
                self.period_label,
                self._comparators(),
                self._rug_notes(),
                "DfE published" if self.published else None,
            )
            + rug_key(returns=self.RETURNS, published=self.published)
            + self.significance_rug()
        )

    def significance_rug(self) -> str:
        """The rug's second view: each LA's figure better, similar or worse than England at
        the report's level (higher, similar or lower where there is no judgement), then the
        same against each LA's SN mean, folded away."""
        level = f"{self.level:g}%"
        now = self.figures[self.figures["period"] == self.period]
        areas = self.areas[self.areas["period"] == self.period]
        eng = areas[areas["area_code"] == "england"].set_index("indicator_id")["value"]
        region = self.context["region"]["code"]
        las = self.las.sort_values("la_name", kind="stable")
        rows = [(c, n, "la") for c, n in zip(las["la_code"], shown_names(las), strict=True)]
        england = self._comparators()[1][1]
        comparators = [(region, f"{self.region_name} (region)", "comparator")]
        comparators.append(("england", england, "benchmark"))
        vs_england = pd.concat(
            [
                _compared(now, "la_code", "vs_england", now["indicator_id"].map(eng)),
                _compared(areas, "area_code", "vs_england", areas["indicator_id"].map(eng)),
            ]
        )
        notes = {"England": self._sig_notes("England"), "SN": self._sig_notes("SN")}
        against = "England (DfE published)" if self.published else "England"
        sn = "their SN mean (DfE published)" if self.published else "their SN mean"
        return markup.significance(
            level,
            against,
            significance_table(
                rows + comparators,
                vs_england,
                self.catalogue,
                f"Significance rug, {self.period_label}: each LA's value and whether it is "
                f"better, similar or worse than {against} at {level}",
                "no England figure",
                notes["England"],
                "Significance rug: compared with England",
            ),
            significance_key(level, against, "no England figure", self.RETURNS),
            significance_table(
                rows,
                _compared(now, "la_code", "vs_sn", now["sn_mean"]),
                self.catalogue,
                f"Significance rug, {self.period_label}: each LA's value and whether it is "
                f"better, similar or worse than {sn} at {level}",
                "no SN mean",
                notes["SN"],
                "Significance rug: compared with the SN mean",
            ),
        )

    def _sig_notes(self, benchmark: str) -> dict[str, str]:
        """Indicator id -> the note under its significance rug column: no count model (not
        tested), and with published comparators the `benchmark`'s date ('England: year to 31
        March 2025'); a column without one says so in its cells."""
        notes = {i: f"as at {d}" for i, d in self._column_notes().items()}
        for ind in self.catalogue:
            words = [notes[ind.id]] if ind.id in notes else []
            if ind.count_model == "none":
                words.append("no count model")
            if self.published and ind.id in self.as_at:
                words.append(f"{benchmark}: {published_when(ind, self.as_at[ind.id])}")
            if words:
                notes[ind.id] = "; ".join(words)
        return notes

    def themes(self) -> HTML:
        """Per theme: trend charts (each LA, the region and England over the last periods) and a
        ranking chart (the region's LAs this period, best first), each with its figures, then
        the theme's funnel plots."""
        labels = [parse_slug(p).label for p in self.context["periods"]]
        out = []
        for theme, slug, trend, ranking in self.theme_charts:
            trended = _figure(*trend) if trend else markup.first_period(labels[0], self.noun)
            out += [theme_heading(theme, slug), trended, _figure(*ranking)]
            out.append(self._funnels(theme, slug, self.catalogue.in_theme(theme)))
        return HTML("".join(out))

    @cached_property
    def theme_charts(self) -> list[ThemeCharts]:
        """Each theme's trend chart (None in the first period held) and ranking chart, drawn
        once per report: the page's themes and the slide deck show the same charts."""
        periods = self.context["periods"]
        labels = {p: parse_slug(p).label for p in periods}
        a = _own_year(self.areas[self.areas["period"].isin(periods)])
        a = a.set_index(["area_code", "indicator_id", "period"])["value"].to_dict()
        f = _own_year(self.figures[self.figures["period"].isin(periods)])
        shown = f[["period", "la_code"]].assign(shown=f["value"].where(f["status"] == OK))
        f = {i: g.to_numpy().tolist() for i, g in shown.groupby(f["indicator_id"])}
        out = []
        for theme in self.catalogue.themes:
            inds = self.catalogue.in_theme(theme)
            slug = theme.lower().replace(" ", "-")
            trend = self._trend(theme, slug, inds, (a, f), labels) if len(periods) > 1 else None
            ranking = self._ranking(theme, slug, inds, self.context["region"]["code"])
            out.append(ThemeCharts(theme, slug, trend, ranking))
        return out

    def _trend(self, theme, slug, inds, frames, labels) -> Chart:
        """The theme's trend chart: each LA, the region and England over the periods."""
        from pipeline.edges.charts import trend_small_multiples

        a, f = frames
        periods = list(labels)
        region, names = self.context["region"]["code"], self.la_names
        rows = []
        for ind in inds:
            for p in periods:
                for code, series in ((region, "Region"), ("england", "England")):
                    v = a.get((code, ind.id, p), float("nan"))
                    rows.append((ind.short_label, labels[p], series, "", v))
            for p, la, v in f.get(ind.id, []):
                rows.append((ind.short_label, labels[p], "LA", names[la], v))
        data = pd.DataFrame(rows, columns=["indicator", "period", "series", "la", "value"])
        desc = (
            f"Line charts, one per indicator in {theme}: each local authority in the region "
            "(thin grey lines), the region (solid blue line) and "
            f"{self._england_lines(inds, trend=True)} (dashed orange line) for each "
            f"{self.noun} from {labels[periods[0]]} to {labels[periods[-1]]}. "
            "The figures are in the table below the charts."
        )
        return Chart(
            f"trend-{slug}",
            f"{theme}: trends in {self.region_name}, its LAs and {self.context['england_label']}",
            trend_small_multiples(data),
            desc,
            self._trend_table(theme, inds, data, periods, labels),
        )

    def _funnels(self, theme: str, slug: str, inds) -> str:
        """A funnel plot of each of the theme's indicators with a count model: every LA with a
        published figure (the region's only, with published comparators) against control
        limits around England, the region's LAs named."""
        counted = [i for i in inds if i.count_model != "none"]
        if not counted:
            return ""
        now = self.areas[self.areas["period"] == self.period]
        eng = now[now["area_code"] == "england"].set_index("indicator_id")["value"]
        figs = self.funnel.assign(
            la_name=self.funnel["la_code"].map(self.context.get("funnel_las", {}))
        )
        mine = self.la_names
        parts, links = [], []
        for ind in counted:
            england = self._england(ind)
            f = funnel.prepare(
                figs[figs["indicator_id"] == ind.id], ind, eng.get(ind.id, float("nan")), mine
            )
            if f is None:
                why = "no England figure" if pd.isna(eng.get(ind.id)) else "no LA has a figure"
                parts.append(note(f"{ind.short_label}: no funnel plot ({why})."))
                continue
            fig_id, title = (
                f"funnel-{ind.id}",
                f"{ind.short_label}: funnel plot, {self.period_label}",
            )
            missing = [mine[c] for c in mine.keys() - set(f.points["la_code"])]  # sorted later
            desc = funnel.description(
                f,
                self.period_label,
                f"{self.region_name}'s LAs",
                england,
                missing,
                self._funnel_note(ind),
            )
            tbl = funnel.figures_table(
                f,
                f"{ind.short_label}: each LA against the control limits around {england} "
                f"({ind.format(f.target)}), {self.period_label}",
                f"In {self.region_name}",
            )
            svg = funnel.draw(f, f"{self.region_name}'s LAs", england)
            parts.append(_figure(fig_id, title, svg, desc, tbl))
            links.append((fig_id, ind.short_label))
        return markup.funnels_heading(theme, slug, links) + "".join(parts)

    def _funnel_note(self, ind) -> str:
        """What a funnel plot compares with published comparators: the region's quarter with
        England's published year."""
        if not self.published:
            return ""
        date = self.as_at.get(ind.id)
        return (
            f"With DfE's published comparators, only {self.region_name}'s LAs have figures for "
            f"{self.period_label} (no other LA's quarter is held), so they alone are plotted, "
            "against limits around England's published figure"
            + (f" ({published_when(ind, date)})." if date else ".")
        )

    def _trend_table(self, theme, inds, data, periods, labels) -> str:
        fmt = {i.short_label: i for i in inds}
        area = data["la"].where(data["series"] == "LA", data["series"])
        keyed: dict = {}
        for i, a, p, v in zip(data["indicator"], area, data["period"], data["value"], strict=True):
            keyed[i, a, p] = float("nan") if (i, a, p) in keyed else v  # a shared label: blank
        areas = [*sorted(self.la_names.values()), "Region", "England"]
        trows = []
        for ind in inds:
            for area in areas:
                vals = [keyed.get((ind.short_label, area, labels[p])) for p in periods]
                vals = [fmt[ind.short_label].format(v) if v is not None else "" for v in vals]
                shown = {"Region": self.region_name, "England": self._england(ind)}
                trows.append([f"{ind.short_label}: {shown.get(area, area)}", *vals])
        return table(
            f"{theme}: figures behind the trend charts (blank: no figure)",
            ["Indicator: area"] + [labels[p] for p in periods],
            trows,
            numeric=[False] + [True] * len(periods),
        )

    def _ranking(self, theme, slug, inds, region) -> Chart:
        from pipeline.edges.charts import ranking_chart

        rows, trows = self._ranking_rows(inds, region)
        data = pd.DataFrame(
            rows, columns=["indicator", "la", "value", "rank", "band", "region", "england"]
        )
        lines = (
            f"the solid blue line is the region, as at {self.period_label}, and the dashed "
            f"orange line {self._england_lines(inds)}"
            if self.published
            else "the solid blue line is the region and the dashed orange line "
            f"{self.context['england_label']}, both as at {self.period_label}"
        )
        desc = (
            f"Dot charts, one per indicator in {theme}: the region's local authorities in "
            f"{self.period_label}, best first by the indicator's polarity (highest first where "
            f"there is no judgement), each dot coloured and labelled with its quartile band; "
            f"{lines}. The figures are in the table below the charts."
        )
        england = "Rank in England" + (" (among published figures)" if self.published else "")
        tbl = table(
            f"{theme}: ranks in {self.period_label}",
            ["Indicator: local authority", "Value", "Band", "Rank in region", england],
            trows,
            numeric=[False, True, False, True, True],
        )
        return Chart(
            f"rank-{slug}",
            f"{theme}: where each LA ranks, {self.period_label}",
            ranking_chart(data),
            desc,
            tbl,
        )

    def _ranking_rows(self, inds, region) -> tuple[list[tuple], list[list[str]]]:
        """The ranking charts' points and their table's rows: each LA of the region this
        period, best first, then the region and England."""
        now = self.figures[self.figures["period"] == self.period]
        a = self.areas[self.areas["period"] == self.period]
        a = a.set_index(["area_code", "indicator_id"])["value"].to_dict()
        names = self.la_names
        rows, trows = [], []
        for ind in inds:
            reg, eng = (a.get((code, ind.id), float("nan")) for code in (region, "england"))
            mine = now[now["indicator_id"] == ind.id].sort_values(
                ["rank_region", "la_code"], na_position="last"
            )
            for r in mine.itertuples():
                value = r.value if r.status == OK else float("nan")
                band = r.band if isinstance(r.band, str) else ""
                rows.append(
                    (ind.short_label, names[r.la_code], value, r.rank_region, band, reg, eng)
                )
                trows.append(
                    [
                        f"{ind.short_label}: {names[r.la_code]}",
                        ind.format(value) or STATUS_TEXT.get(r.status, r.status),
                        band or ("no judgement" if not ind.judged else ""),
                        rank_text(r.rank_region, r.las_ranked_region),
                        rank_text(r.rank_national, r.las_ranked_national),
                    ]
                )
            for label, v in ((self.region_name, reg), (self._england(ind), eng)):
                shown = ind.format(v) or "no figure"
                trows.append([f"{ind.short_label}: {label}", shown, "", "", ""])
        return rows, trows

    def workbook(self, about: dict) -> bytes:
        """The rug as a workbook (regional-benchmark.xlsx), with an About sheet and the
        figures as a tidy sheet."""
        from pipeline.report.regional_workbook import workbook

        return workbook(self, about)

    def deck(self, about: dict) -> bytes:
        """The quarter's slide deck (regional-benchmark.pptx), the narrative in its notes."""
        from pipeline.report.regional_deck import deck

        return deck(self, about)

    def method(self) -> HTML:
        c = self.context
        return HTML(
            markup.method(
                self.period_label,
                c["contract"],
                c["england_label"],
                c.get("disclosure"),
                c["catalogue_version"],
                published_method(list(self.catalogue), self.as_at, self.period_label)
                if self.published
                else (),
                significance_method(self.level),
                f"{self.level:g}%",
                [i.short_label for i in self.catalogue if i.count_model == "none"],
            )
        )


def _compared(figures: pd.DataFrame, key: str, word: str, benchmark) -> pd.DataFrame:
    """Figures as the significance rug reads them: each row's `key` (its row), the comparison
    in column `word` and the `benchmark`'s figure it was compared with."""
    out = figures.assign(key=figures[key], word=figures[word].fillna(""), benchmark=benchmark)
    return out[["key", "indicator_id", "value", "status", "word", "benchmark"]]


def _own_year(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that are their own period's figures: a trend leaves out a figure shown again
    as a later period's (``as_at``: a file that ends earlier than the datapack's year)."""
    if "as_at" not in frame.columns:
        return frame
    return frame[frame["as_at"].eq(frame["period"])]
