"""The self-assessment evidence pack's judgements for one LA and period: strengths, areas for
development, what changed since last quarter and questions for the moderating LA, read from its
scorecard (``pipeline.core.scorecard``) and its benchmark rows' tests
(``pipeline.core.significance``). Pure pandas; the same figures always give the same words.

Every statement quotes the figures it rests on (with its confidence interval where it has one,
e.g. "42.0% (95% CI 30.1% to 54.8%)"), and its direction comes from the indicator's polarity
(neutral indicators are described, never judged). Words follow the statistics, at the level
the pack states (95% unless 99.8% is chosen). The rules, stated in the pack:

- **Better or worse** than England, the region or the SN mean only when the LA's confidence
  interval lies wholly above or below that figure (``vs_england``, ``vs_region``, ``vs_sn``);
  otherwise *similar* (the difference could be chance). A figure whose interval includes every
  comparator says so. A figure that cannot be tested (no count model, such as a mean caseload
  or staff in full-time equivalents, or no interval) is compared by size and says so.
- **Strength**: a judged indicator with a figure this period that is in band A (among the best
  25% of all LAs), or that is improving (over four quarters, significantly by the chi-squared
  test: the trend column) and significantly better than its statistical neighbours' mean; and
  is not an area for development. A figure that cannot be tested is improving, and better than
  the SN mean, by size.
- **Area for development**: a judged indicator in band D (the worst 25%) this period, or
  one that got worse in each of the last ``WORSENING_PERIODS`` (3) or more quarters and is
  significantly worse than at the start of that run (the chi-squared test of the change, so
  that drift within chance is not flagged); a figure that cannot be tested, by at least 5% of
  its figure at the start.
- **Changed since last quarter**: a figure whose change since the previous quarter is
  significant by the chi-squared test (an improvement or a deterioration; a rise or fall for a
  neutral indicator), or of 5% or more of the previous figure (a rise or fall that is not
  significant: it could be chance; by size, said not to be tested, for a figure without a
  test); or that changed band, or gained or lost its figure.
- **Questions for peer challenge**: one per area for development and one per strength, each
  quoting its figures, and one per combination of related indicators whose conditions hold,
  closed by a question from the bank (``pipeline.core.questions``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.frames import records
from pipeline.core.periods import Period, parse_slug
from pipeline.core.questions import DEVELOPMENT, STRENGTH, Asker, Bank, Reading
from pipeline.core.scorecard import rows_in, scorecard, scorecard_of, value_table
from pipeline.core.significance import BETTER, DEFAULT_LEVEL, alpha, change_p, interval_columns
from pipeline.core.statements import (
    BOTTOM,
    STATUS_WORDS,
    TOP,
    Statement,
    change,
    comparators,
    end,
    gap,
    has,
    improving_words,
    similar_note,
    sn_name,
    untested_note,
)
from pipeline.core.trends import IMPROVING, TREND_THRESHOLD
from pipeline.core.wording import (
    cell,
    compared_word,
    interval_words,
    is_better,
    trend_tested,
)

# what other modules read from here
__all__ = ["MIN_COUNT", "STATUS_WORDS", "WORSENING_PERIODS", "Assessment", "Statement"]
__all__ += ["assess", "scorecard", "worsening_run"]

WORSENING_PERIODS = 3
#: No rule here uses a count any more: whether a figure could be chance is its confidence
#: interval's test. Kept for ``pipeline.report.pack``'s list of figures on small counts.
MIN_COUNT = 10
#: the benchmark columns a statement reads for its tests: the comparisons and the change
TESTS = ("vs_sn", "vs_region", "vs_england", "change_previous_sig")
#: a figure's counts (numerator, denominator) where it has none
NO_COUNTS = (math.nan, math.nan)


@dataclass
class Assessment:
    strengths: list[Statement]
    development: list[Statement]
    changes: list[Statement]
    questions: list[Statement]

    def to_json(self) -> dict:
        return {k: [s.to_json() for s in v] for k, v in vars(self).items()}


# --------------------------------------------------------------------------- worsening runs


def worsening_run(values: Mapping[int, float], ordinal: int, ind: Indicator) -> int:
    """How many consecutive quarter-on-quarter changes, ending at `ordinal`, were each worse by
    the indicator's polarity. 0 for neutral indicators or without a figure; a gap ends a run."""
    n = 0
    while (
        ind.judged
        and ordinal - n in values
        and ordinal - n - 1 in values
        and is_better(ind, values[ordinal - n] - values[ordinal - n - 1]) is False
    ):
        n += 1
    return n


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class _History:
    """One LA's rows, looked up by (indicator id, period ordinal) as the rules read them."""

    values: dict[str, dict[int, float]]  # indicator id -> {period ordinal -> value}
    sn_mean: dict
    status: dict
    band: dict  # only the periods with a band
    counts: dict  # (indicator id, ordinal) -> (numerator, denominator)


