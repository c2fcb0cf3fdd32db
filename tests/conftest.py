from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.edges import demo

ROOT = Path(__file__).resolve().parents[1]
#: DfE/ONS published statistics, never copied into the project: beside the checkout by default,
#: or wherever TARTAN_PUBLIC_DATA points (tests that need them skip, saying why, when absent)
PUBLIC_DATA = Path(os.environ.get("TARTAN_PUBLIC_DATA", ROOT.parent / "shared" / "public-data"))
#: The columns of an LA return, in the order the demo writes them.
RETURN_COLUMNS = [
    "la_code",
    "time_period",
    "time_identifier",
    "indicator_id",
    "numerator",
    "denominator",
    "value",
    "status",
    "note",
]


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """The full demonstration dataset, written once per test session (read-only by convention)."""
    out = tmp_path_factory.mktemp("demo")
    demo.write(out)
    return out
