"""Running at scale: the cache, fault isolation, interruption and the Dask executor, each through
the command line on the tiny dataset's latest quarter (a regional report and 4 packs).

The command runs in this process (`pipeline.cli.main`) except where a process of its own is what
is tested: Ctrl-C and a kill, and the lock between two runs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from pipeline.edges.files import LOCK, TEMPORARY, folder_lock
from tests.conftest import ROOT, TINY_LAS, TINY_PERIODS, cli, tartan

pytestmark = pytest.mark.e2e
PERIOD = TINY_PERIODS[-1]
SUBSET = ["--period", "latest"]
PACKS = list(TINY_LAS)
#: every job of a run of the tiny dataset's latest quarter
JOBS = len(PACKS) + 1


def _report(capfd, tiny, out, *extra):
    return cli(capfd, "report", *tiny.args, "--out", out, *SUBSET, "--no-progress", *extra)


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK
    }


def _differ(a: Path, b: Path) -> list[str]:
    fa, fb = _files(a), _files(b)
    return sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))


def _copy(base: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    shutil.copytree(base, folder)
    return folder


def _resubmit(tiny, folder: Path):
    """A copy of the data in which ZL101 resubmits its latest return with one figure corrected:
    re-referrals 476 -> 478 of 1870 (25.5% -> 25.6%), which leaves the region's and England's
    figure (2649 -> 2651 of 12303, 21.5%) as it was, so that the packs of the LAs that do not have
    ZL101 among their neighbours show nothing that changed."""
    data = tiny.copy(folder / "data")
    path = data.data / "returns" / PERIOD / f"ZL101_{PERIOD}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if ",rereferrals_pct," in line)
    cells = lines[i].split(",")
    num, den = int(cells[4]) + 2, int(cells[5])
    cells[4], cells[6] = str(num), f"{num / den * 100:.1f}"
    lines[i] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    return data


def test_nothing_changed_means_nothing_is_run(tiny_site, tiny, tmp_path, capfd):
    out = _copy(tiny_site, tmp_path)
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert "Nothing to do: no return, reference file, contract, notebook or code has changed" in (
        result.stdout
    )
    assert f"{JOBS} reports" in result.stdout
    assert _differ(tiny_site, out) == []


def test_a_resubmission_reruns_only_the_reports_it_changes(tiny_site, tiny, tmp_path, capfd):
    data = _resubmit(tiny, tmp_path)
    out = _copy(tiny_site, tmp_path)
    result = _report(capfd, data, out)
    assert result.returncode == 0, result.stderr
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # which jobs ran: their outputs changed; the others were left as they were
    changed = {
        j["id"] for j in m["jobs"] if any(f in _differ(tiny_site, out) for f in j["outputs"])
    }
    assert f"{PERIOD}/ZR1/ZL101/self-assessment" in changed
    assert f"{PERIOD}/ZR1/regional-benchmark" in changed
    assert 1 < len(changed) < JOBS, "some packs do not show ZL101's figure and were not run"
    assert f"  {len(changed)} run, {JOBS - len(changed)} unchanged since the last run" in (
        result.stdout
    )
    # and what it left is exactly what a cold build of the new data makes, byte for byte
    cold = tmp_path / "cold"
    assert _report(capfd, data, cold).returncode == 0
    assert _differ(cold, out) == []


def test_a_damaged_output_is_built_again(tiny_site, tiny, tmp_path, capfd):
    out = _copy(tiny_site, tmp_path)
    page = out / PERIOD / "ZR1" / "ZL105" / "self-assessment.html"
    page.write_text("<html>edited by hand</html>", encoding="utf-8")
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert f"  1 run, {JOBS - 1} unchanged since the last run" in result.stdout
    assert _differ(tiny_site, out) == []


def test_dask_local_cluster_gives_the_same_bytes_and_force_runs_everything(
    tiny_site, tiny, tmp_path, capfd
):
    out = _copy(tiny_site, tmp_path)
    result = _report(capfd, tiny, out, "--executor", "dask", "--workers", "2", "--force")
    assert result.returncode == 0, result.stderr
    assert "unchanged" not in result.stderr + result.stdout, "--force runs every job"
    assert f"Reports: {JOBS} of {JOBS} built" in result.stdout
    assert _differ(tiny_site, out) == []


FAULTS = """\
import os, time
if la_code == "ZL105":
    raise ValueError("no figures for " + la_code)
if la_code == "ZL107":
    time.sleep(120)
if la_code == "ZL108":
    os._exit(3)
