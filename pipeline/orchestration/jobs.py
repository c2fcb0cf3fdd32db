"""Jobs: one notebook execution each, (notebook, parameters) -> .ipynb + .html + .csv.

Jobs run in worker processes (one kernel each); a failing notebook fails only its own job.
Every output is written atomically, so a killed run never leaves half a report.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.orchestration.settings import CELL_TIMEOUT

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
    cell_timeout: int = CELL_TIMEOUT  # seconds any one cell may run
    key: str = ""  # the content key (pipeline.orchestration.cache.job_key)
    log: str = ""  # where the executed notebook of a failed run is kept
    kernel_server: str = ""  # the run's kernel fork server (pipeline.orchestration.kernels)
    chart_cache: str = ""  # where the product's charts are kept between runs (edges.chart_cache)
    redraw: bool = False  # draw every chart again, finding none kept (--force)


@dataclass
class JobResult:
    id: str
    status: str  # ok | failed
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    cell: int | None = None  # the failing cell's execution count, as Jupyter shows it
    source: str = ""  # the failing cell's first line
    log: str = ""  # the executed notebook kept for a failed job
    output_sha256: dict[str, str] = field(default_factory=dict)  # output path -> SHA-256
    cached: bool = False  # skipped: its key and outputs were unchanged
    #: seconds its worker spent in each stage (see `STAGES`), for the run's profile only: not in
    #: the manifest, whose bytes stay the same from run to run
    timings: dict[str, float] = field(default_factory=dict)
    #: the keys of the kept charts its report drew or found (see edges.chart_cache)
    charts: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        hidden = ("cached", "output_sha256", "timings", "charts")
        return {k: v for k, v in asdict(self).items() if k not in hidden}

    @property
    def where(self) -> str:
        """The failing cell in words, e.g. 'cell 3 (rb.rug())'."""
        if self.cell is None:
            return f"the cell {self.source}" if self.source else ""
        return f"cell {self.cell}" + (f" ({self.source})" if self.source else "")


def kernel_spec() -> dict:
    """The project kernel: this environment's Python, hash seed fixed, quiet start-up log."""
    return {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=CRITICAL",
            # no input history written to the user's home folder, nor a database to share
            "--HistoryManager.enabled=False",
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


def _kernel_manager(server: str = ""):
    """Kernels talk to the driver over Unix sockets named after their own connection file, not
    TCP ports. With TCP, two kernels starting at once can pick the same free port and one dies
    before it answers ("Kernel died before replying to kernel_info"); it happened about once in
    50 reports here. Windows has no such sockets and keeps TCP.

    With the address of the run's kernel `server`, kernels are forked from it rather than
    started afresh (see kernels.py)."""
    from uuid import uuid4

    from jupyter_client.manager import AsyncKernelManager

    if os.name == "nt":
        return AsyncKernelManager

    from pipeline.orchestration import kernels

    class SocketKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"

        async def _async_pre_start_kernel(self, **kw):
            if server and self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid4())
                self.provisioner = kernels.ForkProvisioner(
                    server=server,
                    kernel_id=self.kernel_id,
                    kernel_spec=self.kernel_spec,
                    parent=self,
                )
            return await super()._async_pre_start_kernel(**kw)

    return SocketKernelManager


def _did_not_start(exc: Exception) -> bool:
    """A kernel that died or went silent before running any cell: worth one more start."""
    return isinstance(exc, RuntimeError) and (
        "before replying to kernel_info" in str(exc) or "didn't respond" in str(exc)
    )


