"""The self-assessment evidence pack's judgements for one LA and period: strengths, areas for
development, what changed since last quarter and questions for the moderating LA, read from its
scorecard (``pipeline.core.scorecard``). Pure pandas; the same figures always give the same words.

Every statement quotes the figures it rests on, and its direction comes from the indicator's
polarity (neutral indicators are described, never judged). The rules, stated in the pack:

- **Strength**: a judged indicator with a figure this period that is in band A (among the best
  25% of all LAs), or that is improving (over four quarters, as the trend column) and better
  than its statistical neighbours' mean; and is not an area for development.
- **Area for development**: a judged indicator in band D (the worst 25%) this period, or
  one that got worse in each of the last ``WORSENING_PERIODS`` (3) or more quarters, by at least
  5% of its figure at the start of that run in all (so that drift within noise is not flagged).
- **Changed since last quarter**: a figure that moved by at least 5% of the previous quarter's
  figure, changed band, or gained or lost its figure.
- **Questions for peer challenge**: one per area for development, quoting its figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import pandas as pd

from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.narrative import (
    MIN_COUNT,
    MOVE_THRESHOLD,
    better_phrase,
    is_better,
    published,
    published_when,
)
from pipeline.core.periods import Period, parse_slug
from pipeline.core.scorecard import scorecard, value_table
from pipeline.core.trends import IMPROVING, TREND_THRESHOLD
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, STATUS_SYMBOLS

WORSENING_PERIODS = 3
#: why a figure is missing, in words that sit inside brackets
STATUS_WORDS = {
    "c": "suppressed as confidential",
    "x": "not available",
    "z": "not applicable",
    "low": "suppressed for low numbers",
    "k": "rounds to zero",
    "u": "low reliability",
    MISSING: "none returned",
    NOT_ACCEPTED: "return not accepted",
}


@dataclass
class Statement:
    """One piece of evidence about one indicator, with the figures it quotes."""

    indicator_id: str
    reasons: list[str]  # the rules it meets, e.g. ["band_d", "worsening"]
    text: str
    figures: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


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


# --------------------------------------------------------------------------- wording helpers


SN_MEAN = "the SN mean of"


def _gap(ind: Indicator, value: float, other: float, name: str = SN_MEAN) -> str:
    """'5.6 percentage points better than the SN mean of 19.8%' (by polarity; higher or lower
    for a neutral indicator). `name` leads into the other figure: 'the SN mean of', "England's"."""
    # on the figures as shown, so that the words add up on the page
    value, other = round(value, ind.decimals), round(other, ind.decimals)
    diff = value - other
    if ind.format(value) == ind.format(other):
        return f"level with {name} {ind.with_unit(other)}"
    better = is_better(ind, diff)
    word = (
        ("higher" if diff > 0 else "lower") if better is None else ("better" if better else "worse")
    )
    return f"{ind.difference(diff)} {word} than {name} {ind.with_unit(other)}"


def _comparators(ind: Indicator, row: Mapping, as_at: Mapping[str, str]) -> str:
    """'region 18.0%, England 21.5%' (those with a figure); with a published England, 'region
    18.0%; England, DfE published, year to 31 March 2025: 21.5%'."""
    region = f"region {ind.format(row['region'])}" if _has(row["region"]) else ""
    if not _has(row["england"]):
        return region
    if ind.id not in as_at:
        return ", ".join(x for x in (region, f"England {ind.format(row['england'])}") if x)
    england = f"England, {published(ind, as_at)}: {ind.format(row['england'])}"
    return "; ".join(x for x in (region, england) if x)


def _sn_name(ind: Indicator, as_at: Mapping[str, str]) -> str:
    """The SN mean leading into its figure: 'the SN mean of', or 'the SN mean (DfE published,
    year to 31 March 2025) of' for a published one."""
    return f"the SN mean ({published(ind, as_at)}) of" if ind.id in as_at else SN_MEAN


def _england_name(ind: Indicator, as_at: Mapping[str, str]) -> str:
    """ "England's", or "England's (DfE published, year to 31 March 2025)"."""
    return f"England's ({published(ind, as_at)})" if ind.id in as_at else "England's"


def _end(words: str, ind: Indicator, as_at: Mapping[str, str]) -> str:
    """TOP or BOTTOM; against published figures, 'among the best 25% of all LAs' published
    figures, year to 31 March 2025'."""
    if ind.id not in as_at:
        return words
    return f"{words}' published figures, {published_when(ind, as_at[ind.id])}"


