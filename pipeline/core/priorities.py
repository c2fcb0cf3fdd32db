"""Regional priorities: each a target on one indicator, assessed red / amber / green.

The rule (stated in every report that shows priorities): a priority is assessed on the region's
own figure (ratio of sums) as at the report's period.
- **Green**: the figure meets the target: at or above it when a higher value is better, at or
  below it when a lower value is better.
- **Amber**: it misses the target by no more than ``amber_within`` of the target (10% unless the
  priority says otherwise).
- **Red**: it misses by more.
- **No data**: the region has no figure for the period.
Targets on neutral indicators are refused: with no better direction there is nothing to meet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.errors import ConfigError

AMBER_WITHIN = 0.10
GREEN, AMBER, RED, NO_DATA = "green", "amber", "red", "no data"


@dataclass(frozen=True)
class Priority:
    id: str
    title: str
    indicator_id: str
    target: float
    amber_within: float = AMBER_WITHIN


def parse(
    doc: object,
    catalogue: Catalogue,
    region_codes: Sequence[str],
    where: Mapping[tuple[str, int], str] | None = None,
    source: str = "priorities.yaml",
) -> dict[str, list[Priority]]:
    """Priorities per region from the parsed YAML; every problem found is reported together.

    `where` maps (region code, entry index) to a location such as ``priorities.yaml, line 12``.
    """
    where = where or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("regions", {}), dict):
        raise ConfigError(f"{source}: expected a mapping with 'version' and 'regions'")
    default_amber = doc.get("amber_within", AMBER_WITHIN)
    problems: list[str] = []
    out: dict[str, list[Priority]] = {}
    for region, entries in (doc.get("regions") or {}).items():
        region = str(region)
        if region not in region_codes:
            problems.append(
                f"{source}: region {region!r} is not in the reference data "
                f"(regions: {', '.join(region_codes)})"
            )
            continue
        if not isinstance(entries, list):
            problems.append(f"{source}: region {region}: expected a list of priorities")
            continue
        seen: set[str] = set()
        for i, e in enumerate(entries):
            at = where.get((region, i), f"{source}, {region} entry {i + 1}")
            priority = _priority(e, at, region, seen, catalogue, default_amber, problems)
            if priority is not None:
                out.setdefault(region, []).append(priority)
    if problems:
        raise ConfigError("regional priorities are not valid:\n  " + "\n  ".join(problems))
    return out


def _priority(
    e: object,
    at: str,
    region: str,
    seen: set[str],
    catalogue: Catalogue,
    default_amber: object,
    problems: list[str],
) -> Priority | None:
    """One entry of a region's list as a Priority, or None when it cannot be one. Its problems,
    said `at` its place, are added to `problems`; its id is added to `seen`."""
    if not isinstance(e, dict):
        problems.append(f"{at}: expected a mapping with id, title, indicator and target")
        return None
    missing = [k for k in ("id", "title", "indicator", "target") if e.get(k) in (None, "")]
    if missing:
        problems.append(f"{at}: missing {', '.join(missing)}")
        return None
    pid, ind_id = str(e["id"]), str(e["indicator"])
    if pid in seen:
        problems.append(f"{at}: priority id {pid!r} is used twice in region {region}")
    seen.add(pid)
    if ind_id not in catalogue:
        problems.append(f"{at}: indicator {ind_id!r} is not in the indicator catalogue")
        return None
    if not catalogue[ind_id].judged:
        problems.append(
            f"{at}: indicator {ind_id!r} is neutral (neither higher nor lower is "
            "better), so it cannot have a target"
        )
        return None
    target, amber = _number(e["target"]), _number(e.get("amber_within", default_amber))
    if target is None:
        problems.append(f"{at}: target {e['target']!r} is not a number")
        return None
    ind = catalogue[ind_id]
    if target < ind.valid_min or (ind.valid_max is not None and target > ind.valid_max):
        lo, hi = ind.valid_min, ind.valid_max
        span = f"from {lo:g} to {hi:g}" if hi is not None else f"of {lo:g} or more"
        problems.append(
            f"{at}: target {e['target']!r} is outside indicator {ind_id!r}'s valid range, so "
            f"every figure would meet it or every figure miss it; expected a target {span}"
        )
        return None
    if amber is None or not 0 <= amber < 1:
        problems.append(
            f"{at}: amber_within {e.get('amber_within', default_amber)!r} should be a "
            "fraction of the target from 0 to 1, e.g. 0.1"
        )
        return None
    return Priority(pid, str(e["title"]), ind_id, target, amber)


def _number(x: object) -> float | None:
    if isinstance(x, bool):
        return None
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def meets(ind: Indicator, value: float, target: float) -> bool:
    return value >= target if ind.polarity == "high" else value <= target


def rag(ind: Indicator, value: float | None, p: Priority) -> str:
    """Green, amber, red or no data for one figure against its priority's target."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA
    if meets(ind, value, p.target):
        return GREEN
    return AMBER if abs(value - p.target) <= p.amber_within * abs(p.target) else RED


def rule_text(ind: Indicator, p: Priority) -> str:
    """The rule for one priority, in words a reviewer reads beside its status."""
    side = "at or above" if ind.polarity == "high" else "at or below"
    width = ind.difference(p.amber_within * p.target)
    return (
        f"Green: {side} the target of {ind.with_unit(p.target)}. Amber: missing it by no more "
        f"than {width} ({p.amber_within:.0%} of the target). Red: missing it by more."
    )


def assess(
    priorities: Sequence[Priority],
    areas: pd.DataFrame,
    las: pd.DataFrame,
    catalogue: Catalogue,
    period: str,
    region_code: str,
) -> list[dict]:
    """Each priority's status for the region as at `period`, with how many LAs meet the target.

    `areas`: area_code, period, indicator_id, value, trend; `las`: la_code, period,
    indicator_id, value, status (the region's LAs).
    """
    a = areas[(areas["period"] == period) & (areas["area_code"] == region_code)]
    a = a.set_index("indicator_id")
    now = las[(las["period"] == period) & las["value"].notna()]
    out = []
    for p in priorities:
        ind = catalogue[p.indicator_id]
        value = float(a.loc[p.indicator_id, "value"]) if p.indicator_id in a.index else math.nan
        trend = a.loc[p.indicator_id, "trend"] if p.indicator_id in a.index else None
        vals = now.loc[now["indicator_id"] == p.indicator_id, "value"]
        out.append(
            {
                "id": p.id,
                "title": p.title,
                "indicator_id": ind.id,
                "indicator": ind.label,
                "target": p.target,
                "target_text": ind.format(p.target),
                "value": value,
                "value_text": ind.format(value) or "no figure",
                "status": rag(ind, value, p),
                "rule": rule_text(ind, p),
                "trend": trend if isinstance(trend, str) else None,
                "las_meeting": int(sum(meets(ind, v, p.target) for v in vals)),
                "las_with_value": len(vals),
            }
        )
    return out
