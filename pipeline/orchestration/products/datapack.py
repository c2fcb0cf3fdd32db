"""The annual datapack: each region's LAs against their statistical neighbours, the region and
England, from DfE's published statistics (``products.published``), with the published
cross-check; its own index and manifest in the output folder's datapack/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline.core import narrative
from pipeline.core.benchmark import benchmark
from pipeline.core.crosscheck import DIFFERS, crosscheck
from pipeline.core.crosscheck import summary as crosscheck_summary
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.core.significance import DEFAULT_LEVEL, judge
from pipeline.edges import contracts as ct
from pipeline.edges import ees
from pipeline.edges.files import sha256_file, write_text_atomic
from pipeline.edges.render import stylesheet
from pipeline.html.base import footer
from pipeline.html.site import datapack_index_html
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.planning import (
    NEIGHBOUR_COLUMNS,
    Planned,
    Planner,
    catalogue_records,
    neighbour_lists,
    select_regions,
)
from pipeline.orchestration.products.datapack_runs import run_key, up_to_date
from pipeline.orchestration.products.published import (
    Published,
    area_figures,
    as_at,
    carried,
    choose_year,
    loading_published,
    trend_window,
)
from pipeline.orchestration.runner import Context, Product, Site, Spec
from pipeline.orchestration.settings import PROJECT, Settings
from pipeline.orchestration.tables import FiguresText, RowsText

MAPPING = "datapack.yaml"
#: the kind of report (its output file's stem) and its notebook
KIND, NOTEBOOK = "datapack", "annual_datapack"
#: the datapack's folder inside the output folder: its own index and manifest
FOLDER = "datapack"
#: what the funnel plots read of every LA's figures
FUNNEL_COLUMNS = ["la_code", "indicator_id", "numerator", "denominator", "value", "status"]
#: what every datapack page says of disclosure control
AS_PUBLISHED = (
    "As published by DfE: the figures are DfE's own, already under its disclosure control. "
    "A figure DfE withheld (c, low) or did not publish (x, z) stays without a value; Tartan "
    "works out nothing DfE did not publish."
)


#: the columns of ees.Extract.left_out, as the manifest records them
LEFT_OUT = ["file", "la_code", "la_name", "reason", "rows", "indicators"]


@dataclass
class DatapackSummary:
    """What a datapack run built and what its published cross-check found."""

    year: str
    results: list[JobResult]
    checked: pd.DataFrame  # pipeline.core.crosscheck COLUMNS
    index: Path
    left_out: pd.DataFrame  # ees.Extract.left_out: LA rows no reference LA matched

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status != "ok"]

    @property
    def differs(self) -> pd.DataFrame:
        return self.checked[self.checked["outcome"].eq(DIFFERS)]


@dataclass
class Prepared(Planner):
    """What every region's datapack shares."""

    pub: Published
    year: str
    years: list[str]
    window: list[str]
    steps: int
    level: float  # the confidence level of comparisons and tests (95 or 99.8)
    bench: pd.DataFrame  # benchmarked LA figures, every year
    areas: pd.DataFrame  # area_figures
    checked: pd.DataFrame
    digests: dict[str, str]  # every file read (relative to the source folder) -> SHA-256
    as_at: dict[str, str]  # indicator id -> the year its figure for `year` is of
    run_key: str  # run_key: what the run read and was shaped by

    @cached_property
    def dates(self) -> dict[str, dict]:
        """Per indicator, what its figure for the datapack's year is as at: `year` (its own
        year), `date` ("31 March 2025", "30 September 2025") and `other` (True when not the
        datapack's year to 31 March: a file that ends earlier, or a year that ends on
        another date)."""
        out = {}
        for src in self.pub.spec.sources:
            year = self.as_at.get(src.id, self.year)
            out[src.id] = {
                "year": year,
                "date": f"{src.year_end} {parse_slug(year).start_year}",
                "other": year != self.year or src.year_end != ees.YEAR_END,
            }
        return out

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
    def funnel(self) -> pd.DataFrame:
        """What every datapack's funnel plots show: each LA's published figure for the year
        (status '') of each indicator with a count model, a jointly run service's once."""
        b = self.bench
        counted = [i.id for i in self.pub.catalogue if i.count_model != "none"]
        keep = b["period"].eq(self.year) & b["indicator_id"].isin(counted) & b["status"].eq("")
        keep &= b["la_code"].isin(self.pub.reference.local_authorities["la_code"])
        rows = b[keep]
        again = rows["shared"].ne("") & rows.duplicated(["indicator_id", "shared"])
        return rows.loc[~again, FUNNEL_COLUMNS]

    @cached_property
    def funnel_las(self) -> dict[str, str]:
        """The name of each LA in the funnel plots (a jointly run service's: both LAs')."""
        names = self.pub.reference.la_names
        f = self.bench.loc[self.funnel.index]
        return {
            code: " / ".join(names.get(c, c) for c in joint.split(" / ")) if joint else names[code]
            for code, joint in sorted(zip(f["la_code"], f["shared"], strict=True))
        }

    @cached_property
    def text(self) -> dict[str, RowsText]:
        return {
            "las": RowsText(self.bench),
            "areas": RowsText(self.areas),
            "funnel": RowsText(self.funnel),
        }

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

    @cached_property
    def spread(self) -> dict[str, float]:
        """Each indicator's national spread in the year (every region's narrative reads it)."""
        return narrative.national_spread(self.bench, self.year)

    @cached_property
    def regions(self) -> dict[str, str]:
        return dict(self.pub.reference.regions.itertuples(index=False))


