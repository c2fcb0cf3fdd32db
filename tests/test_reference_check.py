"""The reference tables' contract check run apart (``reference_check.aside``): the same
findings as run here, raised when the block ends and before the block's own error."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError
from pipeline.edges import contracts as ct
from pipeline.edges import reference_check
from pipeline.edges.files import read_text_csv
from pipeline.edges.reference import FILES

CONTRACT = Path(__file__).resolve().parents[1] / "data_contracts" / "reference.yaml"


def _tables(demo_data: Path, duplicate: bool = True) -> dict:
    """The demo's reference tables as read (with file and row), one LA code duplicated."""
    out = {}
    for name in FILES:
        path = demo_data / "reference" / f"{name}.csv"
        df = read_text_csv(path, ConfigError, "a reference file", "")
        df["file"] = str(path)
        out[name] = df
    if duplicate:
        las = out["local_authorities"]
        las.loc[las.index[1], "la_code"] = las["la_code"].iloc[0]
    return out


def _error(tables, contract, apart: bool) -> str:
    with pytest.raises(ConfigError) as exc, reference_check.aside(tables, contract, "ref", apart):
        raise ValueError("the block's own error, which the broken reference caused")
    return str(exc.value)


def test_a_broken_reference_is_refused_alike_apart_and_here_before_the_blocks_error(
    demo_data, monkeypatch
):
    monkeypatch.setattr(reference_check, "_imported", lambda: False)  # apart, even in tests
    tables, contract = _tables(demo_data), ct.load_contract(CONTRACT)
    here = _error(tables, contract, apart=False)
    assert here.startswith("ref: the reference data breaks its contract tartan-reference")
    assert "appears more than once" in here
    assert _error(tables, contract, apart=True) == here


def test_a_sound_reference_lets_the_block_run_and_its_own_error_through(demo_data, monkeypatch):
    monkeypatch.setattr(reference_check, "_imported", lambda: False)
    tables, contract = _tables(demo_data, duplicate=False), ct.load_contract(CONTRACT)
    assert reference_check.findings(tables, contract).query("severity == 'error'").empty
    with pytest.raises(ValueError, match="own"), reference_check.aside(tables, contract, "ref"):
        raise ValueError("its own")


def test_a_check_whose_process_fails_is_run_here_and_still_refuses(demo_data, monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class Broken:  # a pool whose process died before it answered
        def __init__(self, *args, **kwargs):
            pass

        def submit(self, *args):
            found = Future()
            found.set_exception(BrokenProcessPool("the process ended abruptly"))
            return found

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(reference_check, "_imported", lambda: False)
    monkeypatch.setattr(reference_check, "ProcessPoolExecutor", Broken)
    tables, contract = _tables(demo_data), ct.load_contract(CONTRACT)
    assert "appears more than once" in _error(tables, contract, apart=True)
