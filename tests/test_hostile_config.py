"""Configuration and reference files that would silently give wrong figures (or none) are refused.

Every YAML file goes through one loader (pipeline.edges.yaml_files): no key twice in a mapping,
no alias bomb, no file of many megabytes. Reference data may not contradict itself (a region with
two names, an LA its own neighbour). Thresholds must be numbers that mean something (no NaN, no
infinity, no negative where none makes sense). Each refusal names the file, the line or row and
what was expected, and reaches the user as exit 2 without a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError
from pipeline.edges import contracts as ct
from pipeline.edges import yaml_files
from tests.conftest import cli

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "data_contracts"


def laughs(levels: int) -> str:
    """A dataset.yaml whose name is `levels` levels of nine aliases: 9**levels strings once
    expanded ("billion laughs" at 9)."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"name: *lol{levels - 1}", "demonstration: true", ""])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def contracts_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "contracts"
    shutil.copytree(SHIPPED, folder)
    return folder


# ------------------------------------------------------------------------------ one YAML loader


def test_an_alias_bomb_is_refused_naming_the_file_and_line(tmp_path):
    path = write(tmp_path / "dataset.yaml", laughs(9))
    with pytest.raises(ConfigError, match=r"dataset\.yaml, line \d+: YAML aliases") as exc:
        ct.load_yaml(path)
    assert "expected each value written out" in str(exc.value)
    # the contracts' short anchors (&required ... *required, repeated a few times) still read
    contract = ct.load_contract(SHIPPED / "reference.yaml")
    assert {"required_value", "code_format", "la_code_known"} <= {r.id for r in contract.rules}


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = write(tmp_path / "indicators.yaml", "version: '1'\nindicators: &all [*all]\n")
    with pytest.raises(ConfigError, match=r"indicators\.yaml, line 2: alias \*all is inside"):
        ct.load_yaml(path)


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("name: A\ndemonstration: true\nname: B\n", 3, "name"),
        ("reporting_window: {first: 2024-25-Q3, first: 2025-26-Q1}\n", 1, "first"),
        ("regions:\n  ZR1:\n    - id: a\n      target: 1\n      target: 2\n", 5, "target"),
    ],
)
def test_a_key_given_twice_is_refused_naming_the_line_and_key(tmp_path, text, line, key):
    path = write(tmp_path / "settings.yaml", text)
    with pytest.raises(ConfigError) as exc:
        ct.load_yaml(path)
    message = str(exc.value)
    assert f"settings.yaml, line {line}: key {key!r} is given twice" in message
    assert "expected each key once" in message


def test_a_polarity_given_twice_in_the_catalogue_is_refused(tmp_path):
    """The last polarity silently won: a 'higher is better' indicator banded the other way."""
    contracts = contracts_copy(tmp_path)
    path = contracts / "indicators.yaml"
    text = path.read_text(encoding="utf-8")
    first = "    polarity: low\n"
    text = text.replace(first, first + "    polarity: high\n", 1)
    write(path, text)
    line = text[: text.index("    polarity: high\n")].count("\n") + 1
    with pytest.raises(ConfigError, match=rf"indicators\.yaml, line {line}: key 'polarity'"):
        ct.load_catalogue(path, ct.load_contract(contracts / "catalogue.yaml"))


def test_a_region_given_twice_in_the_priorities_is_refused(tmp_path):
    contracts = contracts_copy(tmp_path)
    path = contracts / "priorities.yaml"
    text = path.read_text(encoding="utf-8")
    write(path, text + "  ZR1:\n    - {id: x, title: X, indicator: rereferrals_pct, target: 20}\n")
    catalogue = ct.load_catalogue(contracts / "indicators.yaml")
    line = text.count("\n") + 1
    with pytest.raises(ConfigError, match=rf"priorities\.yaml, line {line}: key 'ZR1'"):
        ct.load_priorities(path, catalogue, ["ZR1", "ZR2", "ZR3"])


def test_a_file_of_many_megabytes_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_files, "MAX_BYTES", 1000)
    path = write(tmp_path / "disclosure.yaml", "# padding\n" * 200)
    with pytest.raises(ConfigError, match=r"disclosure\.yaml: larger than"):
        ct.load_yaml(path)


# ------------------------------------------------------------------------- at the command line


@pytest.mark.parametrize(
    ("dataset_yaml", "words"),
    [
        (laughs(6), "line 5: YAML aliases (*name) here repeat more than"),
        ("name: A\nname: B\n", "line 2: key 'name' is given twice"),
    ],
)
def test_a_refused_file_is_exit_2_naming_it_without_a_traceback(
    capfd, tiny, tmp_path, dataset_yaml, words
):
    data = tiny.copy(tmp_path / "data")
    write(data.data / "dataset.yaml", dataset_yaml)
    r = cli(capfd, "validate", *data.args, "--out", tmp_path / "out")
    assert r.returncode == 2, r.stderr
    assert f"dataset.yaml, {words}" in r.stderr
    assert "Traceback" not in r.stderr