def _history(la_rows: pd.DataFrame) -> _History:
    """The LA's values, SN means, statuses and bands by (indicator, ordinal)."""
    # text columns as lists: iterating a string column itself goes cell by cell through pandas
    periods = la_rows["period"].tolist()
    ordinal = {x: parse_slug(x).ordinal for x in set(periods)}
    ordinals = [ordinal[x] for x in periods]
    keys = list(zip(la_rows["indicator_id"].tolist(), ordinals, strict=True))

    def by_key(col: str) -> dict:
        return dict(zip(keys, la_rows[col], strict=True))

    band_by = {k: b for k, b in by_key("band").items() if isinstance(b, str) and b}
    held = [c for c in ("numerator", "denominator") if c in la_rows.columns]
    counts = (
        dict(zip(keys, zip(la_rows["numerator"], la_rows["denominator"], strict=True), strict=True))
        if len(held) == 2
        else {}
    )
    return _History(value_table(la_rows), by_key("sn_mean"), by_key("status"), band_by, counts)


def _run_tests(h: _History, catalogue: Catalogue, now: Period, level: float) -> dict[str, bool]:
    """Indicator id -> whether the change over its run of worsening quarters ending at `now`
    (``worsening_run``) is significant by the chi-squared test of the change from the run's
    start, for each indicator with a run, a count model and counts at both ends: tested all at
    once, one call per count model (a call per indicator was most of an LA's assessment)."""
    ends: dict[str, list] = {}
    for ind in catalogue:
        run = worsening_run(h.values.get(ind.id, {}), now.ordinal, ind)
        if run and ind.count_model != "none":
            then = h.counts.get((ind.id, now.shifted(-run).ordinal), NO_COUNTS)
            later = h.counts.get((ind.id, now.ordinal), NO_COUNTS)
            ends.setdefault(ind.count_model, []).append((ind.id, *later, *then))
    out = {}
    for model, rows in ends.items():
        ids, *counts = zip(*rows, strict=True)
        p, _ = change_p(*counts, model)
        out |= {i: bool(x < alpha(level)) for i, x in zip(ids, p, strict=True) if not math.isnan(x)}
    return out


def _worse_enough(fig: _Figure, tested: bool | None, start_value) -> bool:
    """Whether a run of worsening quarters adds up to a deterioration: significant by the
    chi-squared test of the change from its start (`tested`, by ``_run_tests``: None for a
    figure without counts or a count model), or by TREND_THRESHOLD of its start in all (one
    without, which is said to be untested)."""
    v = fig.value
    if tested is not None:
        return tested
    if start_value:
        return abs(v - start_value) >= TREND_THRESHOLD * abs(start_value)
    return v != start_value


