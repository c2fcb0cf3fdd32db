"""Processes, signals and what the system refuses.

A run's workers and kernels end with its driver, however the driver ends (SIGKILL, SIGTERM); a
stopped run exits as Ctrl-C does; a timed-out or dead kernel's report keeps the notebook as far
as it ran; a full disk, a folder that cannot be written and a bad --out or --workers are one
clear line and exit 2, never a traceback."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from pipeline.edges.files import LOCK
from pipeline.orchestration import jobs, kernels
from pipeline.orchestration.settings import max_workers
from tests.conftest import ROOT, cli
from tests.test_jobs import _job
from tests.test_scale import (
    _complete,
    _differ,
    _report,
    _slow_notebooks,
    _start,
    _wait_for_a_pack,
)

#: seconds within which every process of a run has ended once its driver has
GONE_WITHIN = 5
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")


# --------------------------------------------------------------------------- processes, by /proc


def _parents() -> dict[int, int]:
    """Every running process (not a zombie) and its parent."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if state != "Z":
            found[int(stat.parent.name)] = int(ppid)
    return found


def _descendants(pid: int) -> set[int]:
    parents, found = _parents(), {pid}
    while more := {p for p, pp in parents.items() if pp in found} - found:
        found |= more
    return found - {pid}


def _working_in(folder: Path) -> set[int]:
    """Processes whose working folder is inside `folder` (a job's worker and its kernel work in
    the job's slice folder)."""
    found = set()
    for pid in _parents():
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(folder):
                found.add(pid)
        except OSError:
            continue
    return found


def _running(pids: set[int]) -> set[int]:
    return pids & set(_parents())


def _all_end_within(pids: set[int], seconds: float) -> set[int]:
    """The processes of `pids` still running after `seconds` (none, as it should be)."""
    deadline = time.monotonic() + seconds
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _running(pids)


def _wait_for_a_kernel(out: Path, proc: subprocess.Popen) -> set[int]:
    """Wait until a report's notebook is running: the run's processes then, its kernel
    included (a job's worker and kernel work in the job's slice folder)."""
    deadline = time.monotonic() + 120
    while not (kernel := {p for p in _working_in(out / ".tartan-work") if not _is_worker(p)}):
        assert proc.poll() is None, "the run ended before a notebook ran"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return _descendants(proc.pid) | kernel


def _is_worker(pid: int) -> bool:
    return b"spawn_main" in _cmdline(pid)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# --------------------------------------------------------------------------- the driver's end

DRIVER = """\
import subprocess, sys, time
from pipeline.orchestration.executors import local
with local(1) as pool:
    # a job running a child in a session of its own, as a kernel started the usual way is
    pool.submit(subprocess.call, ["setsid", "sleep", "120"])
    time.sleep(300)
"""


@pytest.fixture
def leftovers():
    """Processes a test started: any still running at its end (a failed test) are killed."""
    pids: set[int] = set()
    yield pids
    for pid in _running(pids):
        os.kill(pid, signal.SIGKILL)


@linux
def test_a_worker_and_what_it_started_end_when_the_driver_is_killed(leftovers):
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER], cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE
    )
    leftovers.add(driver.pid)
    deadline = time.monotonic() + 60
    while not any(_cmdline(p).startswith(b"sleep\0") for p in _descendants(driver.pid)):
        assert driver.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    started = _descendants(driver.pid)
    leftovers.update(started)
    assert len(started) >= 3, "a worker (and the resource tracker) and the job's child"
    driver.kill()  # SIGKILL: the driver itself, not its process group
    driver.wait()
    driver.stderr.close()
    assert _all_end_within(started, GONE_WITHIN) == set()


