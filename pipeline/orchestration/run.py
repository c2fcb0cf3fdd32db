"""The flow, end to end: ingest -> validate -> benchmark -> plan -> execute -> site."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import json
import os
import shutil
import sys
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline.core import assessment, narrative, priorities
from pipeline.core.benchmark import MISSING, NOT_ACCEPTED, benchmark
from pipeline.core.catalogue import Catalogue
from pipeline.core.disclosure import Disclosure, Rule, suppress, unsuppressed
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.edges import charts
from pipeline.edges import contracts as ct
from pipeline.edges import reference as ref_io
from pipeline.edges.files import (
    LOCK,
    folder_lock,
    remove_stale_temporaries,
    sha256_file,
    write_bytes_atomic,
    write_template,
    write_text_atomic,
)
from pipeline.edges.render import stylesheet
from pipeline.orchestration import cache
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.cache import code_sha256, job_key, slice_sha256
from pipeline.orchestration.executors import open_executor
from pipeline.orchestration.jobs import Job, JobResult, execute, kernel_spec
from pipeline.orchestration.progress import Progress
from pipeline.orchestration.settings import PROJECT, Settings
from pipeline.orchestration.site import (
    dumps_json,
    feedback_html,
    finding_place,
    group_findings,
    index_html,
    junit_xml,
    validation_html,
)
from pipeline.orchestration.tables import FiguresText, RowsText
from pipeline.orchestration.validation import (
    ACCEPTED,
    QUARANTINED,
    Validation,
    canonical_figures,
    validate_returns,
)

TREND_PERIODS = 8
WORK = ".tartan-work"
#: the annual datapack's index in the output folder (pipeline.orchestration.datapack)
DATAPACK_INDEX = "datapack/index.html"
#: the kinds of report, each its output file's stem and its notebook
REGIONAL, REGIONAL_NOTEBOOK = "regional-benchmark", "regional_benchmark"
PACK, PACK_NOTEBOOK = "self-assessment", "self_assessment_pack"
#: what a pack reads of each neighbour
NEIGHBOUR_COLUMNS = ["la_code", "period", "indicator_id", "numerator", "denominator", "value"]
NEIGHBOUR_COLUMNS += ["status", "band"]


@dataclass
class RunSummary:
    validation: Validation | None  # None when nothing had changed (see up_to_date)
    results: list[JobResult] = field(default_factory=list)
    up_to_date: dict | None = None  # the last run's manifest, when this run had nothing to do

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status != "ok"]


@dataclass
class Inputs:
    """Everything a run reads besides the returns, each checked against its contract."""

    catalogue: Catalogue
    contract: ct.Contract  # the LA return contract
    reference: ref_io.Reference
    contracts: dict[str, str]  # contract or catalogue -> version, as every page prints it
    disclosure: Rule  # data_contracts/disclosure.yaml


#: every page of an unsuppressed run says so, at the top
UNSUPPRESSED = (
    "Not for circulation: unsuppressed. Small numbers are shown as returned; "
    "this run is for internal use only."
)


def banners(s: Settings, reference: ref_io.Reference) -> list[tuple[str, str]]:
    """The notices on every page of a run: its protective marking, whether it is unsuppressed,
    and whether its data is for demonstration."""
    marking = reference.marking if s.marking is None else s.marking
    out = [(marking, "marking")] if marking else []
    if not s.suppress:
        out.append((UNSUPPRESSED, "warning"))
    if reference.banner:
        out.append((reference.banner, "demo"))
    return out


NO_DISCLOSURE_CONTROL = "None: this run is unsuppressed and not for circulation (--unsuppressed)."


def disclosure_text(s: Settings, inputs: Inputs) -> str:
    """What a page says of the disclosure control its figures went through."""
    if not s.suppress:
        return NO_DISCLOSURE_CONTROL
    return inputs.disclosure.statement(inputs.catalogue)


def _open(disclosure: object) -> bool:
    """Whether a report's recorded disclosure control says it was unsuppressed."""
    return disclosure == NO_DISCLOSURE_CONTROL


def published(s: Settings, v: Validation, inputs: Inputs) -> tuple[pd.DataFrame, Disclosure]:
    """Every (LA, period, indicator) figure as returned, and what of it may be published."""
    grid = figures_grid(v, inputs.catalogue, inputs.reference)
    if not s.suppress:
        return grid, unsuppressed(grid)
    region_of = inputs.reference.local_authorities.set_index("la_code")["region_code"]
    return grid, suppress(grid, region_of, inputs.disclosure)


def config_hash(s: Settings) -> str:
    """One SHA-256 over the contracts, catalogue, priorities and dataset.yaml a run reads."""
    files = [
        (f"data_contracts/{p.name}", p)
        for p in sorted(s.contracts.glob("*.yaml"))
        if p.name != "datapack.yaml"  # the annual datapack's mapping: not read by this run
    ]
    files += [("dataset.yaml", s.data / "dataset.yaml")]
    return prov.combined_hash([(name, sha256_file(p)) for name, p in files if p.is_file()])


