"""One runner, many products.

A product (the quarterly reports, the annual datapack, the validation pages, ...) says only how
it prepares its figures, which jobs it plans (each with the jobs it needs, as data), and what
its site shows. The runner does everything else, once, for every product: the output folder's
lock, clean-up of what a killed run left, the work folder, the kernel fork server and the
executor, scheduling jobs by their dependencies, cache hits, clean-up of failed jobs' outputs,
merging the jobs an earlier run recorded, the manifest, progress and Ctrl-C.

Kedro's runner/executor split and papermill's engine registry are the models: a product is a
class registered by name (``pipeline.orchestration.products``), and ``run(product, settings)``
runs it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pipeline.core import stopwatch
from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import parse_slug
from pipeline.edges import chart_cache
from pipeline.edges.files import (
    LOCK,
    confined,
    folder_lock,
    is_inside,
    remove_file,
    remove_stale_temporaries,
    remove_tree,
    sha256_file,
    write_text_atomic,
)
from pipeline.orchestration import cache, profile
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.jobs import Job, JobResult, execute, kernel_spec
from pipeline.orchestration.planning import WORK, Planned
from pipeline.orchestration.progress import Progress
from pipeline.orchestration.records import dumps_json
from pipeline.orchestration.settings import Settings

#: the run's profile (--profile), in the product's logs folder
PROFILE = "profile.json"
#: the outputs of a job, by suffix
OUTPUT_SUFFIXES = (".html", ".ipynb", ".csv", ".xlsx", ".pptx")
#: the outputs of a job that are whole files in its folder (a report's ARTEFACTS naming a file,
#: such as a pack's member briefing), by name
OUTPUT_NAMES = ("member-briefing.html",)


def output_paths(stem: Path) -> list[Path]:
    """Every output a job with output stem `stem` may have: the stem with each suffix, and each
    named file in its folder."""
    return [Path(f"{stem}{s}") for s in OUTPUT_SUFFIXES] + [stem.parent / n for n in OUTPUT_NAMES]


@dataclass(frozen=True)
class Spec:
    """A job to plan: its id, kind and parameters, and the ids of the jobs whose results it
    needs before it can be planned (a regional report needs its LAs' packs, to link to the
    ones that were built)."""

    id: str
    kind: str
    params: tuple = ()
    needs: tuple[str, ...] = ()


@dataclass
class Context:
    """What the runner gives a product to prepare with."""

    s: Settings
    work: Path  # the run's work folder (slices), removed when the run ends
    kernel_server: str = ""  # where the jobs' kernels are forked from (see kernels.py)


@dataclass
class Site:
    """What a product's site wrote: its files (for the manifest) and its manifest's own facts."""

    files: list[Path] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


class Product:
    """A kind of output the runner builds. Subclasses set the class attributes and implement
    `prepare`, `specs`, `plan` and `write_site`; the rest has defaults."""

    #: the name it is registered under (pipeline.orchestration.products)
    name: ClassVar[str] = ""
    #: what the progress lines call its jobs
    what: ClassVar[str] = "Reports"
    #: its folder inside the output folder: its manifest (and index) live there
    folder: ClassVar[str] = ""
    #: whether it runs notebooks (else no kernel server, executor or work folder is started)
    notebooks: ClassVar[bool] = True

    def places(self, out: Path) -> list[Path]:
        """What it writes in the output folder `out`: files, and folders that are wholly
        Tartan's. A killed run's temporaries are removed there and only there, and no link
        there may lead out of `out`. By default its folder, and its logs in ``logs``."""
        return [out / self.folder, out / "logs" / self.folder] if self.folder else []

    def up_to_date(self, s: Settings) -> dict | None:
        """The last run's manifest when nothing would change (the run then stops), else None."""
        return None

    def prepare(self, ctx: Context) -> Any:
        """Everything expensive or fallible, once, before any job: what every job reads."""
        raise NotImplementedError

    def specs(self, prepared: Any) -> list[Spec]:
        """The jobs the settings ask for, in the order they should start."""
        return []

    def plan(self, prepared: Any, spec: Spec, needs: dict[str, JobResult]) -> Planned:
        """The job of `spec`, its needs' results in hand."""
        raise NotImplementedError

    def keep(self, prepared: Any, entry: dict) -> bool:
        """Whether an earlier run's manifest entry, not redone, still names a known report."""
        return False

    def sort_key(self, entry: dict):
        """The order of the manifest's jobs."""
        return (parse_slug(entry["parameters"]["period"]).ordinal, entry["id"])

    def write_site(self, prepared: Any, entries: list[dict]) -> Site | None:
        """The product's pages beside its jobs' outputs; None: it keeps no manifest."""
        return None

    def summary(self, prepared: Any, results: list[JobResult], site: Site | None) -> Any:
        """What the command reports back."""
        return results

    def nothing_to_do(self, manifest: dict) -> Any:
        """What the command reports back when the run was up to date (see `up_to_date`)."""
        return UpToDate(manifest)