@dataclass(frozen=True)
class _Figure:
    """One indicator's scorecard row for the period assessed, as its statements quote it."""

    ind: Indicator
    row: Mapping  # the scorecard row
    tests: Mapping  # the LA's benchmark row this period: its interval, comparisons and tests
    values: dict[int, float]  # period ordinal -> value, where the LA has one
    value: float  # this period's value (NaN without one)
    band: str | None
    as_at: Mapping[str, str]  # indicator id -> the date of its published comparators
    level: float  # the confidence level of the comparisons and tests

    def vs(self, col: str) -> str:
        """A comparison or test column's word ('' where none was made)."""
        return cell(self.tests.get(col))

    @property
    def ci(self) -> str:
        """'95% CI 30.1% to 54.8%', or '' without an interval."""
        return interval_words(self.ind, self.tests, self.level)

    def gap(self, other: float, name: str, col: str) -> str:
        """The figure against `other` (``statements.gap``) by the comparison in `col`; without
        an interval, by size (the sentence says once that it is not tested)."""
        return gap(self.ind, self.value, other, name, self.vs(col), say_untested=bool(self.ci))

    def sentence(self, body: str) -> str:
        """'<label>: <value> (95% CI a to b), <body> (<comparators>).' (without an interval,
        '(no count model: compared by size, not tested)'), with the note on an interval that
        includes every comparator."""
        comps = comparators(self.ind, self.row, self.as_at)
        text = f"{self.ind.label}: {self.ind.with_unit(self.value)}"
        text += f" ({self.ci or untested_note(self.ind)}), {body}"
        text += f" ({comps})." if comps else "."
        return text + similar_note(self.tests, self.level)

    def figures(self) -> dict:
        """The figures every statement about this indicator quotes, with its interval and
        comparisons."""
        row = self.row
        lo, hi = (self.tests.get(c, math.nan) for c in interval_columns(self.level))
        return {
            "value": self.value,
            "band": self.band,
            "sn_mean": row["sn_mean"],
            "region": row["region"],
            "england": row["england"],
            "ci_lower": lo,
            "ci_upper": hi,
            "level": self.level,
            **{c: self.vs(c) for c in TESTS[:3]},
        }


def assess(
    la_rows: pd.DataFrame,
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    first_period: str | None = None,
    as_at: Mapping[str, str] | None = None,
    level: float = DEFAULT_LEVEL,
    bank: Bank | None = None,
    now: dict[str, dict] | None = None,
) -> Assessment:
    """Strengths, areas for development, changes since last quarter and questions for one LA.

    `la_rows`: the LA's rows from the benchmark core and ``significance.judge`` for the trend
    window (la_code, period, indicator_id, numerator, value, status, band, worst_band_run,
    sn_mean, trend_from, trend, previous_value, change_previous_sig, the intervals, vs_sn,
    vs_region, vs_england); `areas`: region and England rows (area_code, period, indicator_id,
    value). `first_period`: the first period any data is held for (a band D run that starts
    there is said to cover every quarter held). `as_at`: indicator id -> the date of its
    published comparators (SN mean, England and band; published comparators only), said beside
    each. `level`: the confidence level the rows were judged at, which the words state.
    `bank`: the closing questions (``pipeline.edges.question_bank``; None: the general ones).
    `now`: the LA's rows in `period` (``scorecard.rows_in``), when the caller has them."""
    as_at = as_at or {}
    first = parse_slug(first_period) if first_period else None
    p = parse_slug(period)
    now = rows_in(la_rows, period) if now is None else now
    card = scorecard_of(now, areas, catalogue, period, region_code)
    h = _history(la_rows)
    tested = _run_tests(h, catalogue, p, level)
    strengths, development, changes, questions = [], [], [], []
    asker, readings = Asker(bank, catalogue, period, as_at), {}
    for row in records(card):
        ind = catalogue[row["indicator_id"]]
        values = h.values.get(ind.id, {})
        has_now = p.ordinal in values
        band = row["band"] if isinstance(row["band"], str) else None
        tests = now.get(ind.id, {})
        value = values.get(p.ordinal, math.nan)
        fig = _Figure(ind, row, tests, values, value, band, as_at, level)
        kind = None
        if has_now and ind.judged:
            # areas for development first: an indicator that is one is never also a strength
            statement = _for_development(fig, p, first, h, tested.get(ind.id))
            if statement:
                development.append(statement)
                questions.append(asker.development(ind, statement))
                kind = DEVELOPMENT
            elif strength := _strength(fig, p):
                strengths.append(strength)
                questions.append(asker.strength(ind, strength))
                kind = STRENGTH
        if has_now:
            readings[ind.id] = Reading(ind, fig.figures(), kind)
        if c := _since_last_quarter(fig, has_now, p, h):
            changes.append(c)
    questions += asker.combinations(readings)
    return Assessment(strengths, development, changes, questions)


def _band_d_words(d_run: int, every: bool, bottom: str) -> str:
    """'in band D, among the worst 25% of all LAs[, for 3 quarters running]' (`bottom`: BOTTOM,
    or as `end` says it)."""
    if every:
        return f"in band D, {bottom}, in every quarter held ({d_run})"
    return f"in band D, {bottom}" + (f", for {d_run} quarters running" if d_run > 1 else "")