def load_inputs(s: Settings) -> Inputs:
    contracts = s.contracts
    return_contract = ct.load_contract(contracts / "la_return.yaml")
    reference_contract = ct.load_contract(contracts / "reference.yaml")
    catalogue_contract = ct.load_contract(contracts / "catalogue.yaml")
    catalogue = ct.load_catalogue(contracts / "indicators.yaml", catalogue_contract)
    reference = ref_io.load(s.data, reference_contract)
    versions = {c.id: c.version for c in (return_contract, reference_contract, catalogue_contract)}
    versions["indicators"] = catalogue.version
    rule = ct.load_disclosure(contracts / "disclosure.yaml", catalogue)
    if rule.version:
        versions["disclosure"] = rule.version
    return Inputs(catalogue, return_contract, reference, versions, rule)


def validate(s: Settings) -> tuple[Validation, Inputs]:
    """Validate the dataset's returns (or only `s.returns`, with the rest as history)."""
    inputs = load_inputs(s)
    returns = s.data / "returns"
    if s.returns:
        paths, context = s.returns, [returns] if returns.is_dir() else []
    else:
        if not returns.is_dir():
            raise ConfigError(f"{returns}: no returns folder (expected one file per LA per period)")
        paths, context = [returns], []
    v = validate_returns(
        paths, inputs.catalogue, inputs.contract, inputs.reference, root=s.data, context=context
    )
    return v, inputs


def template(s: Settings, la_code: str, period: str, out: Path | None = None) -> Path:
    """Write the XLSX return template for one LA and period; returns its path."""
    inputs = load_inputs(s)
    names = inputs.reference.la_names
    if la_code not in names:
        raise ConfigError(f"LA {la_code!r} is not in the reference data of {s.data}")
    p = parse_slug(period)
    first, last = inputs.reference.window
    if not first <= p <= last:
        raise ConfigError(
            f"period {p.slug} is outside the reporting window ({first.slug} to {last.slug})"
        )
    table = inputs.contract.table
    rows = []
    for ind in inputs.catalogue:
        fill = {
            "la_code": la_code,
            "time_period": str(p.time_period),
            "time_identifier": p.time_identifier,
            "indicator_id": ind.id,
        }
        rows.append([fill.get(c, "") for c in table.columns])
    path = out or Path(f"{la_code}_{p.slug}.xlsx")
    write_template(
        path,
        table.columns,
        rows,
        title=f"{names[la_code]} ({la_code}): quarterly return for {p.label}",
        notes=[
            f"Data contract {inputs.contract.label}. Fill in numerator, denominator and value",
            "for each indicator (numbers only, no commas or % signs); when there is no value,",
            "leave it blank and put c, x, z, low or k in status. Do not add or remove rows.",
        ],
        definitions=[
            (
                i.id,
                i.label,
                i.theme,
                i.unit,
                {"high": "higher is better", "low": "lower is better"}.get(i.polarity, "neither"),
                i.decimals,
                i.description,
            )
            for i in inputs.catalogue
        ],
        definition_headings=(
            "indicator_id",
            "label",
            "theme",
            "unit",
            "polarity",
            "decimals",
            "numerator and denominator",
        ),
    )
    return path


def missing_returns(v: Validation, reference: ref_io.Reference) -> dict[str, list[str]]:
    """Per period that has any return: the LAs with none."""
    periods = {o.period for o in v.outcomes if o.period}
    las = reference.local_authorities.sort_values("la_name")
    out = {}
    for period in periods:
        sent = {o.la_code for o in v.outcomes if o.period == period}
        out[period] = [
            f"{n} ({c})"
            for c, n in zip(las["la_code"], las["la_name"], strict=True)
            if c not in sent
        ]
    return out


def write_validation(
    out: Path,
    v: Validation,
    reference: ref_io.Reference,
    footer: str,
    banners: list[tuple[str, str]],
    complete: bool = True,
) -> dict:
    """validation/index.html, validation.json, junit.xml and feedback/<la_code>.html, from a
    validation whose findings quote no withheld figure (:meth:`Validation.published`).

    `complete`: whether every return of the dataset was checked (only then are LAs without a
    return listed). Feedback pages of LAs that sent nothing this time are removed.
    """
    css = stylesheet()
    vjson = v.to_json()
    names = reference.la_names
    folder = out / "validation"
    write_text_atomic(folder / "validation.json", dumps_json(vjson))
    write_text_atomic(folder / "junit.xml", junit_xml(vjson))
    write_text_atomic(
        folder / "index.html",
        validation_html(
            css,
            banners,
            vjson,
            footer,
            la_names=names,
            missing_returns=missing_returns(v, reference) if complete else None,
        ),
    )
    las = sorted({o.la_code for o in v.outcomes if o.la_code in names})
    for la in las:
        write_text_atomic(
            folder / "feedback" / f"{la}.html",
            feedback_html(css, banners, la, names[la], vjson, footer),
        )
    if (folder / "feedback").is_dir():
        for old in (folder / "feedback").glob("*.html"):
            if old.stem not in las:
                old.unlink()
    return vjson


