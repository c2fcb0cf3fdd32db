"""Reading Tartan's YAML files: one loader for every one of them.

Contracts, the indicator catalogue, the disclosure rule, the regional priorities, the datapack
mapping and a dataset's ``dataset.yaml`` are all read by :func:`read_yaml` (or :func:`load_yaml`),
with PyYAML's safe loader extended to refuse what would otherwise be read silently wrong or not
at all:

- a file larger than :data:`MAX_BYTES` (configuration files are a few kilobytes);
- a key given twice in one mapping (PyYAML keeps the last, so a polarity or a window would be
  replaced without a word);
- aliases (``*name``) that repeat more than :data:`MAX_REPEATED` values in all, or refer to the
  value they are inside: a few lines of nested aliases ("billion laughs") expand to billions of
  values, which hang whatever walks them. Short anchors, like the contracts' shared rules, are
  fine.

Every refusal is a :class:`ConfigError` naming the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import ConfigError

#: The largest YAML file read (Tartan's own are under 50 kB).
MAX_BYTES = 5 * 1024 * 1024
#: The most values that aliases may repeat in one file (the shipped contracts repeat ~100).
MAX_REPEATED = 10_000

_MERGE = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A problem at a line of the file, said without the file's name (added by read_yaml)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, counting what aliases repeat and refusing duplicate keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._repeated = 0  # values repeated by aliases so far
        self._values = 0  # values composed so far, each alias counted as what it repeats
        self._sizes: dict[int, int] = {}  # anchored node's id -> values it holds, aliases expanded

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:  # else PyYAML's own "undefined alias" error
                self._alias(event, target)
            return super().compose_node(parent, index)
        start = self._values
        self._values += 1
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self._sizes[id(node)] = self._values - start
        return node

    def _alias(self, event: yaml.AliasEvent, target: yaml.Node) -> None:
        line = event.start_mark.line + 1
        size = self._sizes.get(id(target))
        if size is None:
            raise _Refused(
                line,
                f"alias *{event.anchor} is inside the value &{event.anchor} names, so it would "
                "repeat without end; expected each value written out",
            )
        self._values += size
        self._repeated += size
        if self._repeated > MAX_REPEATED:
            raise _Refused(
                line,
                f"YAML aliases (*name) here repeat more than {MAX_REPEATED:,} values in all "
                "(nested aliases multiply); expected each value written out, or a few short "
                "anchors (&name) used a few times",
            )

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable: PyYAML's own error follows
                    continue
                if first is not None:
                    raise _Refused(
                        line,
                        f"key {key!r} is given twice in the same mapping (first on line "
                        f"{first}); expected each key once, as YAML would silently keep only "
                        "the second",
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class YamlFile:
    """A YAML file's content and its composed node tree (for the line each entry is on)."""

    data: Any
    node: yaml.Node | None


def read_yaml(path: Path) -> YamlFile:
    """A YAML file's content and nodes; a missing, unreadable, oversized or unsafe file is a
    ConfigError naming it (and the line, where there is one)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_BYTES // 1024 // 1024} MB; expected a configuration file "
            "(Tartan's own are a few kilobytes)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return _parsed(text, str(path))


def _parsed(text: str, where: str) -> YamlFile:
    """YAML text read through the safe loader; problems are ConfigErrors naming `where`."""
    loader, node = None, None
    try:
        loader = _Loader(text)
        loader.name = where
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise ConfigError(f"{where}, line {exc.line}: {exc.message}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({exc})") from None
    except ValueError as exc:  # a date that is no day, such as 2026-11-31
        line = _impossible_date_line(node) if node is not None else 1
        raise ConfigError(
            f"{where}, line {line}: not a date ({exc}); expected YYYY-MM-DD"
        ) from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to read; expected a few levels") from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlFile(data, node)


def _impossible_date_line(node: yaml.Node) -> int:
    """The line of the first date-like value that names no day (PyYAML raises ValueError)."""
    stack = [node]
    while stack:
        n = stack.pop(0)
        if isinstance(n, yaml.ScalarNode) and n.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.SafeLoader.construct_yaml_timestamp(yaml.SafeLoader(""), n)
            except ValueError:
                return n.start_mark.line + 1
        elif isinstance(n, yaml.MappingNode):
            stack += [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            stack += list(n.value)
    return 1


def parse_yaml(text: str, where: str) -> Any:
    """YAML text (e.g. a Markdown file's front matter) read as :func:`read_yaml` reads a file;
    `where` names it in any problem."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_BYTES // 1024 // 1024} MB")
    return _parsed(text, where).data


def load_yaml(path: Path) -> Any:
    """A YAML file's content, read as :func:`read_yaml` reads it."""
    return read_yaml(path).data
