"""The self-assessment evidence pack: one LA and period against its statistical neighbours, the
region and England, with the evidence statements and questions the driver worked out."""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from pipeline.core.assessment import MIN_COUNT, WORSENING_PERIODS, scorecard
from pipeline.core.catalogue import Indicator
from pipeline.core.html import esc, table
from pipeline.core.periods import parse_slug
from pipeline.core.rug import STATUS_TEXT
from pipeline.core.vocabulary import NOT_ACCEPTED, OK, STATUS_SYMBOLS
from pipeline.report.common import HTML, Report, _figure

TREND_LABEL = {
    "improving": "improving",
    "worsening": "worsening",
    "stable": "stable",
    "rising": "rising (no judgement)",
    "falling": "falling (no judgement)",
}


NAN = float("nan")


class SelfAssessmentPack(Report):
    """One LA and period: the data its self-assessment evidence pack shows."""

    CSVS = ("figures", "neighbours", "areas")
    SECTIONS = ("headline", "profile", "evidence", "questions", "themes", "annex", "method")
    figures: pd.DataFrame  # the LA's rows for the trend periods
    neighbours: pd.DataFrame  # its statistical neighbours' rows for the period
    areas: pd.DataFrame  # the region and England for the trend periods

    @property
    def la_name(self) -> str:
        return self.context["la"]["name"]

    @property
    def return_status(self) -> str:
        return self.context["la"]["return_status"]

    @property
    def has_figures(self) -> bool:
        return self.return_status == "accepted"

    @property
    def england(self) -> str:
        return self.context["england_label"]

    def _no_figures(self, what: str) -> HTML:
        return HTML(f'<p class="no-chart">{esc(what)}: {esc(self._why_no_figures())}</p>')

    def _why_no_figures(self) -> str:
        if self.return_status == NOT_ACCEPTED:
            return (
                f"{self.la_name}'s return for {self.period_label} was not accepted by validation, "
                "so there are no figures to show. Figures from earlier quarters are not used in "
                "their place."
            )
        return f"no return was received from {self.la_name} for {self.period_label}."

    @cached_property
    def _card(self) -> pd.DataFrame:
        return scorecard(
            self.figures, self.areas, self.catalogue, self.period, self.context["region"]["code"]
        )

    def _previous_held(self) -> str | None:
        """The previous quarter's label when the LA has an accepted return for it, else None."""
        prev = parse_slug(self.period).previous().slug
        rows = self.figures[self.figures["period"] == prev]
        held = rows["status"].isin([OK, *STATUS_SYMBOLS]).any()
        return parse_slug(prev).label if held else None

    # ------------------------------------------------------------------ sections
    def headline(self) -> HTML:
        links = self.context["links"]
        back = (
            f'<p>Part of <a href="{esc(links["regional"])}">{esc(self.region_name)}: quarterly '
            f"benchmarking, {esc(self.period_label)}</a>.</p>"
        )
        title = (
            f"<h1>{esc(self.la_name)}: self-assessment evidence pack, {esc(self.period_label)}</h1>"
        )
        if not self.has_figures:
            feedback = (
                f' <a href="{esc(links["feedback"])}">Read what validation found in '
                f"{esc(self.la_name)}'s return</a>."
                if links.get("feedback")
                else ""
            )
            return HTML(
                f'{title}<p class="lede notice">{esc(self._why_no_figures())}{feedback}</p>{back}'
            )
        card = self._card
        valued = card[card["status"].eq(OK) & card["value"].notna()]
        judged = valued[valued["indicator_id"].map(lambda i: self.catalogue[i].judged)]
        a = self.context["assessment"]
        bands = judged["band"].value_counts()
        n_a, n_d = int(bands.get("A", 0)), int(bands.get("D", 0))
        points = [
            f"{len(valued)} of {len(card)} indicators have a figure for "
            f"{self.period_label}; of the {len(judged)} where higher or lower is better, "
            f"{n_a} {'is' if n_a == 1 else 'are'} in band A (among the best 25% of all LAs) "
            f"and {n_d} in band D (among the worst 25%).",
            f"{_count(len(a['strengths']), 'strength')}, "
            f"{_count(len(a['development']), 'area')} for development and "
            f"{_count(len(a['questions']), 'question')} for peer challenge, found by the rules "
            "set out under How the figures are made.",
        ]
        compared = self._previous_held()
        if compared:
            points.append(
                f"{_count(len(a['changes']), 'figure')} changed notably since {compared}."
            )
        return HTML(
            f"{title}"
            f'<p class="lede">{esc(self.la_name)} against '
            f"{'its statistical neighbours, ' if self.context['neighbours'] else ''}"
            f"{esc(self.region_name)} and {esc(self.england)}, every figure as at "
            f"{esc(self.period_label)}.</p>"
            f'<ul class="lede">{"".join(f"<li>{esc(p)}</li>" for p in points)}</ul>{back}'
        )

    def profile(self) -> HTML:
        c = self.context
        pop = c.get("population")
        rows = [
            ["Local authority", f"{self.la_name} ({c['la']['code']})"],
            ["Region", self.region_name],
            [
                "Children aged 0 to 17",
                f"{pop['value']:,} ({pop['year']} estimate)"
                if pop
                else "not in the reference data",
            ],
            ["Return for " + self.period_label, _return_words(self.return_status)],
        ]
        facts = table(f"{self.la_name}: profile", ["Fact", "Value"], rows)
        sn_rows = [
            [
                n["la_name"],
                str(n["rank"]),
                n["closeness"],
                n["region_name"],
                _return_words(n["return_status"]),
            ]
            for n in c["neighbours"]
        ]
        sn = (
            table(
                f"{self.la_name}'s statistical neighbours, closest first",
                ["Local authority", "Rank", "Closeness", "Region", f"Return, {self.period_label}"],
                sn_rows,
                numeric=[False, True, False, False, False],
            )
            if sn_rows
            else "<p>No statistical neighbours are listed for this LA in the reference data, "
            "so there are no neighbour comparators.</p>"
        )
        return HTML(facts + sn)

    def evidence(self) -> HTML:
        if not self.has_figures:
            return self._no_figures("No evidence statements")
        a = self.context["assessment"]
        prev = parse_slug(self.period).previous().label
        compared = self._previous_held()
        parts = []
        for key, heading, none in (
            ("strengths", "Strengths", "No indicator meets the rules for a strength."),
            (
                "development",
                "Areas for development",
                "No indicator is in band D or has got worse for "
                f"{WORSENING_PERIODS} quarters running.",
            ),
            (
                "changes",
                f"Changes since {prev}",
                f"No figure moved by 5% or more, or changed band, since {prev}."
                if compared
                else f"{self.period_label} is the first quarter held, so there is nothing to "
                "compare it with yet."
                if self.period == self.context["first_period"]
                else f"{self.la_name} has no accepted return for {prev}, so there is nothing "
                "to compare with.",
            ),
        ):
            items = a[key]
            body = (
                "<ul>" + "".join(f"<li>{esc(s['text'])}</li>" for s in items) + "</ul>"
                if items
                else f"<p>{esc(none)}</p>"
            )
            count = f" ({len(items)})" if key != "changes" or compared else ""
            parts.append(f'<h3 id="{key}">{esc(heading)}{count}</h3>{body}')
        return HTML(f'<div class="narrative">{"".join(parts)}</div>')

    def questions(self) -> HTML:
        if not self.has_figures:
            return self._no_figures("No questions")
        qs = self.context["assessment"]["questions"]
        if not qs:
            return HTML(
                "<p>No area for development meets the rules, so no question is generated. The "
                "moderator may still ask how the LA knows its strengths will last.</p>"
            )
        items = "".join(f"<li>{esc(q['text'])}</li>" for q in qs)
        return HTML(
            f"<p>For the moderating LA: one question for each area for development, with the "
            f'figures it rests on.</p><ol class="questions">{items}</ol>'
        )

    def themes(self) -> HTML:
        """Per theme: the scorecard, the trend chart and the ranking among neighbours."""
        if not self.has_figures:
            return self._no_figures("No scorecard or charts")
        card = self._card.set_index("indicator_id")
        out = []
        for theme in self.catalogue.themes:
            inds = self.catalogue.in_theme(theme)
            slug = theme.lower().replace(" ", "-")
            out.append(f'<h3 id="theme-{esc(slug)}">{esc(theme)}</h3>')
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

    def _scorecard(self, theme: str, inds: list[Indicator], card: pd.DataFrame) -> str:
        head = [
            "Indicator",
            self.la_name,
            "Previous quarter",
            "Same quarter last year",
            "SN mean",
            "SN median",
            "Region",
            "England",
            "Rank in England",
            "Rank in region",
            "Band",
            f"Trend since {parse_slug(self.period).shifted(-3).label}",
        ]
        rows = []
        for ind in inds:
            r = card.loc[ind.id]
            value = (
                ind.format(r["value"])
                if r["status"] == OK and pd.notna(r["value"])
                else STATUS_TEXT.get(r["status"], r["status"])
            )
            band = r["band"] if isinstance(r["band"], str) else ""
            cells = [
                f'<th scope="row">{esc(ind.label)}</th>',
                f'<td class="num">{esc(value)}</td>',
                *(
                    f'<td class="num">{esc(ind.format(r[col]))}</td>'
                    for col in ("previous_value", "year_earlier_value", "sn_mean", "sn_median")
                ),
                *(
                    f'<td class="num">{esc(ind.format(r[col]))}</td>'
                    for col in ("region", "england")
                ),
                f'<td class="num">{esc(_rank(r["rank_national"], r["las_ranked_national"]))}</td>',
                f'<td class="num">{esc(_rank(r["rank_region"], r["las_ranked_region"]))}</td>',
                f'<td class="band-{esc(band)}"><strong>{esc(band)}</strong></td>'
                if band
                else f"<td>{'no judgement' if not ind.judged else ''}</td>",
                f"<td>{esc(TREND_LABEL.get(r['trend'], self._no_trend(r)))}</td>",
            ]
            rows.append(f"<tr>{''.join(cells)}</tr>")
        numeric = [False, *[True] * 9, False, False]
        heads = "".join(
            f'<th scope="col"{" class=num" if n else ""}>{esc(h)}</th>'
            for h, n in zip(head, numeric, strict=True)
        )
        return (
            '<div class="table-wrap" role="region" tabindex="0" '
            f'aria-label="{esc(theme)} scorecard">'
            f'<table class="tartan-table scorecard"><caption>{esc(theme)}: scorecard, '
            f"{esc(self.period_label)} (blank: no figure)</caption><thead><tr>{heads}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
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
            return (
                f'<p class="no-chart">No trend chart: {esc(labels[periods[0]])} is the first '
                "quarter held, so there is nothing yet to compare it with.</p>"
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
                f"{ind.short_label}: {names[series]}",
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
            f"{labels[periods[0]]} to {labels[periods[-1]]}. The figures are in the table below "
            "the charts."
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
            return (
                '<p class="no-chart">No ranking among neighbours: no statistical neighbours '
                "are listed for this LA in the reference data.</p>"
            )
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
            f"line is the neighbours' mean and the dashed orange line {self.england}. The figures "
            "are in the table below the charts."
        )
        return _figure(
            f"rank-{slug}",
            f"{theme}: {self.la_name} among its statistical neighbours, {self.period_label}",
            neighbour_ranking_chart(data),
            desc,
            tbl,
        )

    def annex(self) -> HTML:
        """What is suppressed, missing or not accepted for this LA and period, and why."""
        c = self.context
        out = []
        returns = c.get("returns", [])
        if returns:
            items = []
            for r in returns:
                state = {"accepted": "accepted", "quarantined": "not accepted"}.get(
                    r["status"], r["status"]
                )
                found = "".join(
                    f"<li>{esc(f['severity'].capitalize())}, {esc(f['where'])}: "
                    f"{esc(f['message'])}</li>"
                    for f in r["findings"]
                )
                notes = "".join(
                    f"<li>{esc(_label(self.catalogue, n['indicator_id']))}: {esc(n['note'])}</li>"
                    for n in r.get("notes", [])
                )
                items.append(
                    f"<li><code>{esc(r['file'])}</code>: {esc(state)}, "
                    f"{_count(r['errors'], 'error')} and {_count(r['warnings'], 'warning')}"
                    + (f"<ul>{found}</ul>" if found else "")
                    + (
                        f"<p>Notes from {esc(self.la_name)} on this return, as written:</p>"
                        f"<ul>{notes}</ul>"
                        if notes
                        else ""
                    )
                    + "</li>"
                )
            fb = c["links"].get("feedback")
            out.append(
                f"<h3>Returns for {esc(self.period_label)}</h3><ul>{''.join(items)}</ul>"
                + (
                    f'<p><a href="{esc(fb)}">Validation feedback for {esc(self.la_name)}, '
                    f"{esc(self.period_label)}</a></p>"
                    if fb
                    else ""
                )
            )
        else:
            out.append(
                f"<h3>Returns for {esc(self.period_label)}</h3>"
                f"<p>No return was received from {esc(self.la_name)}.</p>"
            )
        if self.has_figures:
            card = self._card
            gaps = card[~(card["status"].eq(OK) & card["value"].notna())]
            rows = [
                [self.catalogue[r.indicator_id].label, STATUS_TEXT.get(r.status, r.status)]
                for r in gaps.itertuples()
            ]
            out.append(
                "<h3>Figures without a value</h3>"
                + (
                    table(
                        f"{self.la_name}: indicators without a figure, {self.period_label}",
                        ["Indicator", "Why"],
                        rows,
                    )
                    if rows
                    else f"<p>Every indicator has a figure for {esc(self.period_label)}.</p>"
                )
            )
            # against the neighbours with an accepted return (the others are listed below)
            n = sum(nb["return_status"] == "accepted" for nb in c["neighbours"])
            thin = card[card["sn_count"].fillna(0) < n] if n else card.iloc[0:0]
            rows = [
                [self.catalogue[r.indicator_id].label, f"{int(r.sn_count or 0)} of {n}"]
                for r in thin.itertuples()
            ]
            out.append(
                "<h3>Neighbour comparators on fewer neighbours</h3>"
                + (
                    "<p>No statistical neighbour has an accepted return for this quarter, so "
                    "there are no neighbour comparators.</p>"
                    if not n
                    else table(
                        "Indicators whose SN mean and median rest on fewer of the neighbours "
                        "with an accepted return (the others had no figure)",
                        ["Indicator", "Neighbours with a figure"],
                        rows,
                        numeric=[False, True],
                    )
                    if rows
                    else f"<p>All {n} neighbours with an accepted return have a figure for "
                    "every indicator.</p>"
                )
            )
            small = [
                self.catalogue[r.indicator_id].label
                for r in card.itertuples()
                if self.catalogue[r.indicator_id].unit != "ratio"
                and pd.notna(r.numerator)
                and r.numerator < MIN_COUNT
            ]
            if small:
                out.append(
                    f"<h3>Figures on a count under {MIN_COUNT}</h3><p>A handful of children "
                    f"(or staff, for workforce measures) can swing these: "
                    f"{esc('; '.join(small))}.</p>"
                )
        missing = [
            f"{n['la_name']} ({_return_words(n['return_status'])})"
            for n in c["neighbours"]
            if n["return_status"] != "accepted"
        ]
        if missing:
            out.append(
                "<h3>Neighbours without an accepted return</h3>"
                f"<p>Left out of every neighbour comparator: {esc('; '.join(missing))}.</p>"
            )
        return HTML("".join(out))

    def method(self) -> HTML:
        c = self.context
        return HTML(
            "<ul>"
            + (
                f"<li>{esc(self.la_name)}'s figures are as returned for "
                f"{esc(self.period_label)} and accepted by validation against the data contract "
                f"{esc(c['contract'])}.</li>"
                if self.has_figures
                else f"<li>{esc(self._why_no_figures())} Returns are checked against the data "
                f"contract {esc(c['contract'])}.</li>"
            )
            + "<li>SN mean and median: of the figures of the LA's statistical neighbours (DfE's "
            "model, listed in the profile) for the same quarter; neighbours without a figure are "
            f"left out (see the annex). The region and {esc(self.england)} are the sum of "
            "numerators over the sum of denominators of their LAs with figures.</li>"
            "<li>Bands are quartiles of all LAs with a value (R's type 7 quantile, as DfE's "
            "LAIT): A is the best 25% given the indicator's polarity, D the worst. Ranks: 1 is "
            "best; neutral indicators are ranked highest first and not banded.</li>"
            "<li>Trend compares the latest figure with the figure three quarters earlier: a "
            "change of less than 5% of the earlier figure is stable.</li>"
            "<li><strong>Strength</strong>: an indicator where higher or lower is better that is "
            "in band A, or is improving and better than the SN mean, and is not an area for "
            "development.</li>"
            "<li><strong>Area for development</strong>: an indicator in band D, or one that got "
            f"worse in each of the last {WORSENING_PERIODS} quarters or more, by at least 5% of "
            "its figure at the start in all.</li>"
            "<li><strong>Changes since the previous quarter</strong>: figures that moved by 5% "
            "or more of the previous figure, changed band, or gained or lost their figure. "
            f"Figures resting on a count under {MIN_COUNT} (children, or staff for workforce "
            "measures) say so.</li>"
            "<li><strong>Questions</strong>: one for each area for development, quoting its "
            "figures.</li>"
            + (
                f"<li>Disclosure control: {esc(c['disclosure'])}</li>"
                if c.get("disclosure")
                else ""
            )
            + f"<li>Indicator catalogue version {esc(c['catalogue_version'])}.</li>"
            "</ul>"
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _rank(rank, of) -> str:
    return "" if pd.isna(rank) else f"{int(rank)} of {int(of)}"


def _label(catalogue, indicator_id: str) -> str:
    return catalogue[indicator_id].label if indicator_id in catalogue else indicator_id


def _return_words(status: str) -> str:
    return {"accepted": "accepted", NOT_ACCEPTED: "not accepted", "missing": "no return"}.get(
        status, status
    )
