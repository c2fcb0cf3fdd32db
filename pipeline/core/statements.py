"""The evidence pack's sentence parts: a figure against a comparator, its comparators' names
and dates, what changed since the previous quarter, and the note on a figure similar to every
comparator. The rules they follow are ``pipeline.core.assessment``'s; the words for the tests
are ``pipeline.core.wording``'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.core.catalogue import Indicator
from pipeline.core.significance import NOT_SIGNIFICANT, SIGNIFICANT, SIMILAR, level_name
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED, STATUS_SYMBOLS
from pipeline.core.wording import (
    CHANCE,
    article,
    better_phrase,
    big,
    by_test,
    cell,
    compared_word,
    is_better,
    moved,
    published,
    published_when,
    untested_why,
)

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
SN_MEAN = "the SN mean of"
#: the two ends of the bands, in words that cannot be taken for a quarter of the year
TOP, BOTTOM = "among the best 25% of all LAs", "among the worst 25% of all LAs"
#: each comparison column and the comparator it names in the note on a figure similar to all
COMPARISONS = {
    "vs_sn": "the SN mean",
    "vs_region": "the region's figure",
    "vs_england": "England's figure",
}


@dataclass
class Statement:
    """One piece of evidence about one indicator, with the figures it quotes."""

    indicator_id: str
    reasons: list[str]  # the rules it meets, e.g. ["band_d", "worsening"]
    text: str
    figures: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The statement as a slice carries it: what ``dataclasses.asdict`` gives, its lists and
        dicts copied, without deep-copying each number and word in them (immutable)."""
        return {
            "indicator_id": self.indicator_id,
            "reasons": list(self.reasons),
            "text": self.text,
            "figures": _copied(self.figures),
        }


