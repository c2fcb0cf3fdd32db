"""The annual datapack from DfE's published statistics: a source folder, read once.

The mapping (``data_contracts/datapack.yaml``) names the files; this module reads them into what
every datapack report shares: the indicator catalogue (polarity from LAIT's dictionary), the
reference data from the published lists, and the figures with DfE's own area figures beside
them (see ``pipeline.edges.ees``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core import narrative
from pipeline.core.benchmark import MISSING, OK, benchmark, ratio
from pipeline.core.catalogue import Catalogue
from pipeline.core.crosscheck import DIFFERS, crosscheck
from pipeline.core.crosscheck import summary as crosscheck_summary
from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import parse_slug
from pipeline.core.trends import movement
from pipeline.edges import charts, ees
from pipeline.edges import contracts as ct
from pipeline.edges import reference as ref_io
from pipeline.edges.files import (
    LOCK,
    folder_lock,
    remove_stale_temporaries,
    sha256_file,
    write_text_atomic,
)
from pipeline.edges.render import stylesheet
from pipeline.orchestration import cache
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.executors import open_executor
from pipeline.orchestration.jobs import Job, JobResult, execute, kernel_spec
from pipeline.orchestration.progress import Progress
from pipeline.orchestration.run import (
    NEIGHBOUR_COLUMNS,
    WORK,
    Planned,
    Planner,
    _neighbour_lists,
    _select_regions,
    catalogue_records,
    discard_failed,
    manifest_entry,
)
from pipeline.orchestration.settings import PROJECT, Settings
from pipeline.orchestration.site import datapack_index_html, dumps_json
from pipeline.orchestration.tables import FiguresText, RowsText

MAPPING = "datapack.yaml"


@dataclass
class Published:
    """A source folder read through its mapping."""

    source: Path
    spec: ees.Spec
    catalogue: Catalogue
    reference: ref_io.Reference
    extract: ees.Extract


def load_published(source: Path, mapping: Path, reference_contract: Path) -> Published:
    """Read `source` as `mapping` says; the reference is checked against `reference_contract`
    and its window is the years the figures span."""
    source = Path(source)
    spec = ees.load_spec(mapping)
    lait = spec.reference.get("lait")
    catalogue = spec.catalogue(ees.lait_dictionary(source / str(lait)) if lait else {})
    reference = ref_io.from_public(
        source, spec.reference, ct.load_contract(reference_contract), spec.name, str(mapping)
    )
    extract = ees.extract(spec, source, catalogue, reference.aliases)
    years = sorted({parse_slug(p) for p in extract.figures["period"]})
    if years:
        reference = dataclasses.replace(reference, window=(years[0], years[-1]))
    return Published(source, spec, catalogue, reference, extract)


# --------------------------------------------------------------------------- the datapack run

#: the kind of report (its output file's stem) and its notebook
KIND, NOTEBOOK = "datapack", "annual_datapack"
#: the datapack's folder inside the output folder: its own index and manifest
FOLDER = "datapack"
#: what every datapack page says of disclosure control
AS_PUBLISHED = (
    "As published by DfE: the figures are DfE's own, already under its disclosure control. "
    "A figure DfE withheld (c, low) or did not publish (x, z) stays without a value; Tartan "
    "works out nothing DfE did not publish."
)
#: where an area's figure comes from (the `source` column of the areas table)
DFE_VALUE, DFE_COUNTS, TARTAN_SUM = "DfE published", "DfE published counts", "sum of LAs"


@dataclass
class DatapackSummary:
    """What a datapack run built and what its published cross-check found."""

    year: str
    results: list[JobResult]
    checked: pd.DataFrame  # pipeline.core.crosscheck COLUMNS
    index: Path

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status != "ok"]

    @property
    def differs(self) -> pd.DataFrame:
        return self.checked[self.checked["outcome"].eq(DIFFERS)]


def choose_year(years: list[str], wanted: list[str] | None) -> str:
    """The year asked for (the latest when none or 'latest'), one the figures have."""
    if not years:
        raise ConfigError("the source folder gave no figures for any year")
    if not wanted or wanted == ["latest"]:
        return years[-1]
    if len(wanted) != 1:
        raise ConfigError("a datapack is built for one year at a time (--year)")
    year = parse_slug(wanted[0]).slug
    if year not in years:
        raise ConfigError(f"year {wanted[0]!r} has no figures; years held: {', '.join(years)}")
    return year


def trend_window(year: str, years: list[str], trend_years: int) -> list[str]:
    """The years a datapack for `year` shows trends over: up to `trend_years`, those held."""
    p = parse_slug(year)
    wanted = [p.shifted(-k).slug for k in range(trend_years - 1, -1, -1)]
    return [y for y in wanted if y in years]


def area_figures(
    published: pd.DataFrame,
    tartan: pd.DataFrame,
    catalogue: Catalogue,
    trend_steps: int,
) -> pd.DataFrame:
    """The region and England figures a datapack shows: DfE's published value where it
    publishes one, else the ratio of DfE's published counts, else Tartan's sum of the LAs;
    with their movement over time (on those figures) and where each came from (`source`).

    `published`: the adapter's DfE area figures; `tartan`: ``benchmark``'s areas."""
    keys = ["area_code", "period", "indicator_id"]
    pub = published.copy()
    from_counts = ratio(pub["numerator"], pub["denominator"], pub["indicator_id"], catalogue)
    pub["dfe"] = pub["value"].where(pub["value"].notna(), from_counts)
    pub["source"] = np.where(
        pub["value"].notna(), DFE_VALUE, np.where(from_counts.notna(), DFE_COUNTS, "")
    )
    ours = tartan[[*keys, "area_type", "value", "status", "las_contributing", "las_in_area"]]
    out = ours.merge(
        pub[[*keys, "numerator", "denominator", "dfe", "source", "status"]].rename(
            columns={"status": "dfe_status"}
        ),
        on=keys,
        how="outer",
    )
    out["area_type"] = np.where(out["area_code"].eq("england"), "england", "region")
    has_dfe = out["dfe"].notna()
    out["value"] = out["dfe"].where(has_dfe, out["value"])
    out["source"] = np.where(has_dfe, out["source"], np.where(out["value"].notna(), TARTAN_SUM, ""))
    # DfE's own symbol where it published no number; otherwise no figure
    symbol = out["dfe_status"].fillna("").astype(str)
    out["status"] = np.where(
        out["value"].notna(), OK, np.where(symbol.ne("") & symbol.ne(OK), symbol, MISSING)
    )
    for col in ("las_contributing", "las_in_area"):
        out[col] = out[col].fillna(0).astype(int)
    moved = movement(
        out.rename(columns={"area_code": "la_code"})[
            ["la_code", "period", "indicator_id", "value", "status"]
        ],
        catalogue,
        trend_steps=trend_steps,
    ).rename(columns={"la_code": "area_code"})
    out = out.merge(moved, on=keys, how="left", validate="one_to_one")
    columns = [*keys, "numerator", "denominator", "value", "status", "las_contributing"]
    columns += ["las_in_area", "area_type", "source", *(c for c in moved if c not in keys)]
    order = {p: parse_slug(p).ordinal for p in out["period"].unique()}
    out = out.assign(_o=out["period"].map(order)).sort_values(
        ["_o", "indicator_id", "area_code"], kind="stable"
    )
    return out[columns].reset_index(drop=True)


def datapack(s: Settings) -> DatapackSummary:
    """Build the annual datapack of every region asked for from the published statistics in
    `s.data`, for the year `s.periods` names (the latest by default), into `s.out`/datapack:
    a report per region, the datapack's index and manifest, and the published cross-check.
    Holds the output folder's lock throughout; a killed run leaves no half-written file."""
    prov.build_date()  # a malformed SOURCE_DATE_EPOCH is refused before anything is written
    created = not s.out.exists()
    try:
        with folder_lock(s.out):
            remove_stale_temporaries(s.out)
            work = s.out / WORK
            shutil.rmtree(work, ignore_errors=True)
            try:
                return _datapack(s, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except (ConfigError, DataError):
        # found before anything is written: a folder this run made for its lock goes too
        if created and s.out.is_dir() and {p.name for p in s.out.iterdir()} <= {LOCK}:
            shutil.rmtree(s.out, ignore_errors=True)
        raise


@dataclass
class _Datapack:
    """What every region's datapack shares."""

    pub: Published
    year: str
    years: list[str]
    window: list[str]
    steps: int
    bench: pd.DataFrame  # benchmarked LA figures, every year
    areas: pd.DataFrame  # area_figures
    checked: pd.DataFrame
    planner: Planner
    digests: dict[str, str]  # every file read (relative to the source folder) -> SHA-256

    @cached_property
    def sources(self) -> list[dict]:
        """Each file the indicators come from, its SHA-256 and its indicators."""
        ids: dict[str, set[str]] = {}
        for src in self.pub.spec.sources:
            for column in src.columns.values():
                ids.setdefault(column.file, set()).add(src.indicator["id"])
        return [
            {"file": name, "sha256": self.digests[name], "indicators": sorted(ids[name])}
            for name in sorted(ids)
        ]

    @cached_property
    def text(self) -> dict[str, RowsText]:
        return {"las": RowsText(self.bench), "areas": RowsText(self.areas)}

    @cached_property
    def figures_text(self) -> FiguresText:
        ref = self.pub.reference
        former = dict(zip(ref.former["la_code"], ref.former["la_name"], strict=True))
        return FiguresText(
            self.bench,
            self.areas,
            former | ref.la_names,
            dict(ref.regions.itertuples(index=False)),
            self.pub.catalogue,
            NEIGHBOUR_COLUMNS,
        )


def _source_folder(source: Path) -> Path:
    source = Path(source)
    if not source.is_dir():
        raise ConfigError(
            f"{source}: no such folder (--source: the folder holding DfE's published files as "
            "downloaded, with the reference lists the mapping names)"
        )
    return source


def _datapack(s: Settings, work: Path) -> DatapackSummary:
    source = _source_folder(s.data)
    mapping = s.contracts / MAPPING
    pub = load_published(source, mapping, s.contracts / "reference.yaml")
    ref, catalogue, x = pub.reference, pub.catalogue, pub.extract
    years = sorted(set(x.figures["period"]), key=parse_slug)
    year = choose_year(years, s.periods)
    regions = _select_regions(ref, s.regions)
    if not (s.notebooks / f"{NOTEBOOK}.ipynb").is_file():
        raise ConfigError(f"{s.notebooks / NOTEBOOK}.ipynb: no such notebook (see --notebooks)")
    steps = pub.spec.trend_years - 1
    every_la = pd.concat(
        [ref.local_authorities[["la_code", "region_code"]], ref.former[["la_code", "region_code"]]]
    ).drop_duplicates("la_code")
    area_of = every_la.set_index("la_code")["region_code"]
    bench = benchmark(x.figures, every_la, catalogue, ref.statistical_neighbours, trend_steps=steps)
    areas = area_figures(x.published, bench["areas"], catalogue, steps)
    checked = crosscheck(x.cells, x.published, area_of, catalogue)

    reference_contract = ct.load_contract(s.contracts / "reference.yaml")
    versions = {"datapack": pub.spec.version, reference_contract.id: reference_contract.version}
    digests = {name: sha256_file(pub.source / name) for name in pub.spec.files}
    inputs = prov.combined_hash(list(digests.items()))
    config = prov.combined_hash(
        [
            (f"data_contracts/{p.name}", sha256_file(p))
            for p in (mapping, s.contracts / "reference.yaml")
        ]
    )
    run_prov = prov.run_provenance(
        PROJECT, ref.name, versions, inputs, config, disclosure=AS_PUBLISHED
    )
    page_banners = [(s.marking, "marking")] if s.marking else []
    s.out.mkdir(parents=True, exist_ok=True)
    folder = s.out / FOLDER
    earlier = {
        e["id"]: e
        for e in cache.read_manifest(folder).get("jobs", [])
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    }
    templates = work / "chart-templates.json"
    templates.parent.mkdir(parents=True, exist_ok=True)
    charts.write_templates(templates)
    from pipeline.orchestration import kernels

    with (
        kernels.server(os.environ | kernel_spec()["env"]) as kernel_server,
        open_executor(s.executor, s.workers, s.scheduler, str(templates)) as executor,
    ):
        planner = Planner(s, run_prov, page_banners, work, kernel_server=kernel_server)
        dp = _Datapack(
            pub,
            year,
            years,
            trend_window(year, years, pub.spec.trend_years),
            steps,
            bench["las"],
            areas,
            checked,
            planner,
            digests,
        )
        planned = [_region_job(dp, code, name) for code, name in regions.itertuples(index=False)]
        results = _run(s, planned, earlier, folder, executor)
    jobs = [p.job for p in planned]
    ordered = discard_failed(jobs, results)
    index = _write_site(dp, jobs, ordered, folder)
    return DatapackSummary(year, ordered, checked, index)


def _run(s: Settings, planned: list[Planned], earlier: dict, folder: Path, executor):
    """Run every job whose content key changed (all of them with --force)."""
    progress = Progress(len(planned), "Datapack", s.progress)
    results: dict[str, JobResult] = {}

    def start():
        for p in planned:
            hit = None if s.force else p.cached(earlier.get(p.job.id), folder)
            if hit is None:
                p.write_slice()
                yield p.job
                continue
            results[p.job.id] = hit
            progress.update(hit)

    def finished(job: Job, res: JobResult) -> list[Job]:
        results[job.id] = res
        progress.update(res)
        return []

    try:
        execute(start(), executor, finished)
    finally:
        progress.close()
    return results


def _region_job(dp: _Datapack, region_code: str, region_name: str) -> Planned:
    """The datapack of one region for the year."""
    ref, catalogue, year, window = dp.pub.reference, dp.pub.catalogue, dp.year, dp.window
    las = ref.local_authorities[ref.local_authorities["region_code"] == region_code]
    la_rows = dp.bench[dp.bench["la_code"].isin(las["la_code"]) & dp.bench["period"].isin(window)]
    areas = dp.areas[
        dp.areas["area_code"].isin([region_code, "england"]) & dp.areas["period"].isin(window)
    ]
    names = ref.la_names
    published = {c: "accepted" for c in las["la_code"]}
    story = narrative.regional_narrative(
        la_rows,
        areas,
        catalogue,
        year,
        region_code,
        region_name,
        names,
        published,
        narrative.national_spread(dp.bench, year),
        "England",
        first_period=dp.years[0],
        returns=False,
    )
    profile = narrative.region_profile(
        areas, catalogue, year, region_code, region_name, "England", dp.steps
    )
    at = next(i for i, para in enumerate(story) if para.key == "england") + 1
    story.insert(at, profile)
    checked = dp.checked[
        dp.checked["area_code"].isin([region_code, "england"]) & dp.checked["period"].isin(window)
    ]
    spec = dp.pub.spec
    context = {
        "region": {"code": region_code, "name": region_name},
        "period": year,
        "periods": window,
        "years_held": [dp.years[0], dp.years[-1]],
        "trend_years": spec.trend_years,
        "las": [
            {"la_code": c, "la_name": n, "return_status": "accepted"}
            for c, n in zip(las["la_code"], las["la_name"], strict=True)
        ],
        "catalogue": catalogue_records(catalogue),
        "catalogue_version": catalogue.version,
        "contract": f"{MAPPING} {spec.version}",
        "mapping": {
            "name": spec.name,
            "version": spec.version,
            "file": f"data_contracts/{MAPPING}",
        },
        "sources": dp.sources,
        "disclosure": AS_PUBLISHED,
        "england_label": "England",
        "narrative": [para.to_json() for para in story],
        "neighbours": _neighbour_lists(ref, las["la_code"]),
        "crosscheck": {
            "summary": crosscheck_summary(checked),
            "rows": json.loads(checked.to_json(orient="records")),
        },
    }
    params = {"region_code": region_code, "period": year, "slice_dir": "."}
    return dp.planner.job(
        KIND,
        NOTEBOOK,
        Path(FOLDER, year, region_code),
        params,
        window,
        context,
        {
            "figures.csv": dp.text["las"].csv(la_rows),
            "areas.csv": dp.text["areas"].csv(areas),
        },
        dp.figures_text.csv(la_rows, areas),
        title=f"{region_name}: annual datapack, {parse_slug(year).label}",
        breadcrumbs=[("All datapacks", "../../index.html")],
    )


def _write_site(dp: _Datapack, jobs: list[Job], results: list[JobResult], folder: Path) -> Path:
    """The datapack's index, its cross-check CSV and its manifest: this run's reports and
    those of other years an earlier run built here (while their files are there)."""
    s, ref = dp.planner.s, dp.pub.reference
    entries = [
        manifest_entry(job, res, folder, s.out) for job, res in zip(jobs, results, strict=True)
    ]
    regions = dict(ref.regions.itertuples(index=False))
    redone = {e["id"] for e in entries}
    for e in cache.read_manifest(folder).get("jobs", []):
        try:
            keep = (
                e["id"] not in redone
                and e["parameters"]["region_code"] in regions
                and parse_slug(e["parameters"]["period"])
                and all((folder / str(o)).is_file() for o in e["outputs"])
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            keep = False
        if keep:
            entries.append(e)
    entries.sort(key=lambda e: (-parse_slug(e["parameters"]["period"]).ordinal, e["id"]))
    checked = dp.checked
    counts = crosscheck_summary(checked)
    write_text_atomic(folder / "crosscheck.csv", checked.to_csv(index=False, lineterminator="\n"))
    footer = prov.footer_html(dp.planner.run_prov, "About these pages' data")
    html = datapack_index_html(
        stylesheet(),
        dp.pub.spec.name,
        dp.planner.banners,
        [
            {
                "year": e["parameters"]["period"],
                "region_code": e["parameters"]["region_code"],
                "region_name": regions[e["parameters"]["region_code"]],
                "href": f"{e['parameters']['period']}/{e['parameters']['region_code']}/{KIND}.html",
                "status": e["status"],
                "error": e.get("error", ""),
            }
            for e in entries
        ],
        counts,
        checked[checked["outcome"].eq(DIFFERS)].to_dict(orient="records"),
        regions,
        dp.pub.catalogue,
        dp.pub.extract.left_out.to_dict(orient="records"),
        footer,
        home="../index.html" if (s.out / "index.html").is_file() else None,
    )
    write_text_atomic(folder / "index.html", html)
    site = [folder / "index.html", folder / "crosscheck.csv"]
    manifest = {
        **dp.planner.run_prov,
        "year": dp.year,
        "crosscheck": counts,
        "files": {p.relative_to(folder).as_posix(): sha256_file(p) for p in site},
        "jobs": entries,
    }
    write_text_atomic(folder / "manifest.json", dumps_json(manifest))
    return folder / "index.html"
