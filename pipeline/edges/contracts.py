"""The contracts / Great Expectations bridge: reading ODCS contracts, and its public names.

Contracts are data: ODCS v3 YAML in ``data_contracts/``, checked against the standard's JSON
schema and parsed with the ``open-data-contract-standard`` model (here). Each schema object
becomes a :class:`Table` of rules (:mod:`pipeline.edges.contract_model`). Library rules (``metric``:
missingValues, invalidValues, duplicateValues) compile to stock Great Expectations expectations;
custom rules (``engine: tartan``) name an implementation in :data:`IMPLEMENTATIONS`, which compiles
to expectations over columns that :mod:`pipeline.core.checks` derives
(:mod:`pipeline.edges.gx_rules`). All suites run in one ephemeral GX context, in the driver, and
every failure comes back as a finding naming file, row, column, value and what was expected:
collected for all rules at once, never first-failure-only (:mod:`pipeline.edges.gx_suites`). The
catalogue, disclosure and priorities files beside the contracts are read by
:mod:`pipeline.edges.config_files`.

Other modules import all of these names from here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.core.errors import ConfigError
from pipeline.edges.config_files import load_catalogue, load_disclosure, load_priorities
from pipeline.edges.contract_model import (
    SEVERITIES,
    Compiled,
    Context,
    Contract,
    Rule,
    Table,
    load_yaml,
)
from pipeline.edges.gx_rules import (
    IMPLEMENTATIONS,
    LIBRARY_METRICS,
    PHASE_TWO,
    check_arguments,
    compile_rules,
)
from pipeline.edges.gx_suites import (
    FINDING_COLUMNS,
    check_tables,
    failures,
    findings_frame,
    problems_text,
    run,
)

__all__ = [
    "FINDING_COLUMNS",
    "IMPLEMENTATIONS",
    "LIBRARY_METRICS",
    "PHASE_TWO",
    "SEVERITIES",
    "Compiled",
    "Context",
    "Contract",
    "Rule",
    "Table",
    "check_tables",
    "compile_rules",
    "failures",
    "findings_frame",
    "load_catalogue",
    "load_contract",
    "load_disclosure",
    "load_priorities",
    "load_yaml",
    "problems_text",
    "run",
]


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
    _thresholds(q, f"{where}: rule {q.id}")
    arguments = dict(q.arguments or {}) | {k: v for k, v in custom.items() if k not in _SHOWN}
    check_arguments(arguments, f"{where}: rule {q.id}")
    return Rule(
        id=q.id,
        severity=q.severity,
        message=(q.description or q.id).strip(),
        column=column or custom.get("column"),
        metric=q.metric,
        arguments=arguments,
        implementation=q.implementation if isinstance(q.implementation, str) else None,
        value_from=custom.get("valueFrom"),
        expected_from=custom.get("expectedFrom"),
        row_from=custom.get("rowFrom"),
    )


_OTHER_THRESHOLDS = (
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


def _thresholds(q: Any, where: str) -> None:
    """Tartan reports every row that breaks a rule: a library rule's count must be 0, and a
    threshold that would allow some (or a NaN one) would be silently ignored, so is refused."""
    other = [name for name in _OTHER_THRESHOLDS if getattr(q, name, None) is not None]
    must_be = q.mustBe
    if other or (q.metric and must_be is not None and (must_be != 0 or isinstance(must_be, bool))):
        said = f"{other[0]}: {getattr(q, other[0])!r}" if other else f"mustBe: {must_be!r}"
        raise ConfigError(
            f"{where}: {said} is not a threshold Tartan can keep; expected mustBe: 0 (every row "
            "that breaks the rule is reported)"
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
