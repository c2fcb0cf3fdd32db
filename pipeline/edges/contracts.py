"""The contracts / Great Expectations bridge.

Contracts are data (ODCS YAML in ``data_contracts/``). This module loads them, compiles the LA
return contract into one Great Expectations suite and runs it once, in the driver, over every
incoming return. Results come back as findings naming file, line, column, value and what was
expected, collected for all rules at once (not first-failure-only).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError, DataError

FINDING_COLUMNS = [
    "source_file",
    "source_line",
    "column",
    "value",
    "check_id",
    "severity",
    "message",
]
KEY_COLUMNS = ["la_code", "time_period", "time_identifier", "indicator_id"]


def load_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def load_catalogue(path: Path) -> Catalogue:
    doc = load_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("indicators"), list):
        raise ConfigError(f"{path}: expected a mapping with 'version' and a list of 'indicators'")
    try:
        return Catalogue.from_records(doc["indicators"], version=str(doc.get("version", "")))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    message: str
    column: str | None  # the column a finding points the LA at
    metric: str | None
    arguments: dict[str, Any]
    implementation: str | None


@dataclass
class Contract:
    id: str
    name: str
    version: str
    columns: list[str]
    required: list[str]
    rules: list[Rule] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"


def _rule(raw: dict[str, Any], column: str | None, where: str) -> Rule:
    if "id" not in raw or "severity" not in raw:
        raise ConfigError(f"{where}: every quality rule needs an id and a severity")
    # A whole-row rule names the column an LA should look at in customProperties (ODCS v3).
    custom = {c.get("property"): c.get("value") for c in raw.get("customProperties") or []}
    column = column or custom.get("column")
    if raw["severity"] not in ("error", "warning"):
        raise ConfigError(f"{where}: severity {raw['severity']!r} must be error or warning")
    return Rule(
        id=str(raw["id"]),
        severity=str(raw["severity"]),
        message=str(raw.get("description", raw["id"])),
        column=column,
        metric=raw.get("metric"),
        arguments=dict(raw.get("arguments") or {}),
        implementation=raw.get("implementation"),
    )


def load_contract(path: Path) -> Contract:
    doc = load_yaml(path)
    try:
        schema = doc["schema"][0]
        props = schema["properties"]
        contract = Contract(
            id=str(doc["id"]),
            name=str(doc.get("name", doc["id"])),
            version=str(doc["version"]),
            columns=[p["name"] for p in props],
            required=[p["name"] for p in props if p.get("required")],
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise ConfigError(
            f"{path}: not an ODCS data contract with id, version and schema[0].properties ({exc})"
        ) from None
    for p in props:
        for raw in p.get("quality") or []:
            contract.rules.append(_rule(raw, p["name"], f"{path}: property {p['name']}"))
    for raw in schema.get("quality") or []:
        contract.rules.append(_rule(raw, None, f"{path}: schema quality"))
    return contract


# --------------------------------------------------------------------------- Great Expectations


def _gx():
    """Import Great Expectations quietly (it is slow to import and chatty)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx, gxe


