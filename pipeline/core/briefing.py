"""The member briefing's words: an LA's headline measures in plain English for lead members and
scrutiny chairs. Pure functions; the same figures always give the same words.

The rules the briefing states on its page:

- **This quarter**: the LA's published figure, or in words why there is none (withheld because
  the numbers are small, not sent, not available). Numerators and denominators are never shown.
- **Average over the year**: the mean of the published figures of the last four quarters (this
  one and the three before), shown to the indicator's decimals; only when all four have a
  published figure, else "not available".
- **Up, down or about the same** (since last quarter, and since the same quarter a year ago):
  up or down when the chi-squared test finds the change significant
  (``change_previous_sig``, ``change_year_sig``); about the same when it does not. A figure
  without a test (no count model, or no counts) is up or down when it moved by at least 5% of
  the earlier figure (``wording.MOVE_THRESHOLD``). Good or not good news by the indicator's
  polarity; a neutral indicator is never judged.
- **Against similar areas and England**: higher or lower when the figure's confidence interval
  lies wholly above or below the benchmark (``vs_sn``, ``vs_england``), about the same when it
  does not (the difference could be chance); without a test, by 5% of the benchmark as above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.core.catalogue import Indicator
from pipeline.core.errors import ConfigError
from pipeline.core.periods import Period
from pipeline.core.significance import (
    BETTER,
    HIGHER,
    LOWER,
    NOT_SIGNIFICANT,
    SIGNIFICANT,
    SIMILAR,
    WORSE,
)
from pipeline.core.statements import has
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, OK, WITHHELD
from pipeline.core.wording import big, cell, is_better

#: how many headline measures a briefing shows
MIN_MEASURES, MAX_MEASURES = 6, 8
#: how many quarters the year's average is of
YEAR_QUARTERS = 4
#: the most questions a briefing asks (the pack has them all)
MAX_QUESTIONS = 4
#: the words for moving, and for staying about the same
UP, DOWN, SAME = "up", "down", "about the same"
#: what the briefing calls an LA's statistical neighbours
SIMILAR_AREAS = "similar areas"
#: why a measure has no figure this quarter, by its status
NO_FIGURE = {
    WITHHELD: "withheld, as the numbers are too small to publish safely",
    "low": "withheld, as the numbers are too small to publish safely",
    "x": "not available",
    "z": "does not apply here",
    "k": "too small to show: it rounds to zero",
    "u": "not shown, as it is not reliable enough",
    MISSING: "not sent by the council",
    NOT_ACCEPTED: "not usable, as the return did not pass its checks",
}
#: how a briefing says what it rests on (shown on the page, under "How to read this briefing")
RULES = (
    "The year's average is the mean of the last four quarters' published figures. We only give "
    "it when all four quarters have one.",
    "Up or down means the change is too big to be chance. Otherwise we say it is about the same.",
    "Higher or lower than similar areas or England means the gap is too big to be chance. "
    "Otherwise we say it is about the same.",
    "Good news or not good news depends on whether a higher figure is better for children. "
    "Some measures are not judged: more is not better or worse.",
)


@dataclass(frozen=True)
class Measure:
    """A headline measure as the briefing names it: its indicator, plain name and why it
    matters."""

    id: str
    name: str
    why: str


def check_measures(
    ids: Sequence[object],
    known: Mapping[str, object],
    named: Mapping[str, Measure],
    where: str,
    where_each: Sequence[str],
) -> list[Measure]:
    """The chosen measures, each checked: an indicator of the catalogue (`known`), with a plain
    name (`named`), once; MIN_MEASURES to MAX_MEASURES of them. `where`: the list's place
    ('file, line n'); `where_each`: each entry's. A problem is a ConfigError naming the place."""
    out, seen = [], set()
    for i, raw in enumerate(ids):
        at = where_each[i] if i < len(where_each) else where
        if not isinstance(raw, str) or raw not in known:
            listed = ", ".join(sorted(named.keys() & known.keys()))
            raise ConfigError(
                f"{at}: briefing measure {raw!r} is not an indicator of the catalogue; expected "
                f"one of {listed}"
            )
        if raw not in named:
            raise ConfigError(
                f"{at}: briefing measure {raw!r} has no plain-English name; expected an entry "
                "for it under plain_names in data_contracts/briefing.yaml"
            )
        if raw in seen:
            raise ConfigError(f"{at}: briefing measure {raw!r} is listed twice; expected once")
        seen.add(raw)
        out.append(named[raw])
    if not MIN_MEASURES <= len(out) <= MAX_MEASURES:
        raise ConfigError(
            f"{where}: the briefing lists {len(out)} measures; expected {MIN_MEASURES} to "
            f"{MAX_MEASURES}, so that it fits on two printed pages"
        )
    return out


# --------------------------------------------------------------------------- the figure


def figure_words(ind: Indicator, value, status) -> str:
    """The measure's figure this quarter ('25.5%', '67 per 10,000 children'), or why there is
    none, in words."""
    status = status if isinstance(status, str) else OK
    if status == OK and has(value):
        return ind.with_unit(float(value))
    return NO_FIGURE.get(status, "not available")


