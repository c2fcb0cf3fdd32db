"""The demonstration dataset's yearly cycle around the numbers (written by ``demo.write``):
its peer-challenge groups, its return deadline, LAs' resubmissions and a provisional return.
Every name and code is fictional, as in ``pipeline.edges.demo``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from pipeline.core.periods import Period
from pipeline.edges.return_calendar import quarter_end

#: the demonstration's peer-challenge groups for 2026-27: (id, name, LAs), three or four LAs each,
#: every group within one region
GROUPS = [
    ("north-a", "Northmoor group A", ["ZL101", "ZL102", "ZL103"]),
    ("north-b", "Northmoor group B", ["ZL104", "ZL105", "ZL106"]),
    ("north-c", "Northmoor group C", ["ZL107", "ZL108", "ZL109", "ZL110"]),
    ("midvale-a", "Midvale group A", ["ZL201", "ZL202", "ZL203", "ZL204"]),
    ("midvale-b", "Midvale group B", ["ZL205", "ZL206", "ZL207", "ZL208"]),
    ("south-a", "Southdown group A", ["ZL301", "ZL302", "ZL303"]),
    ("south-b", "Southdown group B", ["ZL304", "ZL305", "ZL306"]),
    ("south-c", "Southdown group C", ["ZL307", "ZL308", "ZL309"]),
    ("south-d", "Southdown group D", ["ZL310", "ZL311", "ZL312"]),
]


def peer_challenge_yaml() -> str:
    """The demonstration's peer_challenge.yaml: one year's groups, each LA moderated by the LA
    in the same place of the next group of its region (so never by its own group)."""
    lines = [
        "# Peer-challenge groups for 2026-27: fictional, for the demonstration.",
        "# Each LA's self-assessment (a key under moderators) is moderated by another group's LA.",
        "year: 2026-27",
        "groups:",
    ]
    for k, (gid, name, las) in enumerate(GROUPS):
        region = gid.split("-")[0]
        same = [g for g in GROUPS if g[0].split("-")[0] == region]
        nxt = same[(same.index(GROUPS[k]) + 1) % len(same)][2]
        lines += [f"  - id: {gid}", f"    name: {name}", f"    las: [{', '.join(las)}]"]
        lines.append("    moderators:")
        lines += [f"      {la}: {nxt[i % len(nxt)]}" for i, la in enumerate(las)]
    return "\n".join(lines) + "\n"


#: the latest quarter's resubmissions: LA -> (indicator -> numerator added, the note it gives)
RESUBMITTED = {
    "ZL102": ({"rereferrals_pct": 13, "cla_3_placements_pct": 7}, "Corrected after audit"),
    "ZL304": ({"cla_health_assessment_pct": 5}, "Late health assessments added"),
}
#: the LA whose latest return is provisional (marked so in returns/received.yaml)
PROVISIONAL_LA = "ZL207"
#: the LA whose latest return came after the deadline
LATE_LA = "ZL310"


def return_cycle(put: Callable[[str, str], None], returns: pd.DataFrame, latest: Period) -> None:
    """The latest quarter's returns cycle: two LAs resubmit (``_v2``: ZL102 corrects two
    figures, ZL304 one, each with a note), ZL207's return is provisional, and
    ``returns/received.yaml`` records when each came: every LA on time (the deadline is six
    weeks after the quarter, dataset.yaml) but ZL310, and each resubmission after it."""
    end = quarter_end(latest)
    for la, (more, note) in RESUBMITTED.items():
        one = returns[returns["la_code"].eq(la) & returns["_period"].eq(latest)]
        text = one.drop(columns="_period").to_csv(index=False, lineterminator="\n")
        put(f"returns/{latest.slug}/{la}_{latest.slug}_v2.csv", _revised(text, more, note))
    lines = [
        "# When each return came, as the analyst recorded it (fictional, for the demonstration).",
        "# File (relative to returns/): the date received, or {received: date, provisional: true}.",
    ]
    las = sorted(set(returns["la_code"]))
    for i, la in enumerate(las):
        name = f"{latest.slug}/{la}_{latest.slug}.csv"
        days = 49 if la == LATE_LA else 19 + i % 20
        date = (end + dt.timedelta(days=days)).isoformat()
        lines.append(
            f"{name}: {{received: {date}, provisional: true}}"
            if la == PROVISIONAL_LA
            else f"{name}: {date}"
        )
        if la in RESUBMITTED:
            later = (end + dt.timedelta(days=50 + i % 7)).isoformat()
            lines.append(f"{latest.slug}/{la}_{latest.slug}_v2.csv: {later}")
    put("returns/received.yaml", "\n".join(lines) + "\n")


def _revised(text: str, more: dict[str, int], note: str) -> str:
    """A return's CSV with numerators raised by `more` (percentages: each value worked out
    again to one decimal) and `note` on each row changed."""
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    num, den, value = (header.index(c) for c in ("numerator", "denominator", "value"))
    for k, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(",")
        add = more.get(cells[header.index("indicator_id")])
        if add is None:
            continue
        n = int(cells[num]) + add
        cells[num], cells[value] = str(n), f"{n / float(cells[den]) * 100:.1f}"
        cells[header.index("note")] = note
        lines[k] = ",".join(cells) + "\n"
    return "".join(lines)
