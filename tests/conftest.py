"""Shared fixtures: the demo data, the demo site built once, and a tiny dataset for mechanics.

Builds that run notebooks are shared across the session (and across pytest-xdist workers, under a
file lock) rather than made per test: `demo_site` is the whole demo as `make report` builds it,
`tiny_site` a cold build of the tiny dataset that the mechanics tests (cache, faults, Dask,
interruption, the lock) copy and run again. A test that uses either is marked `e2e` here, so that
`make test-fast` (``-m "not e2e and not browser"``) never waits for a notebook.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
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

#: The tiny dataset: four LAs of the demo's ZR1 (each the neighbour of two or three of the others)
#: and the demo's last three quarters. A run of its latest quarter is 5 notebooks (a regional
#: report and 4 packs), against the demo's 63.
TINY_REGION = "ZR1"
TINY_LAS = ("ZL101", "ZL105", "ZL107", "ZL108")
TINY_PERIODS = [demo.LATEST.shifted(-k).slug for k in (2, 1, 0)]  # oldest first
#: fixtures whose build runs notebooks: a test using one is end to end
NOTEBOOK_FIXTURES = {"demo_site", "tiny_site"}
#: modules of long tests, run first (after the xdist groups, which go first anyway) so that the
#: many short tests fill the end of the run on every worker, instead of one long test holding
#: it up; the browser tests read the demo site, whose build has finished by then
LONG_FIRST = ("test_scale.py", "test_e2e.py", "test_browser.py", "test_site.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if NOTEBOOK_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.e2e)
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: module order kept
    _xdist_groups(config, items)


def _xdist_groups(config, items) -> None:
    """Keep each `xdist_group` on one worker under ``--dist loadgroup``.

    pytest-xdist 3.8 names a test's group by appending ``@group`` to ``item._nodeid``, which
    pytest 9 no longer reads (a node's id is ``item._id``): the groups were silently ignored, and
    every worker that ran one of a module's tests built its module-wide fixtures again. This does
    what xdist means to, where it did not.
    """
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers only
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(groups))
        if groups and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(item.nodeid + suffix)


def pytest_collection_finish(session):
    """Start the demo site's build as soon as the tests are known, so that it runs beside the
    tests that do not need it instead of holding up the first test that does."""
    if session.config.option.collectonly:
        return
    if any("demo_site" in getattr(item, "fixturenames", ()) for item in session.items):
        _DemoSite(session.config).start()


def pytest_sessionfinish(session):
    """A demo site build still running when the session ends (interrupted, or no test waited for
    it) is stopped, by the process id it was started with: in the process that runs the whole
    session (pytest-xdist's controller, or pytest itself), never in a worker that others wait on."""
    if not hasattr(session.config, "workerinput"):
        _DemoSite(session.config).stop()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """The full demonstration dataset, written once per test session (read-only by convention)."""
    out = tmp_path_factory.mktemp("demo")
    demo.write(out)
    return out


def _session_root(config) -> Path:
    """The session's temporary folder, shared by its pytest-xdist workers."""
    base = config._tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


class _DemoSite:
    """Every demo report of every period and region, built once per session by the CLI as
    `make report` builds it, in a background process; under pytest-xdist every worker waits for
    the same build. Its standard output is kept beside it (`demo-site.stdout`)."""

    def __init__(self, config):
        from filelock import FileLock

        self.root = _session_root(config)
        self.out = self.root / "demo-site"
        self.lock = FileLock(str(self.root / "demo-site.lock"))
        self.pid = self.root / "demo-site.pid"  # written when the build starts
        self.rc = self.root / "demo-site.rc"  # its exit code, written when it has finished

    def start(self) -> None:
        with self.lock:
            if self.pid.exists():
                return
            data = self.root / "demo-site-data"
            demo.write(data)
            args = [sys.executable, "-m", "pipeline", "report", "--data", str(data)]
            args += ["--out", str(self.out), "--no-progress"]
            script = (
                '"$@" >"$ROOT/demo-site.stdout" 2>"$ROOT/demo-site.stderr"; '
                'echo $? >"$ROOT/demo-site.rc.tmp"; '
                'mv "$ROOT/demo-site.rc.tmp" "$ROOT/demo-site.rc"'
            )
            proc = subprocess.Popen(
                ["sh", "-c", script, "sh", *args],
                env={**os.environ, "ROOT": str(self.root)},
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, to stop it whole
            )
            self.pid.write_text(str(proc.pid), encoding="utf-8")

    def wait(self, timeout: float = 1800) -> Path:
        self.start()
        deadline = time.monotonic() + timeout
        while not self.rc.exists():
            assert time.monotonic() < deadline, "the demo site took too long to build"
            time.sleep(0.5)
        log = (self.root / "demo-site.stdout").read_text(encoding="utf-8")
        log += (self.root / "demo-site.stderr").read_text(encoding="utf-8")
        assert self.rc.read_text(encoding="utf-8").strip() == "0", log
        return self.out

    def stop(self) -> None:
        if self.pid.exists() and not self.rc.exists():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(self.pid.read_text(encoding="utf-8")), signal.SIGTERM)


@pytest.fixture(scope="session")
def demo_site(request) -> Path:
    """Every demo report of every period and region, built once by the CLI as `make report` does
    (see `_DemoSite`). Read-only by convention: the site, e2e and browser tests read it."""
    return _DemoSite(request.config).wait()


@pytest.fixture(scope="session")
def demo_site_stdout(demo_site) -> str:
    """What `tartan report` printed when it built the demo site."""
    return (demo_site.parent / "demo-site.stdout").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Tiny:
    """The tiny dataset (with the priorities of its one region) and the contracts folder it runs
    with."""

    data: Path
    contracts: Path

    @property
    def args(self) -> list[str]:
        """The command-line options that name it."""
        return ["--data", str(self.data), "--contracts", str(self.contracts)]

    def copy(self, folder: Path) -> Tiny:
        """A copy to change (a resubmission, a damaged reference file), with the same contracts."""
        shutil.copytree(self.data, folder)
        return Tiny(folder, self.contracts)


def write_tiny(demo_data: Path, folder: Path) -> Tiny:
    """The demo cut down to `TINY_LAS` and `TINY_PERIODS`: the reference files filtered to the
    four LAs (neighbours too, so each LA keeps those of its neighbours that are among them), their
    returns of the three quarters, dataset.yaml's reporting window moved to match, its priorities
    cut to ZR1's (priorities of a region not in the reference data are refused), and a copy of
    the contracts."""
    data = folder / "data"
    for name, code_columns in (
        ("local_authorities", (0,)),
        ("population", (0,)),
        ("statistical_neighbours", (0, 2)),
    ):
        header, *rows = (
            (demo_data / "reference" / f"{name}.csv").read_text("utf-8").splitlines(True)
        )
        kept = [r for r in rows if all(r.split(",")[c] in TINY_LAS for c in code_columns)]
        (data / "reference").mkdir(parents=True, exist_ok=True)
        (data / "reference" / f"{name}.csv").write_text(header + "".join(kept), encoding="utf-8")
    for period in TINY_PERIODS:
        (data / "returns" / period).mkdir(parents=True)
        for la in TINY_LAS:
            shutil.copy(
                demo_data / "returns" / period / f"{la}_{period}.csv", data / "returns" / period
            )
    meta = (demo_data / "dataset.yaml").read_text(encoding="utf-8")
    window = f"reporting_window: {{first: {TINY_PERIODS[0]}, last: {TINY_PERIODS[-1]}}}"
    (data / "dataset.yaml").write_text(
        re.sub(r"^reporting_window: .*$", window, meta, flags=re.M), encoding="utf-8"
    )
    priorities = (demo_data / "priorities.yaml").read_text(encoding="utf-8")
    (data / "priorities.yaml").write_text(
        priorities[: priorities.index("\n  ZR2:") + 1], encoding="utf-8"
    )
    contracts = folder / "contracts"
    shutil.copytree(ROOT / "data_contracts", contracts)
    return Tiny(data, contracts)


def _shared(config, name: str, make) -> Path:
    """`make(folder)` once per session, under pytest-xdist once for every worker (the first to
    arrive makes it, under a lock; the others wait for it): the folder is this session's own."""
    from filelock import FileLock

    root = _session_root(config)
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            done.write_text("", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny(request, demo_data) -> Tiny:
    """The tiny dataset (one region, four LAs, three quarters). Read-only: `Tiny.copy` to change."""
    folder = _shared(request.config, "tiny", lambda f: write_tiny(demo_data, f))
    return Tiny(folder / "data", folder / "contracts")


def tartan(*args, env=None, timeout=900) -> subprocess.CompletedProcess:
    """`tartan ARGS` in a process of its own: for what needs one (signals, a kill, the lock
    between two processes, a fresh interpreter)."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@dataclass
class Ran:
    """What a command returned and printed: the shape of `subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def cli(capfd, *args) -> Ran:
    """`tartan ARGS` in this process (`pipeline.cli.main`), its output read with `capfd` (the
    file descriptors, so a worker process's or kernel's stray output is caught too). A usage error
    exits as argparse does, with its code."""
    from pipeline.cli import main

    capfd.readouterr()  # what came before is not this command's
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capfd.readouterr()
    return Ran(code, out, err)


@pytest.fixture(scope="session")
def tiny_site(request, tiny) -> Path:
    """A cold build of the tiny dataset's latest quarter (its regional report and 4 packs): what
    the mechanics tests copy, change and run again. Read-only: copy it to run on it."""

    def build(out: Path) -> None:
        result = tartan("report", *tiny.args, "--out", out, "--period", "latest", "--no-progress")
        assert result.returncode == 0, result.stdout + result.stderr

    return _shared(request.config, "tiny-site", build)


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