def _copied(x):
    """`x` with each dict, list and tuple in it copied."""
    if isinstance(x, dict):
        return {k: _copied(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_copied(v) for v in x)
    return x


def has(x) -> bool:
    try:
        return x is not None and not math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def gap(
    ind: Indicator,
    value: float,
    other: float,
    name: str = SN_MEAN,
    vs: str = "",
    say_untested: bool = True,
) -> str:
    """The figure against another, as its comparison `vs` (``vs_sn``, ``vs_england``) says:
    '5.6 percentage points better than the SN mean of 19.8%' (significant; higher or lower for
    a neutral indicator), 'similar to the SN mean of 19.8% (5.6 percentage points higher; the
    difference could be chance)', or without a comparison by size, said not to be tested
    unless the sentence says so already (`say_untested`). `name` leads into the other figure:
    'the SN mean of', "England's"."""
    # on the figures as shown, so that the words add up on the page
    value, other = round(value, ind.decimals), round(other, ind.decimals)
    diff = value - other
    if ind.format(value) == ind.format(other):
        return f"level with {name} {ind.with_unit(other)}"
    word, tested = compared_word(ind, vs, diff)
    if word == SIMILAR:
        side = "higher" if diff > 0 else "lower"
        return f"similar to {name} {ind.with_unit(other)} ({ind.difference(diff)} {side}; {CHANCE})"
    text = f"{ind.difference(diff)} {word} than {name} {ind.with_unit(other)}"
    if tested or not say_untested:
        return text
    return f"{text} ({untested_why(ind, 'interval')}, so not tested)"


def comparators(ind: Indicator, row: Mapping, as_at: Mapping[str, str]) -> str:
    """'region 18.0%, England 21.5%' (those with a figure); with a published England, 'region
    18.0%; England, DfE published, year to 31 March 2025: 21.5%'."""
    region = f"region {ind.format(row['region'])}" if has(row["region"]) else ""
    if not has(row["england"]):
        return region
    if ind.id not in as_at:
        return ", ".join(x for x in (region, f"England {ind.format(row['england'])}") if x)
    england = f"England, {published(ind, as_at)}: {ind.format(row['england'])}"
    return "; ".join(x for x in (region, england) if x)


def sn_name(ind: Indicator, as_at: Mapping[str, str]) -> str:
    """The SN mean leading into its figure: 'the SN mean of', or 'the SN mean (DfE published,
    year to 31 March 2025) of' for a published one."""
    return f"the SN mean ({published(ind, as_at)}) of" if ind.id in as_at else SN_MEAN


def england_name(ind: Indicator, as_at: Mapping[str, str]) -> str:
    """ "England's", or "England's (DfE published, year to 31 March 2025)"."""
    return f"England's ({published(ind, as_at)})" if ind.id in as_at else "England's"


def end(words: str, ind: Indicator, as_at: Mapping[str, str]) -> str:
    """TOP or BOTTOM; against published figures, 'among the best 25% of all LAs' published
    figures, year to 31 March 2025'."""
    if ind.id not in as_at:
        return words
    return f"{words}' published figures, {published_when(ind, as_at[ind.id])}"


def similar_note(row: Mapping, level: float) -> str:
    """' Its 95% interval includes the SN mean, the region's figure and England's figure: the
    differences could be chance.' for a figure whose every comparison (``COMPARISONS``) made is
    'similar'; '' otherwise, or with none made."""
    made = [(name, cell(row.get(col))) for col, name in COMPARISONS.items()]
    names = [name for name, vs in made if vs]
    if not names or any(vs not in ("", SIMILAR) for _, vs in made):
        return ""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return (
        f" Its {level_name(level)}% interval includes {listed}: the "
        f"difference{'s' if len(names) > 1 else ''} could be chance."
    )


def improving_words(ind: Indicator, tested: bool, level: float, say_untested: bool = True) -> str:
    """'improving significantly (chi-squared test, 95%)', or for a figure without a test
    'improving by 5% or more (no count model, so not tested)' (`say_untested`: whether to say
    why, where the sentence does not say so already)."""
    if tested:
        return f"improving significantly ({by_test(level)})"
    why = f" ({untested_why(ind)}, so not tested)" if say_untested else ""
    return f"improving by 5% or more{why}"


def untested_note(ind: Indicator) -> str:
    """What a figure without an interval says once, where an interval would be: 'no count
    model: compared by size, not tested'."""
    return f"{untested_why(ind, 'interval')}: compared by size, not tested"


def _change_verdict(ind: Indicator, diff: float, sig: str, large: bool, level: float) -> str:
    """What a change of `diff` is: a significant improvement, deterioration, rise or fall; a
    rise or fall that is not significant; or, without a test, as before by size."""
    better = is_better(ind, diff)
    rise = "rise" if diff > 0 else "fall"
    if sig == SIGNIFICANT:
        word = rise if better is None else "improvement" if better else "deterioration"
        return f": a significant {word} ({by_test(level)}; {better_phrase(ind)})"
    if sig == NOT_SIGNIFICANT:
        return f": {article(rise)} that is not significant ({by_test(level)}): it could be chance"
    untested = f"{untested_why(ind)}, so not tested"
    if better is None or not large:
        return f" ({better_phrase(ind)}; {untested})"
    word = "improvement" if better else "deterioration"
    return f": {article(word)} of 5% or more ({untested}; {better_phrase(ind)})"


def change(
    ind: Indicator,
    now: float | None,
    before: float | None,
    bands: tuple[str | None, str | None],
    statuses: tuple[str | None, str | None],
    prev_label: str,
    sig: str,
    level: float,
) -> Statement | None:
    """What changed for one indicator since the previous quarter, or None: a figure gained or
    lost, a change that is significant (`sig`, ``change_previous_sig``) or of 5% or more, or
    a change of band (`bands` and `statuses`: now and before)."""
    band, band_before = bands
    figs = {"value": now, "previous_value": before, "band": band, "previous_band": band_before}
    figs["change_previous_sig"] = sig
    if now is None and before is None:
        return None
    if now is None:
        why = STATUS_WORDS.get(statuses[0] or "", "no figure")
        text = f"{ind.label}: no figure this quarter ({why}), against {ind.with_unit(before)}"
        return Statement(ind.id, ["lost_figure"], f"{text} in {prev_label}.", figs)
    if before is None:
        # Only a figure the LA itself withheld last quarter; without an accepted return then
        # (or in the first quarter held) there is nothing to compare, as the pack says once.
        if statuses[1] not in STATUS_SYMBOLS:
            return None
        why = STATUS_WORDS[statuses[1]]
        text = f"{ind.label}: {ind.with_unit(now)}, where {prev_label} had no figure ({why})."
        return Statement(ind.id, ["gained_figure"], text, figs)
    diff = now - before
    large = big(before, now)
    moves = sig == SIGNIFICANT or large
    band_moved = bool(band and band_before and band != band_before)
    if not (moves or band_moved):
        return None
    reasons = (["moved"] if moves else []) + (["band_changed"] if band_moved else [])
    if diff == 0:
        text = f"{ind.label} was {ind.with_unit(now)} in both quarters"
    else:
        text = (
            f"{ind.label} {moved(diff)} from {ind.format(before)} to {ind.with_unit(now)} "
            f"({ind.difference(diff)}) since {prev_label}"
        )
        text += _change_verdict(ind, diff, sig, large, level)
    if band_moved:
        text += f"; band {band_before} to {band}"
    return Statement(ind.id, reasons, text + ".", figs)