class Datapack(Product):
    name = "datapack"
    what = "Datapack"
    folder = FOLDER

    def up_to_date(self, s: Settings) -> dict | None:
        self._settings = s
        return up_to_date(s, FOLDER, NOTEBOOK)

    def nothing_to_do(self, manifest: dict) -> DatapackSummary:
        return unchanged_summary(self._settings, manifest)

    def prepare(self, ctx: Context) -> Prepared:
        return prepare(ctx)

    def specs(self, dp: Prepared) -> list[Spec]:
        regions = select_regions(dp.pub.reference, dp.s.regions)
        return [
            Spec(f"{FOLDER}/{dp.year}/{code}/{KIND}", KIND, (code, name))
            for code, name in regions.itertuples(index=False)
        ]

    def plan(self, dp: Prepared, spec: Spec, needs: dict[str, JobResult]) -> Planned:
        return region_job(dp, *spec.params)

    def keep(self, dp: Prepared, entry: dict) -> bool:
        params = entry["parameters"]
        return params["region_code"] in dp.regions and bool(parse_slug(params["period"]))

    def sort_key(self, entry: dict):
        return (-parse_slug(entry["parameters"]["period"]).ordinal, entry["id"])

    def write_site(self, dp: Prepared, entries: list[dict]) -> Site:
        return write_site(dp, entries)

    def summary(self, dp: Prepared, results: list[JobResult], site: Site | None):
        return DatapackSummary(
            dp.year, results, dp.checked, dp.s.out / FOLDER / "index.html", dp.pub.extract.left_out
        )


def _source_folder(source: Path) -> Path:
    source = Path(source)
    if not source.is_dir():
        raise ConfigError(
            f"{source}: no such folder (--source: the folder holding DfE's published files as "
            "downloaded, with the reference lists the mapping names)"
        )
    return source


def prepare(ctx: Context) -> Prepared:
    """Read the source folder through the mapping, benchmark every year once and cross-check
    DfE's own area figures: what every region's datapack reads."""
    s = ctx.s
    key = run_key(s, NOTEBOOK)
    mapping = s.contracts / MAPPING
    with loading_published(_source_folder(s.data), mapping, s.contracts / "reference.yaml") as pub:
        return _prepared(ctx, key, pub)