def figures_grid(v: Validation, catalogue: Catalogue, reference: ref_io.Reference) -> pd.DataFrame:
    """Every (LA, period, indicator): accepted figures, else 'not accepted' or 'missing'."""
    figs = canonical_figures(v.accepted_rows)
    figs = figs[figs["indicator_id"].isin(catalogue.ids)]
    periods = sorted({o.period for o in v.outcomes if o.period}, key=parse_slug)
    grid = pd.MultiIndex.from_product(
        [sorted(reference.local_authorities["la_code"]), periods, catalogue.ids],
        names=["la_code", "period", "indicator_id"],
    ).to_frame(index=False)
    out = grid.merge(figs, how="left", on=["la_code", "period", "indicator_id"])
    rejected = {(o.la_code, o.period) for o in v.outcomes if o.status == QUARANTINED}
    accepted = {(o.la_code, o.period) for o in v.outcomes if o.status == ACCEPTED}
    keys = list(zip(out["la_code"], out["period"], strict=True))
    no_row = out["status"].isna()
    is_rejected = pd.Series([k in rejected and k not in accepted for k in keys], index=out.index)
    out.loc[no_row & is_rejected, "status"] = NOT_ACCEPTED
    out.loc[no_row & ~is_rejected, "status"] = MISSING
    return out


def _select_regions(reference: ref_io.Reference, wanted: list[str] | None) -> pd.DataFrame:
    """The regions asked for (region_code, region_name), all of them known ones."""
    regions = reference.regions
    if not wanted:
        return regions
    unknown = sorted(set(wanted) - set(regions["region_code"]))
    if unknown:
        raise ConfigError(
            f"region {', '.join(unknown)} is not in the reference data; regions: "
            f"{', '.join(regions['region_code'])}"
        )
    return regions[regions["region_code"].isin(wanted)]


def _select_periods(available: list[str], wanted: list[str] | None) -> list[str]:
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
    ) -> Planned:
        """A job of `kind` (its output stem) run from notebooks/`notebook`.ipynb into `folder`
        (relative to the output folder), reading the slice made of `context` and `tables` (file
        name -> CSV text)."""
        out = self.s.out.resolve()
        if not (out / folder).resolve().is_relative_to(out) or folder.is_absolute():
            # codes are checked by the command line and the reference contract; this is the
            # last line: nothing is written outside the output folder
            raise ConfigError(f"{folder}: a report's folder must be inside {self.s.out}")
        files = {"context.json": dumps_json(context).encode("utf-8")}
        files |= {name: text.encode("utf-8") for name, text in tables.items()}
        record = self.record(params["period"], window, params, csv, slice_sha256(files))
        job = Job(
            id=f"{folder.as_posix()}/{kind}",
            kind=kind,
            notebook=str(self.s.notebooks / f"{notebook}.ipynb"),
            notebook_display=f"notebooks/{notebook}.ipynb",
            parameters=params,
            slice_dir=str((self.work / folder).resolve()),
            out_stem=str(self.s.out / folder / kind),
            log=str(self.s.out / "logs" / folder / f"{kind}.ipynb"),
            title=title,
            banners=self.banners,
            footer=prov.footer_html(record),
            provenance=record,
            breadcrumbs=breadcrumbs,
            csv=csv,
            cell_timeout=self.s.cell_timeout,
            kernel_server=self.kernel_server,
        )
        job.key = job_key(job, files)
        return Planned(job, files)


