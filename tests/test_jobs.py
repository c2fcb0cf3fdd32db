"""One job, one kernel: a kernel that dies before it answers is started again; a notebook error
is reported with its cell, not retried."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from pipeline.orchestration import jobs

pytestmark = pytest.mark.e2e  # each test runs a notebook


def _job(tmp_path, source: str) -> jobs.Job:
    nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
    nb.cells.append(new_code_cell(source))
    nb.metadata.kernelspec = {"name": jobs.KERNEL_NAME, "display_name": "t", "language": "python"}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return jobs.Job(
        id="p/r/kind",
        notebook=str(path),
        notebook_display="notebooks/nb.ipynb",
        parameters={"x": 2},
        slice_dir=str(tmp_path),
        out_stem=str(tmp_path / "out" / "kind"),
        title="t",
        banners=[],
        footer="",
        provenance={},
        breadcrumbs=[],
        csv="a\n1\n",
        cell_timeout=60,
    )


@pytest.fixture
def starts(monkeypatch):
    """Count kernel starts; the first `fail` of them die before replying, as in the port race."""
    count = {"starts": 0, "fail": 0}
    real = jobs._kernel_manager()

    class Flaky(real):
        async def start_kernel(self, **kw):
            count["starts"] += 1
            if count["starts"] <= count["fail"]:
                raise RuntimeError("Kernel died before replying to kernel_info")
            return await super().start_kernel(**kw)

    jobs.ensure_kernel()
    monkeypatch.setattr(jobs, "_kernel_manager", lambda server="": Flaky)
    return count


def test_a_kernel_that_dies_at_start_is_started_again(tmp_path, starts):
    starts["fail"] = 1
    res = jobs.run_job(_job(tmp_path, "print(x * 21)"))
    assert res.status == "ok" and starts["starts"] == 2
    assert (tmp_path / "out" / "kind.html").is_file()


def test_a_kernel_that_never_starts_fails_its_job_saying_why(tmp_path, starts):
    starts["fail"] = 99
    res = jobs.run_job(_job(tmp_path, "print(x)"))
    assert res.status == "failed" and "Kernel died before replying" in res.error
    assert starts["starts"] == jobs.START_RETRIES + 1
    assert not (tmp_path / "out").exists(), "nothing written for a failed job"


def test_a_notebook_error_is_reported_with_its_cell_and_not_retried(tmp_path, starts):
    res = jobs.run_job(_job(tmp_path, "raise ValueError('no such region')"))
    assert res.status == "failed" and res.error == "ValueError: no such region"
    assert res.cell is not None and starts["starts"] == 1
