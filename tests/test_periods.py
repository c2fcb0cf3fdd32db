"""Reporting periods: names, EES columns, stepping across financial years, and parsing."""

from __future__ import annotations

import pytest

from pipeline.core.errors import DataError
from pipeline.core.periods import Period, from_ees, parse_slug, window

Q2_2026 = Period(2026, 2)
YEAR_2025 = Period(2025)


# ----------------------------------------------------------------------------- names


def test_quarter_names_and_ees_columns():
    assert Q2_2026.is_quarter
    assert Q2_2026.slug == "2026-27-Q2"
    assert Q2_2026.label == "2026-27 Q2"
    assert Q2_2026.time_period == 202627
    assert Q2_2026.time_identifier == "Financial year Q2"
    assert str(Q2_2026) == "2026-27-Q2"


def test_reporting_year_names_and_ees_columns():
    assert not YEAR_2025.is_quarter
    assert YEAR_2025.slug == "2025"
    assert YEAR_2025.label == "2025"
    assert YEAR_2025.time_period == 2025
    assert YEAR_2025.time_identifier == "Reporting year"


def test_century_boundary_keeps_two_digit_end_year():
    p = Period(2099, 4)
    assert p.slug == "2099-00-Q4"
    assert p.time_period == 209900
    assert parse_slug("2099-00-Q4") == p
    assert from_ees(209900, "Financial year Q4") == p


def test_quarters_sort_chronologically():
    shuffled = [Period(2026, 1), Period(2025, 4), Period(2025, 2), Period(2026, 3)]
    assert [p.slug for p in sorted(shuffled)] == [
        "2025-26-Q2",
        "2025-26-Q4",
        "2026-27-Q1",
        "2026-27-Q3",
    ]


# ----------------------------------------------------------------------------- stepping


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period(2026, 1), Period(2025, 4)),  # crosses the financial-year boundary
        (Period(2026, 2), Period(2026, 1)),
        (Period(2026, 4), Period(2026, 3)),
        (Period(2025), Period(2024)),
    ],
)
def test_previous(period, previous):
    assert period.previous() == previous


@pytest.mark.parametrize(
    ("period", "year_earlier"),
    [
        (Period(2026, 1), Period(2025, 1)),
        (Period(2026, 4), Period(2025, 4)),
        (Period(2025), Period(2024)),
    ],
)
def test_year_earlier_is_same_quarter_of_previous_year(period, year_earlier):
    assert period.year_earlier() == year_earlier


@pytest.mark.parametrize(
    ("steps", "slug"),
    [
        (0, "2025-26-Q3"),
        (1, "2025-26-Q4"),
        (2, "2026-27-Q1"),  # forward over the boundary
        (-3, "2024-25-Q4"),  # backward over the boundary
        (-7, "2023-24-Q4"),
        (9, "2027-28-Q4"),
    ],
)
def test_shifted_quarters(steps, slug):
    assert Period(2025, 3).shifted(steps).slug == slug


def test_shifted_reporting_years():
    assert Period(2025).shifted(3) == Period(2028)
    assert Period(2025).shifted(-2) == Period(2023)


def test_window_is_oldest_first_and_ends_at_latest():
    assert [p.slug for p in window(Period(2026, 2), 5)] == [
        "2025-26-Q2",
        "2025-26-Q3",
        "2025-26-Q4",
        "2026-27-Q1",
        "2026-27-Q2",
    ]
    assert window(Period(2025), 3) == [Period(2023), Period(2024), Period(2025)]
    assert window(Period(2026, 1), 1) == [Period(2026, 1)]


# ----------------------------------------------------------------------------- parse_slug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-27-Q2", Period(2026, 2)),
        ("  2025-26-Q4 ", Period(2025, 4)),
        ("2025", Period(2025)),
    ],
)
def test_parse_slug_accepts_good_input(text, expected):
    assert parse_slug(text) == expected


def test_parse_slug_round_trips_the_slug():
    for p in [*window(Period(2024, 3), 8), Period(2019)]:
        assert parse_slug(p.slug) == p


def test_parse_slug_rejects_non_consecutive_years():
    with pytest.raises(DataError, match=r"'2026-28-Q1'.*consecutive.*2026-27"):
        parse_slug("2026-28-Q1")


@pytest.mark.parametrize("bad", ["2026-Q5", "2026-27-Q5", "2026-27-Q0", "26-27-Q1", "Q1", ""])
def test_parse_slug_rejects_malformed_text_naming_it(bad):
    with pytest.raises(DataError, match=f"period {bad!r} is not a period"):
        parse_slug(bad)


# ----------------------------------------------------------------------------- from_ees


@pytest.mark.parametrize(
    ("time_period", "time_identifier", "expected"),
    [
        (202627, "Financial year Q2", Period(2026, 2)),
        ("202526", "Financial year Q4", Period(2025, 4)),
        (" 202627 ", " Financial year Q1 ", Period(2026, 1)),
        (2025, "Reporting year", Period(2025)),
        ("2025", "Reporting year", Period(2025)),
    ],
)
def test_from_ees_accepts_good_input(time_period, time_identifier, expected):
    assert from_ees(time_period, time_identifier) == expected


def test_from_ees_round_trips_the_ees_columns():
    for p in (Period(2026, 1), Period(2025, 4), Period(2025)):
        assert from_ees(p.time_period, p.time_identifier) == p


@pytest.mark.parametrize("time_period", ["202628", "2026", "20262", "2026-27"])
def test_from_ees_rejects_time_period_that_does_not_fit_a_quarter(time_period):
    with pytest.raises(DataError, match=f"time_period {time_period!r} does not fit"):
        from_ees(time_period, "Financial year Q1")


def test_from_ees_rejects_six_digits_for_a_reporting_year():
    with pytest.raises(DataError, match=r"time_period '202526' does not fit 'Reporting year'"):
        from_ees("202526", "Reporting year")


@pytest.mark.parametrize("ident", ["Financial year Q5", "Quarter 1", "Month", ""])
def test_from_ees_rejects_unknown_time_identifier(ident):
    with pytest.raises(DataError, match=f"time_identifier {ident!r} is not supported"):
        from_ees("202627", ident)