def year_average(ind: Indicator, values: Mapping[int, float], ordinal: int) -> float | None:
    """The mean of the published figures of the YEAR_QUARTERS quarters to `ordinal` (period
    ordinal -> value, published figures only), rounded to the indicator's decimals; None unless
    every one of them has a figure."""
    four = [values.get(ordinal - k) for k in range(YEAR_QUARTERS)]
    if any(v is None or not has(v) for v in four):
        return None
    return round(sum(four) / YEAR_QUARTERS, ind.decimals)


def average_words(ind: Indicator, average: float | None) -> str:
    if average is None:
        return "not available, as the last four quarters do not all have a figure"
    return ind.with_unit(average)


# --------------------------------------------------------------------------- change


def direction(ind: Indicator, old, new, sig: object) -> str | None:
    """UP, DOWN or SAME from `old` to `new` by the change's test (`sig`: 'significant', 'not
    significant', or blank when it was not tested, then by 5% of `old`); None without both."""
    if not (has(old) and has(new)):
        return None
    old, new = float(old), float(new)
    sig = cell(sig)
    if ind.format(old) == ind.format(new) or sig == NOT_SIGNIFICANT:
        return SAME
    if sig != SIGNIFICANT and not big(old, new):
        return SAME
    return UP if new > old else DOWN


def news(ind: Indicator, way: str | None) -> str:
    """', which is good news' / ', which is not good news' for a move UP or DOWN of a judged
    indicator; '' otherwise."""
    if way not in (UP, DOWN) or not ind.judged:
        return ""
    good = is_better(ind, 1.0 if way == UP else -1.0)
    return ", which is good news" if good else ", which is not good news"


def change_words(ind: Indicator, old, new, sig: object, when: str) -> str:
    """'down from 27.0%, which is good news', 'about the same (24.9%)', or 'no figure <when> to
    compare with'. `when`: 'last quarter', 'a year ago'."""
    way = direction(ind, old, new, sig)
    if way is None:
        return f"no figure {when} to compare with" if has(new) else f"no figure {when}"
    if way == SAME:
        return f"{SAME} ({ind.with_unit(float(old))} {when})"
    return f"{way} from {ind.with_unit(float(old))}{news(ind, way)}"


# --------------------------------------------------------------------------- comparisons


def side(ind: Indicator, value, benchmark, vs: object) -> str | None:
    """UP (higher), DOWN (lower) or SAME against `benchmark`, by the comparison `vs` ('better',
    'similar', ...), else (no test) by 5% of the benchmark; None without both figures."""
    if not (has(value) and has(benchmark)):
        return None
    value, benchmark = float(value), float(benchmark)
    vs = cell(vs)
    if ind.format(value) == ind.format(benchmark) or vs == SIMILAR:
        return SAME
    if vs in (HIGHER, LOWER):
        return UP if vs == HIGHER else DOWN
    if vs in (BETTER, WORSE):
        return UP if (vs == BETTER) == (ind.polarity == "high") else DOWN
    if not big(benchmark, value):
        return SAME
    return UP if value > benchmark else DOWN


def compare_words(ind: Indicator, value, benchmark, vs: object, name: str) -> str:
    """'higher than similar areas (21.3%), which is not good news', 'about the same as England
    (22.0%)', or 'no figure for England to compare with'. `name`: 'similar areas', 'England'."""
    way = side(ind, value, benchmark, vs)
    if way is None:
        return f"no figure for {name} to compare with" if has(value) else "no comparison"
    figure = ind.with_unit(float(benchmark))
    if way == SAME:
        return f"{SAME} as {name} ({figure})"
    word = "higher" if way == UP else "lower"
    return f"{word} than {name} ({figure}){news(ind, way)}"


@dataclass(frozen=True)
class MeasureWords:
    """One headline measure as the briefing says it."""

    id: str
    name: str
    why: str
    has_figure: bool
    judged: bool  # whether higher or lower is better (neutral measures are never judged)
    now: str
    average: str
    since_last: str
    over_year: str
    vs_similar: str
    vs_england: str


def measure_words(
    ind: Indicator,
    measure: Measure,
    row: Mapping,
    values: Mapping[int, float],
    ordinal: int,
    england,
) -> MeasureWords:
    """The measure's words for the quarter of `ordinal`: `row` is the LA's benchmark row this
    quarter ({} without one: the figure is then missing), `values` its published figures by
    period ordinal, `england` England's figure this quarter."""
    status = row.get("status", MISSING) if row else MISSING
    status = status if isinstance(status, str) else OK
    value = row.get("value") if status == OK and has(row.get("value")) else None
    sig_previous, sig_year = row.get("change_previous_sig"), row.get("change_year_sig")
    return MeasureWords(
        id=ind.id,
        name=measure.name,
        why=measure.why,
        has_figure=value is not None,
        judged=ind.judged,
        now=figure_words(ind, row.get("value"), status),
        average=average_words(ind, year_average(ind, values, ordinal)),
        since_last=change_words(ind, values.get(ordinal - 1), value, sig_previous, "last quarter"),
        over_year=change_words(
            ind, values.get(ordinal - YEAR_QUARTERS), value, sig_year, "a year ago"
        ),
        vs_similar=compare_words(ind, value, row.get("sn_mean"), row.get("vs_sn"), SIMILAR_AREAS),
        vs_england=compare_words(ind, value, england, row.get("vs_england"), "England"),
    )