def _has(x) -> bool:
    try:
        return x is not None and not math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def _moved_word(diff: float) -> str:
    return "rose" if diff > 0 else "fell"


def _small(row_numerators: list, ind: Indicator) -> bool:
    """Whether a percentage or rate rests on fewer than MIN_COUNT children at either end."""
    return ind.unit != "ratio" and any(_has(n) and float(n) < MIN_COUNT for n in row_numerators)


SMALL_NOTE = (
    f" It rests on a count under {MIN_COUNT} (children, or staff for workforce measures), so a "
    "handful can swing it."
)
#: the two ends of the bands, in words that cannot be taken for a quarter of the year
TOP, BOTTOM = "among the best 25% of all LAs", "among the worst 25% of all LAs"


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class _History:
    """One LA's rows, looked up by (indicator id, period ordinal) as the rules read them."""

    values: dict[str, dict[int, float]]  # indicator id -> {period ordinal -> value}
    sn_mean: dict
    numerator: dict
    status: dict
    band: dict  # only the periods with a band


def _history(la_rows: pd.DataFrame) -> _History:
    """The LA's values, SN means, numerators, statuses and bands by (indicator, ordinal)."""
    ordinal = {x: parse_slug(x).ordinal for x in set(la_rows["period"])}
    ordinals = [ordinal[x] for x in la_rows["period"]]
    keys = list(zip(la_rows["indicator_id"], ordinals, strict=True))

    def by_key(col: str) -> dict:
        return dict(zip(keys, la_rows[col], strict=True))

    band_by = {k: b for k, b in by_key("band").items() if isinstance(b, str) and b}
    return _History(
        value_table(la_rows), by_key("sn_mean"), by_key("numerator"), by_key("status"), band_by
    )


@dataclass(frozen=True)
class _Figure:
    """One indicator's scorecard row for the period assessed, as its statements quote it."""

    ind: Indicator
    row: Mapping  # the scorecard row
    values: dict[int, float]  # period ordinal -> value, where the LA has one
    value: float  # this period's value (NaN without one)
    band: str | None
    small: bool  # whether the value rests on a count under MIN_COUNT
    as_at: Mapping[str, str]  # indicator id -> the date of its published comparators

    def sentence(self, body: str) -> str:
        """'<label>: <value>, <body> (<comparators>).', with the small-count note if due."""
        comps = _comparators(self.ind, self.row, self.as_at)
        text = f"{self.ind.label}: {self.ind.with_unit(self.value)}, {body}"
        text += f" ({comps})." if comps else "."
        return text + (SMALL_NOTE if self.small else "")

    def figures(self) -> dict:
        """The figures every statement about this indicator quotes."""
        row = self.row
        return {
            "value": self.value,
            "band": self.band,
            "sn_mean": row["sn_mean"],
            "region": row["region"],
            "england": row["england"],
        }


def assess(
    la_rows: pd.DataFrame,
    areas: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
    first_period: str | None = None,
    as_at: Mapping[str, str] | None = None,
) -> Assessment:
    """Strengths, areas for development, changes since last quarter and questions for one LA.

    `la_rows`: the LA's rows from the benchmark core for the trend window (la_code, period,
    indicator_id, numerator, value, status, band, worst_band_run, sn_mean, trend_from, trend,
    previous_value); `areas`: region and England rows (area_code, period, indicator_id, value).
    `first_period`: the first period any data is held for (a band D run that starts there is
    said to cover every quarter held). `as_at`: indicator id -> the date of its published
    comparators (SN mean, England and band; published comparators only), said beside each.
    """
    as_at = as_at or {}
    first = parse_slug(first_period) if first_period else None
    p = parse_slug(period)
    card = scorecard(la_rows, areas, catalogue, period, region_code)
    h = _history(la_rows)
    strengths, development, changes, questions = [], [], [], []
    for row in card.to_dict(orient="records"):
        ind = catalogue[row["indicator_id"]]
        values = h.values.get(ind.id, {})
        has_now = p.ordinal in values
        band = row["band"] if isinstance(row["band"], str) else None
        small = _small([h.numerator.get((ind.id, p.ordinal))], ind)
        fig = _Figure(ind, row, values, values.get(p.ordinal, math.nan), band, small, as_at)
        if has_now and ind.judged:
            # areas for development first: an indicator that is one is never also a strength
            statement = _for_development(fig, p, first, h)
            if statement:
                development.append(statement)
                questions.append(_question(ind, statement, p, as_at))
            elif strength := _strength(fig, p):
                strengths.append(strength)
        if change := _since_last_quarter(fig, has_now, p, h):
            changes.append(change)
    return Assessment(strengths, development, changes, questions)


