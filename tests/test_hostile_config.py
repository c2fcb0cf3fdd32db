"""Configuration and reference files that would silently give wrong figures (or none) are refused.

Every YAML file goes through one loader (pipeline.edges.yaml_files): no key twice in a mapping,
no alias bomb, no file of many megabytes. Reference data may not contradict itself (a region with
two names, an LA its own neighbour). Thresholds must be numbers that mean something (no NaN, no
infinity, no negative where none makes sense). Each refusal names the file, the line or row and
what was expected, and reaches the user as exit 2 without a traceback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.edges import contracts as ct
from pipeline.edges import demo, yaml_files
from pipeline.edges import reference as ref_io
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
    text = demo.PRIORITIES  # the demo dataset's own priorities.yaml
    path = tmp_path / "priorities.yaml"
    write(path, text + "  ZR1:\n    - {id: x, title: X, indicator: rereferrals_pct, target: 20}\n")
    catalogue = ct.load_catalogue(SHIPPED / "indicators.yaml")
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


# ------------------------------------------------------------------------------ reference data


def dataset_copy(demo_data: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(demo_data / "reference", data / "reference")
    shutil.copy(demo_data / "dataset.yaml", data / "dataset.yaml")
    return data


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a reference file (`row` as the file counts lines: the header is 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cell(path: Path, row: int, column: str) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[row - 1].split(",")[lines[0].split(",").index(column)]


REFERENCE_CONTRACT = SHIPPED / "reference.yaml"


def test_a_region_code_with_two_names_is_refused_naming_rows_and_names(demo_data, tmp_path):
    """Each name made a region of its own: its reports were built twice and a name lost."""
    data = dataset_copy(demo_data, tmp_path)
    las = data / "reference" / "local_authorities.csv"
    name = cell(las, 2, "region_name")
    edit_csv(las, 3, "region_name", "Northmoor Region")
    with pytest.raises(ConfigError) as exc:
        ref_io.load(data, ct.load_contract(REFERENCE_CONTRACT))
    assert str(exc.value) == (
        f"{las}, rows 2 and 3: region ZR1 is called {name!r} in row 2 and 'Northmoor Region' "
        "in row 3; expected one name for each region code"
    )


def test_a_region_name_with_two_codes_is_refused(demo_data, tmp_path):
    data = dataset_copy(demo_data, tmp_path)
    las = data / "reference" / "local_authorities.csv"
    edit_csv(las, 3, "region_code", "ZR9")
    with pytest.raises(ConfigError, match=r"rows 2 and 3: region '.*' has the code ZR1 in row 2"):
        ref_io.load(data, ct.load_contract(REFERENCE_CONTRACT))


def test_an_la_listed_twice_in_two_regions_is_refused_whatever_the_contract(demo_data, tmp_path):
    """The contract's uniqueness rule is not the only guard: a run given a contract without it
    (or none) still refuses an LA in two regions."""
    data = dataset_copy(demo_data, tmp_path)
    las = data / "reference" / "local_authorities.csv"
    rows = las.read_text(encoding="utf-8").splitlines()
    twin = next(i for i, r in enumerate(rows) if ",ZR2," in r)
    rows[twin] = rows[1].split(",")[0] + "," + rows[twin].split(",", 1)[1]
    las.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        ref_io.load(data)
    assert f"rows 2 and {twin + 1}: LA ZL101 is listed more than once" in str(exc.value)
    assert "(in regions ZR1 and ZR2)" in str(exc.value)


def test_an_la_that_is_its_own_neighbour_is_refused_naming_row_and_column(demo_data, tmp_path):
    data = dataset_copy(demo_data, tmp_path)
    sn = data / "reference" / "statistical_neighbours.csv"
    edit_csv(sn, 4, "neighbour_la_code", cell(sn, 4, "la_code"))
    with pytest.raises(ConfigError) as exc:
        ref_io.load(data, ct.load_contract(REFERENCE_CONTRACT))
    assert str(exc.value).startswith(
        f"{sn}, row 4, column neighbour_la_code: LA {cell(sn, 4, 'la_code')} is listed as its "
        "own statistical neighbour"
    )


def test_a_neighbour_listed_twice_for_one_la_is_refused(demo_data, tmp_path):
    """It counted twice in the neighbours' mean."""
    data = dataset_copy(demo_data, tmp_path)
    sn = data / "reference" / "statistical_neighbours.csv"
    edit_csv(sn, 5, "neighbour_la_code", cell(sn, 2, "neighbour_la_code"))
    with pytest.raises(ConfigError, match=r"row 5, column neighbour_la_code: \w+ is already LA"):
        ref_io.load(data, ct.load_contract(REFERENCE_CONTRACT))


