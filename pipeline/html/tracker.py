"""The returns tracker: per LA and period, whether its return came, on time or late against the
deadline, how often it was sent again, whether its figures are provisional or final, and which
figures changed between versions. On the validation report (a table per period), on each LA's
feedback page (its versions, their dates and what changed) and, in a few words, on the index.

Entries are ``pipeline.orchestration.tracker``'s, one per LA and period: la_code, la_name,
period, deadline, state (not received, received, resubmitted), timeliness (on time, late, date
not recorded; None when nothing came), received, resubmissions, provisional, used, versions
(file, version, received, received_from, status, provisional, on_time) and changes
(from_version, to_version, indicator_id, label, old, new: figures as published, "c" when
withheld). Every state is said in words, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import pairwise

from pipeline.core.periods import parse_slug
from pipeline.html.base import esc

NOT_RECEIVED, RECEIVED, RESUBMITTED = "not received", "received", "resubmitted"
ON_TIME, LATE, NOT_RECORDED = "on time", "late", "date not recorded"
#: what "provisional" means, wherever provisional figures are marked
PROVISIONAL_MEANS = (
    "the LA has marked its figures provisional and may revise them; the reports use them "
    "until it sends its final return."
)
#: the words after an LA's name where its figures are provisional
PROVISIONAL_MARK = " (provisional)"
#: where the figures' receipt dates came from
DATE_FROM = {"recorded": "recorded by the analyst", "file": "the file's own date"}


def anchor(period: str) -> str:
    """The id of a period's version history on an LA's feedback page."""
    return f"tracker-{period}"


def marked(name: str, provisional: bool) -> str:
    """An LA's name as a report lists it: '(provisional)' after it when its figures are."""
    return f"{name}{PROVISIONAL_MARK}" if provisional else name


def times(n: int) -> str:
    """'once', 'twice', '3 times'."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def day(value: object) -> str:
    """A date as a reader writes it ('13 November 2026'); anything else as it is."""
    if value is None or value == "":
        return ""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d.day} {d:%B} {d.year}"


def period_label(slug: str) -> str:
    try:
        return parse_slug(slug).label
    except Exception:  # an unreadable period: shown as it is
        return str(slug)


def changed_words(changes: Sequence[Mapping]) -> str:
    """'no figures changed', '1 figure changed', '2 figures changed'."""
    n = len(changes)
    if not n:
        return "no figures changed"
    return f"{n} figure{'' if n == 1 else 's'} changed"


def received_words(entry: Mapping) -> str:
    """'Not received', 'Received on time', 'Received late', 'Received (date not recorded)'."""
    if entry.get("state") == NOT_RECEIVED:
        return "Not received"
    when = entry.get("timeliness") or NOT_RECORDED
    return "Received (date not recorded)" if when == NOT_RECORDED else f"Received {when}"


def figures_words(entry: Mapping) -> str:
    """'provisional', 'final', or '' when no version is used."""
    if not entry.get("used"):
        return ""
    return "provisional" if entry.get("provisional") else "final"


def summary(entry: Mapping) -> str:
    """An LA's return for a period in a few words, as the index shows it: 'Received late,
    resubmitted once (2 figures changed); provisional figures'."""
    words = received_words(entry)
    n = int(entry.get("resubmissions") or 0)
    if n:
        words += f", resubmitted {times(n)} ({changed_words(entry.get('changes') or [])})"
    figures = figures_words(entry)
    return f"{words}; {figures} figures" if figures else words


def _newest_first(periods: Iterable[str]) -> list[str]:
    def key(p: str) -> tuple[int, str]:
        try:
            return (parse_slug(p).ordinal, p)
        except Exception:
            return (-1, p)

    return sorted(set(periods), key=key, reverse=True)


def _steps(entry: Mapping) -> list[tuple[int, int, list[Mapping]]]:
    """Each version step to report: (from, to, its changes): every step with changes, and each
    step between consecutive accepted versions (none changed: no figures changed)."""
    by_step: dict[tuple[int, int], list[Mapping]] = {}
    for c in entry.get("changes") or []:
        by_step.setdefault((int(c["from_version"]), int(c["to_version"])), []).append(c)
    accepted = sorted(
        int(v["version"])
        for v in entry.get("versions") or []
        if v.get("status") == "accepted" and v.get("version") is not None
    )
    for old, new in pairwise(accepted):
        by_step.setdefault((old, new), [])
    return [(old, new, by_step[(old, new)]) for old, new in sorted(by_step)]


