"""Running compiled expectations, and their failures as findings.

All suites run in one ephemeral Great Expectations context, in the driver, and every failure comes
back as a finding naming file, row, column, value and what was expected: collected for all rules
at once, never first-failure-only.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pipeline.core import checks
from pipeline.core.errors import ConfigError
from pipeline.edges.contract_model import Compiled, Context, Contract, Rule
from pipeline.edges.gx_rules import compile_rules, quiet_gx

FINDING_COLUMNS = ["file", "row", "column", "value", "check_id", "severity", "message"]


@functools.cache
def _context():
    gx, _ = quiet_gx()
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
    gx, _ = quiet_gx()
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


def cell_text(v: Any) -> str:
    """A value as a finding quotes it: blank for missing, whole floats without ".0"."""
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
        value, exp = (cell_text(v) if quotes else ""), cell_text(e)
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