@dataclass
class Plan(Planner):
    """What every job of a quarterly run shares: the validated, benchmarked figures."""

    inputs: Inputs
    v: Validation
    bench: dict[str, pd.DataFrame]
    state: dict[tuple[str, str], str]  # (LA, period) -> accepted | not accepted
    available: list[str]  # periods with returns, in order
    priorities: dict[str, list]
    priorities_file: str
    site_footer: str

    @property
    def england_label(self) -> str:
        return (
            "England (all demonstration LAs)" if self.inputs.reference.demonstration else "England"
        )

    @property
    def cat_records(self) -> list[dict]:
        return catalogue_records(self.inputs.catalogue)

    def window(self, period: str) -> list[str]:
        """The trend periods of a report for `period`: up to TREND_PERIODS, those held."""
        p = parse_slug(period)
        window = [q.slug for q in (p.shifted(-k) for k in range(TREND_PERIODS - 1, -1, -1))]
        return [w for w in window if w in self.available]

    @cached_property
    def published_areas(self) -> pd.DataFrame:
        """The region and England figures reports publish. Their numerators and denominators
        (sums over the LAs with figures) are left out: no report shows them, and with them one
        LA's figure could be worked out from the total and the others' (see disclosure
        control). Without them, an LA's resubmission changes a report elsewhere only when it
        moves a figure that report shows."""
        return self.bench["areas"].assign(numerator=float("nan"), denominator=float("nan"))

    def areas(self, region_code: str, window: list[str]) -> pd.DataFrame:
        """The region's and England's published figures over `window`."""
        a = self.published_areas
        return a[a["area_code"].isin([region_code, "england"]) & a["period"].isin(window)]

    @cached_property
    def text(self) -> dict[str, RowsText]:
        """The CSV text of slices' tables, formatted once: LA figures, neighbours' figures and
        areas' figures."""
        las = self.bench["las"]
        return {
            "las": RowsText(las),
            "neighbours": RowsText(las[NEIGHBOUR_COLUMNS]),
            "areas": RowsText(self.published_areas),
        }

    @cached_property
    def figures_text(self) -> FiguresText:
        """Every report's figures CSV, formatted once."""
        reference = self.inputs.reference
        return FiguresText(
            self.bench["las"],
            self.published_areas,
            reference.la_names,
            dict(reference.regions.itertuples(index=False)),
            self.inputs.catalogue,
            NEIGHBOUR_COLUMNS,
        )


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


def discard_failed(jobs: list[Job], results: dict[str, JobResult]) -> list[JobResult]:
    """The jobs' results in order; a failed job's outputs are removed, so that an earlier
    run's report never looks current."""
    for job in jobs:
        if results[job.id].status != "ok":
            for suffix in (".html", ".ipynb", ".csv"):
                Path(job.out_stem).with_suffix(suffix).unlink(missing_ok=True)
    return [results[j.id] for j in jobs]


def report(s: Settings) -> RunSummary:
    """Validate, benchmark, plan and build every report the settings ask for, skipping jobs
    whose content key is unchanged (all of them, without validating, when no input changed).
    Holds the output folder's lock throughout; a killed run leaves no half-written file."""
    prov.build_date()  # a malformed SOURCE_DATE_EPOCH is refused before anything is written
    created = not s.out.exists()
    try:
        with folder_lock(s.out):
            remove_stale_temporaries(s.out)
            shutil.rmtree(s.out / WORK, ignore_errors=True)  # nothing left from a killed run
            manifest = cache.up_to_date(s)
            if manifest is not None:
                return RunSummary(None, up_to_date=manifest)
            try:
                return _report(s)
            finally:
                shutil.rmtree(s.out / WORK, ignore_errors=True)
    except ConfigError:
        # a usage or configuration error is found before anything is written: a folder this
        # run made for its lock goes too
        if created and {p.name for p in s.out.iterdir()} <= {LOCK}:
            shutil.rmtree(s.out, ignore_errors=True)
        raise


def _report(s: Settings) -> RunSummary:
    key = cache.run_key(s)
    earlier = {
        e["id"]: e
        for e in cache.read_manifest(s.out).get("jobs", [])
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    }
    # the charts' specifications, built once here for the workers (which then need no altair)
    templates = s.out / WORK / "chart-templates.json"
    templates.parent.mkdir(parents=True, exist_ok=True)
    charts.write_templates(templates)
    from pipeline.orchestration import kernels

    with (
        kernels.server(os.environ | kernel_spec()["env"]) as kernel_server,
        open_executor(s.executor, s.workers, s.scheduler, str(templates)) as executor,
    ):
        # the workers load what every job uses while the driver validates and benchmarks
        plan, vjson = _prepare(s)
        plan.kernel_server = kernel_server
        _release_memory()  # what validation used and no longer needs, while the reports run
        regional_specs, pack_specs = _specs(plan)
        planned, results = _build(plan, regional_specs, pack_specs, earlier, executor)
    jobs = [p.job for p in planned]
    ordered = discard_failed(jobs, results)
    _write_site(plan, jobs, ordered, vjson, key)
    return RunSummary(plan.v, ordered)


