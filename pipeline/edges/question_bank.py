"""The bank of questions for peer challenge (``data_contracts/questions.yaml``), read and checked.

The file is read by ``pipeline.edges.yaml_files.read_yaml`` and checked against the indicator
catalogue before any report is made: an unknown indicator or theme, a neutral indicator given
questions of its own (it is never an area for development or a strength), a missing or malformed
question, a question given twice, or a combination whose condition cannot be read is a
ConfigError naming the file and the line (every problem found, together). Without the file the
general questions of ``pipeline.core.questions.DEFAULT_BANK`` are asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.questions import (
    DEFAULT_BANK,
    DEFAULT_TEXTS,
    KINDS,
    TESTS,
    Bank,
    Combination,
    Condition,
    Texts,
)
from pipeline.edges.yaml_files import read_yaml

#: the bank's file name, in the contracts folder
QUESTIONS = "questions.yaml"
#: the project's own bank
PROJECT_BANK = Path(__file__).resolve().parents[2] / "data_contracts" / QUESTIONS
_TOP = ("version", "indicators", "themes", "default", "combinations")
_COMBINATION = ("id", "topic", "asks_about", "when", "question")


def load(path: Path, catalogue: Catalogue) -> Bank:
    """The bank at `path`, checked against `catalogue`; without the file, the general
    questions."""
    path = Path(path)
    if not path.exists():
        return DEFAULT_BANK
    file = read_yaml(path)
    return _Reader(path, file.node, catalogue).read(file.data)


def default_bank(catalogue: Catalogue) -> Bank:
    """The project's own bank (data_contracts/questions.yaml), checked against `catalogue`."""
    return load(PROJECT_BANK, catalogue)