def _first_line(source: str) -> str:
    line = next((x.strip() for x in source.splitlines() if x.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def _timeout_source(message: str) -> str:
    """nbclient's timeout message previews the cell between dashed lines."""
    parts = message.split("-------------------")
    return _first_line(parts[1]) if len(parts) > 2 else ""


#: the stages of a job in its worker, as the run's profile names them
LAYOUT, KERNEL, NOTEBOOK, RENDERING, ARTEFACTS, WRITING = (
    "layout",
    "kernel (cells)",
    "notebook run (kernel start, papermill)",
    "rendering",
    "workbooks, slides, briefings",
    "writing",
)


def run_job(job: Job) -> JobResult:
    """Execute one job in this process. Never raises for a notebook error: it is reported, and
    the executed notebook, up to the failing cell, is kept at `job.log`. The result carries
    the seconds each stage took (see `stopwatch`)."""
    from pipeline.core import stopwatch
    from pipeline.edges import chart_cache

    stopwatch.take()  # what an earlier job left
    chart_cache.use(job.chart_cache, find=not job.redraw)
    res = _run_job(job)
    res.timings, res.charts = stopwatch.take(), chart_cache.used()
    chart_cache.use(None)
    return res


def _run_job(job: Job) -> JobResult:
    import contextlib
    import logging

    from pipeline.core.stopwatch import stage
    from pipeline.report import REPORTS

    ensure_kernel()  # on a Dask worker of another machine too
    # papermill and nbclient log failures as they happen; the run's summary names them instead
    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    executed = Path(job.slice_dir) / "executed.ipynb"
    # The report is laid out here, where pandas, altair and vl-convert stay loaded from job to
    # job, and the kernel shows it (see pipeline.report.prepared). Should that fail, the
    # notebook meets the same error in its own cell and reports it there.
    if job.kind in REPORTS:
        with contextlib.suppress(Exception), stage(LAYOUT):
            REPORTS[job.kind].prepare(job.slice_dir)
    with stage(NOTEBOOK):
        nb, failure = _execute(job, executed)
    if failure is not None:
        return failure
    return _write_outputs(job, nb)


#: the papermill engine jobs run on (see `_engine`)
ENGINE = "tartan"
#: what a job's error says, and the error its kept notebook shows, for a cell stopped from outside
TIMED_OUT = "a cell ran for longer than the limit of {} s (--cell-timeout)"
KERNEL_DIED = (
    "the kernel died while running a cell (it ran out of memory, or the notebook's code ended "
    "its process)"
)


@functools.cache
def _engine() -> str:
    """papermill's nbclient engine, except that a cell stopped from outside (past the time
    limit, or its kernel dead) leaves the notebook as run so far on the exception, for the
    job's log: papermill raises before it saves anything then."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import NBClientEngine, papermill_engines

    class KeepWhatRan(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except (CellTimeoutError, DeadKernelError) as exc:
                exc.notebook = nb_man.nb
                raise

    papermill_engines.register(ENGINE, KeepWhatRan)
    return ENGINE


def _execute(job: Job, executed: Path) -> tuple[Any, JobResult | None]:
    """Run the job's notebook with papermill into `executed`: (the notebook, None), or (None,
    why the job failed). A kernel that dies before it answers is started again, up to
    START_RETRIES times; a notebook error is not retried."""
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    attempt = 0
    while True:
        try:
            nb = pm.execute_notebook(
                job.notebook,
                str(executed),
                engine_name=_engine(),
                parameters=job.parameters,
                kernel_name=KERNEL_NAME,
                cwd=job.slice_dir,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=job.cell_timeout,
                kernel_manager_class=_kernel_manager(job.kernel_server),
                # every output is in by then: no need to wait for a polite exit
                shutdown_kernel="immediate",
            )
            _kernel_time(nb)
            return nb, None
        except PapermillExecutionError as exc:
            return None, _notebook_error(job, exc, executed)
        except CellTimeoutError as exc:
            error = TIMED_OUT.format(job.cell_timeout)
            log = _keep_what_ran(job, exc, "CellTimeoutError", error, executed)
            return None, JobResult(
                job.id, "failed", error=error, source=_timeout_source(str(exc)), log=log
            )
        except DeadKernelError as exc:
            log = _keep_what_ran(job, exc, "DeadKernelError", KERNEL_DIED, executed)
            return None, JobResult(job.id, "failed", error=KERNEL_DIED, log=log)
        except Exception as exc:  # kernel died at start, missing notebook: the job fails
            if _did_not_start(exc) and attempt < START_RETRIES:
                attempt += 1
                continue
            return None, JobResult(job.id, "failed", error=f"{type(exc).__name__}: {exc}")


def _kernel_time(nb: Any) -> None:
    """Count the time the notebook's cells ran, as papermill recorded it, to the kernel rather
    than to the notebook's run around them."""
    from pipeline.core import stopwatch

    cells = (c.get("metadata", {}).get("papermill", {}).get("duration") for c in nb.cells)
    stopwatch.part(KERNEL, sum(d for d in cells if isinstance(d, int | float)))


def _keep_what_ran(job: Job, exc: Exception, ename: str, evalue: str, executed: Path) -> str:
    """The notebook as far as it ran before a cell was stopped from outside, kept at `job.log`
    as an ordinary error's is: the cell that was running shows `ename: evalue` as its error,
    and papermill's notes at the top and before it point there. Returns the log's path ('' for
    none)."""
    import nbformat
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    nb = getattr(exc, "notebook", None)
    if nb is None or not job.log:
        return ""
    started = [c for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if started and started[-1].cell_type == "code":
        cell = started[-1]
        cell.outputs.append(
            nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[evalue])
        )
        cell.metadata.papermill.update(exception=True, status="failed")
        nb.metadata.papermill["exception"] = True
    try:
        raise_for_execution_errors(nb, str(executed))
        nbformat.write(nb, str(executed))  # no cell had started: the notebook as it is
    except PapermillExecutionError:
        pass  # written, with its notes
    except OSError:
        return ""
    return _keep_log(job, executed)


def _keep_log(job: Job, executed: Path) -> str:
    """The executed notebook of a failed job, kept (atomically) at `job.log`: its path, or ''
    when there is none or it could not be written (the job's error still says what failed)."""
    from pipeline.edges.files import write_bytes_atomic

    if not job.log or not executed.is_file():
        return ""
    try:
        write_bytes_atomic(Path(job.log), executed.read_bytes())
    except OSError:
        return ""
    return job.log


def _notebook_error(job: Job, exc: Any, executed: Path) -> JobResult:
    """A failing cell (papermill's execution error) as the job's result; the executed notebook,
    up to that cell, is kept at `job.log`."""
    return JobResult(
        job.id,
        "failed",
        error=f"{exc.ename}: {exc.evalue}",
        cell=exc.exec_count,
        source=_first_line(exc.source),
        log=_keep_log(job, executed),
    )


def artefact_path(stem: Path, name: str) -> Path:
    """Where a file a report is also published as goes: a suffix ('.xlsx') beside the page's
    stem (``regional-benchmark.xlsx``), any other name ('member-briefing.html') as that file in
    the page's folder."""
    return stem.with_suffix(name) if name.startswith(".") else stem.parent / name


def _artefacts(job: Job) -> dict[str, bytes] | JobResult:
    """The files the job's report is also published as (suffix or file name -> bytes: a
    workbook, a slide deck, a member briefing), or why the job failed making them."""
    from pipeline.orchestration.provenance import facts
    from pipeline.report import REPORTS

    if job.kind not in REPORTS or not (Path(job.slice_dir) / "context.json").is_file():
        return {}  # not a report's slice: a notebook of its own, run as a job
    about = {"title": job.title, "banners": job.banners, "facts": facts(job.provenance)}
    try:
        return REPORTS[job.kind].artefacts(job.slice_dir, about)
    except Exception as exc:  # a report's own error: this report fails, saying which file
        return JobResult(
            job.id,
            "failed",
            error="could not make its workbook, slides or member briefing: "
            f"{type(exc).__name__}: {exc}",
        )


def _write_outputs(job: Job, nb: Any) -> JobResult:
    """The executed notebook, its figures, the files it is also published as and its HTML
    page, each written atomically (the page last); an earlier failure's log is removed."""
    from pipeline.core.stopwatch import stage
    from pipeline.edges.render import dumps, normalise, to_html

    with stage(RENDERING):
        nb = normalise(nb, job.notebook_display)
        html = to_html(nb, job.title, job.banners, job.footer, job.breadcrumbs)
        texts = {".ipynb": dumps(nb).encode("utf-8"), ".csv": job.csv.encode("utf-8")}
    stem = Path(job.out_stem)
    with stage(ARTEFACTS):
        extra = _artefacts(job)
    if isinstance(extra, JobResult):
        return extra
    with stage(WRITING):
        return _write(job, stem, texts | extra | {".html": html.encode("utf-8")})


def _write(job: Job, stem: Path, files: dict[str, bytes]) -> JobResult:
    """Each of `files` (suffix or name -> bytes) beside `stem`, atomically, in order."""
    import hashlib

    from pipeline.edges.files import remove_file, write_bytes_atomic

    outputs, digests = [], {}
    for name, data in files.items():
        path = artefact_path(stem, name)
        try:
            write_bytes_atomic(path, data)
        except OSError as exc:  # a full disk, a folder made read-only: this report fails
            reason = exc.strerror or str(exc)
            return JobResult(job.id, "failed", error=f"could not write {path}: {reason}")
        outputs.append(str(path))
        digests[str(path)] = hashlib.sha256(data).hexdigest()
    if job.log:  # an earlier failure's log no longer applies
        remove_file(Path(job.log))
    return JobResult(job.id, "ok", outputs=outputs, output_sha256=digests)


def execute(
    jobs: Iterable[Job],
    executor: Executor,
    finished: Callable[[Job, JobResult], Iterable[Job]],
) -> None:
    """Run jobs on `executor` (any concurrent.futures.Executor, see executors.py), each handed
    over as soon as `jobs` yields it. `finished` is told of each result and returns any jobs
    that can now start. A job that fails, or whose worker dies, fails alone."""
    from concurrent.futures import FIRST_COMPLETED, wait

    futures: dict = {}

    def submit(job: Job) -> None:
        futures[executor.submit(run_job, job)] = job

    def collect(done) -> None:
        for fut in done:
            job = futures.pop(fut)
            try:
                res = fut.result()
            except Exception as exc:  # the worker process running it died
                res = JobResult(
                    job.id, "failed", error=f"its worker stopped: {type(exc).__name__}: {exc}"
                )
            for follow in finished(job, res):
                submit(follow)

    try:
        for job in jobs:
            submit(job)
            collect([f for f in futures if f.done()])
        while futures:
            done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            collect(done)
    except BaseException:  # Ctrl-C: nothing more is started; the caller stops the workers
        for fut in futures:
            fut.cancel()
        raise


def warm_up(templates: str | None = None) -> None:
    """Load, in a worker process before its first job, what every job uses: papermill, the
    report facades with pandas, and the charts (their specifications, read from `templates`
    when the driver wrote them, and vl-convert's JavaScript engine started), nbconvert's
    exporter and nbformat's notebook schema, while the driver validates and benchmarks."""
    import nbformat
    import papermill  # noqa: F401
    import scipy.stats  # noqa: F401  (funnel limits and intervals: a second to import)

    import pipeline.report.datapack
    import pipeline.report.pack
    import pipeline.report.regional  # noqa: F401
    from pipeline.edges import charts, render

    if templates:
        charts.use_templates(templates)
    charts.warm_up()
    render.exporter()
    nbformat.validate(nbformat.v4.new_notebook())  # the schema compiled once