def _release_memory() -> None:
    """Hand memory the driver has freed back to the operating system (glibc keeps it
    otherwise); a no-op elsewhere."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _specs(plan: Plan) -> tuple[list[tuple], list[tuple]]:
    """What the settings ask for: (period, region code, region name) of each regional report
    and (period, LA, region code, region name) of each pack."""
    s, reference = plan.s, plan.inputs.reference
    periods = _select_periods(plan.available, s.periods)
    regions = _select_regions(reference, s.regions)
    pack_periods = {"latest": periods[-1:], "all": periods, "none": []}[s.packs]
    las = reference.local_authorities
    regional = [
        (period, code, name) for period in periods for code, name in regions.itertuples(index=False)
    ]
    packs = [
        (period, la, code, name)
        for period in pack_periods
        for code, name in regions.itertuples(index=False)
        for la in sorted(las.loc[las["region_code"] == code, "la_code"])
    ]
    return regional, packs


def _build(
    plan: Plan,
    regional_specs: list[tuple],
    pack_specs: list[tuple],
    earlier: dict[str, dict],
    executor,
) -> tuple[list[Planned], dict[str, JobResult]]:
    """Plan and run every job. A job goes to the workers as soon as it is planned; a job whose
    key is unchanged (unless --force) keeps its outputs. A regional report is planned once all
    its LAs' packs are done, so that it links only to the packs that were built."""
    out = plan.s.out
    progress = Progress(len(regional_specs) + len(pack_specs), "Reports", plan.s.progress)
    order: list[Planned] = []
    results: dict[str, JobResult] = {}
    built: dict[tuple[str, str], bool] = {}  # (LA, period) -> pack built
    waiting = Counter((period, code) for period, _, code, _ in pack_specs)
    ready = deque(spec for spec in regional_specs if not waiting[spec[:2]])
    blocked = {spec[:2]: spec for spec in regional_specs if waiting[spec[:2]]}

    def done(job: Job, res: JobResult) -> None:
        results[job.id] = res
        progress.update(res)
        if job.kind == PACK:
            period, code = job.parameters["period"], job.parameters["region_code"]
            built[(job.parameters["la_code"], period)] = res.status == "ok"
            waiting[(period, code)] -= 1
            if not waiting[(period, code)] and (period, code) in blocked:
                ready.append(blocked.pop((period, code)))

    def start(p: Planned) -> Job | None:
        """The job, when it has to run (its slice written); None when its outputs stand."""
        order.append(p)
        hit = None if plan.s.force else p.cached(earlier.get(p.job.id), out)
        if hit is None:
            p.write_slice()
            return p.job
        done(p.job, hit)
        return None

    def regionals():
        while ready:
            job = start(_regional_job(plan, *ready.popleft(), built))
            if job is not None:
                yield job

    def planned_jobs():
        for spec in pack_specs:
            job = start(_pack_job(plan, *spec))
            if job is not None:
                yield job
            yield from regionals()
        yield from regionals()

    def finished(job: Job, res: JobResult) -> list[Job]:
        done(job, res)
        return list(regionals())

    try:
        execute(planned_jobs(), executor, finished)
    finally:
        progress.close()
    cached = sum(r.cached for r in results.values())
    if cached and plan.s.progress is not False:
        print(
            f"Reports: {cached} of {len(results)} unchanged since the last run "
            "(--force runs them again)",
            file=sys.stderr,
        )
    return order, results


def _prepare(s: Settings) -> tuple[Plan, dict]:
    """Validate, write the validation pages, benchmark everything once: what every job reads."""
    v, inputs = validate(s)
    catalogue, reference = inputs.catalogue, inputs.reference
    page_banners = banners(s, reference)
    # Disclosure control first: nothing below sees a withheld figure, bar the areas' totals.
    grid, sdc = published(s, v, inputs)
    v = v.published(sdc.removed)
    available = sorted(grid["period"].unique(), key=parse_slug)
    if not available:
        raise ConfigError(f"{s.data / 'returns'}: no returns found")
    # the regions, periods and notebooks asked for are known ones, before anything is written
    _select_regions(reference, s.regions)
    _select_periods(available, s.periods)
    for name in (REGIONAL_NOTEBOOK, PACK_NOTEBOOK):
        if not (s.notebooks / f"{name}.ipynb").is_file():
            raise ConfigError(f"{s.notebooks / name}.ipynb: no such notebook (see --notebooks)")
    s.out.mkdir(parents=True, exist_ok=True)
    ref_files = sorted((s.data / "reference").glob("*.csv"))
    accepted_inputs = [(o.file, o.sha256) for o in v.outcomes if o.status == ACCEPTED]
    input_hash = prov.combined_hash(
        accepted_inputs + [(f"reference/{p.name}", sha256_file(p)) for p in ref_files]
    )
    run_prov = prov.run_provenance(
        PROJECT,
        reference.name,
        inputs.contracts,
        input_hash,
        config_hash(s),
        disclosure=disclosure_text(s, inputs),
    )
    site_footer = prov.footer_html(run_prov, "About these pages' data")
    # Validation outputs first: they stand even if every report fails.
    vjson = write_validation(s.out, v, reference, site_footer, page_banners, complete=not s.returns)

    bench = benchmark(
        sdc.published,
        reference.local_authorities,
        catalogue,
        reference.statistical_neighbours,
        totals=grid,
        withheld_areas=sdc.withheld_areas,
    )
    del grid
    priorities_path = s.contracts / "priorities.yaml"
    region_priorities = ct.load_priorities(
        priorities_path, catalogue, list(reference.regions["region_code"])
    )
    try:
        priorities_file = priorities_path.resolve().relative_to(PROJECT).as_posix()
    except ValueError:
        priorities_file = priorities_path.name
    plan = Plan(
        s=s,
        inputs=inputs,
        v=v,
        bench=bench,
        state=return_states(v),
        available=available,
        run_prov=run_prov,
        banners=page_banners,
        work=s.out / WORK,
        priorities=region_priorities,
        priorities_file=priorities_file,
        site_footer=site_footer,
    )
    return plan, vjson


