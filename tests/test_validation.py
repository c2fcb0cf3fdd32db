"""Validation of LA returns: every contract check, the demo's faulty return, the command line.

Every check has a failing and a passing fixture, built from the demonstration returns. The whole
corpus is validated in ONE call (Great Expectations is slow to start); each test looks up its own
file's outcome and findings. Each fixture is for its own LA (or period), so that fixtures do not
trip the one-return-per-LA-and-period check on each other.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.orchestration.settings import PROJECT, Settings
from pipeline.orchestration.validation import validate_returns
from tests.conftest import RETURN_COLUMNS
from tests.internals import load_inputs

# Module-wide corpus and runs: its tests stay on one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("validation-corpus")

LATEST = "2026-27-Q2"
PREVIOUS = "2026-27-Q1"
HISTORY = ["2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4", PREVIOUS]
ALL_COLUMNS = (
    "la_code, time_period, time_identifier, indicator_id, numerator, denominator, value, "
    "status, note"
)
COLUMN = {c: i for i, c in enumerate(RETURN_COLUMNS)}
FAULTY = f"returns/{LATEST}/ZL203_{LATEST}.csv"
FAULTY_CHECKS = {
    "complete",
    "indicator_known",
    "no_duplicates",
    "numerator_within_denominator",
    "value_in_range",
}


# --------------------------------------------------------------------------- building fixtures


def demo_rows(demo: Path, la: str, period: str) -> list[list[str]]:
    """A demo return as rows of cells, the header first."""
    path = demo / "returns" / period / f"{la}_{period}.csv"
    with open(path, newline="", encoding="utf-8") as f:
        return [list(r) for r in csv.reader(f)]


def line_of(rows: list[list[str]], indicator: str) -> int:
    """The row a person sees for an indicator: the header is row 1."""
    return next(i for i, r in enumerate(rows) if r[COLUMN["indicator_id"]] == indicator) + 1


def get(rows: list[list[str]], indicator: str, column: str) -> str:
    return rows[line_of(rows, indicator) - 1][COLUMN[column]]


def put(rows: list[list[str]], indicator: str, column: str, value: str) -> None:
    rows[line_of(rows, indicator) - 1][COLUMN[column]] = value


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def number(x: float, decimals: int) -> str:
    """A number as an LA would type it: 541 not 541.0, 19.4 not 19.40."""
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class Fixture:
    """One fixture return and, for a failing one, the finding it must produce."""

    path: str  # relative to the corpus folder
    content: str
    row: int = 0  # the row a person sees (header = 1; 0 = whole file)
    column: str = ""
    value: str | None = None  # None: not checked (the message says it)
    words: tuple[str, ...] = ()  # in the message: the value and what was expected
    severity: str = "error"
    stands_for: str = ""  # <LA>_<period> when the file is not named so
    context_clash: bool = False  # a copy for the same LA and period is in the context


FAILING: dict[str, Callable[[Path], Fixture]] = {}
PASSING: dict[str, Callable[[Path], Fixture]] = {}


def failing(check: str):
    def register(build):
        FAILING[check] = build
        return build

    return register


def passing(*checks: str):
    def register(build):
        for c in checks:
            PASSING[c] = build
        return build

    return register


# File-level checks: ZL1xx, latest period.


@failing("readable")
def _no_header_row(demo):
    rows = demo_rows(demo, "ZL101", LATEST)
    return Fixture(
        f"ZL101_{LATEST}.csv",
        csv_text(rows[1:]),
        words=("no header row found in the first 20 lines", "expected a row naming the columns"),
    )


@failing("required_columns")
def _no_indicator_id_column(demo):
    rows = demo_rows(demo, "ZL102", LATEST)
    rows = [r[:3] + r[4:] for r in rows]
    return Fixture(
        f"ZL102_{LATEST}.csv",
        csv_text(rows),
        row=1,
        value="indicator_id",
        words=(
            "the header row has no indicator_id column",
            f"expected the columns {ALL_COLUMNS}",
        ),
    )


@failing("unique_columns")
def _value_column_twice(demo):
    rows = demo_rows(demo, "ZL104", LATEST)
    rows = [[*r, r[COLUMN["value"]]] for r in rows]
    return Fixture(
        f"ZL104_{LATEST}.csv",
        csv_text(rows),
        row=1,
        value="value",
        words=("the header row names value more than once", "expected each column once"),
    )


@failing("known_columns")
def _extra_comments_column(demo):
    rows = demo_rows(demo, "ZL105", LATEST)
    rows = [[*r, "checked by JB"] for r in rows]
    rows[0][-1] = "comments"
    return Fixture(
        f"ZL105_{LATEST}.csv",
        csv_text(rows),
        row=1,
        value="comments",
        severity="warning",
        words=(
            "column comments is not part of the return and was ignored",
            f"expected only the columns {ALL_COLUMNS}",
        ),
    )


@failing("single_header")
def _header_repeated_mid_file(demo):
    rows = demo_rows(demo, "ZL106", LATEST)
    rows.insert(13, list(rows[0]))  # becomes row 14
    return Fixture(
        f"ZL106_{LATEST}.csv",
        csv_text(rows),
        row=14,
        words=("the header row appears again here", "expected one header row at the top"),
    )


@failing("has_rows")
def _header_only(demo):
    rows = demo_rows(demo, "ZL107", LATEST)
    return Fixture(
        f"ZL107_{LATEST}.csv",
        csv_text(rows[:1]),
        row=1,
        words=("the return has a header but no rows", "expected one row per indicator"),
    )


@failing("one_return_per_period")
def _second_copy(demo):
    # Its twin, a/ZL108_..., is added by the corpus fixture; each names the other.
    rows = demo_rows(demo, "ZL108", LATEST)
    return Fixture(
        f"b/ZL108_{LATEST}.csv",
        csv_text(rows),
        row=1,
        value=f"a/ZL108_{LATEST}.csv",
        words=(
            f"another file for the same LA, period and version is also here (a/ZL108_{LATEST}.csv)",
            "expected one file per version, so neither is used",
            "name a resubmission by its version after the period (_v2, _v3, ...)",
        ),
    )


@failing("complete")
def _indicator_missing(demo):
    rows = demo_rows(demo, "ZL109", LATEST)
    del rows[line_of(rows, "cla_rate") - 1]
    return Fixture(
        f"ZL109_{LATEST}.csv",
        csv_text(rows),
        row=0,
        column="indicator_id",
        value="cla_rate",
        words=(
            "indicator 'cla_rate' has no row",
            "expected a row for every indicator in the catalogue",
        ),
    )


# Row-level checks: ZL110, ZL2xx and ZL3xx, latest period.


@failing("required_value")
def _blank_time_identifier(demo):
    rows = demo_rows(demo, "ZL110", LATEST)
    put(rows, "cla_rate", "time_identifier", "")
    return Fixture(
        f"ZL110_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cla_rate"),
        column="time_identifier",
        value="",
        words=("time_identifier is blank", "expected a value in every row"),
    )


@failing("la_code_known")
def _unknown_la_code_in_a_row(demo):
    rows = demo_rows(demo, "ZL201", LATEST)
    put(rows, "s47_rate", "la_code", "ZZ999")
    return Fixture(
        f"ZL201_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "s47_rate"),
        column="la_code",
        value="ZZ999",
        words=(
            "LA code 'ZZ999' is not in the reference list of local authorities",
            "expected one of the codes in reference/local_authorities.csv",
        ),
    )


@failing("time_period_format")
def _time_period_as_slug(demo):
    rows = demo_rows(demo, "ZL202", LATEST)
    put(rows, "cin_rate", "time_period", "2026-27")
    return Fixture(
        f"ZL202_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cin_rate"),
        column="time_period",
        value="2026-27",
        words=(
            "time_period '2026-27' is not a period",
            "expected six digits for a financial year, e.g. 202627",
        ),
    )


@failing("time_identifier_known")
def _quarter_in_words(demo):
    rows = demo_rows(demo, "ZL204", LATEST)
    put(rows, "cpp_rate", "time_identifier", "Quarter 2")
    return Fixture(
        f"ZL204_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cpp_rate"),
        column="time_identifier",
        value="Quarter 2",
        words=(
            "time_identifier 'Quarter 2' is not recognised",
            "expected 'Financial year Q1' to 'Financial year Q4'",
        ),
    )


@failing("indicator_known")
def _misspelt_indicator(demo):
    rows = demo_rows(demo, "ZL205", LATEST)
    row = line_of(rows, "cla_rate")
    put(rows, "cla_rate", "indicator_id", "cla_rates")
    return Fixture(
        f"ZL205_{LATEST}.csv",
        csv_text(rows),
        row=row,
        column="indicator_id",
        value="cla_rates",
        words=(
            "indicator_id 'cla_rates' is not in the indicator catalogue",
            "expected one of the ids in data_contracts/indicators.yaml",
        ),
    )


@failing("number_format")
def _thousands_separator(demo):
    rows = demo_rows(demo, "ZL206", LATEST)
    population = int(get(rows, "referrals_rate", "denominator"))
    put(rows, "referrals_rate", "denominator", f"{population:,}")  # quoted by the csv module
    return Fixture(
        f"ZL206_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "referrals_rate"),
        column="denominator",
        value=f"{population:,}",
        words=(
            f"denominator '{population:,}' is not a number",
            "expected a number of zero or more, of at most 15 digits either side of the point, "
            "without commas, spaces or symbols",
        ),
    )


@failing("status_known")
def _status_in_words(demo):
    rows = demo_rows(demo, "ZL207", LATEST)
    put(rows, "cpp_rate", "status", "suppressed")
    return Fixture(
        f"ZL207_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cpp_rate"),
        column="status",
        value="suppressed",
        words=(
            "status 'suppressed' is not recognised",
            "expected blank for a value, or one of c (confidential), x (not available)",
        ),
    )


@failing("row_width")
def _note_with_an_unquoted_comma(demo):
    rows = demo_rows(demo, "ZL208", LATEST)
    row = line_of(rows, "cla_rate")
    lines = csv_text(rows).splitlines()
    assert lines[row - 1].endswith(",")  # an empty note
    lines[row - 1] += "Provisional, to be confirmed"  # written by hand, without quotes
    return Fixture(
        f"ZL208_{LATEST}.csv",
        "\n".join(lines) + "\n",
        row=row,
        column="note",
        value="'to be confirmed' beyond the last column",
        words=(
            "the row has more cells than the header ('to be confirmed' beyond the last column)",
            "expected 1234, not 1,234, and a note with commas inside quotes",
        ),
    )


@failing("la_code_matches_return")
def _row_for_another_la(demo):
    rows = demo_rows(demo, "ZL301", LATEST)
    put(rows, "cin_rate", "la_code", "ZL302")
    return Fixture(
        f"ZL301_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cin_rate"),
        column="la_code",
        value="ZL302",
        words=(
            "LA code 'ZL302' is not the LA this return is for",
            "expected ZL301, the LA this return is for (from its file name)",
        ),
    )


@failing("period_in_window")
def _quarter_before_the_window(demo):
    rows = demo_rows(demo, "ZL302", "2024-25-Q3")
    for r in rows[1:]:
        r[COLUMN["time_identifier"]] = "Financial year Q2"
    return Fixture(
        "ZL302_2024-25-Q2.csv",
        csv_text(rows),
        row=2,
        column="time_period",
        value="2024-25 Q2",
        words=(
            "period 2024-25 Q2 is outside the reporting window",
            "expected a period from 2024-25 Q3 to 2026-27 Q2",
        ),
    )


@failing("period_matches_return")
def _row_for_last_year(demo):
    rows = demo_rows(demo, "ZL303", LATEST)
    put(rows, "cla_missing_pct", "time_period", "202526")
    return Fixture(
        f"ZL303_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cla_missing_pct"),
        column="time_period",
        value="2025-26 Q2",
        words=(
            "period 2025-26 Q2 is not the period this return is for",
            "expected 2026-27 Q2, the period this return is for (from its file name)",
        ),
    )


@failing("no_duplicates")
def _indicator_twice(demo):
    rows = demo_rows(demo, "ZL304", LATEST)
    rows.append(list(rows[line_of(rows, "cla_rate") - 1]))  # row 26
    return Fixture(
        f"ZL304_{LATEST}.csv",
        csv_text(rows),
        row=26,
        column="indicator_id",
        value="cla_rate",
        words=(
            "indicator 'cla_rate' appears more than once for this LA and period",
            "expected one row per indicator",
        ),
    )


@failing("value_in_range")
def _percentage_over_100(demo):
    rows = demo_rows(demo, "ZL305", LATEST)
    put(rows, "rereferrals_pct", "numerator", "")
    put(rows, "rereferrals_pct", "denominator", "")
    put(rows, "rereferrals_pct", "value", "150")
    return Fixture(
        f"ZL305_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "rereferrals_pct"),
        column="value",
        value="150",
        words=(
            "value 150 is outside the valid range for this indicator",
            "expected 0 to 100",
        ),
    )


@failing("numerator_within_denominator")
def _more_on_time_than_held(demo):
    rows = demo_rows(demo, "ZL306", LATEST)
    den = int(get(rows, "icpc_15_days_pct", "denominator"))
    put(rows, "icpc_15_days_pct", "numerator", str(den + 5))
    put(rows, "icpc_15_days_pct", "value", number((den + 5) / den * 100, 1))
    return Fixture(
        f"ZL306_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "icpc_15_days_pct"),
        column="numerator",
        value=str(den + 5),
        words=(
            f"numerator {den + 5} is larger than the denominator",
            "for a percentage the numerator must be at most the denominator",
        ),
    )


@failing("value_matches_numerator_denominator")
def _value_not_from_its_numbers(demo):
    rows = demo_rows(demo, "ZL307", LATEST)
    num = int(get(rows, "rereferrals_pct", "numerator"))
    den = int(get(rows, "rereferrals_pct", "denominator"))
    exact = num / den * 100
    wrong = number(round(exact, 1) + 1, 1)
    put(rows, "rereferrals_pct", "value", wrong)
    return Fixture(
        f"ZL307_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "rereferrals_pct"),
        column="value",
        value=wrong,
        words=(
            f"value {wrong} does not match the numerator and denominator",
            f"expected {exact:.1f} (numerator / denominator x 100, to 1 decimal place)",
        ),
    )


@failing("value_or_status")
def _value_and_status_blank(demo):
    rows = demo_rows(demo, "ZL308", LATEST)
    put(rows, "cla_rate", "value", "")
    return Fixture(
        f"ZL308_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "cla_rate"),
        column="value",
        value="",
        words=(
            "value is blank and so is status",
            "expected a value, or a status saying why there is none",
        ),
    )


@failing("no_value_when_suppressed")
def _value_given_with_status_c(demo):
    rows = demo_rows(demo, "ZL309", LATEST)
    assert get(rows, "rereferrals_pct", "value")  # the LA gives a value, and marks it c
    put(rows, "rereferrals_pct", "status", "c")
    return Fixture(
        f"ZL309_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "rereferrals_pct"),
        column="value",
        value="",  # the LA withheld the figure itself: the finding must not quote it
        severity="warning",
        words=(
            "a value is given although the status says there is none",
            "expected the value blank when the status is c, x, z, low or k",
        ),
    )


@failing("plausible_change")
def _referrals_doubled(demo):
    # Compared with ZL310's accepted return for 2026-27 Q1 (in the context).
    prev = float(get(demo_rows(demo, "ZL310", PREVIOUS), "referrals_rate", "value"))
    rows = demo_rows(demo, "ZL310", LATEST)
    den = int(get(rows, "referrals_rate", "denominator"))
    num = round(prev * 2 * den / 10_000)
    value = number(num / den * 10_000, 1)
    put(rows, "referrals_rate", "numerator", str(num))
    put(rows, "referrals_rate", "value", value)
    return Fixture(
        f"ZL310_{LATEST}.csv",
        csv_text(rows),
        row=line_of(rows, "referrals_rate"),
        column="value",
        value=f"{float(value):,.1f}",
        severity="warning",
        words=(
            f"{float(value):,.1f} is a large change from {prev:,.1f} in 2026-27 Q1",
            f"a change of more than {prev * 0.5:,.1f} is unusual, so please check it",
        ),
    )


@failing("version_named")
def _version_written_oddly(demo):
    rows = demo_rows(demo, "ZL311", LATEST)
    return Fixture(
        f"ZL311_{LATEST}_v1.5.csv",
        csv_text(rows),
        row=1,
        value="v1.5",
        words=(
            "the file's name gives its version as 'v1.5'",
            "expected _v and a whole number from 2 after the period",
        ),
    )


# Passing fixtures: near misses where there is one, else an untouched return. Previous period,
# so that they sit beside the failing ones without clashing.


@passing(
    "readable",
    "unique_columns",
    "single_header",
    "has_rows",
    "one_return_per_period",
    "required_value",
    "la_code_known",
    "la_code_in_region",
    "time_period_format",
    "period_consistent",
    "time_identifier_known",
    "indicator_known",
    "no_duplicates",
)
def _good(demo):
    return Fixture(f"ZL103_{PREVIOUS}.csv", csv_text(demo_rows(demo, "ZL103", PREVIOUS)))


@passing("required_columns")
def _without_the_optional_columns(demo):
    rows = demo_rows(demo, "ZL104", PREVIOUS)
    assert not any(r[COLUMN["status"]] for r in rows[1:])
    return Fixture(f"ZL104_{PREVIOUS}.csv", csv_text([r[:7] for r in rows]))


@passing("known_columns")
def _trailing_empty_columns(demo):
    rows = demo_rows(demo, "ZL105", PREVIOUS)
    return Fixture(f"ZL105_{PREVIOUS}.csv", csv_text([[*r, "", ""] for r in rows]))


@passing("complete", "value_or_status")
def _status_instead_of_value(demo):
    rows = demo_rows(demo, "ZL106", PREVIOUS)
    for column in ("numerator", "value"):
        put(rows, "cla_rate", column, "")
    put(rows, "cla_rate", "status", "x")
    return Fixture(f"ZL106_{PREVIOUS}.csv", csv_text(rows))


@passing("number_format")
def _spaces_around_numbers(demo):
    rows = demo_rows(demo, "ZL107", PREVIOUS)
    for column in ("numerator", "denominator", "value"):
        put(rows, "rereferrals_pct", column, f" {get(rows, 'rereferrals_pct', column)} ")
    return Fixture(f"ZL107_{PREVIOUS}.csv", csv_text(rows))


@passing("status_known", "no_value_when_suppressed")
def _low_reliability_value(demo):
    rows = demo_rows(demo, "ZL108", PREVIOUS)
    put(rows, "rereferrals_pct", "status", "u")
    return Fixture(f"ZL108_{PREVIOUS}.csv", csv_text(rows))


@passing("row_width")
def _quoted_note_with_commas(demo):
    rows = demo_rows(demo, "ZL110", PREVIOUS)
    put(rows, "cla_rate", "note", 'Provisional, "to be confirmed", after the cleanse')
    return Fixture(f"ZL110_{PREVIOUS}.csv", csv_text(rows))


@passing("period_in_window")
def _first_quarter_of_the_window(demo):
    return Fixture("ZL201_2024-25-Q3.csv", csv_text(demo_rows(demo, "ZL201", "2024-25-Q3")))


@passing("value_in_range", "numerator_within_denominator")
def _percentage_of_exactly_100(demo):
    rows = demo_rows(demo, "ZL202", PREVIOUS)
    put(rows, "icpc_15_days_pct", "numerator", get(rows, "icpc_15_days_pct", "denominator"))
    put(rows, "icpc_15_days_pct", "value", "100")
    return Fixture(f"ZL202_{PREVIOUS}.csv", csv_text(rows))


@passing("value_matches_numerator_denominator")
def _value_within_rounding(demo):
    rows = demo_rows(demo, "ZL204", PREVIOUS)
    num = int(get(rows, "rereferrals_pct", "numerator"))
    den = int(get(rows, "rereferrals_pct", "denominator"))
    put(rows, "rereferrals_pct", "value", f"{num / den * 100 + 0.04:.3f}")  # under half of 0.1
    return Fixture(f"ZL204_{PREVIOUS}.csv", csv_text(rows))


@passing("la_code_matches_return", "period_matches_return")
def _named_freely(demo):
    # Not <LA>_<period>.csv: the LA and period come from its rows, which agree.
    rows = demo_rows(demo, "ZL301", PREVIOUS)
    return Fixture("Kestrelwick return.csv", csv_text(rows), stands_for=f"ZL301_{PREVIOUS}")


@passing("plausible_change")
def _changes_within_bounds(demo):
    # Against ZL102's 2025-26 Q4 return (in the context): +40% on a rate, and +8 percentage
    # points on a small percentage (far more than 50% of it, but under the 10-point floor).
    before = demo_rows(demo, "ZL102", "2025-26-Q4")
    rows = demo_rows(demo, "ZL102", PREVIOUS)
    for ind, scale, target in [
        ("referrals_rate", 10_000, float(get(before, "referrals_rate", "value")) * 1.4),
        ("referrals_nfa_pct", 100, float(get(before, "referrals_nfa_pct", "value")) + 8),
    ]:
        den = int(get(rows, ind, "denominator"))
        num = round(target * den / scale)
        put(rows, ind, "numerator", str(num))
        put(rows, ind, "value", number(num / den * scale, 1))
    return Fixture(f"ZL102_{PREVIOUS}.csv", csv_text(rows))


# A row whose time_period does not make a quarter with its time_identifier (years not consecutive);
# a bare year with a quarter's identifier is time_period_format's.


def _period_not_fitting(la: str, time_period: str):
    def build(demo):
        rows = demo_rows(demo, la, PREVIOUS)
        put(rows, "cla_rate", "time_period", time_period)
        return Fixture(
            f"{la}_{PREVIOUS}.csv",
            csv_text(rows),
            row=line_of(rows, "cla_rate"),
            column="time_period",
            value=f"{time_period} Financial year Q1",
            words=(
                f"period {time_period} Financial year Q1 is not a real quarter",
                "expected six digits of two consecutive years, e.g. 202627",
            ),
        )

    return build


UNFITTING_PERIODS = {
    "202628": _period_not_fitting("ZL206", "202628"),  # years not consecutive
}
FAILING["period_consistent"] = UNFITTING_PERIODS["202628"]


@passing("version_named")
def _second_version(demo):
    # Its first version, ZL312_<PREVIOUS>.csv, stays in the context: no clash.
    rows = demo_rows(demo, "ZL312", PREVIOUS)
    put(rows, "cla_rate", "note", "Corrected return")
    return Fixture(f"ZL312_{PREVIOUS}_v2.csv", csv_text(rows))


def _resubmitted(demo):
    rows = demo_rows(demo, "ZL207", PREVIOUS)
    put(rows, "cla_rate", "note", "Corrected return")
    return Fixture(f"resubmitted/ZL207_{PREVIOUS}.csv", csv_text(rows), context_clash=True)


# --------------------------------------------------------------------------- the corpus


@dataclass
class Corpus:
    folder: Path
    failing: dict[str, Fixture]
    passing: dict[str, Fixture]
    extra: dict[str, Fixture]
    validation: object
    context: list[Path]

    def outcome(self, fixture: Fixture):
        return next(o for o in self.validation.outcomes if o.file == fixture.path)

    def findings(self, fixture: Fixture, check: str | None = None) -> list[dict]:
        f = self.validation.findings
        hits = f[f["file"] == fixture.path]
        if check is not None:
            hits = hits[hits["check_id"] == check]
        return hits.to_dict("records")


@pytest.fixture(scope="module")
def inputs(demo_data, tmp_path_factory):
    return load_inputs(Settings(data=demo_data, out=tmp_path_factory.mktemp("unused")))


@pytest.fixture(scope="module")
def corpus(demo_data, inputs, tmp_path_factory) -> Corpus:
    folder = tmp_path_factory.mktemp("corpus")
    fails = {check: build(demo_data) for check, build in FAILING.items()}
    built: dict[Callable, Fixture] = {}
    passes = {check: built.setdefault(b, b(demo_data)) for check, b in PASSING.items()}
    twin = Fixture(f"a/ZL108_{LATEST}.csv", fails["one_return_per_period"].content)
    extra = {"resubmitted": _resubmitted(demo_data), "twin": twin}
    fixtures = [*fails.values(), *built.values(), *extra.values()]
    paths = [f.path for f in fixtures]
    assert len(paths) == len(set(paths)), "two fixtures share a file"
    for f in fixtures:
        path = folder / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")
    # The LAs' earlier returns, so that plausible_change has something to compare with; none for
    # an LA and period a fixture stands for (that would be two returns for one LA and period).
    taken = {f.stands_for or Path(f.path).stem for f in fixtures if not f.context_clash}
    context = [
        p
        for period in HISTORY
        for p in sorted((demo_data / "returns" / period).glob("*.csv"))
        if p.stem not in taken
    ]
    v = validate_returns(
        [folder], inputs.catalogue, inputs.contract, inputs.reference, root=folder, context=context
    )
    return Corpus(folder, fails, passes, extra, v, context)


# --------------------------------------------------------------------------- every check


#: checks that only a regional dataset can fail (the demo is a national collection): each has
#: a test of its own (tests/test_regional_dataset.py)
REGIONAL_ONLY = {"la_code_in_region"}


def test_every_check_of_the_contract_has_a_failing_and_a_passing_fixture(inputs):
    checks = {r.id for r in inputs.contract.table.rules}
    assert set(FAILING) == checks - REGIONAL_ONLY
    assert set(PASSING) == checks


@pytest.mark.parametrize("check", sorted(FAILING))
def test_failing_fixture_names_row_column_value_and_expectation(corpus, check):
    fixture = corpus.failing[check]
    hits = corpus.findings(fixture, check)
    assert hits, f"{fixture.path}: no {check} finding; got {corpus.findings(fixture)}"
    at_row = [h for h in hits if h["row"] == fixture.row]
    assert at_row, f"{check} at rows {[h['row'] for h in hits]}, expected row {fixture.row}"
    hit = at_row[0]
    assert hit["severity"] == fixture.severity
    assert hit["column"] == fixture.column
    if fixture.value is not None:
        assert hit["value"] == fixture.value
    for words in fixture.words:
        assert words in hit["message"]
    expected_status = "quarantined" if fixture.severity == "error" else "accepted"
    assert corpus.outcome(fixture).status == expected_status


@pytest.mark.parametrize("check", sorted(PASSING))
def test_passing_fixture_has_no_finding_for_the_check(corpus, check):
    fixture = corpus.passing[check]
    assert corpus.findings(fixture, check) == []
    outcome = corpus.outcome(fixture)
    assert outcome.status == "accepted", corpus.findings(fixture)
    assert outcome.errors == 0


def test_changes_within_bounds_were_compared_with_the_previous_return(corpus, demo_data):
    """The plausible_change near miss is a near miss only if there was something to compare."""
    previous = demo_data / "returns" / "2025-26-Q4" / "ZL102_2025-26-Q4.csv"
    assert previous in corpus.context
    assert demo_data / "returns" / PREVIOUS / f"ZL310_{PREVIOUS}.csv" in corpus.context


def test_untouched_return_has_no_findings_at_all(corpus):
    good = corpus.passing["readable"]
    assert corpus.findings(good) == []
    outcome = corpus.outcome(good)
    assert (outcome.la_code, outcome.period, outcome.rows) == ("ZL103", PREVIOUS, 24)


def test_return_named_freely_is_identified_from_its_rows(corpus):
    outcome = corpus.outcome(corpus.passing["la_code_matches_return"])
    assert (outcome.la_code, outcome.period, outcome.status) == ("ZL301", PREVIOUS, "accepted")


def test_both_copies_of_a_return_are_held_back_each_naming_the_other(corpus):
    twin = corpus.extra["twin"]
    [hit] = corpus.findings(twin, "one_return_per_period")
    assert hit["value"] == f"b/ZL108_{LATEST}.csv"
    assert corpus.outcome(twin).status == "quarantined"


def test_both_rows_of_a_duplicated_indicator_are_named(corpus):
    fixture = corpus.failing["no_duplicates"]
    rows = sorted(h["row"] for h in corpus.findings(fixture, "no_duplicates"))
    first = line_of(list(csv.reader(io.StringIO(fixture.content))), "cla_rate")
    assert rows == [first, 26]


def test_every_row_outside_the_window_is_named(corpus):
    fixture = corpus.failing["period_in_window"]
    rows = sorted(h["row"] for h in corpus.findings(fixture, "period_in_window"))
    assert rows == list(range(2, 26))


def test_missing_indicator_and_unknown_indicator_are_both_reported(corpus):
    """All problems are collected, not only the first: a misspelt id is also a missing one."""
    fixture = corpus.failing["indicator_known"]
    checks = {h["check_id"] for h in corpus.findings(fixture)}
    assert {"indicator_known", "complete"} <= checks
    [missing] = corpus.findings(fixture, "complete")
    assert missing["value"] == "cla_rate"


def test_only_accepted_returns_give_figures(corpus):
    v = corpus.validation
    accepted = {o.file for o in v.outcomes if o.status == "accepted"}
    quarantined = {o.file for o in v.outcomes if o.status == "quarantined"}
    used = set(v.accepted_rows["file"])
    assert used == accepted
    assert not used & quarantined
    assert corpus.passing["readable"].path in used


def test_validation_json_counts_match_the_outcomes(corpus):
    j = corpus.validation.to_json()
    s = j["summary"]
    assert s["returns"] == len(corpus.validation.outcomes) == len(j["returns"])
    assert s["accepted"] + s["quarantined"] == s["returns"]
    assert s["errors"] + s["warnings"] == len(j["findings"])
    assert {c["id"] for c in j["checks"]} == set(FAILING) | REGIONAL_ONLY


def test_row_whose_time_period_does_not_fit_its_quarter_is_not_accepted(corpus):
    fixture = corpus.failing["period_consistent"]
    assert corpus.outcome(fixture).status == "quarantined"
    assert [h["row"] for h in corpus.findings(fixture, "period_consistent")] == [fixture.row]
    assert not (corpus.validation.accepted_rows["file"] == fixture.path).any()


def test_corrected_return_does_not_clash_with_the_copy_in_the_context(corpus):
    fixture = corpus.extra["resubmitted"]
    assert corpus.findings(fixture, "one_return_per_period") == []
    assert corpus.outcome(fixture).status == "accepted"


# --------------------------------------------------------------------------- the demo, by the CLI


@pytest.fixture(scope="module", autouse=True)
def demo_run_started(demo_data, tmp_path_factory):
    """`tartan validate` on the demo, started first so that it runs beside the other tests."""
    folder = tmp_path_factory.mktemp("validate-demo")
    args = [sys.executable, "-m", "pipeline", "validate", "--data", str(demo_data)]
    args += ["--out", str(folder / "out")]
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err)
    yield proc, folder
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def demo_run(demo_run_started):
    proc, folder = demo_run_started
    rc = proc.wait(timeout=600)
    result = subprocess.CompletedProcess(
        proc.args,
        rc,
        (folder / "stdout").read_text(encoding="utf-8"),
        (folder / "stderr").read_text(encoding="utf-8"),
    )
    return result, folder / "out" / "validation"


def test_demo_validation_exits_1_and_rejects_only_the_faulty_return(demo_run):
    result, folder = demo_run
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    j = json.loads((folder / "validation.json").read_text(encoding="utf-8"))
    # 8 quarters of 30 LAs' returns, and two resubmissions (ZL102's and ZL304's _v2)
    assert j["summary"]["returns"] == 242
    used = {(o["la_code"], o["period"]) for o in j["returns"] if o["used"]}
    assert len(used) == 239, "one version used per LA and quarter, none of the faulty return"
    assert [(o["file"], o["status"]) for o in j["returns"] if o["status"] != "accepted"] == [
        (FAULTY, "quarantined")
    ]
    errors = {f["check_id"] for f in j["findings"] if f["severity"] == "error"}
    assert errors == FAULTY_CHECKS
    assert {f["file"] for f in j["findings"] if f["severity"] == "error"} == {FAULTY}
    assert f"not accepted: {FAULTY}" in result.stdout
    assert "cla_placements_3plus" in result.stdout


def test_faulty_return_feedback_says_not_accepted_and_lists_its_problems(demo_run):
    _, folder = demo_run
    text = html.unescape((folder / "feedback" / "ZL203.html").read_text(encoding="utf-8"))
    # Six errors, five problems: the duplicated indicator is one problem on two rows.
    assert "Not accepted: fix the 5 problems below and send the return again." in text
    assert f"Must fix in {FAULTY}" in text
    for words in [
        "indicator_id 'cla_placements_3plus' is not in the indicator catalogue",
        "indicator 'cla_3_placements_pct' has no row",
        "indicator 'cpp_rate' appears more than once for this LA and period",
        "is larger than the denominator",
        "is outside the valid range for this indicator; expected 0 to 100",
    ]:
        assert words in text, words
    # Its seven earlier returns were accepted.
    assert text.count("<strong>Accepted.") == 7


def test_every_other_la_gets_feedback_saying_accepted(demo_run, inputs):
    _, folder = demo_run
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (folder / "feedback").glob("*.html")}
    assert set(pages) == set(inputs.reference.local_authorities["la_code"])
    for la, page in pages.items():
        assert ("Not accepted" in page) == (la == "ZL203"), la
        assert "Accepted" in page


def test_validation_outputs_are_written_and_offline(demo_run):
    _, folder = demo_run
    for name in ("index.html", "validation.json", "junit.xml", "feedback/ZL101.html"):
        assert (folder / name).is_file(), name
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "<script" not in text.lower(), path
            assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", text), path
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "Marrowgate" in index and "not accepted" in index.lower()


def test_junit_has_a_suite_per_return_a_case_per_check_and_failures_for_errors(demo_run, inputs):
    _, folder = demo_run
    root = ET.parse(folder / "junit.xml").getroot()
    suites = root.findall("testsuite")
    assert len(suites) == 242  # every version of every return
    checks = list(dict.fromkeys(r.id for r in inputs.contract.table.rules))
    failed = {}
    for suite in suites:
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == checks, suite.get("name")
        failed[suite.get("name")] = {c.get("name") for c in cases if c.find("failure") is not None}
        assert int(suite.get("failures")) == len(failed[suite.get("name")])
    assert {k: v for k, v in failed.items() if v} == {FAULTY: FAULTY_CHECKS}
    assert int(root.get("failures")) == len(FAULTY_CHECKS)
    # A warning is output, not a failure.
    suite = next(s for s in suites if s.get("name") == f"returns/{LATEST}/ZL101_{LATEST}.csv")
    case = next(c for c in suite.findall("testcase") if c.get("name") == "plausible_change")
    assert case.find("failure") is None
    assert "warning: row" in case.find("system-out").text


# --------------------------------------------------------------------------- exit codes


@pytest.fixture(scope="module")
def small_dataset(demo_data, tmp_path_factory) -> Path:
    """The demo's reference data and no returns: checking one file reads nothing else."""
    folder = tmp_path_factory.mktemp("small")
    shutil.copytree(demo_data / "reference", folder / "reference")
    shutil.copy(demo_data / "dataset.yaml", folder / "dataset.yaml")
    return folder