@linux
@pytest.mark.e2e
def test_a_run_stopped_by_sigterm_or_killed_leaves_nothing_running_and_a_rerun_is_clean(
    tiny_site, tiny, tmp_path, capfd, leftovers
):
    """The acceptance of issue 20: SIGTERM stops a run as Ctrl-C does (exit 143); after a
    SIGKILL of the driver alone no process of the run is left 5 s later, and the next run
    makes exactly what a clean build makes."""
    out, slow = tmp_path / "out", _slow_notebooks(tmp_path)
    started = time.time()
    proc = _start(tiny, out, slow)
    leftovers.add(proc.pid)
    _wait_for_a_pack(out, proc, started)
    run = _wait_for_a_kernel(out, proc)
    leftovers.update(run)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "tartan: stopped by SIGTERM; outputs already written are complete" in err
    assert "Traceback" not in err
    assert _all_end_within(run, GONE_WITHIN) == set()
    assert not (out / ".tartan-work").exists()
    _complete(out)
    # killed outright, the driver alone (its workers and kernels are not told)
    started = time.time()
    proc = _start(tiny, out, slow)
    leftovers.add(proc.pid)
    _wait_for_a_pack(out, proc, started)
    run = _wait_for_a_kernel(out, proc)
    leftovers.update(run)
    proc.kill()
    proc.wait(timeout=10)
    assert _all_end_within(run | _working_in(out), GONE_WITHIN) == set()
    proc.stdout.close()
    proc.stderr.close()
    _complete(out)
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert not list(out.rglob(".*.tmp"))
    assert _differ(tiny_site, out) == []


# --------------------------------------------------------------------------- timed out, or dead


def _notebook_run(path: Path) -> list[tuple[str, str]]:
    """A kept notebook's outputs, cell by cell: (output type, its text or error)."""
    nb = nbformat.read(path, as_version=4)
    shown = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            text = o.get("text") or f"{o.get('ename')}: {o.get('evalue')}"
            shown.append((o["output_type"], "".join(text).strip()))
    return shown


@pytest.mark.e2e
def test_a_timed_out_report_keeps_its_notebook_as_far_as_it_ran(tmp_path):
    job = _job(tmp_path, "print('started', flush=True)\nimport time\ntime.sleep(60)")
    job.cell_timeout, job.log = 2, str(tmp_path / "logs" / "kind.ipynb")
    res = jobs.run_job(job)
    assert res.status == "failed"
    assert res.error == "a cell ran for longer than the limit of 2 s (--cell-timeout)"
    assert res.log == job.log
    shown = _notebook_run(Path(job.log))
    assert ("stream", "started") in shown, "what the cell printed before it was stopped"
    assert shown[-1] == ("error", f"CellTimeoutError: {res.error}")
    text = Path(job.log).read_text(encoding="utf-8")
    assert "An Exception was encountered" in text, "papermill's note, as for any failed cell"


@pytest.mark.e2e
@pytest.mark.parametrize("forked", [False, True], ids=["kernel", "forked-kernel"])
def test_a_report_whose_kernel_dies_keeps_its_notebook_as_far_as_it_ran(tmp_path, forked):
    if forked and not kernels.available():
        pytest.skip("kernels are forked on Linux only")
    source = "import os, time\nprint('about to die', flush=True)\ntime.sleep(0.5)\n"
    job = _job(tmp_path, source + "os.kill(os.getpid(), 9)")
    job.log = str(tmp_path / "logs" / "kind.ipynb")
    jobs.ensure_kernel()
    with kernels.server(os.environ | jobs.kernel_spec()["env"]) as address:
        job.kernel_server = address if forked else ""
        res = jobs.run_job(job)
    assert res.status == "failed" and res.error.startswith("the kernel died while running a cell")
    assert res.log == job.log
    shown = _notebook_run(Path(job.log))
    assert ("stream", "about to die") in shown
    assert shown[-1] == ("error", f"DeadKernelError: {res.error}")
    assert not (tmp_path / "out").exists(), "no report for a failed job"


# --------------------------------------------------------------------------- the system refuses


def _validate(capfd, tiny, out, *extra):
    return cli(capfd, "validate", *tiny.args, "--out", out, *extra)