def _band_d_words(d_run: int, every: bool, bottom: str) -> str:
    """'in band D, among the worst 25% of all LAs[, for 3 quarters running]' (`bottom`: BOTTOM,
    or as `_end` says it)."""
    if every:
        return f"in band D, {bottom}, in every quarter held ({d_run})"
    return f"in band D, {bottom}" + (f", for {d_run} quarters running" if d_run > 1 else "")


def _for_development(
    fig: _Figure, p: Period, first: Period | None, h: _History
) -> Statement | None:
    """The area for development one judged figure is (band D, or worse in each of the last
    WORSENING_PERIODS quarters by TREND_THRESHOLD of its start in all), or None."""
    ind, row, v, band = fig.ind, fig.row, fig.value, fig.band
    run = worsening_run(fig.values, p.ordinal, ind)
    start = p.shifted(-run)
    start_value = fig.values.get(start.ordinal, math.nan)
    big = run and (
        abs(v - start_value) >= TREND_THRESHOLD * abs(start_value)
        if start_value
        else v != start_value
    )
    d_run = int(row["worst_band_run"]) if _has(row["worst_band_run"]) else 0
    every = first is not None and d_run > 1 and p.shifted(1 - d_run) == first
    reasons, parts = [], []
    if band == "D":
        reasons.append("band_d")
        parts.append(_band_d_words(d_run, every, _end(BOTTOM, ind, fig.as_at)))
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
        parts.append(f"in band A, {_end(TOP, ind, fig.as_at)}")
    if _has(row["sn_mean"]):
        parts.append(_gap(ind, v, row["sn_mean"], _sn_name(ind, fig.as_at)))
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
    and better than its neighbours' mean), or None."""
    ind, row, v = fig.ind, fig.row, fig.value
    improving = row["trend"] == IMPROVING and _has(row["trend_from"])
    sn_better = _has(row["sn_mean"]) and is_better(ind, v - row["sn_mean"]) is True
    reasons, parts = [], []
    if fig.band == "A":
        reasons.append("band_a")
        parts.append(f"in band A, {_end(TOP, ind, fig.as_at)}")
    if improving and sn_better:
        reasons.append("improving_above_sn")
    if not reasons:
        return None
    if _has(row["sn_mean"]):
        parts.append(_gap(ind, v, row["sn_mean"], _sn_name(ind, fig.as_at)))
    if improving:
        parts.append(f"improving, from {ind.with_unit(row['trend_from'])} in {p.shifted(-3).label}")
    figs = fig.figures() | {"trend_from": row["trend_from"]}
    return Statement(ind.id, reasons, fig.sentence("; ".join(parts)), figs)


def _since_last_quarter(fig: _Figure, has_now: bool, p: Period, h: _History) -> Statement | None:
    """What changed for one indicator since the previous quarter (``_change``), or None."""
    ind, prev = fig.ind, p.previous()
    return _change(
        ind,
        fig.value if has_now else None,
        fig.values.get(prev.ordinal),
        fig.band,
        h.band.get((ind.id, prev.ordinal)),
        h.status.get((ind.id, p.ordinal)),
        h.status.get((ind.id, prev.ordinal)),
        prev.label,
        [h.numerator.get((ind.id, p.ordinal)), h.numerator.get((ind.id, prev.ordinal))],
    )


def _question(ind: Indicator, s: Statement, p, as_at: Mapping[str, str]) -> Statement:
    """A question for the moderating LA about one area for development, quoting its figures
    (`as_at`: as `assess` has it)."""
    bottom = _end(BOTTOM, ind, as_at)
    if "worsening" in s.reasons:
        text = _worsening_question(ind, s.figures, p, as_at)
        text += (
            ", and what would reverse it?"
            if "band_d" not in s.reasons
            else f", and what is the plan to leave band D ({bottom})?"
        )
    else:
        text = _band_d_question(ind, s.figures, p, as_at, bottom)
    return Statement(ind.id, list(s.reasons), text, dict(s.figures))


