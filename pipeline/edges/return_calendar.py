"""When returns are due and when each arrived: dataset.yaml's `return_deadline` and the
analyst's record of receipt dates, ``returns/received.yaml``.

dataset.yaml::

    return_deadline: {weeks_after_quarter: 6}          # the default: 6 weeks after the quarter
    return_deadline: {weeks_after_quarter: 6, 2026-27-Q2: 2026-11-13}   # one quarter's own date

returns/received.yaml (optional; file names relative to returns/)::

    2026-27-Q2/ZL102_2026-27-Q2.csv: 2026-11-02
    2026-27-Q2/ZL102_2026-27-Q2_v2.csv: {received: 2026-11-20, provisional: false}

A version without a recorded date has its own date when it carries one: a workbook's document
property `modified` (in the file, so the same file gives the same date wherever it is copied; a
date before the quarter ended, such as a blank template's, is not one). A CSV carries none. The
file system's modification time is never used: a copy changes it.

Every problem is a ConfigError naming the file and line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import Period, parse_slug
from pipeline.edges.return_files import find_returns
from pipeline.edges.yaml_files import read_yaml

KEY = "return_deadline"
WEEKS = "weeks_after_quarter"
#: the deadline without one in dataset.yaml: six weeks after the quarter ends
DEFAULT_WEEKS = 6
#: the most weeks after a quarter a deadline may be set (half a year)
MOST_WEEKS = 26
RECEIVED = "received.yaml"
#: the sources of a version's date, as the tracker names them
RECORDED, FILE = "recorded", "file"
_EXPECTED_DEADLINE = (
    f"expected e.g. {KEY}: {{{WEEKS}: 6}}, optionally with a date for a quarter "
    "({2026-27-Q2: 2026-11-13})"
)
_EXPECTED_RECEIVED = (
    "expected a return's file name (relative to returns/) and the date it was received, "
    "e.g. 2026-27-Q2/ZL101_2026-27-Q2.csv: 2026-11-02, or {received: 2026-11-02, "
    "provisional: true}"
)


@dataclass(frozen=True)
class Calendar:
    """The dataset's deadlines and recorded receipt dates."""

    weeks: int = DEFAULT_WEEKS
    #: period slug -> its own deadline
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    #: file name as validation shows it (returns/...) -> (date received or None, provisional)
    received: Mapping[str, tuple[dt.date | None, bool]] = field(default_factory=dict)

    def deadline(self, period: str) -> dt.date:
        """The period's deadline: its own date, else `weeks` after the quarter ends."""
        own = self.dates.get(period)
        return (
            own
            if own is not None
            else quarter_end(parse_slug(period)) + dt.timedelta(weeks=self.weeks)
        )

    def receipt(
        self, shown: str, path: Path | None, period: str
    ) -> tuple[dt.date | None, str | None]:
        """A version's date and where it came from: recorded in received.yaml, else the
        workbook's own (not before its quarter ended), else (None, None)."""
        recorded = self.received.get(shown, (None, False))[0]
        if recorded is not None:
            return recorded, RECORDED
        own = file_date(path) if path is not None else None
        if own is not None and own > quarter_end(parse_slug(period)):
            return own, FILE
        return None, None

    def provisional(self, shown: str) -> bool:
        """Whether received.yaml marks the file provisional."""
        return self.received.get(shown, (None, False))[1]


def quarter_end(period: Period) -> dt.date:
    """The last day of a financial quarter (Q1 ends 30 June); a year's: 31 March after it."""
    ends = {1: (0, 6, 30), 2: (0, 9, 30), 3: (0, 12, 31), 4: (1, 3, 31)}
    years, month, day = ends[period.quarter] if period.is_quarter else (1, 3, 31)
    return dt.date(period.start_year + years, month, day)