# --------------------------------------------------------------------------- questions

#: how a member's question closes, taken in turn so that no two close alike
CLOSINGS = (
    "What is the plan to improve it, and when should we see a change?",
    "What is being done about it, and how will we know it is working?",
    "What is behind this, and what help does the service need to turn it round?",
    "Who is leading the work on it, and when will they report back to members?",
)
#: said of a neutral measure, beside why it matters
NOT_JUDGED = "We do not judge this one: more is not better or worse."
#: the question a briefing asks when no measure is an area for development
NO_DEVELOPMENT = (
    "No measure is among the worst 25% of councils or getting worse quarter after quarter. "
    "What does the service see as its main risks for the next few months?"
)


def plain(name: str) -> str:
    """A plain name inside a sentence: its first letter in lower case ('Children in care' ->
    'children in care'), unless it starts with an abbreviation ('SEND ...')."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def member_question(name: str, statement: Mapping, closing: str) -> str:
    """A member's question about one area for development (a statement of the LA's assessment:
    its reasons, band_d and worsening, and its figures), in plain words."""
    reasons, f = statement.get("reasons", []), statement.get("figures", {})
    what = f"Our figure for {plain(name)}"
    worse = int(f.get("worsening_quarters") or 0)
    worse_words = f"got worse in each of the last {worse} quarters"
    if "band_d" in reasons:
        run = int(f.get("band_d_quarters") or 1)
        text = f"{what} is among the worst 25% of councils"
        text += f", and has been for {run} quarters running." if run > 1 else "."
        if "worsening" in reasons:
            text += f" It has also {worse_words}."
    elif "worsening" in reasons:
        text = f"{what} has {worse_words}."
    else:
        text = f"{what} is one of the areas the evidence pack says needs work."
    return f"{text} {closing}"


def member_questions(
    development: Sequence[Mapping], names: Mapping[str, str]
) -> tuple[list[str], int]:
    """Up to MAX_QUESTIONS questions a member might ask, one per area for development, each
    closing differently; and how many more areas for development the evidence pack lists.
    `names`: indicator id -> its plain name, in the order the questions take (the briefing's
    measures first); the statements keep the assessment's order otherwise."""
    if not development:
        return [NO_DEVELOPMENT], 0
    chosen = list(names)
    ordered = sorted(
        development,
        key=lambda s: chosen.index(s["indicator_id"]) if s["indicator_id"] in chosen else 99,
    )
    asked = [
        member_question(names.get(s["indicator_id"], s["indicator_id"]), s, CLOSINGS[i])
        for i, s in enumerate(ordered[:MAX_QUESTIONS])
    ]
    return asked, max(0, len(ordered) - MAX_QUESTIONS)


# --------------------------------------------------------------------------- the page's words


#: the months of each quarter of a financial year (April to March)
QUARTER_MONTHS = {
    1: ("April", "June", 0),
    2: ("July", "September", 0),
    3: ("October", "December", 0),
    4: ("January", "March", 1),
}


def months(period: Period) -> str:
    """A quarter's months ('July to September 2026'); a year's label for a year."""
    if not period.is_quarter:
        return period.label
    first, last, later = QUARTER_MONTHS[period.quarter]
    return f"{first} to {last} {period.start_year + later}"


def intro(la_name: str, period: Period, count: int) -> list[str]:
    """The briefing's opening: who it is for and what it shows."""
    return [
        f"This briefing is for lead members and scrutiny chairs in {la_name}. It gives "
        f"{count} key measures of how children's services are doing in {period.label} "
        f"({months(period)}).",
        "For each one it says whether the figure went up or down, and how it compares with "
        "similar areas and with England.",
    ]


def no_figures(la_name: str, period_label: str, status: str) -> str:
    """Why a briefing has no figures: the LA's return was not accepted, or none came."""
    if status == NOT_ACCEPTED:
        return (
            f"There are no figures for {la_name} in {period_label}. The council sent its "
            "figures, but they did not pass the checks, so they cannot be used yet. Figures "
            "from earlier quarters are not used in their place."
        )
    return (
        f"There are no figures for {la_name} in {period_label}, as the council has not sent "
        "them yet."
    )


#: the questions a member might ask when the LA has no figures for the quarter
NO_FIGURES_QUESTIONS = (
    "When will the council's figures for this quarter be ready?",
    "What is getting in the way of sending them, and who is sorting it out?",
)
#: said when the LA marked the return the figures come from provisional
PROVISIONAL = (
    "These figures are provisional: the council may still change them before they are final."
)
#: said when England's figure and the similar areas' average are DfE's published ones
PUBLISHED_NOTE = (
    "The figures for England and for similar areas are the latest ones the Department for "
    "Education has published. They may be for an earlier year than this quarter."
)
