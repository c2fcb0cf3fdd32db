"""Provenance records: what every footer and manifest.json say about where an output came from."""

from __future__ import annotations

import hashlib
import re

import pytest

from pipeline.core.errors import ConfigError
from pipeline.html.base import footer
from pipeline.orchestration import provenance as prov


def test_no_build_date_unless_source_date_epoch_is_set(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert prov.build_date() is None
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225599")  # 2025-12-31T23:59:59Z
    assert prov.build_date() == "2025-12-31", "UTC, whatever the machine's time zone"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1.5e9")
    with pytest.raises(ConfigError, match=r"SOURCE_DATE_EPOCH='1.5e9': expected a whole number"):
        prov.build_date()


def test_run_record_carries_a_date_only_from_source_date_epoch(monkeypatch, tmp_path):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    record = prov.run_provenance(tmp_path, "Demo", {"tartan-la-return": "1.1.0"}, "ab" * 32)
    assert "build_date" not in record
    assert record["code"]["commit"] == "unknown (not a git checkout)"
    assert record["packages"]["python"].count(".") == 2
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert prov.run_provenance(tmp_path, "Demo", {})["build_date"] == "1970-01-01"


def test_combined_hash_is_sha256_of_sorted_sha256sum_lines():
    items = [("returns/b.csv", "2" * 64), ("reference/a.csv", "1" * 64)]
    text = f"{'1' * 64}  reference/a.csv\n{'2' * 64}  returns/b.csv\n"
    assert prov.combined_hash(items) == hashlib.sha256(text.encode()).hexdigest()
    assert prov.combined_hash(items[::-1]) == prov.combined_hash(items), "order does not matter"
    assert prov.combined_hash(items[:1]) != prov.combined_hash(items)


def test_footer_states_each_fact_in_words_in_a_fixed_order():
    record = {
        "parameters": {"region_code": "ZR1", "period": "2026-27-Q2"},
        "period": "2026-27-Q2",
        "comparators_as_at": {
            "region": "2026-27-Q2",
            "England": "2026-27-Q2",
            "statistical neighbours": "2026-27-Q1",
        },
        "trend_periods": ["2024-25-Q3", "2026-27-Q2"],
        "contracts": {"tartan-la-return": "1.1.0", "indicators": "1.0.0"},
        "code": {"tartan": "0.1.0", "commit": "abc123"},
        "build_date": "2026-01-01",
    }
    assert prov.facts(record) == [
        ("Period", "2026-27 Q2"),
        ("Comparators as at", "Region and England: 2026-27 Q2; statistical neighbours: 2026-27 Q1"),
        ("Trend periods", "2024-25 Q3 to 2026-27 Q2"),
        ("Contracts", "tartan-la-return 1.1.0; indicators 1.0.0"),
        ("Code", "tartan 0.1.0 (abc123)"),
        ("Parameters", "region_code=ZR1, period=2026-27-Q2"),
        ("Built", "2026-01-01 (SOURCE_DATE_EPOCH)"),
    ]
    html = footer(prov.facts({"data": "<Region> & co"}))
    assert "&lt;Region&gt; &amp; co" in html and re.search(r"<h2>About this report", html)