def _worsening_question(ind: Indicator, f: Mapping, p, as_at: Mapping[str, str]) -> str:
    """'<label> rose from A to B over 3 quarters (P0 to P) while the SN mean ...: what is
    driving the rise'. A published SN mean is of one year: quoted, not followed."""
    v = f["value"]
    start = parse_slug(f["start_period"])
    moved = _moved_word(v - f["start_value"])
    text = (
        f"{ind.label} {moved} from {ind.format(f['start_value'])} to {ind.with_unit(v)} over "
        f"{f['worsening_quarters']} quarters ({start.label} to {p.label})"
    )
    sn0, sn1 = f["sn_mean_start"], f["sn_mean"]
    if ind.id in as_at and _has(sn1):
        text += f", against {_sn_name(ind, as_at)} {ind.with_unit(sn1)}"
    elif _has(sn0) and _has(sn1):
        # "stayed near" only when the neighbours barely moved next to the LA's own change
        if ind.format(sn0) == ind.format(sn1) or abs(sn1 - sn0) < abs(v - f["start_value"]) / 4:
            text += f" while the SN mean stayed near {ind.with_unit(sn1)}"
        else:
            text += (
                f" while the SN mean {_moved_word(sn1 - sn0)} from {ind.format(sn0)} to "
                f"{ind.with_unit(sn1)}"
            )
    return text + f": what is driving the {'rise' if moved == 'rose' else 'fall'}"


def _band_d_question(ind: Indicator, f: Mapping, p, as_at: Mapping[str, str], bottom: str) -> str:
    """The question about a figure in band D: how long, its gaps to the SN mean and England,
    and the plan."""
    v, run = f["value"], f["band_d_quarters"]
    text = (
        f"{ind.label} has been in band D ({bottom}) "
        + (f"in every quarter held ({run})" if f["band_d_every_quarter"] else f"for {run} quarters")
        if run > 1
        else f"{ind.label} is in band D ({bottom}) this quarter"
    )
    gaps = [_gap(ind, v, f["sn_mean"], _sn_name(ind, as_at))] if _has(f["sn_mean"]) else []
    if _has(f["england"]):
        gaps.append(_gap(ind, v, f["england"], _england_name(ind, as_at)))
    if gaps:
        text += f"; at {ind.with_unit(v)} it is {' and '.join(gaps)}"
    if f["trend"] == IMPROVING and _has(f["trend_from"]):
        return text + (
            f". It is improving, from {ind.format(f['trend_from'])} in {p.shifted(-3).label}: "
            "what will keep the improvement going until it leaves band D?"
        )
    return text + ": what is the plan to close the gap, and how will the LA know it is working?"


def _change(
    ind: Indicator,
    now: float | None,
    before: float | None,
    band: str | None,
    band_before: str | None,
    status: str | None,
    status_before: str | None,
    prev_label: str,
    numerators: list,
) -> Statement | None:
    """What changed for one indicator since the previous quarter, or None."""
    figs = {"value": now, "previous_value": before, "band": band, "previous_band": band_before}
    if now is None and before is None:
        return None
    if now is None:
        why = STATUS_WORDS.get(status or "", "no figure")
        return Statement(
            ind.id,
            ["lost_figure"],
            f"{ind.label}: no figure this quarter ({why}), against "
            f"{ind.with_unit(before)} in {prev_label}.",
            figs,
        )
    if before is None:
        # Only a figure the LA itself withheld last quarter; without an accepted return then
        # (or in the first quarter held) there is nothing to compare, as the pack says once.
        if status_before not in STATUS_SYMBOLS:
            return None
        why = STATUS_WORDS[status_before]
        return Statement(
            ind.id,
            ["gained_figure"],
            f"{ind.label}: {ind.with_unit(now)}, where {prev_label} had no figure ({why}).",
            figs,
        )
    diff = now - before
    moved = abs(diff) >= MOVE_THRESHOLD * abs(before) if before else diff != 0
    band_moved = bool(band and band_before and band != band_before)
    if not (moved or band_moved):
        return None
    reasons = (["moved"] if moved else []) + (["band_changed"] if band_moved else [])
    if diff == 0:
        text = f"{ind.label} was {ind.with_unit(now)} in both quarters"
    else:
        text = (
            f"{ind.label} {_moved_word(diff)} from {ind.format(before)} to {ind.with_unit(now)} "
            f"({ind.difference(diff)}) since {prev_label}"
        )
    better = is_better(ind, diff)
    if better is None:
        text += f" ({better_phrase(ind)})" if diff else ""
    else:
        text += f": {'an improvement' if better else 'a deterioration'} ({better_phrase(ind)})"
    if band_moved:
        text += f"; band {band_before} to {band}"
    text += "."
    if _small(numerators, ind):
        text += SMALL_NOTE
    return Statement(ind.id, reasons, text, figs)