@dataclass
class UpToDate:
    """A run that had nothing to do: the last run's manifest."""

    manifest: dict


def run(product: Product, s: Settings) -> Any:
    """Run `product` with settings `s` into `s.out`, holding the folder's lock throughout. A
    killed run leaves no half-written file, and the next run removes its temporaries; a usage,
    configuration or data error found before anything is written leaves no folder this run made
    for its lock. Nothing is written or removed through a link that leads out of the folder
    (the folder itself may be a link: it is followed once, here)."""
    prov.build_date()  # a malformed SOURCE_DATE_EPOCH is refused before anything is written
    root = Path(s.out).resolve()
    created = not root.exists()
    try:
        with folder_lock(s.out), confined(root):
            work = s.out / WORK
            places = [*product.places(root), root / WORK, root / chart_cache.FOLDER]
            remove_stale_temporaries(root, places)  # refusing first any link out of root
            remove_tree(work)  # nothing left from a killed run
            manifest = product.up_to_date(s)
            if manifest is not None:
                return product.nothing_to_do(manifest)
            try:
                return _run(product, s, work)
            finally:
                remove_tree(work)
    except (ConfigError, DataError):
        if created and root.is_dir() and {p.name for p in root.iterdir()} <= {LOCK}:
            with contextlib.suppress(OSError):
                (root / LOCK).unlink(missing_ok=True)
                root.rmdir()
        raise


def _run(product: Product, s: Settings, work: Path) -> Any:
    if not product.notebooks:
        prepared = product.prepare(Context(s, work))
        return product.summary(prepared, [], product.write_site(prepared, []))
    started = time.perf_counter()
    stopwatch.take()
    base = s.out / product.folder
    earlier = _earlier_by_id(base)
    with _engine(s, work) as (kernel_server, executor):
        # the workers load what every job uses while the driver prepares
        with stopwatch.stage("preparing (other)"):
            prepared = product.prepare(Context(s, work, kernel_server))
            _release_memory()  # what preparing used and no longer needs, while the jobs run
        planned, results = schedule(product, prepared, executor, earlier, base, s)
    with stopwatch.stage("site and manifest"):
        summary = _finish(product, prepared, planned, results, base, s)
    if s.profile:
        kinds: dict[str, list[JobResult]] = {}
        for p in planned:
            kinds.setdefault(p.job.kind, []).append(results[p.job.id])
        where = s.out / "logs" / product.folder / PROFILE
        profile.write(where, time.perf_counter() - started, stopwatch.take(), kinds)
    return summary


def _finish(
    product: Product,
    prepared: Any,
    planned: list[Planned],
    results: dict[str, JobResult],
    base: Path,
    s: Settings,
) -> Any:
    """The jobs' manifest entries (a failed job's outputs removed), merged with the earlier
    run's, the product's site and its manifest: what the command reports back."""
    jobs = [p.job for p in planned]
    ordered = discard_failed(jobs, results)
    entries = [manifest_entry(j, r, base, s.out) for j, r in zip(jobs, ordered, strict=True)]
    disclosure = getattr(prepared, "run_prov", {}).get("disclosure")
    redone = {e["id"] for e in entries}
    entries += merge_earlier(product, prepared, base, redone, disclosure, s.out)
    entries.sort(key=product.sort_key)
    site = product.write_site(prepared, entries)
    if site is not None:
        write_manifest(base, prepared.run_prov, site, entries)
    _keep_charts(s, product, results, entries)
    return product.summary(prepared, ordered, site)