def test_a_neighbour_not_in_the_la_list_is_refused_without_a_contract(demo_data, tmp_path):
    data = dataset_copy(demo_data, tmp_path)
    sn = data / "reference" / "statistical_neighbours.csv"
    edit_csv(sn, 3, "neighbour_la_code", "ZL999")
    with pytest.raises(ConfigError, match=r"row 3, column neighbour_la_code: LA code 'ZL999'"):
        ref_io.load(data)


def test_a_published_model_naming_an_la_its_own_neighbour_names_its_column(tmp_path):
    from tests.test_ees import load_small, small_source

    source = small_source(tmp_path / "source")
    sn = source / "reference" / "sn.csv"
    sn.write_text(
        sn.read_text(encoding="utf-8-sig").replace("370,Barnsley,373,", "370,Barnsley,370,"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"sn\.csv, row 2, column SN_1: LA E08000038 is listed"):
        load_small(source)


def test_demonstration_must_be_true_or_false(demo_data, tmp_path):
    """'no' in quotes was read as true: a demonstration banner on a real dataset's pages."""
    data = dataset_copy(demo_data, tmp_path)
    write(data / "dataset.yaml", 'name: Real data\ndemonstration: "no"\n')
    with pytest.raises(ConfigError, match=r"dataset\.yaml: demonstration 'no' must be true or"):
        ref_io.load(data)


def test_a_published_model_with_a_nonsense_number_of_ranks_is_refused(tmp_path):
    from tests.test_ees import load_small, small_source

    source = small_source(tmp_path / "source")
    mapping = source / "datapack.yaml"
    text = mapping.read_text(encoding="utf-8")
    assert "ranks: 2" in text
    write(mapping, text.replace("ranks: 2", "ranks: .nan"))
    with pytest.raises(ConfigError, match=r"ranks nan must be a whole number of neighbours"):
        load_small(source)


# --------------------------------------------------------------------------- numbers in settings


def edited_contract(tmp_path: Path, old: str, new: str, name: str = "la_return.yaml") -> Path:
    contracts = contracts_copy(tmp_path)
    text = (contracts / name).read_text(encoding="utf-8")
    assert old in text
    write(contracts / name, text.replace(old, new, 1))
    return contracts / name


CHANGE = "{property: relativeChange, value: 0.5}"
MINIMUM = '{property: minimumChange, value: {percentage: 10, "rate per 10,000": 10, ratio: 5}}'
LOOKBACK = "{property: lookbackPeriods, value: 4}"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (CHANGE, CHANGE.replace("0.5", ".nan"), "relativeChange nan cannot be used"),
        (CHANGE, CHANGE.replace("0.5", "-0.5"), "relativeChange -0.5 cannot be used"),
        (MINIMUM, MINIMUM.replace("ratio: 5", "ratio: -.inf"), "minimumChange {"),
        (MINIMUM, MINIMUM.replace("percentage:", "percent:"), "minimumChange {'percent': 10"),
        (LOOKBACK, LOOKBACK.replace("4", "0"), "lookbackPeriods 0 cannot be used"),
        (LOOKBACK, LOOKBACK.replace("4", "2.5"), "lookbackPeriods 2.5 cannot be used"),
    ],
)
def test_a_change_threshold_that_means_nothing_is_refused(tmp_path, old, new, words):
    """A NaN threshold let every change through unremarked; a negative one flagged them all;
    a misspelt unit silently fell back to no minimum."""
    path = edited_contract(tmp_path, old, new)
    with pytest.raises(ConfigError) as exc:
        ct.load_contract(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: schema la_return: rule plausible_change: {words}")
    assert "; expected " in message


@pytest.mark.parametrize(
    ("new", "words"),
    [
        ("mustBe: .nan", "mustBe: nan is not a threshold"),
        ("mustBe: 3", "mustBe: 3 is not a threshold"),
        ("mustBeLessThan: 5", "mustBeLessThan: 5 is not a threshold"),
    ],
)
def test_a_library_rule_threshold_tartan_would_ignore_is_refused(tmp_path, new, words):
    path = edited_contract(tmp_path, "mustBe: 0", new)
    with pytest.raises(ConfigError, match=rf"rule required_value: {words}.*expected mustBe: 0"):
        ct.load_contract(path)


def test_a_nan_valid_range_is_named_as_written_not_as_missing(tmp_path):
    path = edited_contract(
        tmp_path, "valid_range: [0, 100]", "valid_range: [.nan, 100]", "indicators.yaml"
    )
    with pytest.raises(ConfigError, match=r"valid_range bound '\.nan' is not a number"):
        ct.load_catalogue(path, ct.load_contract(path.parent / "catalogue.yaml"))


@pytest.mark.parametrize(
    ("valid_range", "words"),
    [
        ("[0, -5]", "valid_range bound -5 cannot be used"),
        ("[50, 10]", "valid_range [50, 10] has nothing in it"),
    ],
)
def test_a_valid_range_no_value_could_meet_is_refused_naming_the_line(tmp_path, valid_range, words):
    """Every return would have been quarantined for values outside an empty range."""
    path = edited_contract(
        tmp_path, "valid_range: [0, 100]", f"valid_range: {valid_range}", "indicators.yaml"
    )
    text = path.read_text(encoding="utf-8")
    entry = text[: text.index(f"valid_range: {valid_range}")].rindex("  - id:")
    line = text[:entry].count("\n") + 1
    with pytest.raises(ConfigError) as exc:
        ct.load_catalogue(path, ct.load_contract(path.parent / "catalogue.yaml"))
    assert f"{path}: indicator catalogue entry 2 (line {line}): {words}" in str(exc.value)
    assert "expected [min, max] with 0 <= min <= max" in str(exc.value)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("valid_range", [float("nan"), 100], "valid_range bound nan cannot be used"),
        ("valid_range", [0, float("inf")], "valid_range bound inf cannot be used"),
        ("decimals", 2.7, "decimals 2.7 is not a whole number from 0 to 3"),
        ("decimals", True, "decimals True is not a whole number"),
        ("scale", float("nan"), "scale nan does not match unit"),
    ],
)
def test_a_catalogue_read_without_its_contract_refuses_nonsense_numbers(field, value, words):
    """Without the catalogue contract (a report's slice, the datapack's catalogue), a NaN bound
    let every value through and 2.7 decimals were silently read as 2."""
    record = {
        "id": "x_pct",
        "label": "X",
        "theme": "T",
        "unit": "percentage",
        "polarity": "high",
        "decimals": 1,
        "valid_range": [0, 100],
    }
    with pytest.raises(ConfigError, match=rf"entry 1: {re.escape(words)}"):
        Catalogue.from_records([record | {field: value}])