def _line(root: yaml.Node | None, path: Sequence[object]) -> int | None:
    """The line of the entry at `path` (mapping keys and list indexes) in the YAML nodes: of
    its key for a mapping's entry, of the item for a list's; as deep as the path can be
    followed."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if str(k.value) == str(step)]
            if not found:
                return line
            key, node = found[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return line
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


class _Reader:
    """One bank file being checked: its problems, each said at its line, and its questions
    seen (a question given twice is refused)."""

    def __init__(self, path: Path, root: yaml.Node | None, catalogue: Catalogue):
        self.path, self.root, self.catalogue = path, root, catalogue
        self.problems: list[str] = []
        self.seen: dict[str, str] = {}  # question (lower case) -> where it was first

    def at(self, *path: object) -> str:
        line = _line(self.root, path)
        return f"{self.path}, line {line}" if line else str(self.path)

    def problem(self, path: Sequence[object], message: str) -> None:
        self.problems.append(f"{self.at(*path)}: {message}")

    def read(self, doc: object) -> Bank:
        if not isinstance(doc, dict):
            raise ConfigError(
                f"{self.at()}: expected a mapping with version, indicators, themes, default and "
                "combinations (see data_contracts/questions.yaml)"
            )
        for key in doc:
            if key not in _TOP:
                self.problem([key], f"unknown key {key!r}; expected one of {', '.join(_TOP)}")
        version = doc.get("version")
        if not isinstance(version, str | int | float) or isinstance(version, bool):
            self.problem(["version"], 'missing version; expected e.g. version: "1.0.0"')
        judged = {i.id for i in self.catalogue if i.judged}
        indicators = self.lists("indicators", doc, set(self.catalogue.ids), "indicator", judged)
        themes = self.lists("themes", doc, set(self.catalogue.themes), "theme")
        given = self.texts(["default"], doc["default"]) if "default" in doc else Texts()
        # a kind the default section leaves out keeps the general questions
        default = Texts(
            given.development or DEFAULT_TEXTS.development, given.strength or DEFAULT_TEXTS.strength
        )
        combinations = self.combinations(doc.get("combinations"))
        if self.problems:
            raise ConfigError("the questions bank is not valid:\n  " + "\n  ".join(self.problems))
        return Bank(str(version), indicators, themes, default, combinations)

    def lists(
        self, key: str, doc: dict, known: set[str], what: str, judged: set[str] | None = None
    ) -> dict[str, Texts]:
        """The `indicators` or `themes` section: id or name -> its questions."""
        section = doc.get(key) or {}
        if not isinstance(section, dict):
            self.problem([key], f"expected a mapping of {what} -> development and strength")
            return {}
        out = {}
        for name, entry in section.items():
            if str(name) not in known:
                self.problem(
                    [key, name],
                    f"unknown {what} {name!r}; expected one of the indicator catalogue's "
                    f"{what}s ({', '.join(sorted(known))})",
                )
            elif judged is not None and str(name) not in judged:
                self.problem(
                    [key, name],
                    f"indicator {name!r} is neutral (neither higher nor lower is better), so it "
                    "is never an area for development or a strength; use it in a combination",
                )
            else:
                out[str(name)] = self.texts([key, name], entry)
        return out

    def texts(self, path: list, entry: object) -> Texts:
        """An entry's development and strength lists."""
        if not isinstance(entry, dict) or not entry:
            self.problem(path, "expected a mapping with development and/or strength questions")
            return Texts()
        for key in entry:
            if key not in KINDS:
                self.problem([*path, key], f"unknown key {key!r}; expected development or strength")
        found = {}
        for kind in KINDS:
            if kind not in entry:
                continue
            items = entry[kind]
            if not isinstance(items, list) or not items:
                self.problem([*path, kind], f"expected a list of {kind} questions")
                continue
            found[kind] = tuple(
                q for i, q in enumerate(items) if self.question([*path, kind, i], q)
            )
        return Texts(**found)

    def question(self, path: list, text: object) -> bool:
        """Whether `text` is a question the bank can ask (one, ending in '?', no ': ', not
        given before); says why not."""
        if not isinstance(text, str) or not text.strip():
            self.problem(path, "missing question text; expected one question ending in '?'")
            return False
        if not text.rstrip().endswith("?") or text.count("?") != 1 or ": " in text:
            self.problem(
                path,
                f"{text!r} is not one question; expected one question ending in '?', without "
                "another '?' or ': ' (it follows the figures' colon)",
            )
            return False
        first = self.seen.setdefault(text.strip().lower(), self.at(*path))
        if first != self.at(*path):
            self.problem(path, f"the question {text!r} is given twice (first at {first})")
            return False
        return True

    def combinations(self, items: object) -> tuple[Combination, ...]:
        if items is None:
            return ()
        if not isinstance(items, list):
            self.problem(["combinations"], "expected a list of combinations")
            return ()
        ids: set[str] = set()
        out = [self.combination(i, c, ids) for i, c in enumerate(items)]
        return tuple(c for c in out if c is not None)

    def combination(self, i: int, c: object, ids: set[str]) -> Combination | None:
        """One combination, or None (its problems said)."""
        path = ["combinations", i]
        if not isinstance(c, dict):
            self.problem(path, f"expected a mapping with {', '.join(_COMBINATION)}")
            return None
        missing = [k for k in _COMBINATION if c.get(k) in (None, "", [])]
        unknown = [k for k in c if k not in _COMBINATION]
        for k in unknown:
            self.problem([*path, k], f"unknown key {k!r}; expected {', '.join(_COMBINATION)}")
        if missing:
            self.problem(path, f"combination is missing {', '.join(missing)}")
            return None
        cid = str(c["id"])
        if cid in ids:
            self.problem([*path, "id"], f"combination id {cid!r} is used twice")
        ids.add(cid)
        if c["asks_about"] not in KINDS:
            self.problem(
                [*path, "asks_about"],
                f"asks_about {c['asks_about']!r}; expected development or strength",
            )
        when = c["when"]
        if not isinstance(when, list) or len(when) != 2:
            self.problem([*path, "when"], "expected a list of two conditions")
            return None
        conditions = [self.condition([*path, "when", k], w) for k, w in enumerate(when)]
        asked = self.question([*path, "question"], c["question"])
        if None in conditions or not asked or self.problems:
            return None
        return Combination(cid, str(c["topic"]), c["asks_about"], tuple(conditions), c["question"])

    def condition(self, path: list, w: object) -> Condition | None:
        """One condition of a combination: an indicator and one test, or None (said why)."""
        tests = [k for k in (w if isinstance(w, dict) else {}) if k in TESTS]
        if not isinstance(w, dict) or "indicator" not in w or len(tests) != 1 or len(w) != 2:
            self.problem(
                path,
                "expected a condition: an indicator and one test of "
                f"{', '.join(TESTS)} (e.g. {{indicator: rereferrals_pct, vs_sn: worse}})",
            )
            return None
        ind_id, test = str(w["indicator"]), tests[0]
        if ind_id not in self.catalogue:
            self.problem([*path, "indicator"], f"unknown indicator {ind_id!r}")
            return None
        raw = w[test]
        values = tuple(str(v) for v in (raw if isinstance(raw, list) else [raw]))
        bad, expected = [v for v in values if v not in TESTS[test]], TESTS[test]
        ind = self.catalogue[ind_id]
        if not values:
            bad = ["nothing"]
        elif (
            not bad
            and not ind.judged
            and (test in ("is", "band") or {"better", "worse"} & set(values))
        ):
            bad, expected = list(values), ("higher", "lower") if test.startswith("vs_") else ()
        if bad:
            neutral = "" if ind.judged else f" ({ind_id} is neutral: only higher or lower)"
            self.problem(
                [*path, test],
                f"{test}: {', '.join(bad)} cannot be tested{neutral}; expected "
                + (" or ".join(expected) if expected else "a comparison, vs_sn or vs_england"),
            )
            return None
        return Condition(ind_id, test, values)
