"""The returns tracker: per LA and period, whether its return came, when (on time or late
against the period's deadline), how many times it was resubmitted, whether the version the
reports use is provisional, and which figures changed between consecutive accepted versions.

One entry per own LA and period held (per LA and period checked, for `tartan validate
RETURNS`), as the validation pages, the index and validation.json show it:

    {"la_code", "la_name", "region_code", "period", "deadline": "YYYY-MM-DD" | None,
     "state": "not received" | "received" | "resubmitted",
     "timeliness": "on time" | "late" | "date not recorded" | None,
     "received": the first version's date | None, "resubmissions": int,
     "provisional": bool (of the version used), "used": file | None (latest accepted),
     "versions": [{"file", "version": int | None (None: written oddly), "received",
                   "received_from": "recorded" | "file" | None, "status", "provisional",
                   "on_time": bool | None, "used": bool}],
     "changes": [{"from_version", "to_version", "indicator_id", "label", "old", "new"}]}

A figure is shown as a page shows it: the indicator's decimals and unit, or the LA's status
symbol (x, z, ...); "c" where disclosure control withholds it (the primary rule, on any
version; both rules, on the version used). Numerators and denominators are never shown: a
changed value beside an unchanged denominator would give away a count. A change whose counts
differ by a small number (the primary rule's, e.g. 1 to 5) is listed with both figures as "c":
the two figures side by side would say how many children the correction added or took away.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.disclosure import Screen
from pipeline.core.periods import parse_slug
from pipeline.edges import return_calendar
from pipeline.edges.reference import Reference
from pipeline.edges.return_calendar import Calendar
from pipeline.orchestration.inputs import Inputs
from pipeline.orchestration.settings import Settings
from pipeline.orchestration.validation import ACCEPTED, ReturnOutcome, Validation

NOT_RECEIVED, RECEIVED, RESUBMITTED = "not received", "received", "resubmitted"
ON_TIME, LATE, NOT_RECORDED = "on time", "late", "date not recorded"
#: an accepted row with neither a value nor a status (validation warns of it)
NO_VALUE = "no value"
WITHHELD = "c"


def for_run(s: Settings, v: Validation, inputs: Inputs, withheld: pd.DataFrame) -> list[dict]:
    """The tracker of a run: the dataset's calendar (checked: exit 2 on a problem) over the
    validation `v`; `withheld` (la_code, period, indicator_id): what disclosure control
    withholds of the figures the reports use."""
    calendar = return_calendar.load(s.data)
    return entries(
        v, inputs.reference, inputs.catalogue, calendar, withheld, s.data, complete=not s.returns
    )


def provisional(tracker: Iterable[dict]) -> set[tuple[str, str]]:
    """(LA, period) whose version the reports use is provisional."""
    return {(e["la_code"], e["period"]) for e in tracker if e["provisional"]}


def entries(
    v: Validation,
    reference: Reference,
    catalogue: Catalogue,
    calendar: Calendar,
    withheld: pd.DataFrame,
    data: Path,
    complete: bool = True,
) -> list[dict]:
    """Every tracker entry (see the module's docstring), by period then LA code. `complete`:
    every return of the dataset was checked, so an own LA with none for a period held is
    listed as not received; else only the LAs and periods checked are listed."""
    by_key: dict[tuple[str, str], list[ReturnOutcome]] = {}
    for o in [*v.outcomes, *v.others]:
        if o.la_code and o.period:
            by_key.setdefault((o.la_code, o.period), []).append(o)
    periods = sorted({p for _, p in by_key}, key=parse_slug)
    own = reference.own_las
    if complete:
        keys = [(la, p) for p in periods for la in sorted(own["la_code"])]
    else:
        keys = sorted({(o.la_code, o.period) for o in v.outcomes if o.la_code and o.period})
        keys.sort(key=lambda k: (parse_slug(k[1]), k[0]))
    shown = _Shown(v, catalogue, withheld)
    return [
        _entry(la, period, by_key.get((la, period), []), reference, calendar, shown, data)
        for la, period in keys
    ]


def _entry(
    la: str,
    period: str,
    outcomes: list[ReturnOutcome],
    reference: Reference,
    calendar: Calendar,
    shown: _Shown,
    data: Path,
) -> dict:
    """One LA's return for one period, over its versions."""
    deadline = calendar.deadline(period)
    ordered = sorted(outcomes, key=lambda o: (o.version is None, o.version or 0, o.file))
    versions = [_version(o, calendar, deadline, data) for o in ordered]
    used = next((o for o in ordered if o.used), None)
    first = versions[0] if versions else None
    if first is None:
        timeliness = None
    elif first["received"] is None:
        timeliness = NOT_RECORDED
    else:
        timeliness = ON_TIME if first["on_time"] else LATE
    return {
        "la_code": la,
        "la_name": reference.la_name(la),
        "region_code": reference.region_of.get(la),
        "period": period,
        "deadline": deadline.isoformat(),
        "state": NOT_RECEIVED if not versions else RECEIVED if len(versions) == 1 else RESUBMITTED,
        "timeliness": timeliness,
        "received": first["received"] if first else None,
        "resubmissions": max(len(versions) - 1, 0),
        "provisional": bool(used and (used.provisional or calendar.provisional(used.file))),
        "used": used.file if used else None,
        "versions": versions,
        "changes": shown.changes([o for o in ordered if o.status == ACCEPTED], la, period),
    }


def _version(o: ReturnOutcome, calendar: Calendar, deadline, data: Path) -> dict:
    """One version's line: its file, number, date and where the date came from, outcome."""
    date, source = calendar.receipt(o.file, _path(data, o.file), o.period)
    return {
        "file": o.file,
        "version": o.version,
        "received": date.isoformat() if date else None,
        "received_from": source,
        "status": o.status,
        "provisional": o.provisional or calendar.provisional(o.file),
        "on_time": None if date is None else date <= deadline,
        "used": o.used,
    }


def _path(data: Path, shown: str) -> Path | None:
    """The file a version's name (as validation shows it) stands for, if it is there."""
    for p in (data / shown, Path(shown)):
        if p.is_file():
            return p
    return None


class _Shown:
    """Each accepted version's figures as a page would show them, and the changes between
    consecutive versions."""

    def __init__(self, v: Validation, catalogue: Catalogue, withheld: pd.DataFrame):
        frames = [f for f in (v.accepted_rows, v.other_rows) if len(f)]
        self.rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        self.by_file = dict(tuple(self.rows.groupby("file", sort=False))) if len(self.rows) else {}
        self.used = set(v.accepted_rows["file"]) if len(v.accepted_rows) else set()
        self.screen: Screen | None = v.screen
        self.catalogue = {i.id: i for i in catalogue}
        self.withheld = (
            set(zip(withheld["la_code"], withheld["period"], withheld["indicator_id"], strict=True))
            if len(withheld)
            else set()
        )

    def changes(self, accepted: list[ReturnOutcome], la: str, period: str) -> list[dict]:
        """The figures that differ between each accepted version and the next, in catalogue
        order: old and new as shown."""
        out = []
        for a, b in pairwise(accepted):
            old, new = self.figures(a.file, la, period), self.figures(b.file, la, period)
            for ind_id, ind in self.catalogue.items():
                if ind_id not in old and ind_id not in new:
                    continue
                (old_key, old_text), (new_key, new_text) = (
                    old.get(ind_id, ("", NO_VALUE)),
                    new.get(ind_id, ("", NO_VALUE)),
                )
                if old_key != new_key:
                    if self._small_difference(a.file, b.file, ind_id):
                        old_text = new_text = WITHHELD
                    out.append(
                        {
                            "from_version": a.version,
                            "to_version": b.version,
                            "indicator_id": ind_id,
                            "label": ind.label,
                            "old": old_text,
                            "new": new_text,
                        }
                    )
        return out

    def _small_difference(self, old_file: str, new_file: str, ind_id: str) -> bool:
        """Whether one figure's counts in two versions differ by a small number (the primary
        rule's counts, e.g. 1 to 5): both values shown side by side would give away how many
        children the correction added or took away, so neither is shown. Never for an exempt
        indicator; none in an unsuppressed run."""
        if self.screen is None or ind_id in self.screen.rule.exempt:
            return False
        counts = [self._numerator(f, ind_id) for f in (old_file, new_file)]
        if any(math.isnan(c) for c in counts):
            return False
        rule = self.screen.rule
        return rule.smallest <= abs(counts[1] - counts[0]) <= rule.largest

    def _numerator(self, file: str, ind_id: str) -> float:
        rows = self.by_file.get(file)
        if rows is None:
            return math.nan
        found = rows.loc[rows["indicator_id"].eq(ind_id), "numerator_n"]
        return float(found.iloc[0]) if len(found) and not _nan(found.iloc[0]) else math.nan

    def figures(self, file: str, la: str, period: str) -> dict[str, tuple[str, str]]:
        """indicator id -> (what decides whether it changed, the figure as shown) of one
        accepted version: the status, else the value at the indicator's decimals."""
        rows = self.by_file.get(file)
        if rows is None:
            return {}
        hidden = self._primary(rows)
        mine = file in self.used
        out = {}
        for ind_id, status, value, held in zip(
            rows["indicator_id"], rows["status"], rows["value_n"], hidden, strict=True
        ):
            ind = self.catalogue.get(ind_id)
            if ind is None:
                continue
            status = status.strip() if isinstance(status, str) else ""
            number = float(value) if value is not None and not _nan(value) else math.nan
            key = status or ind.format(number) or NO_VALUE
            if status:
                text = status
            elif held or (mine and (la, period, ind_id) in self.withheld):
                text = WITHHELD
            else:
                text = ind.with_unit(number) or NO_VALUE
            out[ind_id] = (key, text)
        return out

    def _primary(self, rows: pd.DataFrame) -> np.ndarray:
        """The rows the primary disclosure rule withholds any figure of (none unsuppressed)."""
        if self.screen is None:
            return np.zeros(len(rows), dtype=bool)
        cells = rows.assign(
            numerator=rows["numerator_n"], denominator=rows["denominator_n"], value=rows["value_n"]
        )
        return self.screen.primary(cells).any


def _nan(x: object) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True