def _compile(
    contract: Contract, catalogue: Catalogue, lookups: dict[str, list[str]]
) -> list[tuple[Rule, Any]]:
    """Each contract rule to one or more GX expectations, each tagged with its rule."""
    _, gxe = _gx()
    from great_expectations.expectations.row_conditions import Column

    out: list[tuple[Rule, Any]] = []
    for index, rule in enumerate(contract.rules):
        a = rule.arguments
        meta = {"rule": rule.id, "rule_index": index}
        if rule.metric == "invalidValues" and "pattern" in a:
            out.append(
                (
                    rule,
                    gxe.ExpectColumnValuesToMatchRegex(
                        column=rule.column, regex=a["pattern"], meta=meta
                    ),
                )
            )
        elif rule.metric == "invalidValues":
            if "validValuesFrom" in a:
                if a["validValuesFrom"] not in lookups:
                    raise ConfigError(
                        f"contract {contract.label}: rule {rule.id} refers to "
                        f"{a['validValuesFrom']!r}, which Tartan does not know"
                    )
                values = lookups[a["validValuesFrom"]]
            else:
                values = [str(v) for v in a["validValues"]]
            out.append(
                (
                    rule,
                    gxe.ExpectColumnValuesToBeInSet(
                        column=rule.column, value_set=values, meta=meta
                    ),
                )
            )
        elif rule.metric == "duplicateValues":
            out.append(
                (
                    rule,
                    gxe.ExpectCompoundColumnsToBeUnique(
                        column_list=list(a["properties"]), meta=meta
                    ),
                )
            )
        elif rule.implementation == "value_within_catalogue_valid_range":
            groups: dict[tuple[float, float | None], list[str]] = {}
            for ind in catalogue:
                groups.setdefault((ind.valid_min, ind.valid_max), []).append(ind.id)
            for (lo, hi), ids in groups.items():
                out.append(
                    (
                        rule,
                        gxe.ExpectColumnValuesToBeBetween(
                            column="value_n",
                            min_value=lo,
                            max_value=hi,
                            row_condition=Column("indicator_id").is_in(ids),
                            meta={
                                **meta,
                                "expected": f"{lo:g} to {hi:g}"
                                if hi is not None
                                else f"{lo:g} or more",
                            },
                        ),
                    )
                )
        elif rule.implementation == "numerator_at_most_denominator_for_percentages":
            ids = [i.id for i in catalogue if i.numerator_within_denominator]
            out.append(
                (
                    rule,
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="denominator_n",
                        column_B="numerator_n",
                        or_equal=True,
                        ignore_row_if="either_value_is_missing",
                        row_condition=Column("indicator_id").is_in(ids),
                        meta=meta,
                    ),
                )
            )
        elif rule.implementation == "value_present_unless_status":
            out.append(
                (
                    rule,
                    gxe.ExpectColumnValuesToNotBeNull(
                        column="value_n",
                        row_condition=Column("status") == "",
                        meta=meta,
                    ),
                )
            )
        else:
            raise ConfigError(
                f"contract {contract.label}: rule {rule.id} uses a metric or implementation "
                "Tartan cannot compile"
            )
    return out


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Returns as sent (strings) plus numeric columns the range rules read, and a row id."""
    df = rows.copy()
    for col in ("numerator", "denominator", "value"):
        raw = df[col].astype(str).str.strip()
        df[col] = raw.where(raw != "", None)
        df[f"{col}_n"] = pd.to_numeric(df[col], errors="coerce")
    df["status"] = df["status"].astype(str).str.strip()
    df["row_id"] = range(len(df))
    return df


def validate(
    rows: pd.DataFrame, contract: Contract, catalogue: Catalogue, lookups: dict[str, list[str]]
) -> pd.DataFrame:
    """Run the compiled suite once over all rows; return one finding per failing cell."""
    if rows.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    gx, _ = _gx()
    df = _typed(rows)
    context = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_def = (
        context.data_sources.add_pandas("returns")
        .add_dataframe_asset("returns")
        .add_batch_definition_whole_dataframe("all")
    )
    compiled = _compile(contract, catalogue, lookups)
    suite = context.suites.add(gx.ExpectationSuite(name=contract.id))
    for _, exp in compiled:
        suite.add_expectation(exp)
    result = batch_def.get_batch(batch_parameters={"dataframe": df}).validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]},
    )
    findings = []
    for res in result.results:
        meta = res.expectation_config.meta or {}
        rule = contract.rules[int(meta["rule_index"])]
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise ConfigError(
                f"contract {contract.label}: rule {rule.id} could not run: "
                f"{res.exception_info.get('exception_message')}"
            )
        if res.success:
            continue
        for hit in res.result.get("unexpected_index_list") or []:
            row = df.iloc[int(hit["row_id"])]
            findings.append(_finding(rule, row, meta.get("expected", "")))
    out = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    return out.sort_values(["source_file", "source_line", "check_id"], kind="stable").reset_index(
        drop=True
    )


def _finding(rule: Rule, row: pd.Series, expected: str) -> dict[str, Any]:
    column = rule.column
    value = row[column] if column in row.index else None
    value = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    message = rule.message.replace("{value!r}", repr(value)).replace("{value}", value)
    message = message.replace("{expected}", expected)
    return {
        "source_file": row["source_file"],
        "source_line": int(row["source_line"]),
        "column": column,
        "value": value,
        "check_id": rule.id,
        "severity": rule.severity,
        "message": message,
    }


def structural_findings(rows: pd.DataFrame, contract: Contract) -> list[dict[str, Any]]:
    """Checks that must pass before any row can be checked: the required columns are there."""
    missing = [c for c in contract.required if c not in rows.columns]
    if not missing:
        return []
    return [
        {
            "source_file": rows["source_file"].iloc[0] if len(rows) else "",
            "source_line": 1,
            "column": ", ".join(missing),
            "value": "",
            "check_id": "required_columns",
            "severity": "error",
            "message": (
                f"the header row has no {', '.join(missing)} column"
                f"{'s' if len(missing) > 1 else ''}; expected the columns "
                f"{', '.join(contract.columns)}"
            ),
        }
    ]


def unreadable_finding(path: Path, error: DataError) -> dict[str, Any]:
    return {
        "source_file": str(path),
        "source_line": 0,
        "column": "",
        "value": "",
        "check_id": "readable",
        "severity": "error",
        "message": re.sub(rf"^{re.escape(str(path))}:\s*", "", str(error)),
    }