def _prepared(ctx: Context, key: str, pub: Published) -> Prepared:
    """`prepare`'s work on the published figures, while their reference's check runs aside."""
    s = ctx.s
    ref, catalogue, x = pub.reference, pub.catalogue, pub.extract
    years = sorted(set(x.figures["period"]), key=parse_slug)
    year = choose_year(years, s.periods)
    select_regions(ref, s.regions)
    if not (s.notebooks / f"{NOTEBOOK}.ipynb").is_file():
        raise ConfigError(f"{s.notebooks / NOTEBOOK}.ipynb: no such notebook (see --notebooks)")
    steps = pub.spec.trend_years - 1
    years_of = as_at(x.figures, year)
    every_la = pd.concat(
        [ref.local_authorities[["la_code", "region_code"]], ref.former[["la_code", "region_code"]]]
    ).drop_duplicates("la_code")
    level = s.level or DEFAULT_LEVEL
    bench = benchmark(
        x.figures, every_la, catalogue, ref.statistical_neighbours, trend_steps=steps, level=level
    )
    judged_las, judged_areas = judge(
        bench["las"], area_figures(x.published, bench["areas"], catalogue, steps), catalogue, level
    )
    area_of = every_la.set_index("la_code")["region_code"]
    digests = {name: sha256_file(pub.source / name) for name in pub.spec.files}
    s.out.mkdir(parents=True, exist_ok=True)
    return Prepared(
        s=s,
        run_prov=_run_provenance(s, pub, digests),
        banners=[(s.marking, "marking")] if s.marking else [],
        work=ctx.work,
        kernel_server=ctx.kernel_server,
        pub=pub,
        year=year,
        years=years,
        window=trend_window(year, years, pub.spec.trend_years),
        steps=steps,
        level=level,
        bench=carried(judged_las, year, years_of),
        areas=carried(judged_areas, year, years_of),
        checked=crosscheck(
            x.cells,
            x.published,
            area_of,
            catalogue,
            tolerance=pub.spec.tolerances,
            parts=pub.spec.parts,
        ),
        digests=digests,
        as_at=years_of,
        run_key=key,
    )


def unchanged_summary(s: Settings, manifest: dict) -> DatapackSummary:
    """What an up-to-date run reports: the last run's reports of its year (those asked for),
    unchanged, and its cross-check as its CSV holds it."""
    year, folder = manifest["year"], s.out / FOLDER
    results = [
        JobResult(j["id"], "ok", j["outputs"], output_sha256=j["output_sha256"], cached=True)
        for j in manifest["jobs"]
        if j["parameters"]["period"] == year
        and (not s.regions or j["parameters"]["region_code"] in s.regions)
    ]
    checked = pd.read_csv(
        folder / "crosscheck.csv", dtype={"period": str}, keep_default_na=False, na_values=[""]
    )
    left_out = pd.DataFrame(manifest.get("left_out", []), columns=LEFT_OUT)
    return DatapackSummary(year, results, checked, folder / "index.html", left_out)


def _run_provenance(s: Settings, pub: Published, digests: dict[str, str]) -> dict:
    """The run's facts: the mapping's and reference contract's versions and hashes, and the
    hash of every published file read."""
    mapping, reference = s.contracts / MAPPING, s.contracts / "reference.yaml"
    reference_contract = ct.load_contract(reference)
    versions = {"datapack": pub.spec.version, reference_contract.id: reference_contract.version}
    config = prov.combined_hash(
        [(f"data_contracts/{p.name}", sha256_file(p)) for p in (mapping, reference)]
    )
    return prov.run_provenance(
        PROJECT,
        pub.reference.name,
        versions,
        prov.combined_hash(list(digests.items())),
        config,
        disclosure=AS_PUBLISHED,
    )


