"""A run's profile (``--profile FILE``): where its time went, as JSON.

The driver's stages (validation, disclosure control, benchmark, planning, the site) and, summed
over the reports that ran, each stage of a report in its worker (laying it out, drawing charts,
the kernel running cells, papermill, rendering the page, workbooks and slides, writing). The
figures are wall-clock seconds; a worker's stages of one report add up to its time in the
worker, and the workers run side by side, so their sum is CPU time rather than waiting.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.edges.files import write_text_atomic
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.records import dumps_json


def summed(results: list[JobResult]) -> dict[str, float]:
    """Each worker stage's seconds summed over `results` (jobs that ran, not cache hits)."""
    out: dict[str, float] = {}
    for res in results:
        for name, seconds in res.timings.items():
            out[name] = out.get(name, 0.0) + seconds
    return {name: round(s, 3) for name, s in sorted(out.items())}


def write(path: Path, wall: float, driver: dict[str, float], kinds: dict[str, list]) -> None:
    """The profile at `path`: the run's wall-clock seconds, the driver's stages, and per kind
    of job (kind -> its results) how many ran and their worker stages summed."""
    ran = {kind: [r for r in results if not r.cached] for kind, results in kinds.items()}
    every = [r for results in ran.values() for r in results]
    waited = wall - sum(driver.values())  # starting the workers, and waiting for their results
    profile = {
        "wall_s": round(wall, 3),
        "driver": driver | {"waiting for workers": round(max(waited, 0.0), 3)},
        "jobs_run": len(every),
        "jobs_unchanged": sum(len(kinds[k]) - len(ran[k]) for k in kinds),
        "workers": summed(every),
        "by_kind": {k: {"jobs": len(v), "workers": summed(v)} for k, v in sorted(ran.items())},
    }
    write_text_atomic(path, dumps_json(profile))
