"""Jobs: one notebook execution each, (notebook, parameters) -> .ipynb + .html + .csv.

Jobs run in worker processes (one kernel each); a failing notebook fails only its own job.
Every output is written atomically, so a killed run never leaves half a report.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

KERNEL_NAME = "tartan"
KERNEL_DISPLAY = "Tartan (project venv)"
#: a kernel that dies before it answers is started again this many times (see run_job)
START_RETRIES = 2


@dataclass
class Job:
    id: str  # e.g. 2026-27-Q2/ZR1/regional-benchmark
    notebook: str  # path of the source notebook
    notebook_display: str  # the same path as shown in outputs (relative to the project)
    parameters: dict
    slice_dir: str
    out_stem: str  # output path without suffix
    title: str
    banners: list[tuple[str, str]]
    footer: str
    provenance: dict  # the footer's facts, as manifest.json records them
    breadcrumbs: list[tuple[str, str]]
    csv: str  # the figures the report shows, already written by the driver as text
    kind: str = "regional-benchmark"  # or "self-assessment"
    cell_timeout: int = 600


@dataclass
class JobResult:
    id: str
    status: str  # ok | failed
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    cell: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


def kernel_spec() -> dict:
    """The project kernel: this environment's Python, hash seed fixed, quiet start-up log."""
    return {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": KERNEL_DISPLAY,
        "language": "python",
        "env": {"PYTHONHASHSEED": "0"},
        "metadata": {"debugger": True},
    }


def ensure_kernel() -> Path:
    """Register the project's kernel inside this environment (never the user's home)."""
    spec_dir = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    text = json.dumps(kernel_spec(), indent=1, sort_keys=True) + "\n"
    path = spec_dir / "kernel.json"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        spec_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return spec_dir


def _kernel_manager():
    """Kernels talk to the driver over Unix sockets named after their own connection file, not
    TCP ports. With TCP, two kernels starting at once can pick the same free port and one dies
    before it answers ("Kernel died before replying to kernel_info"); it happened about once in
    50 reports here. Windows has no such sockets and keeps TCP."""
    from jupyter_client.manager import AsyncKernelManager

    if os.name == "nt":
        return AsyncKernelManager

    class SocketKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"

    return SocketKernelManager


def _did_not_start(exc: Exception) -> bool:
    """A kernel that died or went silent before running any cell: worth one more start."""
    return isinstance(exc, RuntimeError) and (
        "before replying to kernel_info" in str(exc) or "didn't respond" in str(exc)
    )


def run_job(job: Job) -> JobResult:
    """Execute one job in this process. Never raises for a notebook error: it is reported."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from pipeline.edges.files import write_text_atomic
    from pipeline.edges.render import dumps, normalise, to_html

    for attempt in range(START_RETRIES + 1):
        try:
            nb = pm.execute_notebook(
                job.notebook,
                None,
                parameters=job.parameters,
                kernel_name=KERNEL_NAME,
                cwd=job.slice_dir,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=job.cell_timeout,
                kernel_manager_class=_kernel_manager(),
            )
            break
        except PapermillExecutionError as exc:
            return JobResult(
                job.id, "failed", error=f"{exc.ename}: {exc.evalue}", cell=exc.exec_count
            )
        except Exception as exc:  # kernel died, timeout, missing notebook: the job fails
            if _did_not_start(exc) and attempt < START_RETRIES:
                continue
            return JobResult(job.id, "failed", error=f"{type(exc).__name__}: {exc}")
    nb = normalise(nb, job.notebook_display)
    html = to_html(nb, job.title, job.banners, job.footer, job.breadcrumbs)
    stem = Path(job.out_stem)
    outputs = []
    for suffix, text in ((".ipynb", dumps(nb)), (".csv", job.csv), (".html", html)):
        write_text_atomic(stem.with_suffix(suffix), text)
        outputs.append(str(stem.with_suffix(suffix)))
    return JobResult(job.id, "ok", outputs=outputs)


def execute(
    jobs: list[Job],
    workers: int | None = None,
    progress: bool | None = None,
    what: str = "Reports",
) -> list[JobResult]:
    """Run jobs on local worker processes; results in job order."""
    from tqdm import tqdm

    if not jobs:
        return []
    ensure_kernel()
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    results: dict[str, JobResult] = {}
    bar = tqdm(
        total=len(jobs),
        unit="report",
        desc=what,
        disable=None if progress is None else not progress,
    )
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_job, job): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # a worker process died
                res = JobResult(job.id, "failed", error=f"{type(exc).__name__}: {exc}")
            results[job.id] = res
            bar.update(1)
            if res.status != "ok":
                bar.set_postfix(failed=sum(r.status != "ok" for r in results.values()))
    bar.close()
    return [results[j.id] for j in jobs]
