"""The contract model: a contract's tables and rules, and what compiled rules may refer to.

A data contract (ODCS v3 YAML, read by :mod:`pipeline.edges.contracts`) becomes a
:class:`Contract` of :class:`Table` objects, each with its :class:`Rule` list. A :class:`Context`
holds the value lists, catalogue and reporting window that rules compile against
(:mod:`pipeline.edges.gx_rules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.catalogue import Catalogue
from pipeline.edges.yaml_files import load_yaml as load_yaml  # every YAML file's reader

SEVERITIES = ("error", "warning")


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


@dataclass
class Context:
    """What rules may refer to: value lists, the indicator catalogue, the reporting window."""

    lookups: Mapping[str, list[str]] = field(default_factory=dict)
    catalogue: Catalogue | None = None
    expected_columns: str = ""


Compiled = list[tuple[str, Rule, Any, str]]  # (asset, rule, expectation, static expectation text)