def region_job(dp: Prepared, region_code: str, region_name: str) -> Planned:
    """The datapack of one region for the year."""
    ref, year, window = dp.pub.reference, dp.year, dp.window
    las = ref.local_authorities[ref.local_authorities["region_code"] == region_code]
    la_rows = dp.bench[dp.bench["la_code"].isin(las["la_code"]) & dp.bench["period"].isin(window)]
    in_view = [region_code, "england"]
    areas = dp.areas[dp.areas["area_code"].isin(in_view) & dp.areas["period"].isin(window)]
    checked = dp.checked[dp.checked["area_code"].isin(in_view) & dp.checked["period"].isin(window)]
    context = {
        "region": {"code": region_code, "name": region_name},
        "period": year,
        "periods": window,
        "years_held": [dp.years[0], dp.years[-1]],
        "trend_years": dp.pub.spec.trend_years,
        "las": [
            {"la_code": c, "la_name": n, "return_status": "accepted"}
            for c, n in zip(las["la_code"], las["la_name"], strict=True)
        ],
        **_about(dp),
        "narrative": _story(dp, region_code, region_name, las, la_rows, areas),
        "neighbours": neighbour_lists(ref, las["la_code"]),
        "funnel_las": dp.funnel_las,  # the names of every LA in the funnel plots
        "shared": {
            joint: " / ".join(ref.la_names.get(c, c) for c in joint.split(" / "))
            for joint in sorted(set(la_rows["shared"]) - {""})
        },
        "crosscheck": {
            "summary": crosscheck_summary(checked),
            "rows": json.loads(checked.to_json(orient="records")),
        },
    }
    params = {"region_code": region_code, "period": year, "slice_dir": "."}
    return dp.job(
        KIND,
        NOTEBOOK,
        Path(FOLDER, year, region_code),
        params,
        window,
        context,
        {
            "figures.csv": dp.text["las"].csv(la_rows),
            "areas.csv": dp.text["areas"].csv(areas),
            "funnel.csv": dp.text["funnel"].csv(dp.funnel),
        },
        dp.figures_text.csv(la_rows, areas),
        title=f"{region_name}: annual datapack, {parse_slug(year).label}",
        breadcrumbs=[("All datapacks", "../../index.html")],
    )


def _about(dp: Prepared) -> dict:
    """What every datapack's slice says of the catalogue, the mapping and its sources."""
    spec, catalogue = dp.pub.spec, dp.pub.catalogue
    return {
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
        "as_at": dp.dates,
        "level": dp.level,
    }


def _story(dp: Prepared, region_code, region_name, las, la_rows, areas) -> list[dict]:
    """The datapack's narrative: the regional story with the region's profile after the
    paragraph on England."""
    story = narrative.regional_narrative(
        la_rows,
        areas,
        dp.pub.catalogue,
        dp.year,
        region_code,
        region_name,
        dp.pub.reference.la_names,
        {c: "accepted" for c in las["la_code"]},
        dp.spread,
        "England",
        first_period=dp.years[0],
        returns=False,
        level=dp.level,
    )
    profile = narrative.region_profile(
        areas,
        dp.pub.catalogue,
        dp.year,
        region_code,
        region_name,
        "England",
        dp.steps,
        level=dp.level,
    )
    at = next(i for i, para in enumerate(story) if para.key == "england") + 1
    story.insert(at, profile)
    return [para.to_json() for para in story]


def write_site(dp: Prepared, entries: list[dict]) -> Site:
    """The datapack's index and its cross-check CSV: this run's reports and those of other
    years an earlier run built here (while their files are there)."""
    s, folder, checked = dp.s, dp.s.out / FOLDER, dp.checked
    counts = crosscheck_summary(checked)
    write_text_atomic(folder / "crosscheck.csv", checked.to_csv(index=False, lineterminator="\n"))
    html = datapack_index_html(
        stylesheet(),
        dp.pub.spec.name,
        dp.banners,
        [_index_row(dp, e) for e in entries],
        counts,
        checked[checked["outcome"].eq(DIFFERS)].to_dict(orient="records"),
        dp.regions,
        dp.pub.catalogue,
        dp.pub.extract.left_out.to_dict(orient="records"),
        footer(prov.facts(dp.run_prov), "About these pages' data"),
        home="../index.html" if (s.out / "index.html").is_file() else None,
    )
    write_text_atomic(folder / "index.html", html)
    facts = {"year": dp.year, "crosscheck": counts, "run_key": dp.run_key}
    facts["left_out"] = dp.pub.extract.left_out.to_dict(orient="records")
    return Site([folder / "index.html", folder / "crosscheck.csv"], facts)


def _index_row(dp: Prepared, e: dict) -> dict:
    year, code = e["parameters"]["period"], e["parameters"]["region_code"]
    return {
        "year": year,
        "region_code": code,
        "region_name": dp.regions[code],
        "href": f"{year}/{code}/{KIND}.html",
        "status": e["status"],
        "error": e.get("error", ""),
    }


def datapack(s: Settings) -> DatapackSummary:
    """Build the annual datapack of every region asked for from the published statistics in
    `s.data`, for the year `s.periods` names (the latest by default), into `s.out`/datapack:
    a report per region, the datapack's index and manifest, and the published cross-check."""
    from pipeline.orchestration.runner import run

    return run(Datapack(), s)