def _regional_job(
    plan: Plan, period: str, region_code: str, region_name: str, packs: dict
) -> Planned:
    """The regional benchmarking report of one region and period; `packs`: whether its LAs'
    self-assessment packs are built with it (the report links to them)."""
    reference, catalogue = plan.inputs.reference, plan.inputs.catalogue
    bench, names = plan.bench, reference.la_names
    p = parse_slug(period)
    window = plan.window(period)
    las = reference.local_authorities[reference.local_authorities["region_code"] == region_code]
    la_rows = bench["las"][
        bench["las"]["la_code"].isin(las["la_code"]) & bench["las"]["period"].isin(window)
    ]
    areas = plan.areas(region_code, window)
    return_status = {c: plan.state.get((c, period), MISSING) for c in las["la_code"]}
    las_ctx = [
        {
            "la_code": c,
            "la_name": n,
            "return_status": return_status[c],
            "pack": f"{c}/{PACK}.html" if packs.get((c, period)) else None,
            "pack_failed": packs.get((c, period)) is False,
        }
        for c, n in zip(las["la_code"], las["la_name"], strict=True)
    ]
    story = narrative.regional_narrative(
        la_rows,
        areas,
        catalogue,
        period,
        region_code,
        region_name,
        names,
        return_status,
        narrative.national_spread(bench["las"], period),
        plan.england_label,
        first_period=plan.available[0],
    )
    assessed = priorities.assess(
        plan.priorities.get(region_code, []), areas, la_rows, catalogue, period, region_code
    )
    context = {
        "region": {"code": region_code, "name": region_name},
        "period": period,
        "periods": window,
        "las": las_ctx,
        "catalogue": plan.cat_records,
        "catalogue_version": catalogue.version,
        "contract": plan.inputs.contract.label,
        "disclosure": plan.run_prov.get("disclosure", ""),
        "england_label": plan.england_label,
        "narrative": [para.to_json() for para in story],
        "priorities": assessed,
        "priorities_file": plan.priorities_file,
        "neighbours": _neighbour_lists(reference, las["la_code"]),
    }
    params = {"region_code": region_code, "period": period, "slice_dir": "."}
    return plan.job(
        REGIONAL,
        REGIONAL_NOTEBOOK,
        Path(period, region_code),
        params,
        window,
        context,
        {"figures.csv": plan.text["las"].csv(la_rows), "areas.csv": plan.text["areas"].csv(areas)},
        plan.figures_text.csv(la_rows, areas),
        title=f"{region_name}: quarterly benchmarking, {p.label}",
        breadcrumbs=[("All reports", "../../index.html")],
    )


