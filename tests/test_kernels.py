"""Kernels forked from the run's server behave as kernels started afresh: same output, same
failures, and none outlives the run."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from pipeline.orchestration import jobs, kernels
from tests.test_jobs import _job

pytestmark = pytest.mark.skipif(not kernels.available(), reason="kernels are forked on Linux only")
#: the tests that run a notebook
e2e = pytest.mark.e2e

#: what a kernel's start decides: the hash seed, the working folder, the import path, the
#: environment the kernel spec sets, and whose child it is
PROBE = """import os, sys
print(hash("tartan"), os.getcwd() == os.path.realpath("."), sys.path[:1])
print(os.environ.get("PYTHONHASHSEED"), "JPY_PARENT_PID" in os.environ)
print("parent is the worker:", os.getppid() == int(os.environ["WORKER"]))"""


@pytest.fixture
def server(monkeypatch):
    jobs.ensure_kernel()
    monkeypatch.setenv("WORKER", str(os.getpid()))
    with kernels.server(os.environ | jobs.kernel_spec()["env"]) as address:
        assert address, "the fork server started"
        yield address


def _output(res: jobs.JobResult) -> list[str]:
    assert res.status == "ok", res.error
    nb = json.loads(next(p for p in res.outputs if p.suffix == ".ipynb").read_text("utf-8"))
    text = [o["text"] for o in nb["cells"][-1]["outputs"]]
    return "".join("".join(t) if isinstance(t, list) else t for t in text).splitlines()


def _run(tmp_path, name, source, server=""):
    (tmp_path / name).mkdir()
    job = _job(tmp_path / name, source)
    job.kernel_server = server
    res = jobs.run_job(job)
    res.outputs = [type(tmp_path)(p) for p in res.outputs]
    return res


@e2e
def test_a_forked_kernel_runs_a_notebook_as_a_fresh_kernel_does(tmp_path, server):
    forked = _output(_run(tmp_path, "forked", PROBE, server))
    fresh = _output(_run(tmp_path, "fresh", PROBE))
    assert forked[:-1] == fresh[:-1]
    assert forked[1] == "0 True", "the kernel spec's hash seed, and the parent poller's setting"
    # the one difference: a forked kernel is the server's child, not the worker's
    assert forked[-1].endswith("False") and fresh[-1].endswith("True")


@e2e
def test_a_forked_kernel_that_dies_fails_its_job_alone(tmp_path, server):
    res = _run(tmp_path, "dies", "import os\nos._exit(3)", server)
    assert res.status == "failed" and "the kernel died while running a cell" in res.error
    assert _output(_run(tmp_path, "next", PROBE, server))[-1] == "parent is the worker: False"


@e2e
def test_kernels_start_the_usual_way_when_the_server_cannot_be_reached(tmp_path, monkeypatch):
    jobs.ensure_kernel()
    monkeypatch.setenv("WORKER", str(os.getpid()))
    out = _output(_run(tmp_path, "away", PROBE, "tartan-kernels-nowhere"))
    assert out[-1] == "parent is the worker: True"


@pytest.mark.parametrize("end", ["closed", "killed"])
def test_no_kernel_outlives_its_server(tmp_path, end):
    env = os.environ | jobs.kernel_spec()["env"]
    cmd = [sys.executable, "-m", "ipykernel_launcher", f"--f={tmp_path / 'kernel.json'}"]
    srv = kernels.Server(env)
    try:
        kernel = kernels.launch(srv.address, cmd, env, str(tmp_path))
        assert kernel.poll() is None, "the kernel is running"
        if end == "killed":  # however the server ends, its kernels end with it
            srv.proc.send_signal(signal.SIGKILL)
    finally:
        srv.close()
    kernel.wait(timeout=10)  # TimeoutExpired, were it still running


def test_a_request_without_the_run_s_secret_gets_no_kernel(tmp_path):
    env = os.environ | jobs.kernel_spec()["env"]
    cmd = [sys.executable, "-m", "ipykernel_launcher", f"--f={tmp_path / 'kernel.json'}"]
    with kernels.server(env) as address:
        name = address.partition("/")[0]
        with pytest.raises(ConnectionError, match="started no kernel"):
            kernels.launch(f"{name}/{'0' * 64}", cmd, env, str(tmp_path))
