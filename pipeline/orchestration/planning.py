"""What every product's planning shares: a job made from its slice and page (`Planner`),
the job with its slice (`Planned`), and the choices a run's settings make (regions, periods)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.edges.files import write_bytes_atomic
from pipeline.html.base import footer
from pipeline.orchestration import cache
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.cache import code_sha256, job_key, slice_sha256
from pipeline.orchestration.jobs import Job, JobResult
from pipeline.orchestration.records import dumps_json
from pipeline.orchestration.settings import Settings

if TYPE_CHECKING:  # loaded where a run plans, not by one with nothing to do
    import pandas as pd

    from pipeline.edges import reference as ref_io

#: the run's work folder inside the output folder (slices), removed when the run ends
WORK = ".tartan-work"
#: what a pack reads of each neighbour
NEIGHBOUR_COLUMNS = ["la_code", "period", "indicator_id", "numerator", "denominator", "value"]
NEIGHBOUR_COLUMNS += ["status", "band"]


def select_regions(reference: ref_io.Reference, wanted: list[str] | None) -> pd.DataFrame:
    """The regions asked for (region_code, region_name), all of them known ones; a regional
    dataset's own region only."""
    regions = reference.regions
    if getattr(reference, "region", None) is not None:
        regions = regions[regions["region_code"].eq(reference.region)]
    if not wanted:
        return regions
    unknown = sorted(set(wanted) - set(regions["region_code"]))
    if unknown:
        raise ConfigError(
            f"region {', '.join(unknown)} is not in the reference data; regions: "
            f"{', '.join(regions['region_code'])}"
        )
    return regions[regions["region_code"].isin(wanted)]


def select_periods(available: list[str], wanted: list[str] | None) -> list[str]:
    if not wanted:
        return available
    out = []
    for w in wanted:
        if w == "latest":
            out.append(available[-1])
            continue
        slug = parse_slug(w).slug
        if slug not in available:
            raise ConfigError(
                f"period {w!r} has no returns; periods with returns: {', '.join(available)}"
            )
        out.append(slug)
    return sorted(set(out), key=parse_slug)


def catalogue_records(catalogue: Catalogue) -> list[dict]:
    """The catalogue as a report's slice carries it (``Catalogue.from_records`` reads it)."""
    out = []
    for i in catalogue:
        rec = vars(i) | {"valid_range": [i.valid_min, i.valid_max]}
        rec.pop("valid_min")
        rec.pop("valid_max")
        out.append(rec)
    return out


@dataclass
class Planner:
    """What makes a run's jobs: its settings, its facts (every footer's), its page banners and
    the working folder its slices are written to."""

    s: Settings
    run_prov: dict
    banners: list[tuple[str, str]]
    work: Path
    #: where the jobs' kernels are forked from (see kernels.py)
    kernel_server: str = field(default="", kw_only=True)

    def record(self, period: str, window: list[str], params: dict, csv: str, inputs: str) -> dict:
        """A job's provenance: the footer's facts and the manifest's record. It names what the
        report itself was made from (its slice and the code), not the whole dataset or the
        commit, so that a change elsewhere leaves the report, byte for byte, as it was."""
        run = {k: v for k, v in self.run_prov.items() if k not in ("input_sha256", "code")}
        return {
            "period": period,
            # by construction every comparator is of the report's own quarter
            "comparators_as_at": {
                "region": period,
                "England": period,
                "statistical neighbours": period,
            },
            **({"trend_periods": [window[0], window[-1]]} if len(window) > 1 else {}),
            **run,
            "inputs_sha256": inputs,
            "code": {"tartan": self.run_prov["code"]["tartan"], "code_sha256": code_sha256()},
            "figures_sha256": hashlib.sha256(csv.encode("utf-8")).hexdigest(),
            "parameters": {k: v for k, v in params.items() if k != "slice_dir"},
        }

    def job(
        self,
        kind: str,
        notebook: str,
        folder: Path,
        params: dict,
        window: list[str],
        context: dict,
        tables: dict[str, str],
        csv: str,
        title: str,
        breadcrumbs: list[tuple[str, str]],
        stem: str = "",
    ) -> Planned:
        """A job of `kind` run from notebooks/`notebook`.ipynb into `folder` (relative to the
        output folder), reading the slice made of `context` and `tables` (file name -> CSV
        text). Its outputs' stem is `kind`, or `stem` for a kind of report made several times in
        one folder (a group pack per group), whose slice is then a folder of its own."""
        out = self.s.out.resolve()
        if not (out / folder).resolve().is_relative_to(out) or folder.is_absolute():
            # codes are checked by the command line and the reference contract; this is the
            # last line: nothing is written outside the output folder
            raise ConfigError(f"{folder}: a report's folder must be inside {self.s.out}")
        files = {"context.json": dumps_json(context).encode("utf-8")}
        files |= {name: text.encode("utf-8") for name, text in tables.items()}
        record = self.record(params["period"], window, params, csv, slice_sha256(files))
        stem = stem or kind
        job = Job(
            id=f"{folder.as_posix()}/{stem}",
            kind=kind,
            notebook=str(self.s.notebooks / f"{notebook}.ipynb"),
            notebook_display=f"notebooks/{notebook}.ipynb",
            parameters=params,
            slice_dir=str((self.work / folder / (stem if stem != kind else "")).resolve()),
            out_stem=str(self.s.out / folder / stem),
            log=str(self.s.out / "logs" / folder / f"{stem}.ipynb"),
            title=title,
            banners=self.banners,
            footer=footer(prov.facts(record)),
            provenance=record,
            breadcrumbs=breadcrumbs,
            csv=csv,
            cell_timeout=self.s.cell_timeout,
            kernel_server=self.kernel_server,
        )
        job.key = job_key(job, files)
        return Planned(job, files)


@dataclass
class Planned:
    """A job and the slice it reads (written only when the job is run)."""

    job: Job
    files: dict[str, bytes]

    def write_slice(self) -> None:
        for name, data in self.files.items():
            write_bytes_atomic(Path(self.job.slice_dir) / name, data)

    def cached(self, earlier: dict | None, base: Path) -> JobResult | None:
        """The job's result when an earlier run's outputs (recorded relative to `base` in
        `earlier`, its manifest entry) stand: same key, every file intact. Else None."""
        hit = cache.cached_job(earlier, self.job.key, base)
        if hit is None:
            return None
        return JobResult(
            self.job.id,
            "ok",
            outputs=[str(base / rel) for rel in hit["outputs"]],
            output_sha256={str(base / rel): sha for rel, sha in hit["output_sha256"].items()},
            cached=True,
        )


def neighbour_lists(reference: ref_io.Reference, la_codes) -> dict[str, list[str]]:
    """Each LA's statistical neighbours' names, closest first."""
    sn = reference.statistical_neighbours
    sn = sn[sn["la_code"].isin(list(la_codes))].sort_values(["la_code", "neighbour_rank"])
    names = reference.la_names
    return {
        la: [names.get(c, c) for c in group["neighbour_la_code"]]
        for la, group in sn.groupby("la_code", sort=True)
    }
