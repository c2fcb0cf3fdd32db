"""The configuration files beside the contracts: the indicator catalogue (checked against its
contract), the disclosure control rule and the regional priorities."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import yaml

from pipeline.core import disclosure, priorities
from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.edges.contract_model import Context, Contract
from pipeline.edges.gx_suites import cell_text, check_tables, problems_text
from pipeline.edges.yaml_files import load_yaml, read_yaml


def load_catalogue(path: Path, contract: Contract | None = None) -> Catalogue:
    """The indicator catalogue, checked against its contract when one is given."""
    path = Path(path)
    file = read_yaml(path)
    doc = file.data
    if not isinstance(doc, dict) or not isinstance(doc.get("indicators"), list):
        raise ConfigError(f"{path}: expected a mapping with 'version' and a list of 'indicators'")
    records = doc["indicators"]
    lines = _entry_lines(file.node)
    if contract is not None:
        rows = []
        for i, rec in enumerate(records):
            rec = rec if isinstance(rec, dict) else {}
            rng = rec.get("valid_range")
            lo, hi = rng if isinstance(rng, list) and len(rng) == 2 else (None, None)
            row = {k: cell_text(v) for k, v in rec.items() if k != "valid_range"}
            row |= {"valid_min": _bound_text(lo), "valid_max": _bound_text(hi)}
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
        return Catalogue.from_records(records, str(doc.get("version", "")), lines)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _bound_text(v: object) -> str:
    """A valid_range bound as the contract checks it: NaN and infinities as YAML spells them
    (not blank, which would read as a missing bound)."""
    if isinstance(v, float) and not math.isfinite(v):
        return ".nan" if math.isnan(v) else ("-.inf" if v < 0 else ".inf")
    return cell_text(v)


def _entry_lines(node: yaml.Node | None) -> list[int]:
    """The line each entry of the catalogue's `indicators` list starts on."""
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    for key, value in pairs:
        if getattr(key, "value", None) == "indicators" and isinstance(value, yaml.SequenceNode):
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
    file = read_yaml(path)
    where: dict[tuple[str, int], str] = {}
    pairs = file.node.value if isinstance(file.node, yaml.MappingNode) else []
    for key, value in pairs:
        if getattr(key, "value", None) == "regions" and isinstance(value, yaml.MappingNode):
            for rkey, rvalue in value.value:
                for i, item in enumerate(getattr(rvalue, "value", None) or []):
                    if isinstance(rvalue, yaml.SequenceNode):
                        where[(str(rkey.value), i)] = f"{path}, line {item.start_mark.line + 1}"
    return priorities.parse(file.data, catalogue, region_codes, where, source=str(path))
