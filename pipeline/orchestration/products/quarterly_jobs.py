"""The quarterly reports' jobs: what every job of a run shares (`Plan`), and the slice and
page of each regional benchmarking report and self-assessment evidence pack."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline.core import assessment, narrative, priorities
from pipeline.core.exceptions import ExceptionRule, exceptions
from pipeline.core.findings import finding_place, group_findings
from pipeline.core.periods import parse_slug
from pipeline.core.questions import Bank
from pipeline.core.significance import INTERVAL_COLUMNS
from pipeline.core.vocabulary import MISSING, OK
from pipeline.edges import briefing_config
from pipeline.edges import reference as ref_io
from pipeline.edges.peer_challenge import PeerChallenge
from pipeline.orchestration.inputs import Inputs
from pipeline.orchestration.planning import (
    NEIGHBOUR_COLUMNS,
    Planned,
    Planner,
    catalogue_records,
    neighbour_lists,
)
from pipeline.orchestration.products.comparators import PUBLISHED, Chosen
from pipeline.orchestration.tables import FiguresText, RowsText
from pipeline.orchestration.validation import ACCEPTED, Validation

#: the trend periods a report shows, at most
TREND_PERIODS = 8
#: the kinds of report, each its output file's stem and its notebook
REGIONAL, REGIONAL_NOTEBOOK = "regional-benchmark", "regional_benchmark"
PACK, PACK_NOTEBOOK = "self-assessment", "self_assessment_pack"
#: what a regional report's funnel plots read of every LA's published figures
FUNNEL_COLUMNS = ["la_code", "indicator_id", "numerator", "denominator", "value", "status"]


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
    summary: dict  # the validation's summary, as the index shows it
    run_key: str  # cache.run_key: what the run read and was shaped by
    comparators: Chosen = field(default_factory=Chosen)
    #: the confidence level of comparisons and tests (95 or 99.8)
    level: float = 95.0
    #: the dataset's commentary: (period, region or LA code) -> ``edges.commentary.Commentary``
    commentary: dict = field(default_factory=dict)
    #: which figures an LA's pack asks it to explain (dataset.yaml commentary_exceptions)
    exception_rule: ExceptionRule = field(default_factory=ExceptionRule)
    #: the dataset's peer-challenge groups (peer_challenge.yaml), None without the file
    groups: PeerChallenge | None = None
    #: the questions for peer challenge (data_contracts/questions.yaml): their closing words
    questions: Bank = field(default_factory=Bank)
    #: the returns tracker: one entry per own LA and period (``orchestration.tracker``)
    tracker: list[dict] = field(default_factory=list)

    @property
    def provisional(self) -> set[tuple[str, str]]:
        """(LA, period) whose version the reports use is provisional (see `tracker`)."""
        return {(e["la_code"], e["period"]) for e in self.tracker if e["provisional"]}

    @property
    def england_label(self) -> str:
        if self.comparators.mode == PUBLISHED:
            return self.comparators.england_label
        return (
            "England (all demonstration LAs)" if self.inputs.reference.demonstration else "England"
        )

    @property
    def as_at(self) -> dict[str, str]:
        """Indicator id -> the date its published comparators are as at (none from returns)."""
        return self.comparators.dates if self.comparators.mode == PUBLISHED else {}

    @cached_property
    def briefing(self) -> dict:
        """The member briefing's measures, plain names and glossary, as every pack's slice
        carries them (``edges.briefing_config``): read when the first pack is planned, before
        any job runs."""
        s = self.s
        return briefing_config.load(s.contracts, s.data, self.inputs.catalogue).to_json()

    def record(self, period: str, window: list[str], params: dict, csv: str, inputs: str) -> dict:
        """A job's provenance (``Planner.record``): with published comparators, only the
        region is as at the report's quarter; the rest say their own dates (`comparators`)."""
        out = super().record(period, window, params, csv, inputs)
        if self.comparators.mode == PUBLISHED:
            out["comparators_as_at"] = {"region": period}
        return out

    def common_context(self) -> dict:
        """What every report's slice says of the catalogue, the contract and the comparators."""
        return {
            "catalogue": catalogue_records(self.inputs.catalogue),
            "catalogue_version": self.inputs.catalogue.version,
            "contract": self.inputs.contract.label,
            "disclosure": self.run_prov.get("disclosure", ""),
            "england_label": self.england_label,
            "comparators": self.comparators.to_json(),
            "level": self.level,
        }

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
        moves a figure that report shows. Their confidence intervals go too: an interval's
        width gives away its denominator."""
        hidden = ["numerator", "denominator", *INTERVAL_COLUMNS]
        return self.bench["areas"].assign(**{c: float("nan") for c in hidden})

    def areas(self, region_code: str, window: list[str]) -> pd.DataFrame:
        """The region's and England's published figures over `window`."""
        a = self.published_areas
        return a[a["area_code"].isin([region_code, "england"]) & a["period"].isin(window)]

    @cached_property
    def funnel_rows(self) -> dict[str, pd.DataFrame]:
        """Period -> every LA's published figure (status '', a value and a positive
        denominator) of each indicator with a count model: what a funnel plot shows. A
        withheld figure is never among them."""
        las = self.bench["las"]
        counted = [i.id for i in self.inputs.catalogue if i.count_model != "none"]
        den = pd.to_numeric(las["denominator"], errors="coerce")
        keep = las["status"].eq(OK) & las["value"].notna() & den.gt(0)
        keep &= las["indicator_id"].isin(counted)
        rows = las[keep]
        return {p: g[FUNNEL_COLUMNS] for p, g in rows.groupby("period", sort=False)}

    def funnel(self, period: str, la_codes) -> pd.DataFrame:
        """The figures a regional report's funnel plots show for `period`: every LA's from the
        returns; with published comparators, the region's own (`la_codes`: no other LA has a
        figure for the quarter)."""
        rows = self.funnel_rows.get(period, pd.DataFrame(columns=FUNNEL_COLUMNS))
        if self.comparators.mode == PUBLISHED:
            rows = rows[rows["la_code"].isin(list(la_codes))]
        return rows

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


def _commentary(plan: Plan, period: str, code: str) -> dict | None:
    """The region's (or LA's) commentary on the period, as its report shows it; None without."""
    note = plan.commentary.get((period, code))
    return note.to_json() if note is not None else None


def la_exceptions(plan: Plan, period: str, la: str, rows: pd.DataFrame) -> dict:
    """An LA's exceptions in `period` (from its figures `rows`) with its own words on each
    from its commentary file, and what it wrote on other indicators: a pack's section, and
    the index's count of what is still owed."""
    note = plan.commentary.get((period, la))
    said = note.to_json() if note is not None else {"sections": {}}
    items = exceptions(rows, plan.inputs.catalogue, period, plan.exception_rule)
    for item in items:
        item["commentary"] = said["sections"].get(item["indicator_id"])
    named = {i["indicator_id"] for i in items}
    labels = {i.id: i.label for i in plan.inputs.catalogue}
    return {
        "rule": plan.exception_rule.to_json(),
        "items": items,
        "owed": sum(i["commentary"] is None for i in items),
        "file": f"commentary/{period}/{la}.md",
        "note": None
        if note is None
        else {k: said[k] for k in ("file", "author", "date", "html", "paragraphs")},
        "other": [
            {"indicator_id": ind, "label": labels[ind], **words}
            for ind, words in said["sections"].items()
            if ind not in named
        ],
    }


