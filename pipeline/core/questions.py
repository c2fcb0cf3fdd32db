"""Questions for the moderating LA, as an experienced peer reviewer asks them: about each area for
development and each strength of one LA and period, and about related indicators read together.
Pure: the bank of closing questions comes in as a :class:`Bank` (``pipeline.edges.question_bank``
reads ``data_contracts/questions.yaml``); without one, :data:`DEFAULT_BANK`'s general questions.

Every question quotes its figures first (value, band, gaps to the SN mean and England, each
comparator with its date where published), then ends with a closing question from the bank:
``<figures>: <closing>`` or, where the figures already raise a question of their own (a run of
worsening quarters: "what is driving the rise?"), ``<figures>: <lead>? <Closing>``. The closing is
always the text after the last ": " or "? ", and no two questions of one pack share it:

- **An indicator's question** takes the first closing not yet used in the pack from, in order,
  the indicator's own list, its theme's list (started at the indicator's place in its theme) and
  the bank's default list (started at its place in the catalogue), for its kind (``development``
  or ``strength``); when every one is used, a closing naming the indicator. The same figures and
  bank always give the same words (no chance in it).
- **A combination** (two related indicators, e.g. re-referrals with referrals ending in no
  further action) is asked when both of its conditions hold this period: the indicator is an area
  for development or a strength (``is``), is in one of some bands (``band``), or compares with the
  SN mean or England (``vs_sn``, ``vs_england``: better or worse, as the pack says it, for a
  judged indicator; higher or lower for any, its direction whatever the polarity). It quotes both
  figures and ends with its own question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.periods import Period, parse_slug
from pipeline.core.significance import BETTER, HIGHER, LOWER, WORSE
from pipeline.core.statements import BOTTOM, TOP, Statement, end, england_name, gap, has, sn_name
from pipeline.core.trends import IMPROVING
from pipeline.core.wording import compared_word, moved, published

DEVELOPMENT, STRENGTH = "development", "strength"
KINDS = (DEVELOPMENT, STRENGTH)
#: the reasons of a strength (``assessment._strength``); any other question is about development
STRENGTH_REASONS = frozenset({"band_a", "improving_above_sn", STRENGTH})
#: a combination question's first reason (its second is its kind)
COMBINATION = "combination"
#: what a combination's condition can test, and the words each takes
TESTS = {
    "is": KINDS,
    "band": ("A", "B", "C", "D"),
    "vs_sn": (BETTER, WORSE, HIGHER, LOWER),
    "vs_england": (BETTER, WORSE, HIGHER, LOWER),
}
#: the comparator column and figure each comparison condition reads
_COMPARED = {"vs_sn": "sn_mean", "vs_england": "england"}


@dataclass(frozen=True)
class Texts:
    """Closing questions for areas for development and for strengths."""

    development: tuple[str, ...] = ()
    strength: tuple[str, ...] = ()

    def of(self, kind: str) -> tuple[str, ...]:
        return self.development if kind == DEVELOPMENT else self.strength


@dataclass(frozen=True)
class Condition:
    """One half of a combination: `indicator` meets `test` ('is', 'band', 'vs_sn', 'vs_england')
    with one of `values`."""

    indicator: str
    test: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Combination:
    id: str
    topic: str  # what the two figures read together point to: 'thresholds at the front door'
    kind: str  # DEVELOPMENT or STRENGTH: which questions it is listed with
    when: tuple[Condition, ...]
    question: str


DEFAULT_TEXTS = Texts(
    development=(
        "what is the plan to turn this round, and how will the LA know it is working?",
        "who owns the improvement, and what will the LA see first when it starts to work?",
        "what does the LA's own audit of cases say lies behind this figure?",
        "what has the LA tried already, and what did it learn from what did not work?",
        "how do leaders and partners hear about this figure, and what have they asked for?",
        "which LA in the region does better here, and what could be learned from it?",
    ),
    strength=(
        "what makes it work, and could it be shared with the region?",
        "what would put this at risk, and how is it being protected?",
        "which practice or decision made the difference, and could another LA copy it?",
        "how does the LA know children and families feel the difference, not only the figure?",
        "could the LA host a practice visit or workshop so that the region can learn from it?",
        "would it last with the current workforce and budget, and what would the LA tell a "
        "peer starting out?",
    ),
)


@dataclass(frozen=True)
class Bank:
    """The closing questions: per indicator id, per theme, by default; and the combinations."""

    version: str = ""
    indicators: Mapping[str, Texts] = field(default_factory=dict)
    themes: Mapping[str, Texts] = field(default_factory=dict)
    default: Texts = DEFAULT_TEXTS
    combinations: tuple[Combination, ...] = ()


#: the bank without a file: the general questions, no combinations
DEFAULT_BANK = Bank()


def kind_of(reasons: Iterable[str]) -> str:
    """Whether a question (by its Statement's reasons) is about a strength or an area for
    development: STRENGTH or DEVELOPMENT."""
    return STRENGTH if STRENGTH_REASONS.intersection(reasons) else DEVELOPMENT


def closing_of(text: str) -> str:
    """A question's closing: what follows its last ': ' or '? ', in lower case."""
    return re.split(r"(?<=[:?]) ", text)[-1].lower()


@dataclass(frozen=True)
class Reading:
    """One indicator's figures this period as a combination reads them: the figures its
    statements quote (``assessment._Figure.figures``) and whether it is an area for development
    or a strength (None: neither)."""

    ind: Indicator
    figures: Mapping
    kind: str | None = None


def _rotated(texts: Sequence[str], start: int) -> list[str]:
    if not texts:
        return []
    start %= len(texts)
    return [*texts[start:], *texts[:start]]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class Asker:
    """The questions of one pack, each with a closing of its own (`used` remembers them)."""

    def __init__(
        self,
        bank: Bank | None,
        catalogue: Catalogue,
        period: str,
        as_at: Mapping[str, str] | None = None,
    ):
        self.bank = bank or DEFAULT_BANK
        self.catalogue = catalogue
        self.p = parse_slug(period)
        self.as_at = as_at or {}
        self.used: set[str] = set()

    def closing(self, ind: Indicator, kind: str) -> str:
        """The first closing of `kind` not yet used in the pack: the indicator's own, its
        theme's, then the default's (each started by the indicator's place); else one naming
        the indicator."""
        bank = self.bank
        own = bank.indicators.get(ind.id, Texts()).of(kind)
        in_theme = [i.id for i in self.catalogue.in_theme(ind.theme)]
        theme = bank.themes.get(ind.theme, Texts()).of(kind)
        default = bank.default.of(kind)
        place = self.catalogue.ids.index(ind.id) if ind.id in self.catalogue else 0
        for text in (
            *own,
            *_rotated(theme, in_theme.index(ind.id) if ind.id in in_theme else 0),
            *_rotated(default, place),
        ):
            if text.lower() not in self.used:
                return self._use(text)
        if kind == STRENGTH:
            return self._use(f"what makes {ind.label} work, and could it be shared?")
        return self._use(f"what is the plan for {ind.label}, and how will the LA know it works?")

    def _use(self, text: str) -> str:
        self.used.add(text.lower())
        return text

    # ------------------------------------------------------------------ one indicator

    def development(self, ind: Indicator, s: Statement) -> Statement:
        """The question about one area for development (`s`), quoting its figures."""
        f, p, as_at = s.figures, self.p, self.as_at
        bottom = end(BOTTOM, ind, as_at)
        lead = ""
        if "worsening" in s.reasons:
            text, lead = _worsening(ind, f, p, as_at)
            if "band_d" in s.reasons:
                text += f", and is in band D ({bottom})"
        else:
            text = _band_d(ind, f, as_at, bottom)
            if f["trend"] == IMPROVING and has(f["trend_from"]):
                text += (
                    f". It is improving, from {ind.format(f['trend_from'])} in "
                    f"{p.shifted(-3).label}"
                )
                lead = "what will keep the improvement going until it leaves band D?"
        return self._asked(ind, s, text, lead, DEVELOPMENT)

    def strength(self, ind: Indicator, s: Statement) -> Statement:
        """The question about one strength (`s`), quoting its figures."""
        f, v = s.figures, s.figures["value"]
        since = f"from {ind.format(f['trend_from'])} in {self.p.shifted(-3).label}"
        improving = "improving_above_sn" in s.reasons and has(f["trend_from"])
        if "band_a" in s.reasons:
            text = f"{ind.label} is in band A ({end(TOP, ind, self.as_at)})"
            text += f" and improving, {since}" if improving else ""
            gaps = _gaps(ind, f, self.as_at)
            text += f"; at {ind.with_unit(v)} it is {gaps}" if gaps else ""
        else:
            text = f"{ind.label} is improving, {since} to {ind.with_unit(v)}"
            gaps = _gaps(ind, f, self.as_at)
            text += f"; it is {gaps}" if gaps else ""
        return self._asked(ind, s, text, "", STRENGTH)

    def _asked(self, ind: Indicator, s: Statement, text: str, lead: str, kind: str) -> Statement:
        closing = self.closing(ind, kind)
        text += f": {lead} {_capital(closing)}" if lead else f": {closing}"
        return Statement(ind.id, list(s.reasons), text, dict(s.figures))

    # ------------------------------------------------------------------ combinations

    def combinations(self, readings: Mapping[str, Reading]) -> list[Statement]:
        """The bank's combinations whose conditions all hold in `readings` (indicator id ->
        Reading, for the indicators with a figure this period), in the bank's order."""
        out = []
        for c in self.bank.combinations:
            held = [readings.get(cond.indicator) for cond in c.when]
            pairs = zip(c.when, held, strict=True)
            if not all(r is not None and holds(cond, r) for cond, r in pairs):
                continue
            if c.question.lower() in self.used:
                continue
            parts = [_reading_words(r, self.as_at) for r in held if r is not None]
            first, rest = parts[0], parts[1:]
            text = f"{first}, with {' and '.join(rest)}, points to {c.topic}: "
            text += self._use(c.question)
            figures = {"combination": c.id}
            figures |= {"indicators": {r.ind.id: dict(r.figures) for r in held if r}}
            out.append(Statement(c.when[0].indicator, [COMBINATION, c.kind], text, figures))
        return out


# --------------------------------------------------------------------------- conditions


def directions(ind: Indicator, figures: Mapping, test: str) -> set[str]:
    """How the figure compares with the SN mean (`test` 'vs_sn') or England ('vs_england'), as
    the pack says it: {'worse', 'higher'} for a figure significantly worse where lower is better
    (by size where it cannot be tested); {'higher'} for a neutral one; empty when similar, level
    or without a figure."""
    v, other = figures.get("value"), figures.get(_COMPARED[test])
    if not has(v) or not has(other) or ind.format(v) == ind.format(other):
        return set()
    word, _ = compared_word(ind, str(figures.get(test) or ""), v - other)
    if word in (HIGHER, LOWER):
        return {word}
    if word not in (BETTER, WORSE):
        return set()
    up = (word == BETTER) == (ind.polarity == "high")
    return {word, HIGHER if up else LOWER}


def holds(c: Condition, r: Reading) -> bool:
    """Whether one condition holds in an indicator's reading."""
    if c.test == "is":
        return r.kind in c.values
    if c.test == "band":
        return r.figures.get("band") in c.values
    return bool(directions(r.ind, r.figures, c.test) & set(c.values))


# --------------------------------------------------------------------------- figures in words


def _gaps(ind: Indicator, f: Mapping, as_at: Mapping[str, str]) -> str:
    """'3.0 percentage points worse than the SN mean of 21.0% and 2.0 ... than England's 22.0%'
    (those with a figure)."""
    v, sn = f["value"], f["sn_mean"]
    gaps = [gap(ind, v, sn, sn_name(ind, as_at), f.get("vs_sn", ""))] if has(sn) else []
    if has(f["england"]):
        gaps.append(gap(ind, v, f["england"], england_name(ind, as_at), f.get("vs_england", "")))
    return " and ".join(gaps)


def _worsening(ind: Indicator, f: Mapping, p: Period, as_at: Mapping[str, str]) -> tuple[str, str]:
    """'<label> rose from A to B over 3 quarters (P0 to P) while the SN mean ...' and its lead,
    'what is driving the rise?'. A published SN mean is of one year: quoted, not followed."""
    v = f["value"]
    start = parse_slug(f["start_period"])
    went = moved(v - f["start_value"])
    text = (
        f"{ind.label} {went} from {ind.format(f['start_value'])} to {ind.with_unit(v)} over "
        f"{f['worsening_quarters']} quarters ({start.label} to {p.label})"
    )
    sn0, sn1 = f["sn_mean_start"], f["sn_mean"]
    if ind.id in as_at and has(sn1):
        text += f", against {sn_name(ind, as_at)} {ind.with_unit(sn1)}"
    elif has(sn0) and has(sn1):
        # "stayed near" only when the neighbours barely moved next to the LA's own change
        if ind.format(sn0) == ind.format(sn1) or abs(sn1 - sn0) < abs(v - f["start_value"]) / 4:
            text += f" while the SN mean stayed near {ind.with_unit(sn1)}"
        else:
            text += (
                f" while the SN mean {moved(sn1 - sn0)} from {ind.format(sn0)} to "
                f"{ind.with_unit(sn1)}"
            )
    return text, f"what is driving the {'rise' if went == 'rose' else 'fall'}?"


def _band_d(ind: Indicator, f: Mapping, as_at: Mapping[str, str], bottom: str) -> str:
    """'<label> has been in band D (<bottom>) for 3 quarters; at V it is <gaps>'."""
    run = f["band_d_quarters"]
    text = (
        f"{ind.label} has been in band D ({bottom}) "
        + (f"in every quarter held ({run})" if f["band_d_every_quarter"] else f"for {run} quarters")
        if run > 1
        else f"{ind.label} is in band D ({bottom}) this quarter"
    )
    gaps = _gaps(ind, f, as_at)
    return text + (f"; at {ind.with_unit(f['value'])} it is {gaps}" if gaps else "")


def _band_words(ind: Indicator, band: str, as_at: Mapping[str, str]) -> str:
    """'band D, among the worst 25% of all LAs', 'band B' (with the date of published bands)."""
    if band in ("A", "D"):
        return f"band {band}, {end(TOP if band == 'A' else BOTTOM, ind, as_at)}"
    return f"band {band}" + (f" ({published(ind, as_at)})" if ind.id in as_at else "")


def _reading_words(r: Reading, as_at: Mapping[str, str]) -> str:
    """'<label> at 27.1% (band D, among the worst 25% of all LAs; 4.2 percentage points worse
    than the SN mean of 22.9%)'."""
    ind, f = r.ind, r.figures
    band = f.get("band")
    parts = [_band_words(ind, band, as_at)] if isinstance(band, str) and band else []
    sn = f.get("sn_mean")
    if has(sn):
        parts.append(gap(ind, f["value"], sn, sn_name(ind, as_at), f.get("vs_sn", "")))
    text = f"{ind.label} at {ind.with_unit(f['value'])}"
    return text + (f" ({'; '.join(parts)})" if parts else "")