"""
FAILING = ("ZL105", "ZL107", "ZL108")


def test_failing_notebooks_fail_alone_and_are_named(tiny, tmp_path, capfd):
    """One pack raises, one runs past the cell time limit, one kills its kernel: the other
    pack and the regional report are built, and the run names each failure and exits 1."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    path = notebooks / "self_assessment_pack.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(FAULTS))
    nbformat.write(nb, path)
    out = tmp_path / "out"
    args = ["report", *tiny.args, "--out", out, *SUBSET, "--notebooks", notebooks]
    result = cli(capfd, *args, "--cell-timeout", "10")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Reports: {JOBS - 3} of {JOBS} built" in result.stdout
    job = f"{PERIOD}/ZR1/{{}}/self-assessment"
    log = out / "logs" / PERIOD / "ZR1" / "ZL105" / "self-assessment.ipynb"
    err = result.stderr
    assert (
        f"failed: {job.format('ZL105')} in cell 3 (import os, time): "
        f"ValueError: no figures for ZL105 (the executed notebook: {log})" in err
    )
    timed_out = f"failed: {job.format('ZL107')} in the cell import os, time: a cell ran for longer"
    assert timed_out in err
    assert "limit of 10 s (--cell-timeout)" in err
    assert f"failed: {job.format('ZL108')}: the kernel died while running a cell" in err
    assert err.count("\n") == err.count("Reports: ") + 3, (
        "nothing but progress and the three failures"
    )
    assert f"Reports: {JOBS} of {JOBS} done, 3 failed" in err, (
        "progress as plain lines off a terminal"
    )
    kept = nbformat.read(log, as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells for o in c.get("outputs", []))
    for la in PACKS:
        built = (out / PERIOD / "ZR1" / la / "self-assessment.html").exists()
        assert built == (la not in FAILING), la
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f"1 of {len(PACKS)} self-assessment packs built" in index
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    failed = {j["id"]: j for j in m["jobs"] if j["status"] == "failed"}
    assert sorted(failed) == [job.format(la) for la in FAILING]
    assert failed[job.format("ZL105")]["log"] == log.relative_to(out).as_posix()
    assert not (out / ".tartan-work").exists()


def _slow_notebooks(folder: Path) -> Path:
    """The report notebooks, with packs that take a second and a half longer."""
    notebooks = folder / "slow-notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    path = notebooks / "self_assessment_pack.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)"))
    nbformat.write(nb, path)
    return notebooks


def _start(tiny, out, notebooks: Path) -> subprocess.Popen:
    """A run in a process of its own, one slow report at a time, so that on the tiny dataset
    it is still running when the test interrupts it."""
    args = [sys.executable, "-m", "pipeline", "report", *tiny.args, "--out", str(out)]
    args += ["--workers", "1", "--notebooks", str(notebooks)]
    return subprocess.Popen(
        [*args, *SUBSET, "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as a terminal's foreground job: Ctrl-C not ignored even when the tests themselves
        # were started in the background, where the shell ignores it for every child
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_a_pack(out: Path, proc: subprocess.Popen, since: float) -> None:
    """Wait until the run has written a pack, a page newer than `since` (`time.time()` when it
    started; what an earlier run left is older): it is then running the next of its slow packs.
    One is enough to stop it mid-run, after it has written something."""
    deadline = time.monotonic() + 300
    while not _written_since(out.glob(f"{PERIOD}/ZR1/*/self-assessment.html"), since):
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _written_since(paths, since: float) -> list[Path]:
    written = []
    for p in paths:
        with contextlib.suppress(FileNotFoundError):  # replaced as it was looked at
            if p.stat().st_mtime >= since:
                written.append(p)
    return written


def _complete(out: Path) -> None:
    """Every file at its final name is whole: an interrupted write leaves only a temporary."""
    for p in out.rglob("*"):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.suffix == ".html":
            assert p.read_text(encoding="utf-8").rstrip().endswith("</html>"), p
        elif p.suffix in (".ipynb", ".json"):
            json.loads(p.read_text(encoding="utf-8"))


def test_ctrl_c_then_a_kill_then_a_rerun_that_completes(tiny_site, tiny, tmp_path, capfd):
    out, slow = tmp_path / "out", _slow_notebooks(tmp_path)
    # Ctrl-C, as a terminal sends it to the whole foreground process group
    started = time.time()
    proc = _start(tiny, out, slow)
    _wait_for_a_pack(out, proc, started)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "tartan: interrupted" in err and "Traceback" not in err
    assert not (out / ".tartan-work").exists()
    _complete(out)
    # killed outright, at some moment of its writing
    started = time.time()
    proc = _start(tiny, out, slow)
    _wait_for_a_pack(out, proc, started)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    _complete(out)
    # the next run (with the project's notebooks) cleans up after it and completes, with what
    # a cold build makes
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert not list(out.rglob(f".*{TEMPORARY}"))
    assert _differ(tiny_site, out) == []


def test_a_second_run_on_the_same_folder_is_refused(tiny, tmp_path):
    out = tmp_path / "out"
    with folder_lock(out):
        result = tartan("report", *tiny.args, "--out", out, *SUBSET, "--no-progress", timeout=120)
    assert result.returncode == 2
    refused = f"tartan: error: {out}: another tartan run is writing to this folder (tartan, process"
    assert refused in result.stderr
    assert "wait for it to finish, or give this run another --out" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK], "nothing written"
    # released with the run: the folder is free again
    with folder_lock(out):
        pass