def la_figures(
    plan: Plan, period: str, la: str, region_code: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An LA's figures over the trend window of `period`, and its region's and England's: what
    its pack and every other page about it read. None for an LA whose return for the period
    was not accepted: never an older or partial return in their place."""
    window = plan.window(period)
    figures = plan.bench["las"]
    mine = figures[(figures["la_code"] == la) & figures["period"].isin(window)]
    areas = plan.areas(region_code, window)
    if plan.state.get((la, period), MISSING) != ACCEPTED:
        mine, areas = mine.iloc[0:0], areas.iloc[0:0]
    return mine, areas


def la_assessment(
    plan: Plan, period: str, region_code: str, mine: pd.DataFrame, areas: pd.DataFrame
) -> assessment.Assessment:
    """An LA's strengths, areas for development, changes and questions (`la_figures`), as its
    pack states them and every other page about it repeats them."""
    return assessment.assess(
        mine,
        areas,
        plan.inputs.catalogue,
        period,
        region_code,
        plan.available[0],
        as_at=plan.as_at,
        level=plan.level,
        bank=plan.questions,
    )


def pack_id(period: str, region_code: str, la: str) -> str:
    """The id of an LA's pack job (its output's path without suffix), as `Planner.job` makes
    it."""
    return f"{period}/{region_code}/{la}/{PACK}"


def regional_job(
    plan: Plan, period: str, region_code: str, region_name: str, packs: dict, groups=()
) -> Planned:
    """The regional benchmarking report of one region and period, linking its LAs' packs built
    with it (`packs`: whether each is) and its peer-challenge group packs built (`groups`)."""
    reference, catalogue = plan.inputs.reference, plan.inputs.catalogue
    bench, names = plan.bench, reference.la_names
    p = parse_slug(period)
    window = plan.window(period)
    las = reference.local_authorities[reference.local_authorities["region_code"] == region_code]
    mine = bench["las"]["la_code"].isin(las["la_code"]) & bench["las"]["period"].isin(window)
    la_rows = bench["las"][mine]
    areas = plan.areas(region_code, window)
    tables, funnel_las = _regional_tables(plan, period, la_rows, areas, las["la_code"])
    return_status = {c: plan.state.get((c, period), MISSING) for c in las["la_code"]}
    story = narrative.regional_narrative(
        la_rows,
        areas,
        catalogue,
        period,
        region_code,
        region_name,
        names,
        return_status,
        # in published mode, how much all LAs' published figures differ
        narrative.national_spread(bench["las"], period) | plan.comparators.spread,
        plan.england_label,
        first_period=plan.available[0],
        as_at=plan.as_at,
        level=plan.level,
    )
    assessed = priorities.assess(
        plan.priorities.get(region_code, []), areas, la_rows, catalogue, period, region_code
    )
    context = {
        "region": {"code": region_code, "name": region_name},
        "period": period,
        "periods": window,
        "las": _las_context(las, period, return_status, packs, plan.provisional),
        **plan.common_context(),
        "narrative": [para.to_json() for para in story],
        "priorities": assessed,
        "priorities_file": plan.priorities_file,
        "neighbours": neighbour_lists(reference, las["la_code"]),
        "funnel_las": funnel_las,  # the names of every LA in the funnel plots
        "commentary": _commentary(plan, period, region_code),
    } | ({"groups": list(groups)} if groups else {})
    params = {"region_code": region_code, "period": period, "slice_dir": "."}
    return plan.job(
        REGIONAL,
        REGIONAL_NOTEBOOK,
        Path(period, region_code),
        params,
        window,
        context,
        tables,
        plan.figures_text.csv(la_rows, areas),
        title=f"{region_name}: quarterly benchmarking, {p.label}",
        breadcrumbs=[("All reports", "../../index.html")],
    )


def _regional_tables(
    plan: Plan, period: str, la_rows: pd.DataFrame, areas: pd.DataFrame, la_codes
) -> tuple[dict[str, str], dict[str, str]]:
    """A regional report's slice tables (file name -> CSV text): its LAs' figures, its areas'
    and every LA's published figures for its funnel plots; and the names of the LAs in
    those."""
    funnel = plan.funnel(period, la_codes)
    names = plan.inputs.reference.la_names
    tables = {
        "figures.csv": plan.text["las"].csv(la_rows),
        "areas.csv": plan.text["areas"].csv(areas),
        "funnel.csv": funnel.to_csv(index=False, lineterminator="\n", float_format="%.12g"),
    }
    return tables, {c: names.get(c, c) for c in sorted(set(funnel["la_code"]))}


def _las_context(
    las: pd.DataFrame, period: str, return_status: dict, packs: dict, provisional: set
) -> list[dict]:
    """The region's LAs as a regional report lists them, with links to the packs built and
    whether their figures are provisional (`provisional`: (LA, period) pairs)."""
    return [
        {
            "la_code": c,
            "la_name": n,
            "return_status": return_status[c],
            "pack": f"{c}/{PACK}.html" if packs.get((c, period)) else None,
            "pack_failed": packs.get((c, period)) is False,
            "provisional": (c, period) in provisional,
        }
        for c, n in zip(las["la_code"], las["la_name"], strict=True)
    ]


def pack_job(plan: Plan, period: str, la: str, region_code: str, region_name: str) -> Planned:
    """The self-assessment evidence pack of one LA and period. An LA whose return was not
    accepted, or that sent none, gets a pack that says so and shows no figures."""
    reference = plan.inputs.reference
    names = reference.la_names
    p = parse_slug(period)
    window = plan.window(period)
    status = plan.state.get((la, period), MISSING)
    sn = reference.statistical_neighbours
    sn = sn[sn["la_code"] == la].sort_values("neighbour_rank")
    neighbours = list(sn["neighbour_la_code"])
    mine, areas = la_figures(plan, period, la, region_code)
    # The neighbours' own figures and bands, as their own packs publish them; not their own
    # comparators and ranks, which the pack does not show (and which change with LAs it is not
    # compared with).
    figures = plan.bench["las"]
    near = figures.loc[
        figures["la_code"].isin(neighbours) & (figures["period"] == period), NEIGHBOUR_COLUMNS
    ]
    if status != ACCEPTED:  # no figures: never an older or partial return in their place
        near = near.iloc[0:0]
    assessed = la_assessment(plan, period, region_code, mine, areas)
    context = {
        "la": {"code": la, "name": names[la], "return_status": status}
        | {"provisional": (la, period) in plan.provisional},
        "region": {"code": region_code, "name": region_name},
        "period": period,
        "periods": window,
        "first_period": plan.available[0],
        "population": _population(reference, la, p),
        "neighbours": _neighbours_context(plan, sn, period),
        **plan.common_context(),
        "assessment": assessed.to_json(),
        "exceptions": la_exceptions(plan, period, la, mine),
        "briefing": plan.briefing,
        "returns": _returns_of(plan.v, la, period),
        "links": _pack_links(plan, la, period),
    }
    params = {"la_code": la, "region_code": region_code, "period": period, "slice_dir": "."}
    text = plan.text
    tables = {"figures.csv": text["las"].csv(mine), "neighbours.csv": text["neighbours"].csv(near)}
    tables["areas.csv"] = text["areas"].csv(areas)
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


def _pack_links(plan: Plan, la: str, period: str) -> dict:
    """Where a pack links: its regional report, and the LA's validation feedback if any."""
    feedback = plan.s.out / "validation" / "feedback" / f"{la}.html"
    return {
        "regional": f"../{REGIONAL}.html",
        "feedback": f"../../../validation/feedback/{la}.html#{period}"
        if (la, period) in plan.state and feedback.exists()
        else None,
    }


def _neighbours_context(plan: Plan, sn: pd.DataFrame, period: str) -> list[dict]:
    """An LA's statistical neighbours as its pack lists them, closest first."""
    reference = plan.inputs.reference
    names, region_of = reference.la_names, reference.region_of
    all_regions = dict(reference.regions.itertuples(index=False))
    return [
        {
            "rank": int(r.neighbour_rank),
            "la_code": r.neighbour_la_code,
            "la_name": names.get(r.neighbour_la_code, r.neighbour_la_code),
            "closeness": r.closeness,
            "region_name": all_regions.get(region_of.get(r.neighbour_la_code, ""), ""),
            "return_status": plan.state.get((r.neighbour_la_code, period), MISSING),
        }
        for r in sn.itertuples()
    ]


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
