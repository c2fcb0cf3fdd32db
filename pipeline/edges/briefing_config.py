"""The member briefing's configuration: data_contracts/briefing.yaml (the default headline
measures, each indicator's plain-English name and why it matters, the glossary) and a dataset's
own choice of measures in its dataset.yaml (`briefing: {measures: [...]}`).

Both are read with ``yaml_files.read_yaml``; every problem is a ConfigError naming the file and
the line (``pipeline.core.briefing.check_measures`` checks the measures).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.core.briefing import Measure, check_measures
from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.edges.yaml_files import read_yaml

#: the file in the contracts folder
FILE = "briefing.yaml"
#: dataset.yaml's key for a dataset's own measures
KEY = "briefing"


@dataclass(frozen=True)
class BriefingConfig:
    """What every briefing of a run shows: its measures, in order; every plain name (questions
    may name other indicators); the glossary; and where the measures were chosen."""

    measures: tuple[Measure, ...]
    names: dict[str, str]  # indicator id -> plain name, the measures first
    glossary: tuple[tuple[str, str], ...]
    chosen_in: str

    def to_json(self) -> dict:
        return {
            "measures": [vars(m) for m in self.measures],
            "names": self.names,
            "glossary": [list(g) for g in self.glossary],
            "chosen_in": self.chosen_in,
        }


def _mapping_node(node: yaml.Node | None) -> dict[str, yaml.Node]:
    """A mapping node's entries by key ({} for anything else)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    """The line each key of a mapping node is on."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): _line(k) for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _text(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {what} {value!r} must be some words; expected a string")
    return " ".join(value.split())


def _plain_names(data: dict, nodes: dict, path: Path) -> dict[str, Measure]:
    """briefing.yaml's plain_names: id -> Measure, each with a name and why it matters."""
    raw = data.get("plain_names")
    at = f"{path}, line {_line(nodes.get('plain_names'))}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{at}: plain_names must map indicator ids to {{name, why}}")
    lines = _key_lines(nodes.get("plain_names"))
    out = {}
    for ind, entry in raw.items():
        where = f"{path}, line {lines.get(str(ind), 1)}"
        if not isinstance(entry, dict) or set(entry) != {"name", "why"}:
            raise ConfigError(
                f"{where}: plain name of {ind!r} must be {{name: ..., why: ...}}; got {entry!r}"
            )
        out[str(ind)] = Measure(
            str(ind), _text(entry["name"], where, "name"), _text(entry["why"], where, "why")
        )
    return out


def _glossary(data: dict, nodes: dict, path: Path) -> tuple[tuple[str, str], ...]:
    raw = data.get("glossary", [])
    items = _items(nodes.get("glossary"))
    if not isinstance(raw, list):
        at = f"{path}, line {_line(nodes.get('glossary'))}"
        raise ConfigError(f"{at}: glossary must be a list of {{term, meaning}}")
    out = []
    for i, entry in enumerate(raw):
        where = f"{path}, line {_line(items[i] if i < len(items) else None)}"
        if not isinstance(entry, dict) or set(entry) != {"term", "meaning"}:
            raise ConfigError(f"{where}: a glossary entry must be {{term: ..., meaning: ...}}")
        out.append((_text(entry["term"], where, "term"), _text(entry["meaning"], where, "meaning")))
    return tuple(out)


def _measures(
    raw: object, at: tuple[int, yaml.Node | None], path: Path, catalogue: Catalogue, named: Mapping
) -> list[Measure]:
    """A measures list (briefing.yaml's, or dataset.yaml's briefing.measures) checked; `at`:
    the line of its key and its node."""
    line, node = at
    where = f"{path}, line {line}"
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: briefing measures must be a list of indicator ids")
    each = [f"{path}, line {_line(item)}" for item in _items(node)]
    return check_measures(raw, {i.id: i for i in catalogue}, named, where, each)


def _dataset_choice(dataset: Path) -> tuple[object, tuple[int, yaml.Node | None], Path] | None:
    """dataset.yaml's `briefing: {measures: [...]}` (its list, node and file), or None."""
    path = dataset / "dataset.yaml"
    if not path.is_file():
        return None
    file = read_yaml(path)
    if not isinstance(file.data, dict) or KEY not in file.data:
        return None
    node = _mapping_node(file.node).get(KEY)
    choice = file.data[KEY]
    if not isinstance(choice, dict) or set(map(str, choice)) != {"measures"}:
        raise ConfigError(
            f"{path}, line {_line(node)}: briefing {choice!r} is not understood; expected "
            "{measures: [indicator id, ...]} (6 to 8 ids)"
        )
    inner = (_key_lines(node).get("measures", _line(node)), _mapping_node(node).get("measures"))
    return choice["measures"], inner, path


def load(contracts: Path, dataset: Path, catalogue: Catalogue) -> BriefingConfig:
    """The run's briefing configuration: briefing.yaml from the contracts folder (the project's
    when the folder has none), with the dataset's own measures when its dataset.yaml names
    them."""
    path = Path(contracts) / FILE
    if not path.is_file():
        path = Path(__file__).resolve().parents[2] / "data_contracts" / FILE
    file = read_yaml(path)
    if not isinstance(file.data, dict):
        raise ConfigError(f"{path}: expected a mapping (measures, plain_names, glossary)")
    nodes = _mapping_node(file.node)
    named = _plain_names(file.data, nodes, path)
    own = _dataset_choice(Path(dataset))
    if own is not None:  # the default list is then not used, so not checked
        measures = _measures(*own, catalogue, named)
        chosen_in = "dataset.yaml"
    else:
        at = (_key_lines(file.node).get("measures", 1), nodes.get("measures"))
        measures = _measures(file.data.get("measures"), at, path, catalogue, named)
        chosen_in = f"data_contracts/{FILE}"
    ids = [m.id for m in measures]
    others = [i.id for i in catalogue if i.id not in ids]
    names = {i: named[i].name if i in named else catalogue[i].label for i in ids + others}
    return BriefingConfig(tuple(measures), names, _glossary(file.data, nodes, path), chosen_in)