def _pack_job(plan: Plan, period: str, la: str, region_code: str, region_name: str) -> Planned:
    """The self-assessment evidence pack of one LA and period. An LA whose return was not
    accepted, or that sent none, gets a pack that says so and shows no figures."""
    reference, catalogue, bench = plan.inputs.reference, plan.inputs.catalogue, plan.bench
    names = reference.la_names
    p = parse_slug(period)
    window = plan.window(period)
    status = plan.state.get((la, period), MISSING)
    sn = reference.statistical_neighbours
    sn = sn[sn["la_code"] == la].sort_values("neighbour_rank")
    neighbours = list(sn["neighbour_la_code"])
    figures = bench["las"]
    mine = figures[(figures["la_code"] == la) & figures["period"].isin(window)]
    # The neighbours' own figures and bands, as their own packs publish them; not their own
    # comparators and ranks, which the pack does not show (and which change with LAs it is not
    # compared with).
    near = figures.loc[
        figures["la_code"].isin(neighbours) & (figures["period"] == period), NEIGHBOUR_COLUMNS
    ]
    areas = plan.areas(region_code, window)
    if status != ACCEPTED:  # no figures: never an older or partial return in their place
        mine, near, areas = mine.iloc[0:0], near.iloc[0:0], areas.iloc[0:0]
    assessed = assessment.assess(mine, areas, catalogue, period, region_code, plan.available[0])
    region_of = reference.region_of
    all_regions = dict(reference.regions.itertuples(index=False))
    feedback = plan.s.out / "validation" / "feedback" / f"{la}.html"
    context = {
        "la": {"code": la, "name": names[la], "return_status": status},
        "region": {"code": region_code, "name": region_name},
        "period": period,
        "periods": window,
        "first_period": plan.available[0],
        "population": _population(reference, la, p),
        "neighbours": [
            {
                "rank": int(r.neighbour_rank),
                "la_code": r.neighbour_la_code,
                "la_name": names.get(r.neighbour_la_code, r.neighbour_la_code),
                "closeness": r.closeness,
                "region_name": all_regions.get(region_of.get(r.neighbour_la_code, ""), ""),
                "return_status": plan.state.get((r.neighbour_la_code, period), MISSING),
            }
            for r in sn.itertuples()
        ],
        "catalogue": plan.cat_records,
        "catalogue_version": catalogue.version,
        "contract": plan.inputs.contract.label,
        "disclosure": plan.run_prov.get("disclosure", ""),
        "england_label": plan.england_label,
        "assessment": assessed.to_json(),
        "returns": _returns_of(plan.v, la, period),
        "links": {
            "regional": f"../{REGIONAL}.html",
            "feedback": f"../../../validation/feedback/{la}.html#{period}"
            if (la, period) in plan.state and feedback.exists()
            else None,
        },
    }
    params = {"la_code": la, "region_code": region_code, "period": period, "slice_dir": "."}
    tables = {
        "figures.csv": plan.text["las"].csv(mine),
        "neighbours.csv": plan.text["neighbours"].csv(near),
        "areas.csv": plan.text["areas"].csv(areas),
    }
    return plan.job(
        PACK,
        PACK_NOTEBOOK,
        Path(period, region_code, la),
        params,
        window,
        context,
        tables,
        plan.figures_text.csv(mine, areas, neighbours=near),
        title=f"{names[la]}: self-assessment evidence pack, {p.label}",
        breadcrumbs=[
            ("All reports", "../../../index.html"),
            (f"{region_name}: regional benchmark, {p.label}", f"../{REGIONAL}.html"),
        ],
    )


def _population(reference: ref_io.Reference, la: str, p) -> dict | None:
    """The LA's 0-17 population: the latest year not after the period's start, else the
    earliest held."""
    pop = reference.population
    pop = pop[pop["la_code"] == la].sort_values("year")
    if pop.empty:
        return None
    before = pop[pop["year"] <= p.start_year]
    row = (before if len(before) else pop).iloc[-1 if len(before) else 0]
    return {"value": int(row["population_0_17"]), "year": int(row["year"])}


def _returns_of(v: Validation, la: str, period: str) -> list[dict]:
    """Each return the LA sent for the period, with what validation found in it."""
    f, rows = v.findings, v.accepted_rows
    out = []
    for o in v.outcomes:
        if o.la_code != la or o.period != period:
            continue
        found = f[f["file"] == o.file] if len(f) else f
        noted = rows[rows["file"].eq(o.file)] if "note" in rows else rows.iloc[:0]
        notes = [
            {"indicator_id": str(ind), "note": str(note).strip()}
            for ind, note in zip(noted["indicator_id"], noted.get("note", []), strict=True)
            if isinstance(note, str) and note.strip()
        ]
        out.append(
            {
                "file": o.file,
                "status": o.status,
                "errors": o.errors,
                "warnings": o.warnings,
                "notes": notes,
                "findings": [
                    {
                        "severity": g["severity"],
                        "where": finding_place(g["rows"], g["column"]),
                        "message": g["message"],
                    }
                    for g in group_findings(found.to_dict(orient="records"))
                ],
            }
        )
    return sorted(out, key=lambda r: r["file"])