def test_exit_0_when_every_return_is_accepted(demo_data, small_dataset, tmp_path, capsys):
    files = [demo_data / "returns" / LATEST / f"{la}_{LATEST}.csv" for la in ("ZL102", "ZL201")]
    rc = main(["validate", *map(str, files), "--data", str(small_dataset), "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.out + out.err
    assert "2 returns, 2 accepted, 0 not accepted" in out.out
    assert (tmp_path / "validation" / "feedback" / "ZL201.html").is_file()


def test_exit_1_when_one_return_is_rejected(demo_data, small_dataset, tmp_path, capsys):
    files = [demo_data / "returns" / LATEST / f"{la}_{LATEST}.csv" for la in ("ZL102", "ZL203")]
    rc = main(["validate", *map(str, files), "--data", str(small_dataset), "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 1
    assert "2 returns, 1 accepted, 1 not accepted" in out.out
    feedback = tmp_path / "validation" / "feedback" / "ZL203.html"
    assert "Not accepted" in feedback.read_text(encoding="utf-8")


def test_unknown_option_is_a_usage_error_exit_2(tmp_path, capfd):
    from tests.conftest import cli

    r = cli(capfd, "validate", "--no-such-option", "--out", tmp_path)
    assert r.returncode == 2
    assert "unrecognized arguments: --no-such-option" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "validation").exists()


def test_path_that_does_not_exist_is_a_usage_error_exit_2(small_dataset, tmp_path, capsys):
    missing = tmp_path / "no-such-return.csv"
    rc = main(["validate", str(missing), "--data", str(small_dataset), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert f"{missing}: no such file or folder" in err
    assert rc == 2


BROKEN_CONTRACTS = {
    "not YAML": (
        lambda text: text + "\nschema: [unclosed\n",
        "not valid YAML",
    ),
    "not ODCS": (
        lambda text: text + "\nreviewer: someone\n",
        "not a valid ODCS v3 data contract at (top level): Additional properties are not "
        "allowed ('reviewer' was unexpected)",
    ),
    "unknown implementation": (
        lambda text: text.replace("implementation: file_readable", "implementation: file_readible"),
        "rule readable: implementation 'file_readible' is not one Tartan has; known: ",
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_CONTRACTS))
def test_broken_return_contract_is_a_configuration_error_exit_2(
    kind, demo_data, small_dataset, tmp_path, capsys
):
    edit, words = BROKEN_CONTRACTS[kind]
    contracts = tmp_path / "contracts"
    shutil.copytree(PROJECT / "data_contracts", contracts)
    contract = contracts / "la_return.yaml"
    contract.write_text(edit(contract.read_text(encoding="utf-8")), encoding="utf-8")
    good = demo_data / "returns" / LATEST / f"ZL101_{LATEST}.csv"
    out = tmp_path / "out"
    args = ["--data", str(small_dataset), "--out", str(out), "--contracts", str(contracts)]
    rc = main(["validate", str(good), *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(f"tartan: error: {contract}: ")
    assert words in err
    assert not out.exists(), "nothing is written when the contract cannot be used"
