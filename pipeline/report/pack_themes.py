"""The self-assessment pack's themes: per theme, the scorecard, the trend chart against the
comparators and the ranking among the statistical neighbours, each chart with its figures."""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from pipeline.core.catalogue import Indicator
from pipeline.core.narrative import england_of, published
from pipeline.core.periods import parse_slug
from pipeline.core.significance import DEFAULT_LEVEL, interval_columns
from pipeline.core.trends import NO_CHANGE
from pipeline.core.vocabulary import OK
from pipeline.html import pack as markup
from pipeline.html.base import table
from pipeline.html.rug import NO_COUNTS, NOT_TESTED, STATUS_TEXT
from pipeline.html.sections import NO_PUBLISHED, la_figure, note, published_dates, theme_heading
from pipeline.report.common import HTML, _figure, rank_text

TREND_LABEL = {
    "improving": "improving",
    "worsening": "worsening",
    "stable": "stable",
    NO_CHANGE: NO_CHANGE,
    "rising": "rising (no judgement)",
    "falling": "falling (no judgement)",
}
NAN = float("nan")
#: the benchmarks a scorecard compares the LA's figure with: (column, heading, the
#: scorecard's column of the benchmark's figure, what the cell says without one)
VERSUS = (
    ("vs_england", "Compared with England", "england", markup.NO_ENGLAND),
    ("vs_region", "Compared with region", "region", markup.NO_REGION),
    ("vs_sn", "Compared with SN mean", "sn_mean", markup.NO_SN),
)