def _changes_list(entry: Mapping) -> str:
    """What changed, step by step, as a short list (for a cell of the validation report)."""
    steps = _steps(entry)
    if not steps:
        return "only one version" if entry.get("versions") else ""
    out = []
    for old, new, changes in steps:
        said = (
            "; ".join(f"{c['label']}: {c['old']} to {c['new']}" for c in changes)
            if changes
            else "no figures changed"
        )
        out.append(f"<li>Version {old} to {new}: {esc(said)}</li>")
    return f"<ul>{''.join(out)}</ul>"


def _deadline(entry: Mapping | None) -> str:
    d = (entry or {}).get("deadline")
    return f"deadline {day(d)}" if d else "no deadline set"


def _row(entry: Mapping, link: str | None) -> str:
    """One LA's row of a period's tracker table."""
    name = f"{entry['la_name']} ({entry['la_code']})"
    head = f'<a href="{esc(link)}">{esc(name)}</a>' if link else esc(name)
    n = int(entry.get("resubmissions") or 0)
    came = entry.get("state") != NOT_RECEIVED
    cells = [
        received_words(entry),
        day(entry.get("received")) or (NOT_RECORDED if came else ""),
        (entry.get("timeliness") or NOT_RECORDED) if came else "",
        f"resubmitted {times(n)}" if n else ("not resubmitted" if came else ""),
        figures_words(entry) or ("no version accepted" if came else ""),
    ]
    return (
        f'<tr><th scope="row">{head}</th>'
        + "".join(f"<td>{esc(c)}</td>" for c in cells)
        + f"<td>{_changes_list(entry)}</td></tr>"
    )


TRACKER_HEADINGS = (
    "Local authority",
    "Return",
    "First received",
    "Against the deadline",
    "Resubmitted",
    "Figures",
    "What changed (old to new)",
)