def _write_site(
    plan: Plan, jobs: list[Job], results: list[JobResult], vjson: dict, run_key: str
) -> None:
    """The folder's record and its index: this run's jobs, and earlier runs' jobs it did not
    redo (a re-run of one quarter keeps every other quarter in the index and the manifest)."""
    out, reference, v = plan.s.out, plan.inputs.reference, plan.v
    entries = [manifest_entry(job, res, out, out) for job, res in zip(jobs, results, strict=True)]
    all_regions = dict(reference.regions.itertuples(index=False))
    entries += _earlier_jobs(
        out,
        {e["id"] for e in entries},
        all_regions,
        reference.la_names,
        plan.run_prov.get("disclosure"),
    )
    entries.sort(key=lambda e: (parse_slug(e["parameters"]["period"]).ordinal, e["id"]))

    region_of, names = reference.region_of, reference.la_names
    reports, packs = [], {}
    for e in entries:
        period, region_code = e["parameters"]["period"], e["parameters"]["region_code"]
        if e.get("kind", REGIONAL) == PACK:
            packs[(e["parameters"]["la_code"], period)] = e
            continue
        not_accepted = sorted(
            reference.la_name(o.la_code)
            for o in v.rejected
            if o.period == period and region_of.get(o.la_code) == region_code
        )
        detail = e["error"] or (
            f"Return not accepted: {', '.join(not_accepted)}" if not_accepted else ""
        )
        reports.append(
            {
                "period": period,
                "region_code": region_code,
                "region_name": all_regions[region_code],
                "href": f"{period}/{region_code}/{REGIONAL}.html",
                "status": e["status"],
                "detail": detail,
            }
        )
    shown_regions = {r["region_code"] for r in reports}
    feedback_dir = out / "validation" / "feedback"
    returns = []
    for period in sorted({r["period"] for r in reports}, key=parse_slug):
        for la in reference.local_authorities["la_code"]:
            if region_of[la] not in shown_regions:
                continue
            pack = packs.get((la, period))
            returns.append(
                {
                    "period": period,
                    "region_name": all_regions[region_of[la]],
                    "la_code": la,
                    "la_name": names[la],
                    "status": plan.state.get((la, period), MISSING),
                    "feedback": f"validation/feedback/{la}.html#{period}"
                    if (la, period) in plan.state and (feedback_dir / f"{la}.html").exists()
                    else None,
                    "pack": None
                    if pack is None
                    else {
                        "status": pack["status"],
                        "href": f"{period}/{region_of[la]}/{la}/{PACK}.html",
                        "error": pack["error"],
                    },
                }
            )
    css = stylesheet()
    write_text_atomic(
        out / "index.html",
        index_html(
            css,
            reference.name,
            plan.banners,
            reports,
            returns,
            vjson["summary"],
            plan.site_footer,
            datapack=DATAPACK_INDEX if (out / DATAPACK_INDEX).is_file() else None,
        ),
    )
    site = [out / "index.html", *sorted(p for p in (out / "validation").rglob("*") if p.is_file())]
    manifest = {
        **plan.run_prov,
        "run_key": run_key,
        "inputs": [{"file": o.file, "sha256": o.sha256, "status": o.status} for o in v.outcomes],
        "files": {p.relative_to(out).as_posix(): sha256_file(p) for p in site},
        "jobs": entries,
    }
    write_text_atomic(out / "manifest.json", dumps_json(manifest))


def _earlier_jobs(
    out: Path,
    redone: set[str],
    regions: dict[str, str],
    las: dict[str, str],
    disclosure: str | None,
) -> list[dict]:
    """Jobs recorded by an earlier run in this folder that this run did not redo, while their
    outputs are still there (a failed job has none and stays listed as failed). An unsuppressed
    report is removed, not listed beside a suppressed run's; and the other way round."""
    try:
        earlier = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["jobs"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    kept = []
    for e in earlier:
        if e.get("id") in redone:
            continue
        try:
            rule = e["provenance"].get("disclosure")
        except (KeyError, AttributeError):
            rule = None
        if _open(rule) != _open(disclosure):
            for o in e.get("outputs", []) if isinstance(e.get("outputs"), list) else []:
                target = (out / str(o)).resolve()
                if target.is_relative_to(out.resolve()) and target.suffix in (
                    ".html",
                    ".ipynb",
                    ".csv",
                ):
                    target.unlink(missing_ok=True)
            continue
        try:
            params = e["parameters"]
            known = params["region_code"] in regions and parse_slug(params["period"])
            if e.get("kind", REGIONAL) == PACK:
                known = known and params["la_code"] in las
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if (
            known
            and e.get("id") not in redone
            and all((out / o).is_file() for o in e.get("outputs", []))
        ):
            kept.append(e)
    return kept


def return_states(v: Validation) -> dict[tuple[str, str], str]:
    """(LA, period) -> 'accepted' or 'not accepted'; an accepted resubmission wins."""
    out: dict[tuple[str, str], str] = {}
    for o in v.outcomes:
        key = (o.la_code, o.period)
        if o.status == ACCEPTED:
            out[key] = "accepted"
        elif o.status == QUARANTINED:
            out.setdefault(key, NOT_ACCEPTED)
    return out


def _neighbour_lists(reference: ref_io.Reference, la_codes) -> dict[str, list[str]]:
    """Each LA's statistical neighbours' names, closest first."""
    sn = reference.statistical_neighbours
    sn = sn[sn["la_code"].isin(list(la_codes))].sort_values(["la_code", "neighbour_rank"])
    names = reference.la_names
    return {
        la: [names.get(c, c) for c in group["neighbour_la_code"]]
        for la, group in sn.groupby("la_code", sort=True)
    }