@pytest.mark.parametrize("target", ["-5", "150"])
def test_a_priority_target_outside_the_indicators_range_is_refused(tmp_path, target):
    """A target of 150% was always missed (higher is better) or always met (lower is better)."""
    path = write(
        tmp_path / "priorities.yaml",
        "version: '1'\nregions:\n  ZR1:\n"
        f"    - {{id: a, title: A, indicator: care_leavers_eet_pct, target: {target}}}\n",
    )
    catalogue = ct.load_catalogue(SHIPPED / "indicators.yaml")
    with pytest.raises(ConfigError, match=r"priorities\.yaml, line 4: target") as exc:
        ct.load_priorities(path, catalogue, ["ZR1"])
    assert "expected a target from 0 to 100" in str(exc.value)


# ------------------------------------------------------------------------- at the command line too


def test_a_refused_contract_or_reference_file_is_exit_2_without_a_traceback(capfd, tiny, tmp_path):
    contracts = tmp_path / "contracts"
    shutil.copytree(tiny.contracts, contracts)
    path = contracts / "la_return.yaml"
    write(path, path.read_text(encoding="utf-8").replace(CHANGE, CHANGE.replace("0.5", ".nan")))
    r = cli(
        capfd, "validate", "--data", tiny.data, "--contracts", contracts, "--out", tmp_path / "o"
    )
    assert r.returncode == 2, r.stderr
    assert f"{path}: schema la_return: rule plausible_change: relativeChange nan" in r.stderr
    assert "Traceback" not in r.stderr

    data = tiny.copy(tmp_path / "data")
    las = data.data / "reference" / "local_authorities.csv"
    edit_csv(las, 3, "region_name", "Another name")
    r = cli(capfd, "validate", *data.args, "--out", tmp_path / "out")
    assert r.returncode == 2, r.stderr
    assert f"{las}, rows 2 and 3: region ZR1 is called" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_pattern_that_is_not_a_regular_expression_is_refused(tmp_path):
    """Great Expectations passed every row against a pattern it could not compile."""
    path = edited_contract(tmp_path, r"pattern: '^\d{6}$'", "pattern: '^[0-9'")
    with pytest.raises(ConfigError) as exc:
        ct.load_contract(path)
    assert str(exc.value).startswith(
        f"{path}: schema la_return, property time_period: rule time_period_format: pattern "
        "'^[0-9' is not a regular expression"
    )
