"""Compiling contract rules to Great Expectations expectations.

Library rules (``metric``: missingValues, invalidValues, duplicateValues) compile to stock
expectations; custom rules (``engine: tartan``) name an implementation in :data:`IMPLEMENTATIONS`,
which compiles to expectations over columns that :mod:`pipeline.core.checks` derives.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pipeline.core.catalogue import UNITS
from pipeline.core.errors import ConfigError
from pipeline.edges.contract_model import Compiled, Context, Rule


def quiet_gx():
    """Import Great Expectations quietly (it is slow to import and chatty)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx, gxe


def _library(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    a = rule.arguments
    if rule.metric == "missingValues":
        return [("rows", rule, gxe.ExpectColumnValuesToNotBeNull(column=rule.column), "")]
    if rule.metric == "duplicateValues":
        # Duplicates count within one file (one return, one reference table); the same LA and
        # period in two files is the return-level rule only_return_for_la_and_period.
        cols = ["file", *(a.get("properties") or [rule.column])]
        exp = (
            gxe.ExpectColumnValuesToBeUnique(column=cols[0])
            if len(cols) == 1
            else gxe.ExpectCompoundColumnsToBeUnique(column_list=cols)
        )
        return [("rows", rule, exp, "")]
    if "pattern" in a:
        # ASCII classes ((?a)): \d is 0-9 only, as the contracts mean it. Python's \d also
        # matches other scripts' digits ('\u0661\u0669' passed as a number, then read as none).
        regex = f"(?a){a['pattern']}"
        return [
            (
                "rows",
                rule,
                gxe.ExpectColumnValuesToMatchRegex(column=rule.column, regex=regex),
                "",
            )
        ]
    if "validValuesFrom" in a:
        if a["validValuesFrom"] not in ctx.lookups:
            raise ConfigError(
                f"rule {rule.id} refers to {a['validValuesFrom']!r}, which Tartan does not know; "
                f"known: {', '.join(sorted(ctx.lookups))}"
            )
        values = list(ctx.lookups[a["validValuesFrom"]])
    elif "validValues" in a:
        values = [str(v) for v in a["validValues"]]
    else:
        raise ConfigError(
            f"rule {rule.id}: invalidValues needs validValues, validValuesFrom or pattern"
        )
    return [
        ("rows", rule, gxe.ExpectColumnValuesToBeInSet(column=rule.column, value_set=values), "")
    ]


LIBRARY_METRICS = ("missingValues", "invalidValues", "duplicateValues")


def _null(asset: str, column: str) -> Callable[[Rule, Context], Compiled]:
    """A check whose derived column is None when all is well and says what is wrong otherwise."""

    def build(rule: Rule, ctx: Context) -> Compiled:
        _, gxe = quiet_gx()
        if rule.value_from is None:  # show what the derived column says
            rule = dataclasses.replace(rule, value_from=column)
        return [(asset, rule, gxe.ExpectColumnValuesToBeNull(column=column), ctx.expected_columns)]

    return build


def _pair_equal(a: str, b: str) -> Callable[[Rule, Context], Compiled]:
    def build(rule: Rule, ctx: Context) -> Compiled:
        _, gxe = quiet_gx()
        from great_expectations.expectations.row_conditions import Column

        condition = Column("la_known") == True if a == "la_code" else None  # noqa: E712
        exp = gxe.ExpectColumnPairValuesToBeEqual(
            column_A=a, column_B=b, ignore_row_if="either_value_is_missing", row_condition=condition
        )
        return [("rows", rule, exp, "")]

    return build


def _at_most(asset: str, column: str, minimum: float | None = None):
    def build(rule: Rule, ctx: Context) -> Compiled:
        _, gxe = quiet_gx()
        exp = gxe.ExpectColumnValuesToBeBetween(column=column, max_value=0, min_value=minimum)
        return [(asset, rule, exp, "")]

    return build


def _has_rows(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    return [
        ("returns", rule, gxe.ExpectColumnValuesToBeBetween(column="data_rows", min_value=1), "")
    ]


def _complete(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    exp = gxe.ExpectColumnValuesToBeBetween(column="rows_found", min_value=1)
    return [("coverage", rule, exp, "")]


def _in_window(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    lo, hi = ctx.lookups["reporting_window"]
    exp = gxe.ExpectColumnValuesToBeBetween(
        column="period_ordinal", min_value=float(lo), max_value=float(hi)
    )
    return [("rows", rule, exp, "")]


def _in_range(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    shown = dataclasses.replace(rule, expected_from=rule.expected_from or "valid_range_text")
    exp = gxe.ExpectColumnValuesToBeBetween(column="range_excess", max_value=0)
    return [("rows", shown, exp, "")]


def _num_le_den(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    from great_expectations.expectations.row_conditions import Column

    assert ctx.catalogue is not None
    ids = [i.id for i in ctx.catalogue if i.numerator_within_denominator]
    exp = gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="denominator_n",
        column_B="numerator_n",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        row_condition=Column("indicator_id").is_in(ids),
    )
    return [("rows", rule, exp, "")]


def _value_or_status(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    from great_expectations.expectations.row_conditions import Column

    exp = gxe.ExpectColumnValuesToNotBeNull(
        column="value", row_condition=Column("status").is_null()
    )
    return [("rows", rule, exp, "")]


def _blank_when_suppressed(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = quiet_gx()
    from great_expectations.expectations.row_conditions import Column

    statuses = [str(s) for s in rule.arguments.get("statuses", ["c", "x", "z", "low", "k"])]
    exp = gxe.ExpectColumnValuesToBeNull(
        column="value", row_condition=Column("status").is_in(statuses)
    )
    return [("rows", rule, exp, "")]


#: Custom rule implementations: name -> compiler to (asset, rule, expectation, expected text).
#: Assets: "returns" (one row per file), "rows" (one per return row), "coverage" (one per file and
#: catalogue indicator), "changes" (one per value with a previous accepted value).
IMPLEMENTATIONS: dict[str, Callable[[Rule, Context], Compiled]] = {
    "file_readable": _null("returns", "read_error"),
    "header_has_columns": _null("returns", "missing_columns"),
    "header_columns_unique": _null("returns", "duplicate_columns"),
    "header_columns_known": _null("returns", "unknown_columns"),
    "header_not_repeated": _null("returns", "repeated_header"),
    "return_has_rows": _has_rows,
    "only_return_for_la_and_period": _null("returns", "other_return"),
    "version_written_as_v_and_a_whole_number": _null("returns", "version_problem"),
    "every_catalogue_indicator_present": _complete,
    "row_fits_header": _null("rows", "extra_cells"),
    "la_code_matches_return": _pair_equal("la_code", "return_la_code"),
    "period_in_reporting_window": _in_window,
    "period_is_a_real_quarter": _null("rows", "period_error"),
    "period_matches_return": _pair_equal("period_slug", "return_period"),
    "value_within_catalogue_valid_range": _in_range,
    "numerator_at_most_denominator_for_percentages": _num_le_den,
    "value_consistent_with_numerator_and_denominator": _at_most("rows", "value_gap"),
    "value_present_unless_status": _value_or_status,
    "value_blank_when_suppressed": _blank_when_suppressed,
    "change_from_previous_accepted_return": _at_most("changes", "change_excess"),
}
#: Implementations that compare with earlier accepted returns: run once acceptance is decided.
PHASE_TWO = {"change_from_previous_accepted_return"}


def _amount(v: Any) -> bool:
    """A number of zero or more (YAML's .nan, .inf and true are not)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < math.inf


def _per_unit(v: Any) -> bool:
    return isinstance(v, Mapping) and all(k in UNITS and _amount(x) for k, x in v.items())


def _quarters(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


#: The numbers custom rules take (arguments or customProperties): name -> (whether a value will
#: do, what is expected). Anything else would compare silently with NaN or a negative threshold.
NUMBERS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "relativeChange": (_amount, "a fraction of the previous value of zero or more, e.g. 0.5"),
    "minimumChange": (
        _per_unit,
        "a change of zero or more for each unit ("
        + ", ".join(UNITS)
        + "), e.g. {percentage: 10, 'rate per 10,000': 10, ratio: 5}",
    ),
    "lookbackPeriods": (_quarters, "a whole number of quarters of 1 or more, e.g. 4"),
}


def check_arguments(arguments: Mapping[str, Any], where: str) -> None:
    """Refuse a rule's numeric setting that is NaN, infinite, negative or not a number, and a
    pattern that is not a regular expression (its check would silently pass every row)."""
    for name, value in arguments.items():
        ok, expected = NUMBERS.get(name, (None, ""))
        if ok is not None and not ok(value):
            raise ConfigError(f"{where}: {name} {value!r} cannot be used; expected {expected}")
    if "pattern" in arguments:
        try:
            re.compile(f"(?a){arguments['pattern']}")
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"{where}: pattern {arguments['pattern']!r} is not a regular expression ({exc}); "
                r"expected one such as '^\d{6}$'"
            ) from None


def compile_rules(rules: Iterable[Rule], ctx: Context) -> Compiled:
    out: Compiled = []
    for rule in rules:
        if rule.implementation:
            out += IMPLEMENTATIONS[rule.implementation](rule, ctx)
        else:
            out += _library(rule, ctx)
    return out
