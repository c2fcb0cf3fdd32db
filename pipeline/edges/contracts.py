"""The contracts / Great Expectations bridge.

Contracts are data: ODCS v3 YAML in ``data_contracts/``, checked against the standard's JSON
schema and parsed with the ``open-data-contract-standard`` model. Each schema object becomes a
:class:`Table` of rules. Library rules (``metric``: missingValues, invalidValues, duplicateValues)
compile to stock Great Expectations expectations; custom rules (``engine: tartan``) name an
implementation in :data:`IMPLEMENTATIONS`, which compiles to expectations over columns that
:mod:`pipeline.core.checks` derives. All suites run in one ephemeral GX context, in the driver,
and every failure comes back as a finding naming file, row, column, value and what was expected:
collected for all rules at once, never first-failure-only.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.core import checks, disclosure, priorities
from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError

FINDING_COLUMNS = ["file", "row", "column", "value", "check_id", "severity", "message"]
SEVERITIES = ("error", "warning")


def load_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


# --------------------------------------------------------------------------- the contract model


@dataclass(frozen=True)
class Rule:
    """One quality rule of a contract: what is checked, how bad a failure is, what to say."""

    id: str
    severity: str
    message: str
    column: str | None  # the column a finding points the LA at
    metric: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    implementation: str | None = None
    value_from: str | None = None  # a derived column shown as the value instead of `column`
    expected_from: str | None = None  # a derived column holding each row's expectation
    row_from: str | None = None  # a derived column holding the row to point at

    def describe(self) -> str:
        """The rule in a phrase, for the list of checks in the validation report."""
        return (
            self.message.replace("{value!r}", "…")
            .replace("{value}", "…")
            .replace("{expected}", "…")
            .replace("{column}", self.column or "the column")
        )


@dataclass
class Table:
    """One schema object: the columns of one kind of file and the rules its rows must keep."""

    name: str
    columns: list[str]
    header_required: list[str]  # columns the header must name
    rules: list[Rule]


@dataclass
class Contract:
    id: str
    name: str
    version: str
    path: Path
    tables: dict[str, Table]

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"

    @property
    def table(self) -> Table:
        """The first (for the LA return, the only) schema object."""
        return next(iter(self.tables.values()))

    @property
    def rules(self) -> list[Rule]:
        return [r for t in self.tables.values() for r in t.rules]


@functools.cache
def _odcs_validator():
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("open_data_contract_standard")
        .joinpath("schema.json")
        .read_text(encoding="utf-8")
    )
    return jsonschema.validators.validator_for(schema)(schema)


def _custom(items: Iterable[Any] | None) -> dict[str, Any]:
    return {c.property: c.value for c in items or [] if c.property}


_SHOWN = ("column", "valueFrom", "expectedFrom", "rowFrom")  # customProperties about the message


def _rule(q: Any, column: str | None, where: str) -> Rule:
    if not q.id or not q.severity:
        raise ConfigError(f"{where}: every quality rule needs an id and a severity")
    if q.severity not in SEVERITIES:
        raise ConfigError(f"{where}: rule {q.id}: severity {q.severity!r} must be error or warning")
    custom = _custom(q.customProperties)
    if not q.metric and not q.implementation:
        raise ConfigError(f"{where}: rule {q.id} has neither a metric nor an implementation")
    if q.implementation and q.implementation not in IMPLEMENTATIONS:
        raise ConfigError(
            f"{where}: rule {q.id}: implementation {q.implementation!r} is not one Tartan has; "
            f"known: {', '.join(sorted(IMPLEMENTATIONS))}"
        )
    if q.metric and q.metric not in LIBRARY_METRICS:
        raise ConfigError(
            f"{where}: rule {q.id}: metric {q.metric!r} is not supported; supported: "
            f"{', '.join(LIBRARY_METRICS)}"
        )
    return Rule(
        id=q.id,
        severity=q.severity,
        message=(q.description or q.id).strip(),
        column=column or custom.get("column"),
        metric=q.metric,
        arguments=dict(q.arguments or {})
        | {
            k: v
            for k, v in custom.items()
            if k not in ("column", "valueFrom", "expectedFrom", "rowFrom")
        },
        implementation=q.implementation if isinstance(q.implementation, str) else None,
        value_from=custom.get("valueFrom"),
        expected_from=custom.get("expectedFrom"),
        row_from=custom.get("rowFrom"),
    )


def load_contract(path: Path) -> Contract:
    """Read, check against the ODCS JSON schema, and parse one data contract."""
    import pydantic
    from open_data_contract_standard.model import OpenDataContractStandard

    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: not an ODCS data contract (expected a YAML mapping)")
    problems = sorted(_odcs_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if problems:
        first = problems[0]
        at = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(
            f"{path}: not a valid ODCS v3 data contract at {at}: {first.message}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
        )
    try:
        model = OpenDataContractStandard.model_validate(doc)
    except pydantic.ValidationError as exc:
        raise ConfigError(f"{path}: not a valid ODCS v3 data contract ({exc})") from None
    if not model.id or not model.version or not model.schema_:
        raise ConfigError(f"{path}: a data contract needs an id, a version and a schema")
    tables: dict[str, Table] = {}
    for obj in model.schema_:
        where = f"{path}: schema {obj.name}"
        props = obj.properties or []
        rules = []
        for p in props:
            for q in p.quality or []:
                rules.append(_rule(q, p.name, f"{where}, property {p.name}"))
        for q in obj.quality or []:
            rules.append(_rule(q, None, where))
        tables[str(obj.name)] = Table(
            name=str(obj.name),
            columns=[str(p.name) for p in props],
            header_required=[
                str(p.name) for p in props if not _custom(p.customProperties).get("optionalColumn")
            ],
            rules=rules,
        )
    return Contract(
        id=model.id, name=model.name or model.id, version=model.version, path=path, tables=tables
    )


# --------------------------------------------------------------------------- compiling


@dataclass
class Context:
    """What rules may refer to: value lists, the indicator catalogue, the reporting window."""

    lookups: Mapping[str, list[str]] = field(default_factory=dict)
    catalogue: Catalogue | None = None
    expected_columns: str = ""


Compiled = list[tuple[str, Rule, Any, str]]  # (asset, rule, expectation, static expectation text)


def _gx():
    """Import Great Expectations quietly (it is slow to import and chatty)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx, gxe