@contextlib.contextmanager
def _engine(s: Settings, work: Path) -> Iterator[tuple[str, Any]]:
    """The kernel fork server and the executor, with the charts' specifications built once here
    for the workers (which then need no altair)."""
    from pipeline.edges import charts
    from pipeline.orchestration import kernels
    from pipeline.orchestration.executors import open_executor

    templates = work / "chart-templates.json"
    templates.parent.mkdir(parents=True, exist_ok=True)
    charts.write_templates(templates)
    with (
        kernels.server(os.environ | kernel_spec()["env"]) as kernel_server,
        open_executor(s.executor, s.workers, s.scheduler, str(templates)) as executor,
    ):
        yield kernel_server, executor


def _release_memory() -> None:
    """Hand memory the driver has freed back to the operating system (glibc keeps it
    otherwise); a no-op elsewhere."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def charts_folder(s: Settings, product: Product) -> Path:
    """Where `product` keeps the charts its reports drew, between runs (edges.chart_cache)."""
    return s.out / chart_cache.FOLDER / product.name


def _keep_charts(
    s: Settings, product: Product, results: dict[str, JobResult], entries: list[dict]
) -> None:
    """Record which charts this run's reports used; keep only those the manifest's reports
    use (a report not redone keeps what it used before)."""
    ran = {job: r.charts for job, r in results.items() if not r.cached}
    current = {e["id"] for e in entries if e.get("status") == "ok"}
    with contextlib.suppress(OSError):
        chart_cache.record(charts_folder(s, product), ran, current)


def _earlier_by_id(base: Path) -> dict[str, dict]:
    return {
        e["id"]: e
        for e in cache.read_manifest(base).get("jobs", [])
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    }


def schedule(
    product: Product,
    prepared: Any,
    executor,
    earlier: dict[str, dict],
    base: Path,
    s: Settings,
) -> tuple[list[Planned], dict[str, JobResult]]:
    """Plan and run every job of `product`. A job goes to the workers as soon as it is planned;
    a job that needs others is planned once their results are in; a job whose key is unchanged
    (unless --force) keeps its outputs."""
    specs = product.specs(prepared)
    progress = Progress(len(specs), product.what, s.progress)
    order: list[Planned] = []
    results: dict[str, JobResult] = {}
    waiting = {sp.id: sp for sp in specs if sp.needs}

    def done(job: Job, res: JobResult) -> None:
        results[job.id] = res
        progress.update(res)

    @stopwatch.timed("planning")
    def start(sp: Spec) -> Job | None:
        """The job, when it has to run (its slice written); None when its outputs stand."""
        p = _plan(product, prepared, sp, results)
        order.append(p)
        hit = None if s.force else p.cached(earlier.get(p.job.id), base)
        if hit is None:
            p.write_slice()
            p.job.chart_cache, p.job.redraw = str(charts_folder(s, product)), s.force
            return p.job
        done(p.job, hit)
        return None

    def unblocked() -> Iterator[Job]:
        while ready := [sp for sp in waiting.values() if all(n in results for n in sp.needs)]:
            for sp in ready:
                if waiting.pop(sp.id, None) is not None and (job := start(sp)) is not None:
                    yield job

    def planned() -> Iterator[Job]:
        for sp in specs:
            if not sp.needs and (job := start(sp)) is not None:
                yield job
            yield from unblocked()
        yield from unblocked()

    def finished(job: Job, res: JobResult) -> list[Job]:
        done(job, res)
        return list(unblocked())

    try:
        execute(planned(), executor, finished)
    finally:
        progress.close()
    if waiting:
        raise ValueError(f"{product.name}: jobs waiting on jobs never planned: {sorted(waiting)}")
    _say_cached(product, results, s)
    return order, results


def _plan(product: Product, prepared: Any, sp: Spec, results: dict[str, JobResult]) -> Planned:
    """The job of `sp`, planned with its needs' results."""
    p = product.plan(prepared, sp, {n: results[n] for n in sp.needs})
    if p.job.id != sp.id:
        raise ValueError(f"{product.name}: job {p.job.id!r} planned for {sp.id!r}")
    return p


