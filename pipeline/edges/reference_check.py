"""Reference tables against the reference contract (Great Expectations), here or aside.

Importing Great Expectations takes a couple of seconds on every run. The datapack checks the
published lists `aside`: in a process of its own, on a core the driver is not using, while the
driver reads the figures and benchmarks them; the check's errors are raised when the driver's
block ends, before anything is built from them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from pipeline.core.errors import ConfigError
from pipeline.edges import contracts as ct


def findings(ref: Mapping[str, pd.DataFrame], contract: ct.Contract) -> pd.DataFrame:
    """The findings of the reference tables (each with ``file`` and ``row``) against
    `contract`; its LA codes are those of the LAs' table."""
    ctx = ct.Context(
        lookups={
            "reference.local_authorities.la_code": sorted(
                ref["local_authorities"].get("la_code", pd.Series(dtype=str))
            )
        }
    )
    return ct.check_tables(contract, ref, ctx)


def raise_broken(found: pd.DataFrame, contract: ct.Contract, where: Path) -> None:
    """A ConfigError listing the errors among `found`, if any."""
    errors = found[found["severity"] == "error"]
    if len(errors):
        raise ConfigError(
            f"{where}: the reference data breaks its contract "
            f"{contract.label}:\n" + ct.problems_text(errors)
        )


def _imported() -> bool:
    """Whether this process has Great Expectations loaded already."""
    return "great_expectations" in sys.modules


@contextlib.contextmanager
def aside(
    ref: Mapping[str, pd.DataFrame], contract: ct.Contract, where: Path, apart: bool = True
) -> Iterator[None]:
    """Check `ref` against `contract` in a process of its own while the block runs; on leaving
    it, raise the check's errors (`raise_broken`). They come before any error of the block's
    own, which a broken reference may well have caused. Without `apart`, or in a process that
    has Great Expectations loaded already (no import to save), the check runs here, first."""
    if not apart or _imported():
        raise_broken(findings(ref, contract), contract, where)
        yield
        return
    pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
    try:
        found = pool.submit(findings, dict(ref), contract)
        try:
            yield
        except Exception:
            raise_broken(_result(found, ref, contract), contract, where)
            raise
        raise_broken(_result(found, ref, contract), contract, where)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _result(found, ref: Mapping[str, pd.DataFrame], contract: ct.Contract) -> pd.DataFrame:
    """The check's findings from its process; should that process have failed (it died, or
    could not start), the check is run here instead."""
    try:
        return found.result()
    except ConfigError:
        raise
    except Exception:
        return findings(ref, contract)