def _for_development(
    fig: _Figure, p: Period, first: Period | None, h: _History, tested: bool | None
) -> Statement | None:
    """The area for development one judged figure is (band D, or worse in each of the last
    WORSENING_PERIODS quarters and significantly worse than at the start of the run in all:
    ``_worse_enough``, with the run's test `tested`), or None."""
    ind, row, band = fig.ind, fig.row, fig.band
    run = worsening_run(fig.values, p.ordinal, ind)
    start = p.shifted(-run)
    start_value = fig.values.get(start.ordinal, math.nan)
    big = run and _worse_enough(fig, tested, start_value)
    d_run = int(row["worst_band_run"]) if has(row["worst_band_run"]) else 0
    every = first is not None and d_run > 1 and p.shifted(1 - d_run) == first
    reasons, parts = [], []
    if band == "D":
        reasons.append("band_d")
        parts.append(_band_d_words(d_run, every, end(BOTTOM, ind, fig.as_at)))
    worse = ""
    if run >= WORSENING_PERIODS and big:
        reasons.append("worsening")
        worse = (
            f"worse in each of the last {run} quarters, from "
            f"{ind.with_unit(start_value)} in {start.label}"
        )
    if not reasons:
        return None
    if band == "A":  # still among the best, but slipping: said so, in one place
        parts.append(f"in band A, {end(TOP, ind, fig.as_at)}")
    if has(row["sn_mean"]):
        parts.append(fig.gap(row["sn_mean"], sn_name(ind, fig.as_at), "vs_sn"))
    body = "; ".join(parts)
    if worse:
        body += (", but " if band == "A" else "; ") + worse if body else worse
    figs = fig.figures() | {
        "band_d_quarters": d_run,
        "band_d_every_quarter": every,
        "worsening_quarters": run,
        "trend": row["trend"],
        "trend_from": row["trend_from"],
    }
    if "worsening" in reasons:
        figs |= {
            "start_period": start.slug,
            "start_value": start_value,
            "sn_mean_start": h.sn_mean.get((ind.id, start.ordinal), math.nan),
        }
    return Statement(ind.id, reasons, fig.sentence(body), figs)


def _strength(fig: _Figure, p: Period) -> Statement | None:
    """The strength one judged figure that is no area for development is (band A, or improving
    and significantly better than its neighbours' mean), or None."""
    ind, row, v = fig.ind, fig.row, fig.value
    improving = row["trend"] == IMPROVING and has(row["trend_from"])
    sn = row["sn_mean"]
    sn_better = has(sn) and compared_word(ind, fig.vs("vs_sn"), v - sn)[0] == BETTER
    reasons, parts = [], []
    if fig.band == "A":
        reasons.append("band_a")
        parts.append(f"in band A, {end(TOP, ind, fig.as_at)}")
    if improving and sn_better:
        reasons.append("improving_above_sn")
    if not reasons:
        return None
    if has(sn):
        parts.append(fig.gap(sn, sn_name(ind, fig.as_at), "vs_sn"))
    if improving:
        tested = trend_tested(ind, fig.tests)
        words = improving_words(ind, tested, fig.level, say_untested=bool(fig.ci))
        parts.append(f"{words}, from {ind.with_unit(row['trend_from'])} in {p.shifted(-3).label}")
    figs = fig.figures() | {"trend_from": row["trend_from"]}
    return Statement(ind.id, reasons, fig.sentence("; ".join(parts)), figs)


def _since_last_quarter(fig: _Figure, has_now: bool, p: Period, h: _History) -> Statement | None:
    """What changed for one indicator since the previous quarter (``statements.change``), or
    None."""
    ind, prev = fig.ind, p.previous()
    return change(
        ind,
        fig.value if has_now else None,
        fig.values.get(prev.ordinal),
        (fig.band, h.band.get((ind.id, prev.ordinal))),
        (h.status.get((ind.id, p.ordinal)), h.status.get((ind.id, prev.ordinal))),
        prev.label,
        fig.vs("change_previous_sig"),
        fig.level,
    )