def _library(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
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
        _, gxe = _gx()
        if rule.value_from is None:  # show what the derived column says
            rule = dataclasses.replace(rule, value_from=column)
        return [(asset, rule, gxe.ExpectColumnValuesToBeNull(column=column), ctx.expected_columns)]

    return build


def _pair_equal(a: str, b: str) -> Callable[[Rule, Context], Compiled]:
    def build(rule: Rule, ctx: Context) -> Compiled:
        _, gxe = _gx()
        from great_expectations.expectations.row_conditions import Column

        condition = Column("la_known") == True if a == "la_code" else None  # noqa: E712
        exp = gxe.ExpectColumnPairValuesToBeEqual(
            column_A=a, column_B=b, ignore_row_if="either_value_is_missing", row_condition=condition
        )
        return [("rows", rule, exp, "")]

    return build


def _at_most(asset: str, column: str, minimum: float | None = None):
    def build(rule: Rule, ctx: Context) -> Compiled:
        _, gxe = _gx()
        exp = gxe.ExpectColumnValuesToBeBetween(column=column, max_value=0, min_value=minimum)
        return [(asset, rule, exp, "")]

    return build


def _has_rows(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
    return [
        ("returns", rule, gxe.ExpectColumnValuesToBeBetween(column="data_rows", min_value=1), "")
    ]


def _complete(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
    exp = gxe.ExpectColumnValuesToBeBetween(column="rows_found", min_value=1)
    return [("coverage", rule, exp, "")]


def _in_window(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
    lo, hi = ctx.lookups["reporting_window"]
    exp = gxe.ExpectColumnValuesToBeBetween(
        column="period_ordinal", min_value=float(lo), max_value=float(hi)
    )
    return [("rows", rule, exp, "")]


def _in_range(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
    shown = dataclasses.replace(rule, expected_from=rule.expected_from or "valid_range_text")
    exp = gxe.ExpectColumnValuesToBeBetween(column="range_excess", max_value=0)
    return [("rows", shown, exp, "")]


def _num_le_den(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
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
    _, gxe = _gx()
    from great_expectations.expectations.row_conditions import Column

    exp = gxe.ExpectColumnValuesToNotBeNull(
        column="value", row_condition=Column("status").is_null()
    )
    return [("rows", rule, exp, "")]


def _blank_when_suppressed(rule: Rule, ctx: Context) -> Compiled:
    _, gxe = _gx()
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


def compile_rules(rules: Iterable[Rule], ctx: Context) -> Compiled:
    out: Compiled = []
    for rule in rules:
        if rule.implementation:
            out += IMPLEMENTATIONS[rule.implementation](rule, ctx)
        else:
            out += _library(rule, ctx)
    return out


# --------------------------------------------------------------------------- running


@functools.cache
def _context():
    gx, _ = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context, context.data_sources.add_pandas("tartan")


_RUNS = itertools.count()


def run(compiled: Compiled, assets: Mapping[str, pd.DataFrame], suite_name: str) -> pd.DataFrame:
    """Run compiled expectations over their assets; one finding per failing row.

    Each asset frame must have ``file`` and ``row`` columns (the row a person sees, 0 for the
    file as a whole). Assets without expectations or rows are skipped.
    """
    gx, _ = _gx()
    _, source = _context()
    findings: list[dict[str, Any]] = []
    for asset_name, df in assets.items():
        mine = [c for c in compiled if c[0] == asset_name]
        if not mine or df.empty:
            continue
        frame = df.reset_index(drop=True).assign(row_id=range(len(df)))
        # GX hashes the whole batch: give it only the columns the expectations read.
        used = sorted({c for _, _, exp, _ in mine for c in _columns(exp)} | {"row_id"})
        n = next(_RUNS)
        batch_def = source.add_dataframe_asset(
            f"{asset_name}-{n}"
        ).add_batch_definition_whole_dataframe("all")
        suite = gx.ExpectationSuite(name=f"{suite_name}-{asset_name}-{n}")
        for k, (_, rule, exp, _text) in enumerate(mine):
            exp.meta = {"rule": rule.id, "k": k}
            suite.add_expectation(exp)
        batch = frame[used]
        # Plain object columns: pandas' python-backed string dtype makes GX's null checks slow.
        batch = batch.astype({c: object for c in used if pd.api.types.is_string_dtype(batch[c])})
        result = batch_def.get_batch(batch_parameters={"dataframe": batch}).validate(
            suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["row_id"],
            },
        )
        for res in result.results:
            _, rule, _, text = mine[int(res.expectation_config.meta["k"])]
            if res.exception_info and res.exception_info.get("raised_exception"):
                raise ConfigError(
                    f"rule {rule.id} could not run: {res.exception_info.get('exception_message')}"
                )
            if res.success:
                continue
            ids = [int(hit["row_id"]) for hit in res.result.get("unexpected_index_list") or []]
            findings += failures(rule, frame.iloc[ids], text)
    return findings_frame(findings)


def _columns(exp: Any) -> set[str]:
    """The columns one expectation reads, including those of its row condition."""
    cols = {getattr(exp, k, None) for k in ("column", "column_A", "column_B")}
    cols |= set(getattr(exp, "column_list", None) or [])
    cond = getattr(exp, "row_condition", None)
    stack = [cond]
    while stack:
        c = stack.pop()
        if c is None or isinstance(c, str):
            continue
        if getattr(c, "column", None) is not None:
            cols.add(c.column.name)
        stack += list(getattr(c, "conditions", None) or [])
    return {c for c in cols if isinstance(c, str)}


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def failures(rule: Rule, rows: pd.DataFrame, expected: str = "") -> list[dict[str, Any]]:
    """The failing rows of one rule, in words: its message with each row's value and expectation."""
    shown = rule.value_from if rule.value_from is not None else rule.column
    column = rule.column or ""
    values = rows[shown] if shown and shown in rows else [None] * len(rows)
    row_numbers = rows[rule.row_from] if rule.row_from in rows else rows["row"]
    if rule.expected_from and rule.expected_from in rows:
        expects = rows[rule.expected_from]
    else:
        expects = [expected] * len(rows)
    out = []
    # a rule whose message does not quote the value does not record it either (e.g. a value
    # the LA itself marked confidential)
    quotes = "{value" in rule.message
    for file, row, v, e in zip(rows["file"], row_numbers, values, expects, strict=True):
        value, exp = (_text(v) if quotes else ""), _text(e)
        message = (
            rule.message.replace("{value!r}", repr(value))
            .replace("{value}", value)
            .replace("{expected}", exp)
            .replace("{column}", column)
        )
        out.append(
            {
                "file": str(file),
                "row": int(row),
                "column": column,
                "value": value,
                "check_id": rule.id,
                "severity": rule.severity,
                "message": message,
            }
        )
    return out


def findings_frame(findings: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    out["row"] = out["row"].astype(int)
    return out.sort_values(["file", "row", "check_id", "column"], kind="stable").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------- reference tables


def check_tables(
    contract: Contract, frames: Mapping[str, pd.DataFrame], ctx: Context
) -> pd.DataFrame:
    """Check tables (each with ``file`` and ``row``) against the contract's schema objects."""
    findings = []
    for name, table in contract.tables.items():
        df = frames[name]
        missing = [c for c in table.header_required if c not in df.columns]
        if missing:
            findings.append(
                {
                    "file": str(df.attrs.get("file", name)),
                    "row": 1,
                    "column": ", ".join(missing),
                    "value": "",
                    "check_id": "required_columns",
                    "severity": "error",
                    "message": f"the header row has no {', '.join(missing)} column; expected "
                    f"the columns {', '.join(table.columns)}",
                }
            )
            continue
        typed = df.copy()
        for c in table.columns:
            if c in typed:
                typed[c] = checks.cells(typed[c])
        found = run(compile_rules(table.rules, ctx), {"rows": typed}, f"{contract.id}-{name}")
        findings += found.to_dict(orient="records")
    return findings_frame(findings)


def problems_text(findings: pd.DataFrame, limit: int = 20, row_word: str = "row") -> str:
    """Findings as lines for an error message: ``file, row N, column c: message``."""
    lines = [
        f"  {f.file}, {row_word} {f.row}, column {f.column}: {f.message}"
        for f in findings.head(limit).itertuples()
    ]
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more")
    return "\n".join(lines)


def load_catalogue(path: Path, contract: Contract | None = None) -> Catalogue:
    """The indicator catalogue, checked against its contract when one is given."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("indicators"), list):
        raise ConfigError(f"{path}: expected a mapping with 'version' and a list of 'indicators'")
    records = doc["indicators"]
    if contract is not None:
        lines = _entry_lines(path)
        rows = []
        for i, rec in enumerate(records):
            rec = rec if isinstance(rec, dict) else {}
            rng = rec.get("valid_range")
            lo, hi = rng if isinstance(rng, list) and len(rng) == 2 else (None, None)
            row = {k: _text(v) for k, v in rec.items() if k != "valid_range"}
            row |= {"valid_min": _text(lo), "valid_max": _text(hi)}
            row |= {"file": str(path), "row": lines[i] if i < len(lines) else i + 1}
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame.attrs["file"] = str(path)
        found = check_tables(contract, {contract.table.name: frame}, Context())
        errors = found[found["severity"] == "error"]
        if len(errors):
            raise ConfigError(
                f"{path}: the indicator catalogue breaks its contract {contract.label}:\n"
                + problems_text(errors, row_word="line")
            )
    try:
        return Catalogue.from_records(records, version=str(doc.get("version", "")))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _entry_lines(path: Path) -> list[int]:
    """The line each entry of the catalogue's `indicators` list starts on."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return []
    for key, value in getattr(node, "value", []):
        if getattr(key, "value", None) == "indicators":
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_disclosure(path: Path, catalogue: Catalogue) -> disclosure.Rule:
    """The disclosure control rule (absent: the defaults, which are DfE's)."""
    path = Path(path)
    if not path.exists():
        return disclosure.Rule()
    doc = load_yaml(path)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping (version, counts, min_denominator, ...)")
    return disclosure.Rule.from_mapping(doc, str(path), catalogue)


def load_priorities(
    path: Path, catalogue: Catalogue, region_codes: list[str]
) -> dict[str, list[priorities.Priority]]:
    """The regional priorities file (absent: no priorities), checked against the catalogue and
    the reference data; problems name the file and the line of the entry."""
    path = Path(path)
    if not path.exists():
        return {}
    doc = load_yaml(path)
    where: dict[tuple[str, int], str] = {}
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        node = None
    for key, value in getattr(node, "value", None) or []:
        if getattr(key, "value", None) == "regions" and isinstance(value, yaml.MappingNode):
            for rkey, rvalue in value.value:
                for i, item in enumerate(getattr(rvalue, "value", None) or []):
                    if isinstance(rvalue, yaml.SequenceNode):
                        where[(str(rkey.value), i)] = f"{path}, line {item.start_mark.line + 1}"
    return priorities.parse(doc, catalogue, region_codes, where, source=str(path))
