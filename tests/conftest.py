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


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory, demo_data, request) -> Path:
    """Every demo report of every period and region, built once by the CLI as `make report` does.

    Under pytest-xdist the workers share one build (the first to arrive builds it, under a lock);
    the folder is this session's own. Read-only by convention: the site and browser tests read it.
    """
    import subprocess
    import sys

    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    under_xdist = hasattr(request.config, "workerinput")
    root = base.parent if under_xdist else base
    out = root / "demo-site"
    with FileLock(str(root / "demo-site.lock")):
        if not (out / "manifest.json").exists():
            args = [sys.executable, "-m", "pipeline", "report", "--data", demo_data, "--out", out]
            result = subprocess.run(
                [*map(str, args), "--no-progress"], capture_output=True, text=True, timeout=1800
            )
            assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process, shared by every module that opens pages.

    Playwright's sync API cannot be started twice in one thread, so the browser lives here
    rather than in each module.
    """
    from playwright.sync_api import sync_playwright

    from tests.browser import FLAGS, chromium_path

    path = chromium_path()
    if not path:
        pytest.fail(
            "no chromium to run the browser tests: `make test` installs Debian's chromium; "
            "elsewhere set TARTAN_CHROMIUM to a Chromium or Chrome binary"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=FLAGS)
        yield b
        b.close()