def _say_cached(product: Product, results: dict[str, JobResult], s: Settings) -> None:
    cached = sum(r.cached for r in results.values())
    if cached and s.progress is not False:
        print(
            f"{product.what}: {cached} of {len(results)} unchanged since the last run "
            "(--force runs them again)",
            file=sys.stderr,
        )


def discard_failed(jobs: list[Job], results: dict[str, JobResult]) -> list[JobResult]:
    """The jobs' results in order; a failed job's outputs are removed, so that an earlier
    run's report never looks current."""
    for job in jobs:
        if results[job.id].status != "ok":
            for path in output_paths(Path(job.out_stem)):
                remove_file(path)
    return [results[j.id] for j in jobs]


def manifest_entry(job: Job, res: JobResult, base: Path, log_base: Path) -> dict:
    """A job's record in a manifest: its outputs relative to `base`, its log to `log_base`."""

    def rel(path: str, to: Path = base) -> str:
        return Path(path).relative_to(to).as_posix()

    return {
        **res.to_json(),
        "kind": job.kind,
        "notebook": job.notebook_display,
        "parameters": job.parameters,
        "outputs": [rel(o) for o in res.outputs],
        "log": rel(res.log, log_base) if res.log else "",
        "key": job.key,
        "output_sha256": {rel(o): sha for o, sha in res.output_sha256.items()},
        "provenance": job.provenance,
    }


def unsuppressed(disclosure: object) -> bool:
    """Whether a report's recorded disclosure control says it was unsuppressed."""
    return disclosure == prov.NO_DISCLOSURE_CONTROL


def merge_earlier(
    product: Product,
    prepared: Any,
    base: Path,
    redone: set[str],
    disclosure: str | None,
    out: Path,
) -> list[dict]:
    """Jobs recorded by an earlier run in this folder that this run did not redo, while they
    name a known report and their outputs are still there (a failed job has none and stays
    listed as failed). An unsuppressed report is removed, not listed beside a suppressed run's;
    and the other way round. `out`: the output folder, that job ids are relative to."""
    earlier = cache.read_manifest(base).get("jobs")
    kept = []
    for e in earlier if isinstance(earlier, list) else []:
        if not isinstance(e, dict) or e.get("id") in redone:
            continue
        try:
            rule = e["provenance"].get("disclosure")
        except (KeyError, AttributeError):
            rule = None
        if unsuppressed(rule) != unsuppressed(disclosure):
            _remove_outputs(base, e, out)
            continue
        try:
            keep = product.keep(prepared, e) and all(
                (base / str(o)).is_file() for o in e.get("outputs", [])
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            keep = False
        if keep:
            kept.append(e)
    return kept


def _remove_outputs(base: Path, entry: dict, out: Path) -> None:
    """An earlier job's outputs, as its manifest entry lists them: only those named as that job
    names its outputs (its id with a report's suffix, or a named file in its folder), inside the
    folder; a link is removed, never what it points to."""
    outputs, job = entry.get("outputs"), entry.get("id")
    if not isinstance(outputs, list) or not isinstance(job, str):
        return
    own = {os.path.normpath(p) for p in output_paths(out / job)}
    for o in outputs:
        target = Path(os.path.normpath(base / str(o)))
        if str(target) in own and is_inside(target, out, follow=False):
            remove_file(target, out)


def write_manifest(base: Path, run_prov: dict, site: Site, entries: list[dict]) -> None:
    """The folder's record: the run's facts, the site's files and every job."""
    manifest = {
        **run_prov,
        **site.facts,
        "files": {p.relative_to(base).as_posix(): sha256_file(p) for p in site.files},
        "jobs": entries,
    }
    write_text_atomic(base / cache.MANIFEST, dumps_json(manifest))
