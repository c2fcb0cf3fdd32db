"""Reporting periods in Explore Education Statistics (EES) terms.

A period is a `time_period` (``202627`` for a financial year, ``2025`` for a reporting year) plus a
`time_identifier` (``Financial year Q2``, ``Reporting year``). Its slug names folders and files:
``2026-27-Q2`` or ``2025``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.core.errors import DataError

# Years 1000 to 9999 in ASCII digits only: a year's slug is its four digits, so that every slug
# parse_slug accepts is the slug of the period it gives ('0000' or full-width digits would not be).
_SLUG_QUARTER = re.compile(r"^([1-9][0-9]{3})-([0-9]{2})-Q([1-4])$")
_SLUG_YEAR = re.compile(r"^([1-9][0-9]{3})$")
_IDENT_QUARTER = re.compile(r"^Financial year Q([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    """A financial-year quarter (``quarter`` 1-4) or a reporting year (``quarter`` None).

    Ordering is chronological within a kind: quarters compare by (start year, quarter).
    """

    start_year: int
    quarter: int | None = None

    @property
    def is_quarter(self) -> bool:
        return self.quarter is not None

    @property
    def time_period(self) -> int:
        if self.is_quarter:
            return self.start_year * 100 + (self.start_year + 1) % 100
        return self.start_year

    @property
    def time_identifier(self) -> str:
        return f"Financial year Q{self.quarter}" if self.is_quarter else "Reporting year"

    @property
    def slug(self) -> str:
        if self.is_quarter:
            return f"{self.start_year}-{(self.start_year + 1) % 100:02d}-Q{self.quarter}"
        return str(self.start_year)

    @property
    def label(self) -> str:
        """How a reader sees it: ``2026-27 Q2`` (financial year 2026-27, July to September)."""
        if self.is_quarter:
            return f"{self.start_year}-{(self.start_year + 1) % 100:02d} Q{self.quarter}"
        return str(self.start_year)

    @property
    def noun(self) -> str:
        """What one period of this kind is called: ``quarter`` or ``year``."""
        return "quarter" if self.is_quarter else "year"

    @property
    def ordinal(self) -> int:
        """A number that increases by one per period of the same kind."""
        return self.start_year * 4 + (self.quarter - 1) if self.is_quarter else self.start_year

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods later (earlier when negative)."""
        if not self.is_quarter:
            return Period(self.start_year + steps)
        n = self.ordinal + steps
        return Period(n // 4, n % 4 + 1)

    def previous(self) -> Period:
        return self.shifted(-1)

    def year_earlier(self) -> Period:
        return self.shifted(-4 if self.is_quarter else -1)

    def __str__(self) -> str:
        return self.slug


def parse_slug(text: str) -> Period:
    """``2026-27-Q2`` or ``2025`` to a Period; anything else is a DataError saying why."""
    text = str(text).strip()
    m = _SLUG_QUARTER.match(text)
    if m:
        start, end, q = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if (start + 1) % 100 != end:
            raise DataError(
                f"period {text!r}: the years must be consecutive, "
                f"e.g. {start}-{(start + 1) % 100:02d}"
            )
        return Period(start, q)
    if _SLUG_YEAR.match(text):
        return Period(int(text))
    raise DataError(
        f"period {text!r} is not a period: expected a financial quarter like 2026-27-Q2 "
        "or a year like 2025"
    )


def from_ees(time_period: object, time_identifier: object) -> Period:
    """EES columns to a Period: (202627, 'Financial year Q2') or (2025, 'Reporting year')."""
    tp = str(time_period).strip()
    ident = str(time_identifier).strip()
    m = _IDENT_QUARTER.match(ident)
    if m:
        if not re.fullmatch(r"[1-9][0-9]{5}", tp) or (int(tp[:4]) + 1) % 100 != int(tp[4:]):
            raise DataError(
                f"time_period {tp!r} does not fit {ident!r}: expected six digits of two "
                "consecutive years, e.g. 202627"
            )
        return Period(int(tp[:4]), int(m.group(1)))
    if ident in ("Reporting year", "Calendar year", "Academic year", "Financial year"):
        if not re.fullmatch(r"[1-9][0-9]{3}", tp):
            raise DataError(
                f"time_period {tp!r} does not fit {ident!r}: expected a year, e.g. 2025"
            )
        return Period(int(tp))
    raise DataError(
        f"time_identifier {ident!r} is not supported: expected 'Financial year Q1' to "
        "'Financial year Q4' or 'Reporting year'"
    )


def window(latest: Period, n: int) -> list[Period]:
    """The `n` periods ending at `latest`, oldest first."""
    return [latest.shifted(-k) for k in range(n - 1, -1, -1)]
