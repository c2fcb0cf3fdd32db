"""The self-assessment evidence pack: one LA and period against its statistical neighbours, the
region and England, with the evidence statements and questions the driver worked out."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import pandas as pd

from pipeline.core.assessment import WORSENING_PERIODS, scorecard
from pipeline.core.periods import parse_slug
from pipeline.core.questions import DEVELOPMENT, KINDS, STRENGTH, kind_of
from pipeline.core.vocabulary import NOT_ACCEPTED, OK, STATUS_SYMBOLS
from pipeline.html import pack as markup
from pipeline.html.base import table
from pipeline.html.exceptions import exceptions as exceptions_markup
from pipeline.html.rug import STATUS_TEXT
from pipeline.html.sections import note, paragraph, published_method, subsection
from pipeline.report.common import HTML, Report
from pipeline.report.pack_themes import PackThemes


class SelfAssessmentPack(PackThemes, Report):
    """One LA and period: the data its self-assessment evidence pack shows."""

    CSVS = ("figures", "neighbours", "areas")
    SECTIONS = (
        "headline",
        "profile",
        "evidence",
        "questions",
        "exceptions",
        "themes",
        "annex",
        "method",
    )
    #: the member briefing beside the pack (``pipeline.report.briefing``)
    ARTEFACTS: ClassVar[dict[str, str]] = {"member-briefing.html": "member_briefing"}
    figures: pd.DataFrame  # the LA's rows for the trend periods
    neighbours: pd.DataFrame  # its statistical neighbours' rows for the period
    areas: pd.DataFrame  # the region and England for the trend periods

    @property
    def la_name(self) -> str:
        return self.context["la"]["name"]

    def member_briefing(self, about: dict) -> bytes:
        """The member briefing's page (``pipeline.report.briefing``)."""
        from pipeline.report import briefing

        return briefing.page(self, about)

    @property
    def return_status(self) -> str:
        return self.context["la"]["return_status"]

    @property
    def provisional(self) -> bool:
        """Whether the LA marked the figures of the return used provisional."""
        return self.context["la"].get("provisional") is True

    @property
    def has_figures(self) -> bool:
        return self.return_status == "accepted"

    @property
    def england(self) -> str:
        return self.context["england_label"]

    def _no_figures(self, what: str) -> HTML:
        return HTML(note(f"{what}: {self._why_no_figures()}"))

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
        region = (self.region_name, links["regional"])
        if not self.has_figures:
            return HTML(
                markup.headline_without_figures(
                    self.la_name,
                    self.period_label,
                    region,
                    self._why_no_figures(),
                    links.get("feedback"),
                )
            )
        card = self._card
        valued = card[card["status"].eq(OK) & card["value"].notna()]
        judged = valued[valued["indicator_id"].map(lambda i: self.catalogue[i].judged)]
        a = self.context["assessment"]
        bands = judged["band"].value_counts()
        n_a, n_d = int(bands.get("A", 0)), int(bands.get("D", 0))
        all_las = "all LAs' published figures" if self.published else "all LAs"
        points = [
            f"{len(valued)} of {len(card)} indicators have a figure for "
            f"{self.period_label}; of the {len(judged)} where higher or lower is better, "
            f"{n_a} {'is' if n_a == 1 else 'are'} in band A (among the best 25% of {all_las}) "
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
            markup.headline(
                self.la_name,
                self.period_label,
                region,
                self.england,
                bool(self.context["neighbours"]),
                points,
                self.published,
                self.provisional,
            )
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
            [
                "Return for " + self.period_label,
                _return_words(self.return_status)
                + (", provisional figures" if self.provisional else ""),
            ],
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
            else paragraph(
                "No statistical neighbours are listed for this LA in the reference data, "
                "so there are no neighbour comparators."
            )
        )
        return HTML(facts + sn)

    def evidence(self) -> HTML:
        if not self.has_figures:
            return self._no_figures("No evidence statements")
        a = self.context["assessment"]
        prev = parse_slug(self.period).previous().label
        compared = self._previous_held()
        groups = []
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
            count = f" ({len(items)})" if key != "changes" or compared else ""
            groups.append((key, heading + count, [s["text"] for s in items], none))
        return HTML(markup.evidence(groups))

    def questions(self) -> HTML:
        if not self.has_figures:
            return self._no_figures("No questions")
        asked = self.context["assessment"]["questions"]
        by_kind = {k: [q["text"] for q in asked if kind_of(q["reasons"]) == k] for k in KINDS}
        return HTML(markup.questions(by_kind[DEVELOPMENT], by_kind[STRENGTH]))

    def exceptions(self) -> HTML:
        """The LA's exceptions this period (dataset.yaml's rule), each with the LA's own words
        from its commentary file, or "no commentary received"."""
        if not self.has_figures:
            return self._no_figures("No exceptions")
        ctx = self.context.get("exceptions")
        if ctx is None:  # a slice from before exceptions were listed
            return HTML("")
        return HTML(exceptions_markup(self.la_name, self.period_label, ctx))

    def annex(self) -> HTML:
        """What is suppressed, missing or not accepted for this LA and period, and why."""
        c = self.context
        out = [
            markup.annex_returns(
                self.period_label,
                self.la_name,
                [self._return_record(r) for r in c.get("returns", [])],
                c["links"].get("feedback"),
            )
        ]
        if self.has_figures:
            card = self._card
            out.append(self._without_value(card))
            out.append(self._fewer_neighbours(card))
            # a figure on a handful of children has a wide interval: the scorecards show it,
            # and its comparisons and changes are tested, so it needs no note of its own
        missing = [
            f"{n['la_name']} ({_return_words(n['return_status'])})"
            for n in c["neighbours"]
            if n["return_status"] != "accepted"
        ]
        if missing:
            left_out = (
                "Not in the rankings among neighbours, and left out of the SN mean and median "
                "of any indicator without a published comparator (the others are of their "
                "published figures)"
                if self.published
                else "Left out of every neighbour comparator"
            )
            out.append(
                subsection(
                    "Neighbours without an accepted return",
                    paragraph(f"{left_out}: {'; '.join(missing)}."),
                )
            )
        return HTML("".join(out))

    def _return_record(self, r: dict) -> dict:
        """One of the LA's returns as the annex states it: its outcome, what validation found
        and the LA's notes, each in words."""
        return {
            "file": r["file"],
            "state": {"accepted": "accepted", "quarantined": "not accepted"}.get(
                r["status"], r["status"]
            ),
            "counts": f"{_count(r['errors'], 'error')} and {_count(r['warnings'], 'warning')}",
            "findings": [
                f"{f['severity'].capitalize()}, {f['where']}: {f['message']}" for f in r["findings"]
            ],
            "notes": [
                f"{_label(self.catalogue, n['indicator_id'])}: {n['note']}"
                for n in r.get("notes", [])
            ],
        }

    def _without_value(self, card: pd.DataFrame) -> str:
        """The annex's indicators without a figure this period, and why."""
        gaps = card[~(card["status"].eq(OK) & card["value"].notna())]
        rows = [
            [self.catalogue[r.indicator_id].label, STATUS_TEXT.get(r.status, r.status)]
            for r in gaps.itertuples()
        ]
        return subsection(
            "Figures without a value",
            table(
                f"{self.la_name}: indicators without a figure, {self.period_label}",
                ["Indicator", "Why"],
                rows,
            )
            if rows
            else paragraph(f"Every indicator has a figure for {self.period_label}."),
        )

    def _fewer_neighbours(self, card: pd.DataFrame) -> str:
        """The annex's indicators whose SN mean and median rest on fewer of the neighbours
        with an accepted return (the neighbours without one are listed after); with published
        comparators, on fewer than all of them."""
        if self.published:
            return self._fewer_published(card)
        n = sum(nb["return_status"] == "accepted" for nb in self.context["neighbours"])
        thin = card[card["sn_count"].fillna(0) < n] if n else card.iloc[0:0]
        rows = [
            [self.catalogue[r.indicator_id].label, f"{int(r.sn_count or 0)} of {n}"]
            for r in thin.itertuples()
        ]
        if not n:
            body = paragraph(
                "No statistical neighbour has an accepted return for this quarter, so "
                "there are no neighbour comparators."
            )
        elif rows:
            body = table(
                "Indicators whose SN mean and median rest on fewer of the neighbours "
                "with an accepted return (the others had no figure)",
                ["Indicator", "Neighbours with a figure"],
                rows,
                numeric=[False, True],
            )
        else:
            body = paragraph(
                f"All {n} neighbours with an accepted return have a figure for every indicator."
            )
        return subsection("Neighbour comparators on fewer neighbours", body)

    def _fewer_published(self, card: pd.DataFrame) -> str:
        """The annex's indicators whose published SN mean and median rest on fewer than all the
        LA's neighbours."""
        n = len(self.context["neighbours"])
        rows = [
            [self.catalogue[r.indicator_id].label, f"{int(r.sn_count or 0)} of {n}"]
            for r in card[card["sn_count"].fillna(0) < n].itertuples()
        ]
        body = (
            table(
                "Indicators whose SN mean and median rest on fewer than all the neighbours (the "
                "others had no published figure of that date or, for an indicator without a "
                "published comparator, no accepted return)",
                ["Indicator", "Neighbours with a figure"],
                rows,
                numeric=[False, True],
            )
            if rows and n
            else paragraph(
                f"All {n} neighbours have a published figure for every indicator."
                if n
                else "No statistical neighbours are listed for this LA, so there are no "
                "neighbour comparators."
            )
        )
        return subsection("Neighbour comparators on fewer neighbours", body)

    def method(self) -> HTML:
        c = self.context
        return HTML(
            markup.method(
                (self.la_name, self.period_label, c["contract"]),
                None if self.has_figures else self._why_no_figures(),
                self.england,
                WORSENING_PERIODS,
                c.get("disclosure"),
                c["catalogue_version"],
                published_method(list(self.catalogue), self.as_at, self.period_label)
                if self.published
                else (),
                self.level,
            )
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _label(catalogue, indicator_id: str) -> str:
    return catalogue[indicator_id].label if indicator_id in catalogue else indicator_id


def _return_words(status: str) -> str:
    return {"accepted": "accepted", NOT_ACCEPTED: "not accepted", "missing": "no return"}.get(
        status, status
    )
