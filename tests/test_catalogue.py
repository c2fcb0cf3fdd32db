"""The indicator catalogue: the shipped YAML, validation of entries, computing and formatting."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.edges.contracts import load_catalogue

CATALOGUE_YAML = Path(__file__).resolve().parents[1] / "data_contracts" / "indicators.yaml"
THEMES = [
    "Front door",
    "Child protection",
    "Children in need",
    "Looked-after children",
    "Care leavers",
    "Workforce",
]


def record(**overrides):
    base = {
        "id": "x_pct",
        "label": "X (%)",
        "theme": "Front door",
        "unit": "percentage",
        "polarity": "high",
        "decimals": 1,
        "valid_range": [0, 100],
    }
    base.update(overrides)
    return base


# ----------------------------------------------------------------------------- shipped YAML


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(CATALOGUE_YAML)


def test_shipped_catalogue_covers_the_six_themes_in_order(shipped):
    assert len(shipped) >= 20
    assert shipped.version
    assert shipped.themes == THEMES
    for theme in THEMES:
        assert shipped.in_theme(theme), f"no indicators in {theme}"


def test_shipped_catalogue_ids_are_unique(shipped):
    raw_ids = [r["id"] for r in yaml.safe_load(CATALOGUE_YAML.read_text("utf-8"))["indicators"]]
    assert len(raw_ids) == len(set(raw_ids)) == len(shipped)
    assert shipped.ids == raw_ids


def test_shipped_percentages_are_bounded_0_to_100(shipped):
    percentages = [i for i in shipped if i.unit == "percentage"]
    assert percentages
    for ind in percentages:
        assert (ind.valid_min, ind.valid_max) == (0, 100), ind.id
        assert ind.scale == 100, ind.id
        assert ind.numerator_within_denominator, ind.id


def test_shipped_rates_are_per_10000_without_upper_bound(shipped):
    rates = [i for i in shipped if i.unit == "rate per 10,000"]
    assert rates
    for ind in rates:
        assert ind.scale == 10_000, ind.id
        assert ind.valid_max is None, ind.id


def test_shipped_neutral_indicators_are_not_judged(shipped):
    assert not shipped["referrals_rate"].judged
    assert shipped["assessments_45_days_pct"].judged
    assert shipped["rereferrals_pct"].polarity == "low"


# ----------------------------------------------------------------------------- validation


def test_from_records_builds_indicators_with_defaults():
    cat = Catalogue.from_records([record(), record(id="r", unit="rate per 10,000")])
    assert cat.ids == ["x_pct", "r"]
    assert cat["x_pct"].scale == 100
    assert cat["x_pct"].short_label == "X (%)"  # falls back to the label
    assert cat["r"].scale == 10_000
    assert "r" in cat and "nope" not in cat


def test_unknown_unit_is_rejected_naming_the_entry():
    with pytest.raises(ConfigError, match=r"entry 2: unit 'per cent' is not one of"):
        Catalogue.from_records([record(), record(id="y", unit="per cent")])


def test_unknown_polarity_is_rejected_naming_the_entry():
    with pytest.raises(ConfigError, match=r"entry 1: polarity 'up' is not one of"):
        Catalogue.from_records([record(polarity="up")])


@pytest.mark.parametrize(
    ("unit", "scale"), [("percentage", 1000), ("rate per 10,000", 100), ("ratio", 100)]
)
def test_scale_that_does_not_match_unit_is_rejected(unit, scale):
    with pytest.raises(ConfigError, match=f"entry 1: scale {scale} does not match unit {unit!r}"):
        Catalogue.from_records([record(unit=unit, scale=scale)])


def test_duplicate_id_is_rejected_naming_the_id():
    with pytest.raises(ConfigError, match=r"id 'x_pct' appears twice"):
        Catalogue.from_records([record(), record(label="Again")])


def test_missing_field_is_rejected_naming_it():
    incomplete = record()
    del incomplete["polarity"]
    with pytest.raises(ConfigError, match=r"entry 1: missing polarity"):
        Catalogue.from_records([incomplete])


def test_load_catalogue_prefixes_the_file_path(tmp_path):
    bad = tmp_path / "indicators.yaml"
    bad.write_text(
        "version: '1'\nindicators:\n"
        "  - {id: a, label: A, theme: T, unit: furlongs, polarity: high, decimals: 1,"
        " valid_range: [0, 100]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"indicators\.yaml: .*unit 'furlongs'"):
        load_catalogue(bad)


# ----------------------------------------------------------------------------- compute / format


def test_compute_applies_scale_and_rounds_to_decimals():
    pct = Catalogue.from_records([record()])["x_pct"]
    rate = Catalogue.from_records([record(id="r", unit="rate per 10,000", decimals=1)])["r"]
    ratio = Catalogue.from_records([record(id="c", unit="ratio", decimals=2)])["c"]
    assert pct.compute(1, 3) == 33.3  # 1/3*100 = 33.33.. -> 33.3
    assert pct.compute(2, 3) == 66.7  # 2/3*100 = 66.66.. -> 66.7
    assert rate.compute(523, 41_000) == 127.6  # 523/41000*10000 = 127.56.. -> 127.6
    assert ratio.compute(190, 11) == 17.27  # 190/11 = 17.2727.. -> 17.27


def test_format_percentage_rounds_and_adds_percent_sign():
    pct = Catalogue.from_records([record()])["x_pct"]
    assert pct.format(12.345) == "12.3%"
    assert pct.format(100) == "100.0%"
    assert pct.format(0) == "0.0%"


def test_format_rate_uses_thousands_separator_and_no_sign():
    rate = Catalogue.from_records([record(id="r", unit="rate per 10,000")])["r"]
    assert rate.format(12345.67) == "12,345.7"
    assert rate.format(999.94) == "999.9"
    ratio = Catalogue.from_records([record(id="c", unit="ratio", decimals=0)])["c"]
    assert ratio.format(1234.4) == "1,234"


def test_format_missing_value_is_blank():
    pct = Catalogue.from_records([record()])["x_pct"]
    assert pct.format(None) == ""
    assert pct.format(float("nan")) == ""
