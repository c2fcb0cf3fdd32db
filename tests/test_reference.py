"""Reference data: the reporting window a dataset accepts returns for."""

from __future__ import annotations

import datetime
import shutil

import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.periods import Period
from pipeline.edges import reference as ref_io


@pytest.mark.parametrize(
    ("today", "last"),
    [
        (datetime.date(2026, 11, 22), Period(2026, 2)),  # Q3 (Oct-Dec) under way: Q2 has ended
        (datetime.date(2026, 4, 1), Period(2025, 4)),  # Q1 begins: Q4 of 2025-26 has ended
        (datetime.date(2026, 3, 31), Period(2025, 3)),  # Q4 still under way
        (datetime.date(2026, 7, 1), Period(2026, 1)),
    ],
)
def test_last_ended_quarter(today, last):
    assert ref_io.last_ended_quarter(today) == last


def _dataset(demo_data, tmp_path, yaml_text):
    shutil.copytree(demo_data / "reference", tmp_path / "reference")
    (tmp_path / "dataset.yaml").write_text(yaml_text, encoding="utf-8")
    return tmp_path


def test_window_from_dataset_yaml(demo_data):
    ref = ref_io.load(demo_data)
    assert (ref.window[0].slug, ref.window[1].slug) == ("2024-25-Q3", "2026-27-Q2")
    assert ref.window_source == "dataset.yaml"


def test_default_window_is_twelve_quarters_to_the_last_ended_by_source_date_epoch(
    demo_data, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # 2026-09-21: Q2 2026-27 under way
    ref = ref_io.load(_dataset(demo_data, tmp_path, "name: No window\n"))
    assert (ref.window[0].slug, ref.window[1].slug) == ("2023-24-Q2", "2026-27-Q1")
    assert ref.window_source == "default"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("reporting_window: {first: 2026-27-Q2}\n", "must give first and last periods"),
        ("reporting_window: {first: 2026-27-Q2, last: 2025-26-Q1}\n", "ends (2025-26-Q1) before"),
        ("reporting_window: {first: 2026-27, last: 2026-27-Q2}\n", "must give first and last"),
    ],
)
def test_bad_window_is_a_configuration_error_naming_the_file(demo_data, tmp_path, text, words):
    data = _dataset(demo_data, tmp_path, text)
    with pytest.raises(ConfigError, match=r"dataset\.yaml") as exc:
        ref_io.load(data)
    assert words in str(exc.value)