class PackThemes:
    """The themes section of ``pipeline.report.pack.SelfAssessmentPack`` (which it is mixed
    into): it reads the pack's figures, neighbours, areas, context and scorecard."""

    def themes(self) -> HTML:
        """Per theme: the scorecard, the trend chart and the ranking among neighbours."""
        if not self.has_figures:
            return self._no_figures("No scorecard or charts")
        card = self._card.set_index("indicator_id")
        out = [markup.comparison_key(self.level)]
        for theme in self.catalogue.themes:
            inds = self.catalogue.in_theme(theme)
            slug = theme.lower().replace(" ", "-")
            out.append(theme_heading(theme, slug))
            out.append(self._scorecard(theme, inds, card))
            out.append(self._trend(theme, slug, inds))
            out.append(self._ranking(theme, slug, inds))
        return HTML("".join(out))

    @cached_property
    def _standing(self) -> dict[str, list[tuple[str, float, str]]]:
        """Indicator id -> (LA code, value, band) of the LA and each neighbour with a figure
        this quarter, the LA first."""
        f = self.figures[self.figures["period"] == self.period]
        out: dict[str, list[tuple[str, float, str]]] = {}
        for frame in (f, self.neighbours):
            for code, ind, status, value, band in zip(
                frame["la_code"],
                frame["indicator_id"],
                frame["status"],
                frame["value"],
                frame["band"],
                strict=True,
            ):
                if status == OK and pd.notna(value):
                    out.setdefault(ind, []).append(
                        (code, value, band if isinstance(band, str) else "")
                    )
        return out

    @cached_property
    def _lines(self) -> dict[tuple[str, str, str], float]:
        """(series, indicator id, period) -> the trend charts' figure: the LA's own (when it
        is a figure), its neighbours' mean, the region and England."""
        f, a = self.figures, self.areas
        out: dict[tuple[str, str, str], float] = {}
        for ind, p, status, value, sn in zip(
            f["indicator_id"], f["period"], f["status"], f["value"], f["sn_mean"], strict=True
        ):
            out[("LA", ind, p)] = value if status == OK else NAN
            out[("SN mean", ind, p)] = sn
        series = {self.context["region"]["code"]: "Region", "england": "England"}
        for code, ind, p, value in zip(
            a["area_code"], a["indicator_id"], a["period"], a["value"], strict=True
        ):
            if code in series:
                out[(series[code], ind, p)] = value
        return out

    @property
    def level(self) -> float:
        """The confidence level of the intervals shown and the comparisons (95 or 99.8)."""
        return float(self.context.get("level", DEFAULT_LEVEL))

    @cached_property
    def _judged(self) -> pd.DataFrame:
        """The LA's figures this period by indicator: their intervals and comparisons."""
        now = self.figures[self.figures["period"] == self.period]
        return now.drop_duplicates("indicator_id").set_index("indicator_id")

    def _interval(self, ind: Indicator, held: bool) -> str:
        """The LA's interval at the level as the scorecard shows it: '20.1% to 26.9%'; why
        there is none; blank without a figure."""
        if ind.count_model == "none":
            return "no interval: no count model"
        lo_col, hi_col = interval_columns(self.level)
        j = self._judged
        if not held or ind.id not in j.index:
            return ""
        lo, hi = j.at[ind.id, lo_col], j.at[ind.id, hi_col]
        if pd.isna(lo) or pd.isna(hi):
            return "no interval: no counts"
        return f"{ind.format(lo)} to {ind.format(hi)}"

    def _versus(self, ind: Indicator, r: pd.Series, held: bool) -> list[str]:
        """The LA's figure against England, its region and its SN mean (`r`: its scorecard
        row): 'better', 'similar', 'worse' ('higher', 'lower' without a judgement), or why
        there is no comparison; blank without a figure."""
        j = self._judged
        if not held:
            return [""] * len(VERSUS)
        words = []
        for col, _, benchmark, missing in VERSUS:
            word = j.at[ind.id, col] if ind.id in j.index and col in j.columns else ""
            if not (isinstance(word, str) and word):
                word = (
                    NOT_TESTED
                    if ind.count_model == "none"
                    else missing
                    if pd.isna(r[benchmark])
                    else NO_COUNTS
                )
            words.append(word)
        return words

    def _scorecard(self, theme: str, inds: list[Indicator], card: pd.DataFrame) -> str:
        head = [
            "Indicator",
            self.la_name,
            f"{self.level:g}% interval",
            "Previous quarter",
            "Same quarter last year",
            "SN mean",
            "SN median",
            "Region",
            "England",
            *(v[1] for v in VERSUS),
            "Rank in England",
            "Rank in region",
            "Band",
            f"Trend since {parse_slug(self.period).shifted(-3).label}",
        ]
        rows = []
        for ind in inds:
            r = card.loc[ind.id]
            held = r["status"] == OK and pd.notna(r["value"])
            value = ind.format(r["value"]) if held else STATUS_TEXT.get(r["status"], r["status"])
            figures = [
                value,
                self._interval(ind, held),
                *(
                    ind.format(r[col])
                    for col in ("previous_value", "year_earlier_value", "sn_mean", "sn_median")
                ),
                *(ind.format(r[col]) for col in ("region", "england")),
            ]
            ranks = [
                rank_text(r["rank_national"], r["las_ranked_national"]),
                rank_text(r["rank_region"], r["las_ranked_region"]),
            ]
            band = r["band"] if isinstance(r["band"], str) else ""
            unbanded = "no judgement" if not ind.judged else ""
            trend = TREND_LABEL.get(r["trend"], self._no_trend(r))
            rows.append(
                markup.ScorecardRow(
                    ind.label,
                    figures,
                    self._versus(ind, r, held),
                    ranks,
                    band,
                    unbanded,
                    trend,
                    self._card_note(ind),
                )
            )
        return markup.scorecard(theme, self.period_label, head, rows)

    def _card_note(self, ind: Indicator) -> str:
        """Under a scorecard row's label, with published comparators: their date, and what
        the LA's own figure covers; or that there is none."""
        if not self.published:
            return ""
        if ind.id not in self.as_at:
            return (
                f"{NO_PUBLISHED}: SN, band and rank among the region's LAs with an accepted "
                "return; no England figure"
            )
        return (
            f"SN, England, band and rank in England: {published(ind, self.as_at)} "
            f"({self.la_name}'s figure: {la_figure(ind)})"
        )

    def _comparator_names(self, ind: Indicator) -> dict[str, str]:
        """The trend table's series as its rows about `ind` name them, published ones dated."""
        sn = "Statistical neighbours' mean"
        if ind.id in self.as_at:
            sn += f" ({published(ind, self.as_at)})"
        elif self.published:
            sn += " (of the neighbours with an accepted return)"
        return {
            "LA": self.la_name,
            "SN mean": sn,
            "Region": self.region_name,
            "England": f"England ({NO_PUBLISHED})"
            if self.published and ind.id not in self.as_at
            else england_of(ind, self.as_at, self.england),
        }

    def _published_lines(self, inds: list[Indicator], trend: bool) -> str:
        """With published comparators, what the SN mean and England lines are (nothing
        without)."""
        if not self.published:
            return ""
        level = ", level across the quarters" if trend else ""
        dots = "" if trend else " The dots are the neighbours with an accepted return."
        return (
            f"{dots} The neighbours' mean and England are DfE's published figures of each "
            f"indicator's latest year{level} ({published_dates(inds, self.as_at)})."
        )

    def _no_trend(self, r) -> str:
        """Why a scorecard row has no trend: no figure now, or none three quarters earlier."""
        then = parse_slug(self.period).shifted(-3)
        if not (r["status"] == OK and pd.notna(r["value"])):
            return "no trend: no figure"
        if then.slug not in self.context["periods"]:
            return f"no trend yet: {then.label} is not held"
        return f"no trend: no figure for {then.label}"

    def _trend(self, theme: str, slug: str, inds: list[Indicator]) -> str:
        from pipeline.edges.charts import pack_trend_chart

        periods = self.context["periods"]
        labels = {p: parse_slug(p).label for p in periods}
        if len(periods) < 2:
            return note(
                f"No trend chart: {labels[periods[0]]} is the first "
                "quarter held, so there is nothing yet to compare it with."
            )
        lines = self._lines
        rows = [
            (ind.short_label, labels[p], series, lines.get((series, ind.id, p), NAN))
            for ind in inds
            for p in periods
            for series in ("LA", "SN mean", "Region", "England")
        ]
        data = pd.DataFrame(rows, columns=["indicator", "period", "series", "value"])
        names = {
            "LA": self.la_name,
            "SN mean": "Statistical neighbours' mean",
            "Region": self.region_name,
            "England": self.england,
        }
        trows = [
            [
                f"{ind.short_label}: {self._comparator_names(ind)[series]}",
                *(ind.format(lines.get((series, ind.id, p), NAN)) for p in periods),
            ]
            for ind in inds
            for series in names
        ]
        tbl = table(
            f"{theme}: figures behind the trend charts (blank: no figure)",
            ["Indicator: series"] + [labels[p] for p in periods],
            trows,
            numeric=[False] + [True] * len(periods),
        )
        desc = (
            f"Line charts, one per indicator in {theme}: {self.la_name} (thick black line), the "
            "mean of its statistical neighbours (dotted purple line), the region (solid blue "
            f"line) and {self.england} (dashed orange line), for each quarter from "
            f"{labels[periods[0]]} to {labels[periods[-1]]}.{self._published_lines(inds, True)} "
            "The figures are in the table below the charts."
        )
        return _figure(
            f"trend-{slug}",
            f"{theme}: {self.la_name} over time against its comparators",
            pack_trend_chart(data, self.la_name),
            desc,
            tbl,
        )

    def _ranking(self, theme: str, slug: str, inds: list[Indicator]) -> str:
        from pipeline.edges.charts import neighbour_ranking_chart

        if not self.context["neighbours"]:
            return note(
                "No ranking among neighbours: no statistical neighbours "
                "are listed for this LA in the reference data."
            )
        rows, trows = self._ranking_rows(inds)
        data = pd.DataFrame(
            rows,
            columns=["indicator", "la", "value", "rank", "band", "this_la", "sn_mean", "england"],
        )
        tbl = table(
            f"{theme}: {self.la_name} among its statistical neighbours, {self.period_label}",
            ["Indicator: local authority", "Rank among them", "Value", "Band (or who)"],
            trows,
            numeric=[False, True, True, False],
        )
        desc = (
            f"Dot charts, one per indicator in {theme}: {self.la_name} (large black diamond, "
            "labelled 'this LA') and its statistical neighbours (grey circles) in "
            f"{self.period_label}, best first by the indicator's polarity (highest first where "
            "there is no judgement), each labelled with its quartile band; the dotted purple "
            f"line is the neighbours' mean and the dashed orange line {self.england}."
            f"{self._published_lines(inds, False)} The figures are in the table below the charts."
        )
        return _figure(
            f"rank-{slug}",
            f"{theme}: {self.la_name} among its statistical neighbours, {self.period_label}",
            neighbour_ranking_chart(data),
            desc,
            tbl,
        )

    def _ranking_rows(self, inds: list[Indicator]) -> tuple[list[tuple], list[list[str]]]:
        """The neighbour ranking charts' points and their table's rows: the LA and each
        neighbour with a figure, best first (ties share the best rank), then who has none."""
        me = self.context["la"]["code"]
        label_of = {me: f"{self.la_name} (this LA)"} | {
            n["la_code"]: n["la_name"] for n in self.context["neighbours"]
        }
        standing = self._standing
        rows, trows = [], []
        for ind in inds:
            low = ind.polarity == "low"
            ordered = sorted(
                (
                    (code, label_of[code], value, band)
                    for code, value, band in standing.get(ind.id, [])
                    if code in label_of
                ),
                key=lambda x: (x[2] if low else -x[2], x[1]),
            )
            m = self._lines.get(("SN mean", ind.id, self.period), NAN)
            e = self._lines.get(("England", ind.id, self.period), NAN)
            values = [x[2] for x in ordered]
            for code, name, value, band in ordered:
                rank = values.index(value) + 1  # ties share the best rank
                rows.append((ind.short_label, name, value, rank, band, code == me, m, e))
                trows.append(
                    [
                        f"{ind.short_label}: {name}",
                        str(rank),
                        ind.format(value),
                        band or ("no judgement" if not ind.judged else ""),
                    ]
                )
            shown = {x[0] for x in ordered}
            without = [label_of[code] for code in label_of if code not in shown]
            if without:
                trows.append([f"{ind.short_label}: without a figure", "", "", "; ".join(without)])
        return rows, trows
