"""The annual datapack: one region's LAs against their statistical neighbours, the region and
England, from DfE's published statistics (see ``pipeline.orchestration.products.datapack``)."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import pandas as pd

from pipeline.core.crosscheck import DIFFERS
from pipeline.core.periods import parse_slug
from pipeline.core.significance import DEFAULT_LEVEL
from pipeline.core.vocabulary import OK
from pipeline.html import datapack as markup
from pipeline.html.base import table
from pipeline.html.crosscheck import crosscheck_table
from pipeline.html.pack import NO_ENGLAND, comparison_key
from pipeline.html.rug import NO_COUNTS, NOT_TESTED, STATUS_TEXT
from pipeline.html.sections import paragraph
from pipeline.report.common import HTML, rank_text
from pipeline.report.regional import RegionalBenchmark

#: the notebook's section headings, in order (the page's contents links to them)
HEADINGS_SHOWN = ("The tartan rug", "What the year shows", "Each local authority")
HEADINGS_SHOWN += (
    "Themes: trends and rankings",
    "Published cross-check",
    "How the figures are made",
)
#: the comparisons in each LA's table: (column, heading)
VERSUS = (("vs_england", "Compared with England"),)


class AnnualDatapack(RegionalBenchmark):
    """One region and year: the rug, the narrative, each LA's comparisons, the themes' trends
    and ranks, and the published cross-check."""

    SECTIONS = ("headline", "rug", "narrative", "local_authorities", "themes", "crosscheck")
    SECTIONS += ("method",)
    #: the quarterly report's workbook and slides are not the datapack's (its year, its
    #: England-wide tables): none yet
    ARTEFACTS: ClassVar[dict[str, str]] = {}

    @property
    def level(self) -> float:
        """The confidence level of the comparisons and tests (95 or 99.8)."""
        return float(self.context.get("level", DEFAULT_LEVEL))

    def _comparators(self) -> list[tuple[str, str]]:
        return [
            (self.context["region"]["code"], f"{self.region_name} (region), {self.period_label}"),
            ("england", f"England, {self.period_label}"),
        ]

    #: published statistics: no returns to accept (the rug's key says so)
    RETURNS = False

    def _column_notes(self) -> dict[str, str]:
        dates = self.context.get("as_at", {})
        return {i: d["date"] for i, d in dates.items() if d["other"]}

    def _other_dates(self) -> list[tuple[str, list[str], bool]]:
        """The dates figures are as at other than the datapack's year: (date, the indicators'
        short labels, whether that is an earlier year than the datapack's)."""
        notes = self._column_notes()
        dates = self.context.get("as_at", {})
        out: dict[str, list[str]] = {}
        for ind in self.catalogue:
            if ind.id in notes:
                out.setdefault(notes[ind.id], []).append(ind.short_label)
        earlier = {d["date"] for d in dates.values() if d["year"] != self.period}
        return [(date, labels, date in earlier) for date, labels in out.items()]

    # ------------------------------------------------------------------ sections

    def headline(self) -> HTML:
        c = self.context
        now = self.figures[self.figures["period"] == self.period]
        valued = int((now["status"] == OK).sum())
        first, last = (parse_slug(y).label for y in c["years_held"])
        story = {p["key"]: p for p in c.get("narrative", [])}
        summary = story["summary"]["points"] if "summary" in story else []
        counts = (len(c["las"]), valued, len(self.catalogue), len(c["sources"]), c["trend_years"])
        return HTML(
            markup.headline(
                self.region_name, self.period_label, counts, (first, last), summary, HEADINGS_SHOWN
            )
            + markup.other_dates(self.period_label, self._other_dates())
        )

    def local_authorities(self) -> HTML:
        """Per LA: each indicator against its neighbours' mean and median, the region and
        England, with its ranks, band and trend over the datapack's years."""
        c = self.context
        labels = [parse_slug(p).label for p in c["periods"]]
        first = labels[0]
        las = sorted(c["las"], key=lambda x: (x["la_name"], x["la_code"]))
        out = [
            markup.la_nav([(la["la_code"], la["la_name"]) for la in las]),
            paragraph(
                "For each local authority, every indicator in "
                f"{self.period_label} against the mean and median of its 10 statistical "
                f"neighbours, {self.region_name} and England; its rank among all LAs with a "
                "figure (1 is best, or highest where no judgement is made) and in the region; its "
                "quartile band; whether it is better, similar or worse than England by its "
                f"{self.level:g}% confidence interval (the figures CSV also compares it with the "
                f"region and the SN mean); and its trend from {first}, tested over the years (the "
                "figures of each year are in the last columns)."
            ),
            comparison_key(self.level, "England", [NO_ENGLAND]),
        ]
        heads = ["Indicator", self.period_label, "SN mean", "SN median", self.region_name]
        heads += ["England", "Rank in England", "Rank in region", "Band"]
        heads += [h for _, h in VERSUS]
        heads += [f"Trend since {first}", *labels[:-1]]
        numeric = [False, True, True, True, True, True, True, True, False]
        numeric += [False] * (len(VERSUS) + 1) + [True] * (len(labels) - 1)
        for la in las:
            code = la["la_code"]
            neighbours = c.get("neighbours", {}).get(code, [])
            out.append(
                markup.la_heading(code, la["la_name"])
                + paragraph(
                    f"Statistical neighbours, closest first: {', '.join(neighbours)}."
                    if neighbours
                    else "No statistical neighbours in the model."
                )
                + table(
                    f"{la['la_name']} against its statistical neighbours, the region and "
                    f"England, {self.period_label}",
                    heads,
                    self._la_rows(code),
                    numeric=numeric,
                )
            )
        return HTML("".join(out))

    @cached_property
    def _la_frames(self) -> tuple[dict, dict]:
        """The areas' values and the LAs' figures (each row a dict), keyed for look-up by
        (code, indicator, period): a dict look-up per cell, not a MultiIndex row."""
        a, f = self.areas, self.figures
        values = dict(zip(_keys(a, "area_code"), a["value"], strict=True))
        return values, dict(zip(_keys(f, "la_code"), f.to_dict("records"), strict=True))

    def _la_rows(self, code: str) -> list[list[str]]:
        """One LA's table: per indicator, its figure (or why none), its neighbours' mean and
        median, the region, England, its ranks, band and trend, then each earlier year."""
        periods = self.context["periods"]
        region = self.context["region"]["code"]
        a, f = self._la_frames
        notes = self._column_notes()
        rows = []
        for ind in self.catalogue:
            r = f.get((code, ind.id, self.period))
            if r is None:
                value, status = "", "no figure"
            else:
                value = ind.format(r["value"]) if r["status"] == OK else ""
                if value and isinstance(r.get("shared"), str) and r["shared"]:
                    value += f" (joint: {self.context['shared'].get(r['shared'], r['shared'])})"
                status = STATUS_TEXT.get(r["status"], r["status"])
            before = (f.get((code, ind.id, p)) for p in periods[:-1])
            earlier = [ind.format(e["value"]) if e and e["status"] == OK else "" for e in before]
            trend = ""
            if r is not None and isinstance(r["trend"], str) and pd.notna(r["trend_from"]):
                trend = f"{r['trend']} (from {ind.format(r['trend_from'])})"
            band = r["band"] if r is not None and isinstance(r["band"], str) else ""
            versus = _versus(ind, r, a.get(("england", ind.id, self.period)))
            note = f" (as at {notes[ind.id]})" if ind.id in notes else ""
            rows.append(
                [
                    ind.short_label + note,
                    value or status,
                    "" if r is None else ind.format(r["sn_mean"]),
                    "" if r is None else ind.format(r["sn_median"]),
                    ind.format(a.get((region, ind.id, self.period))),
                    ind.format(a.get(("england", ind.id, self.period))),
                    "" if r is None else rank_text(r["rank_national"], r["las_ranked_national"]),
                    "" if r is None else rank_text(r["rank_region"], r["las_ranked_region"]),
                    band or ("" if ind.judged else "no judgement"),
                    *versus,
                    trend,
                    *earlier,
                ]
            )
        return rows

    def crosscheck(self) -> HTML:
        """DfE's own region and England figures against the sums of the LA rows."""
        c = self.context["crosscheck"]
        rows = c["rows"]
        names = {self.context["region"]["code"]: self.region_name}
        first, last = (parse_slug(p).label for p in (self.context["periods"][0], self.period))
        parts = [markup.crosscheck_summary(self.region_name, (first, last), c["summary"])]
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
                markup.folded(
                    "Show every comparison",
                    crosscheck_table(
                        f"Published cross-check, {self.region_name} and England",
                        rows,
                        names,
                        self.catalogue,
                    ),
                )
            )
        return HTML("".join(parts))

    def method(self) -> HTML:
        c = self.context
        return HTML(
            markup.method(
                self.region_name,
                c["mapping"],
                c["sources"],
                c["trend_years"],
                c["disclosure"],
                self._other_dates(),
                self.level,
            )
        )


def _keys(frame: pd.DataFrame, code: str) -> list[tuple]:
    """Each row's (code, indicator, period)."""
    return list(zip(frame[code], frame["indicator_id"], frame["period"], strict=True))


def _versus(ind, r, england) -> list[str]:
    """An LA's figure (`r`, None for none) against England (`england`, its figure): 'better',
    'similar', 'worse' ('higher', 'lower' without a judgement) or why there is no comparison;
    blank without a figure."""
    if r is None or r["status"] != OK:
        return [""] * len(VERSUS)
    words = []
    for col, _ in VERSUS:
        word = r.get(col, "")
        if not (isinstance(word, str) and word):
            word = (
                NOT_TESTED
                if ind.count_model == "none"
                else NO_ENGLAND
                if pd.isna(england)
                else NO_COUNTS
            )
        words.append(word)
    return words