def file_date(path: Path) -> dt.date | None:
    """A workbook's own `modified` document property; None for a CSV or a file without one."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # an unreadable workbook is validation's to report
        return None
    try:
        modified = book.properties.modified
    finally:
        book.close()
    return modified.date() if isinstance(modified, dt.datetime) else None


def load(data: Path) -> Calendar:
    """The dataset's calendar: dataset.yaml's `return_deadline` and returns/received.yaml."""
    weeks, dates = _deadlines(data / "dataset.yaml")
    return Calendar(weeks, dates, _received(data / "returns" / RECEIVED, data / "returns"))


def _read(path: Path) -> tuple[object, yaml.Node | None]:
    """The file's content and nodes (a problem names the file and line)."""
    file = read_yaml(path)
    return file.data, file.node


def _lines(node: yaml.Node | None, *path: str) -> dict[str, int]:
    """Key -> line of each entry of the mapping at `path` in the document (empty if none)."""
    for name in path:
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        node = next((v for k, v in pairs if str(getattr(k, "value", "")) == name), None)
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    return {str(k.value): k.start_mark.line + 1 for k, _ in pairs}


def _date(raw: object, where: str, what: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{where}: {what} {raw!r} is not a date; expected YYYY-MM-DD") from None


def _deadlines(path: Path) -> tuple[int, dict[str, dt.date]]:
    """dataset.yaml's weeks after the quarter and per-period deadlines, checked."""
    if not path.is_file():
        return DEFAULT_WEEKS, {}
    meta, node = _read(path)
    raw = meta.get(KEY) if isinstance(meta, dict) else None
    if raw is None:
        return DEFAULT_WEEKS, {}
    top = _lines(node).get(KEY, 1)
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}, line {top}: {KEY} {raw!r} is not understood; {_EXPECTED_DEADLINE}"
        )
    lines = _lines(node, KEY)
    weeks, dates = DEFAULT_WEEKS, {}
    for key, value in raw.items():
        where = f"{path}, line {lines.get(str(key), top)}"
        if str(key) == WEEKS:
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= MOST_WEEKS
            ):
                raise ConfigError(
                    f"{where}: {WEEKS} {value!r} must be a whole number of weeks from 1 to "
                    f"{MOST_WEEKS}; {_EXPECTED_DEADLINE}"
                )
            weeks = value
            continue
        try:
            period = parse_slug(str(key))
        except DataError:
            raise ConfigError(
                f"{where}: {key!r} is neither {WEEKS} nor a period; {_EXPECTED_DEADLINE}"
            ) from None
        due = _date(value, where, f"the deadline for {period.slug}")
        if due < quarter_end(period):
            raise ConfigError(
                f"{where}: the deadline for {period.slug} ({due.isoformat()}) is before the "
                f"quarter ends ({quarter_end(period).isoformat()}); expected a date after it"
            )
        dates[period.slug] = due
    return weeks, dates


def _received(path: Path, returns: Path) -> dict[str, tuple[dt.date | None, bool]]:
    """returns/received.yaml, checked: file name as validation shows it -> (date, provisional)."""
    if not path.is_file():
        return {}
    doc, node = _read(path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}, line 1: not a list of returns and dates; {_EXPECTED_RECEIVED}")
    lines = _lines(node)
    held = {p.relative_to(returns).as_posix() for p in find_returns([returns])}
    out = {}
    for key, value in doc.items():
        name = str(key).replace("\\", "/").strip()
        where = f"{path}, line {lines.get(str(key), 1)}"
        if name not in held:
            raise ConfigError(
                f"{where}: {name!r} names no return in {returns}; {_EXPECTED_RECEIVED}"
            )
        out[f"returns/{name}"] = _entry(value, where)
    return out


def _entry(value: object, where: str) -> tuple[dt.date | None, bool]:
    """One received.yaml entry: a date, or {received: date, provisional: true|false}."""
    if not isinstance(value, dict):
        return _date(value, where, "the date received"), False
    unknown = set(map(str, value)) - {"received", "provisional"}
    provisional = value.get("provisional", False)
    if unknown or not isinstance(provisional, bool):
        raise ConfigError(f"{where}: {value!r} is not understood; {_EXPECTED_RECEIVED}")
    received = value.get("received")
    return (None if received is None else _date(received, where, "the date received")), provisional
