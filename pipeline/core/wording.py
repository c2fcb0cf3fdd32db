"""Words for a comparison, shared by the narrative and the evidence pack: which way is better,
what a comparator is and when, and what the significance tests found. Pure functions.

The rules every sentence built from these follows:

- **Better or worse** (than England, the region or the SN mean) only when the figure's
  confidence interval at the chosen level excludes the benchmark (``vs_england``,
  ``vs_region``, ``vs_sn`` from ``pipeline.core.significance.judge``); otherwise *similar*: the
  difference could be chance. Neutral indicators are *higher* or *lower*, never better or worse.
- **Improvement or deterioration** (a change since an earlier period) only when the
  chi-squared test finds it significant (``change_previous_sig``; the ``trend`` column for a
  trend); otherwise a rise or fall that is not significant.
- A figure that cannot be tested (no count model, such as a mean caseload or staff in
  full-time equivalents; or no counts) is judged by size as before (a change of at least
  ``MOVE_THRESHOLD``, 5%, of the earlier figure), and the words say it was not tested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pipeline.core.catalogue import Indicator
from pipeline.core.significance import (
    BETTER,
    HIGHER,
    LOWER,
    NOT_SIGNIFICANT,
    SIGNIFICANT,
    SIMILAR,
    WORSE,
    interval_columns,
    level_name,
)
from pipeline.core.trends import NO_CHANGE, STABLE

#: a change smaller than this share of the earlier figure is not judged by size
MOVE_THRESHOLD = 0.05
#: comparisons that found a difference beyond chance
DIFFERENT = (BETTER, WORSE, HIGHER, LOWER)
#: what a comparison or test column can say; anything else (blank, NaN, None) is "not tested"
COMPARED = (*DIFFERENT, SIMILAR)
TESTED = (SIGNIFICANT, NOT_SIGNIFICANT)
CHANCE = "the difference could be chance"


# --------------------------------------------------------------------------- polarity


def better_phrase(ind: Indicator) -> str:
    return {"high": "a higher value is better", "low": "a lower value is better"}.get(
        ind.polarity, "no judgement is made on this measure"
    )


def is_better(ind: Indicator, difference: float) -> bool | None:
    """Whether a positive-or-negative `difference` (new minus old, or us minus them) is better;
    None for neutral indicators or no difference."""
    if not ind.judged or difference == 0 or math.isnan(difference):
        return None
    return (difference > 0) == (ind.polarity == "high")


def verdict(ind: Indicator, difference: float) -> str:
    """'better' or 'worse' for a difference by size alone; '' when no judgement is made."""
    good = is_better(ind, difference)
    return "" if good is None else BETTER if good else WORSE


def moved(difference: float) -> str:
    return "rose" if difference > 0 else "fell"


def change(ind: Indicator, old: float, new: float) -> str:
    """'fell from 24.1% to 19.0%'."""
    return f"{moved(new - old)} from {ind.format(old)} to {ind.with_unit(new)}"


def big(old: float, new: float) -> bool:
    """Whether a change from `old` to `new` is at least MOVE_THRESHOLD of `old` (any change
    from zero)."""
    return abs(new - old) >= MOVE_THRESHOLD * abs(old) if old else new != old


def listed(items) -> str:
    """Words in a sentence's list: 'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def article(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


# --------------------------------------------------------------------------- the tests' words


def cell(x) -> str:
    """A comparison or test column's word; '' for blank, NaN, None or a missing column."""
    return x if isinstance(x, str) else ""


def by_test(level: float, trend: bool = False) -> str:
    """'chi-squared test, 95%' (`trend`: 'chi-squared test for trend, 95%')."""
    return f"chi-squared test{' for trend' if trend else ''}, {level_name(level)}%"


def untested_why(ind: Indicator, lacking: str = "counts") -> str:
    """Why a figure of `ind` has no test: 'no count model', else 'no <lacking>' (the counts
    a change is tested on, or the interval a comparison is made with)."""
    return "no count model" if ind.count_model == "none" else f"no {lacking}"


def interval_words(ind: Indicator, row: Mapping, level: float) -> str:
    """'95% CI 30.1% to 54.8%' from `row`'s interval columns at `level`; '' without one."""
    lo, hi = (row.get(c) for c in interval_columns(level))
    try:
        if lo is None or hi is None or math.isnan(float(lo)) or math.isnan(float(hi)):
            return ""
    except (TypeError, ValueError):
        return ""
    return f"{level_name(level)}% CI {ind.format(float(lo))} to {ind.format(float(hi))}"


def compared_word(ind: Indicator, vs: str, difference: float) -> tuple[str, bool]:
    """The word for a figure against a benchmark and whether it was tested: `vs` ('better',
    'similar', ...) where the comparison was made, else by size (``verdict``, or 'higher' /
    'lower' for a neutral indicator)."""
    if vs in COMPARED:
        return vs, True
    by_size = verdict(ind, difference) or (HIGHER if difference > 0 else LOWER)
    return by_size, False


def trend_tested(ind: Indicator, row: Mapping) -> bool:
    """Whether the row's ``trend`` word came from a test: 'no significant change' always does,
    'stable' and a figure without a count model never do; otherwise a figure whose changes
    were tested (its counts were there) had its trend tested too."""
    trend = cell(row.get("trend"))
    if trend == NO_CHANGE:
        return True
    if trend == STABLE or ind.count_model == "none":
        return False
    return any(cell(row.get(c)) in TESTED for c in ("change_previous_sig", "change_year_sig"))


def by_the_test(level: float, trend: bool = False) -> str:
    """'by the chi-squared test at 95%' (`trend`: 'by the chi-squared test for trend at 95%')."""
    return f"by the chi-squared test{' for trend' if trend else ''} at {level_name(level)}%"


def trend_words(ind: Indicator, row: Mapping, level: float, over: bool = False) -> str:
    """What the row's trend is, in words: 'improving, significant by the chi-squared test at
    95%', 'no significant change by the chi-squared test at 95%', 'improving: 5% or more of the
    earlier figure; no count model, so not tested', 'stable: within 5% of the earlier figure;
    ...'; `over`: the test is the test for trend over several periods. '' without a trend."""
    trend = cell(row.get("trend"))
    if not trend:
        return ""
    if trend_tested(ind, row):
        test = by_the_test(level, over)
        return f"{NO_CHANGE} {test}" if trend == NO_CHANGE else f"{trend}, significant {test}"
    size = "within 5%" if trend == STABLE else "5% or more"
    return f"{trend}: {size} of the earlier figure; {untested_why(ind)}, so not tested"


# --------------------------------------------------------------------------- comparators


def snapshot(ind: Indicator) -> bool:
    """Whether the LAs' quarterly figure is at the quarter end (its description says so), not
    over the 12 months to it (the catalogue's rule for every other indicator)."""
    return "quarter end" in ind.description and "12 months to the" not in ind.description


def published_when(ind: Indicator, date: str) -> str:
    """When DfE's published figure of `ind` is of: 'at 31 March 2025' for a snapshot, else
    'year to 31 March 2025'."""
    return f"{'at' if snapshot(ind) else 'year to'} {date}"


def published(ind: Indicator, as_at: Mapping[str, str]) -> str:
    """'DfE published, year to 31 March 2025': what a comparator of `ind` is and when (`as_at`:
    indicator id -> the date of its published comparators); '' for one without."""
    return f"DfE published, {published_when(ind, as_at[ind.id])}" if ind.id in as_at else ""


def england_of(ind: Indicator, as_at: Mapping[str, str], name: str = "England") -> str:
    """England as a sentence about `ind` names it: 'England (DfE published, year to 31 March
    2025)' for a published comparator, else `name`."""
    return f"England ({published(ind, as_at)})" if ind.id in as_at else name