def period_table(period: str, entries: Sequence[Mapping], links: Mapping[str, str]) -> str:
    """One period's tracker: a row per LA (by name), its name linked to its feedback page
    where `links` (LA code -> href) has one."""
    label = period_label(period)
    rows = "".join(
        _row(e, links.get(e["la_code"]))
        for e in sorted(entries, key=lambda e: (str(e["la_name"]), str(e["la_code"])))
    )
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in TRACKER_HEADINGS)
    return (
        f'<table class="tartan-table"><caption>Returns tracker, {esc(label)} '
        f"({esc(_deadline(entries[0] if entries else None))})</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _counts(entries: Sequence[Mapping]) -> str:
    """A period's tracker in one line: how many received, late, resubmitted, provisional."""
    came = [e for e in entries if e.get("state") != NOT_RECEIVED]
    late = sum(e.get("timeliness") == LATE for e in came)
    again = sum(bool(e.get("resubmissions")) for e in came)
    prov = sum(bool(e.get("used")) and bool(e.get("provisional")) for e in came)
    unknown = sum((e.get("timeliness") or NOT_RECORDED) == NOT_RECORDED for e in came)
    undated = f", {unknown} with no date recorded" if unknown else ""
    return (
        f"{len(came)} of {len(entries)} received, {late} late{undated}, {again} resubmitted, "
        f"{prov} provisional"
    )


def tracker_section(entries: Sequence[Mapping], links: Mapping[str, str]) -> str:
    """The validation report's "Returns tracker": a table per period, newest first, the latest
    open and the others folded away (printed all the same). `links`: LA code -> its feedback
    page (the period's version history is at `anchor(period)` on it)."""
    if not entries:
        return ""
    parts = [
        '<h2 id="tracker">Returns tracker</h2>',
        "<p>Each LA's return for each period: whether it came, on time or late against the "
        "deadline (by the date the analyst recorded, else the file's own date), how many "
        "times it was sent again, whether its figures are provisional or final, and which "
        "figures changed between versions (as published: c where a figure is withheld, "
        "and on both sides of a change of a few children, which the two figures together "
        "would give away). "
        "The reports always use the latest accepted version. "
        f"Provisional figures: {esc(PROVISIONAL_MEANS)}</p>",
    ]
    for n, period in enumerate(_newest_first(e["period"] for e in entries)):
        mine = [e for e in entries if e["period"] == period]
        hrefs = {
            la: f"{href}#{anchor(period)}"
            for la, href in links.items()
            if any(e["la_code"] == la and e.get("versions") for e in mine)
        }
        parts.append(
            f"<details{' open' if n == 0 else ''}><summary>Returns tracker, "
            f"{esc(period_label(period))}: {esc(_counts(mine))}</summary>"
            f"{period_table(period, mine, hrefs)}</details>"
        )
    return "".join(parts)


# --------------------------------------------------------------------------- an LA's feedback
def _used_words(v: Mapping, used: str | None) -> str:
    """Whether the reports use a version, and if not why."""
    if v.get("status") != "accepted":
        return "no: not accepted"
    if v.get("used") or (used and v.get("file") == used):
        return "yes: the latest accepted version"
    return "no: replaced by a later version"


def _version_order(v: Mapping) -> tuple[bool, int, str]:
    """Versions in order of their number; one whose number could not be read, last."""
    n = v.get("version")
    return (n is None, int(n or 0), str(v.get("file", "")))


def _version_name(v: Mapping) -> str:
    n = v.get("version")
    return "Version not known (file named oddly)" if n is None else f"Version {int(n)}"


def versions_table(entry: Mapping) -> str:
    """An LA's versions of its return for a period: each one's file, date, where the date came
    from, against the deadline, outcome, provisional or final, and whether reports use it."""
    label = period_label(entry["period"])
    rows = []
    for v in sorted(entry.get("versions") or [], key=_version_order):
        on_time = v.get("on_time")
        cells = [
            v.get("file", ""),
            day(v.get("received")) or NOT_RECORDED,
            DATE_FROM.get(v.get("received_from") or "", "no date recorded"),
            NOT_RECORDED if on_time is None else (ON_TIME if on_time else LATE),
            "accepted" if v.get("status") == "accepted" else "not accepted",
            "provisional" if v.get("provisional") else "final",
            _used_words(v, entry.get("used")),
        ]
        rows.append(
            f'<tr><th scope="row">{esc(_version_name(v))}</th>'
            + "".join(f"<td>{esc(c)}</td>" for c in cells)
            + "</tr>"
        )
    head = "".join(
        f'<th scope="col">{esc(h)}</th>'
        for h in (
            "Version",
            "File",
            "Received",
            "Date from",
            "Against the deadline",
            "Outcome",
            "Figures",
            "Used in the reports",
        )
    )
    return (
        f'<table class="tartan-table"><caption>Versions of the return for {esc(label)} '
        f"({esc(_deadline(entry))})</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def changes_tables(entry: Mapping) -> str:
    """What changed between versions, step by step: a table of the figures that differ (old
    and new, as published), or a line saying none did."""
    out = []
    for old, new, changes in _steps(entry):
        if not changes:
            out.append(f"<p>From version {old} to version {new}: no figures changed.</p>")
            continue
        rows = "".join(
            f'<tr><th scope="row">{esc(c["label"])}</th><td>{esc(c["old"])}</td>'
            f"<td>{esc(c['new'])}</td></tr>"
            for c in changes
        )
        out.append(
            f'<table class="tartan-table"><caption>What changed from version {old} to '
            f"version {new} ({esc(changed_words(changes))})</caption><thead><tr>"
            f'<th scope="col">Indicator</th><th scope="col">Version {old}</th>'
            f'<th scope="col">Version {new}</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    return "".join(out)


def in_a_sentence(entry: Mapping) -> str:
    """An LA's return for a period in a sentence: its tracker words, the deadline, and what
    provisional means when its figures are."""
    said = f"{summary(entry)} ({_deadline(entry)})."
    if entry.get("used") and entry.get("provisional"):
        said += f" Provisional: {PROVISIONAL_MEANS}"
    return said


def history(entry: Mapping) -> str:
    """One period's versions of an LA's return and what changed between them, under a heading
    `anchor(period)` names (nothing when none came)."""
    if not entry.get("versions"):
        return ""
    label = period_label(entry["period"])
    return (
        f'<h3 id="{esc(anchor(entry["period"]))}">Versions and deadline, {esc(label)}</h3>'
        + versions_table(entry)
        + changes_tables(entry)
    )
