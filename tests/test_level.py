"""The confidence level: 95% by default, 99.8% from dataset.yaml or --level, anything else
refused; a changed level is a changed run (its reports are rebuilt)."""

from __future__ import annotations

import pytest
import yaml

from pipeline.orchestration import cache
from pipeline.orchestration.products.quarterly import prepare_plan
from pipeline.orchestration.settings import Settings
from tests.conftest import cli


def _with_level(tiny, tmp_path, level):
    data = tiny.copy(tmp_path / "data")
    meta = yaml.safe_load((data.data / "dataset.yaml").read_text("utf-8"))
    meta["significance_level"] = level
    (data.data / "dataset.yaml").write_text(yaml.safe_dump(meta), "utf-8")
    return data


@pytest.mark.parametrize("level", [90, "95%", True])
def test_a_level_other_than_95_or_998_in_dataset_yaml_is_refused(tiny, tmp_path, capfd, level):
    data = _with_level(tiny, tmp_path, level)
    r = cli(capfd, "validate", *data.args, "--out", tmp_path / "out")
    assert r.returncode == 2
    assert "dataset.yaml: significance_level" in r.stderr and "is not 95 or 99.8" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_level_other_than_95_or_998_on_the_command_line_is_refused(tiny, tmp_path, capfd):
    r = cli(capfd, "report", *tiny.args, "--out", tmp_path / "out", "--level", "90")
    assert r.returncode == 2
    assert "--level" in r.stderr and "99.8" in r.stderr


def _plan(data, out, level=None):
    s = Settings(data=data.data, contracts=data.contracts, out=out, level=level)
    return prepare_plan(s), s


def test_998_is_stricter_than_95_and_the_dataset_or_the_command_line_sets_it(tiny, tmp_path):
    at95, s95 = _plan(tiny, tmp_path / "a")
    assert at95.level == 95.0
    judged = at95.bench["las"]["vs_england"]
    strict, _ = _plan(_with_level(tiny, tmp_path, 99.8), tmp_path / "b")
    assert strict.level == 99.8
    strict_judged = strict.bench["las"]["vs_england"]
    # every figure judged better or worse at 99.8% is so at 95% too, and some are only at 95%
    differ = strict_judged.isin(["better", "worse", "higher", "lower"])
    assert (judged[differ] == strict_judged[differ]).all()
    assert judged.isin(["better", "worse", "higher", "lower"]).sum() > differ.sum()
    # the command line wins over dataset.yaml
    assert _plan(tiny, tmp_path / "c", level=99.8)[0].level == 99.8
    assert cache.run_key(s95) != cache.run_key(Settings(**{**vars(s95), "level": 99.8}))