def _refuse_writes_in(monkeypatch, out: Path, refuse) -> None:
    """Every temporary file made inside `out` (where outputs are written before being renamed)
    goes through `refuse(fd, name)`."""
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        if Path(name).is_relative_to(out):
            refuse(fd, name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def _to_dev_full(fd: int, name: str) -> None:
    """Writes to this file go to /dev/full: the system's own 'No space left on device'."""
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, fd)
    os.close(full)


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_whose_outputs_cannot_be_written_fails_alone_naming_the_file(
    tmp_path, monkeypatch
):
    job = _job(tmp_path, "print(x)")
    _refuse_writes_in(monkeypatch, tmp_path / "out", _to_dev_full)
    res = jobs.run_job(job)
    assert res.status == "failed"
    page = tmp_path / "out" / "kind.ipynb"
    assert res.error == f"could not write {page}: No space left on device"
    assert _left(tmp_path / "out") == [], "nothing half-written"


def _left(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_clear_line_and_leaves_no_half_written_file(
    tiny, tmp_path, capfd, monkeypatch
):
    out = tmp_path / "out"
    _refuse_writes_in(monkeypatch, out, _to_dev_full)
    result = _validate(capfd, tiny, out)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    full = r"^tartan: error: (.+): No space left on device \(the disk is full"
    m = re.search(full, result.stderr)
    assert m, result.stderr
    assert Path(m[1]).is_relative_to(out) and not Path(m[1]).name.startswith("."), "the file"
    assert result.stderr.count("\n") == 1
    assert _left(out) == [LOCK], "nothing half-written, no temporary left"


def test_a_write_refused_mid_run_is_one_clear_line(tiny, tmp_path, capfd, monkeypatch):
    out = tmp_path / "out"
    (out / "validation").mkdir(parents=True)
    if os.geteuid() == 0:  # permissions do not stop root: refused as they would refuse

        def refuse(fd, name):
            os.close(fd)
            os.unlink(name)
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)

        _refuse_writes_in(monkeypatch, out / "validation", refuse)
    else:
        (out / "validation").chmod(0o555)
    try:
        result = _validate(capfd, tiny, out)
    finally:
        (out / "validation").chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(
        rf"^tartan: error: {re.escape(str(out / 'validation'))}/[^.\s]\S*: Permission denied "
        r"\(permission denied: give --out a folder you can write to\)$",
        result.stderr,
        re.M,
    ), result.stderr
    assert not [f for f in _left(out) if f.startswith("validation/")]


def test_a_read_only_out_folder_is_refused_before_anything_starts(
    tiny, tmp_path, capfd, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    if os.geteuid() == 0:  # root may write anywhere: the folder is read-only as others see it
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **k: Path(p) != out and real(p, mode))
    try:
        result = _validate(capfd, tiny, out)
    finally:
        out.chmod(0o755)
    assert result.returncode == 2
    assert result.stderr == (
        f"tartan: error: --out {out}: cannot write in {out} (permission denied); give a folder "
        "you can write to\n"
    )
    assert _left(out) == []


@pytest.mark.parametrize("where", [".", "sub"], ids=["a-file", "inside-a-file"])
def test_an_out_that_is_a_file_is_refused(tiny, tmp_path, capfd, where):
    file = tmp_path / "notes.txt"
    file.write_text("mine", encoding="utf-8")
    out = file / where if where != "." else file
    result = _validate(capfd, tiny, out)
    assert result.returncode == 2
    which = "is a file" if where == "." else f"is inside {file}, which is a file"
    assert result.stderr == (
        f"tartan: error: --out {out} {which}, not a folder; give a folder (made if missing)\n"
    )
    assert file.read_text(encoding="utf-8") == "mine"


def test_too_many_workers_are_refused_saying_the_limit(tiny, tmp_path, capfd):
    out = tmp_path / "out"
    result = cli(capfd, "report", *tiny.args, "--out", out, "--workers", "100000")
    assert result.returncode == 2
    assert (
        f"argument --workers: 100000 is too many: at most {max_workers()} (four per CPU core"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not out.exists(), "refused before anything starts"
    assert max_workers() >= (os.cpu_count() or 1) + 1, "the default is within the limit"
