"""The quarterly reports' jobs: the slice and page of each regional benchmarking report and
self-assessment evidence pack, from what every job of a run shares (`Plan`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core import assessment, narrative, priorities
from pipeline.core.exceptions import exceptions
from pipeline.core.findings import finding_place, group_findings
from pipeline.core.frames import records
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import MISSING
from pipeline.orchestration.planning import Planned, neighbour_lists
from pipeline.orchestration.products.quarterly_plan import Plan
from pipeline.orchestration.validation import ACCEPTED

#: the kinds of report, each its output file's stem and its notebook
REGIONAL, REGIONAL_NOTEBOOK = "regional-benchmark", "regional_benchmark"
PACK, PACK_NOTEBOOK = "self-assessment", "self_assessment_pack"


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
    mine = plan.la_rows.rows([la], window)
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
        now=plan.rows_in(mine, period),
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
    names = plan.la_names
    p = parse_slug(period)
    window = plan.window(period)
    las = reference.local_authorities[reference.local_authorities["region_code"] == region_code]
    la_rows = plan.la_rows.rows(las["la_code"], window)
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
        plan.spread(period),
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
    names = plan.la_names
    tables = {
        "figures.csv": plan.text["las"].csv(la_rows),
        "areas.csv": plan.text["areas"].csv(areas),
        "funnel.csv": plan.text["funnel"].csv(funnel),
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
    names = plan.la_names
    p = parse_slug(period)
    window = plan.window(period)
    status = plan.state.get((la, period), MISSING)
    sn = plan.neighbour_rows.rows([la]).sort_values("neighbour_rank")
    neighbours = list(sn["neighbour_la_code"])
    mine, areas = la_figures(plan, period, la, region_code)
    # The neighbours' own figures and bands, as their own packs publish them; not their own
    # comparators and ranks, which the pack does not show (and which change with LAs it is not
    # compared with).
    near = plan.neighbour_figures(neighbours, period)
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
        "population": _population(plan, la, p),
        "neighbours": _neighbours_context(plan, sn, period),
        **plan.common_context(),
        "assessment": assessed.to_json(),
        "exceptions": la_exceptions(plan, period, la, mine),
        "briefing": plan.briefing,
        "returns": _returns_of(plan, la, period),
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
    names, region_of, all_regions = plan.la_names, plan.region_of, plan.region_names
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


def _population(plan: Plan, la: str, p) -> dict | None:
    """The LA's 0-17 population: the latest year not after the period's start, else the
    earliest held."""
    pop = plan.population_rows.rows([la]).sort_values("year")
    if pop.empty:
        return None
    years = pop["year"].to_numpy()
    before = np.flatnonzero(years <= p.start_year)
    at = before[-1] if len(before) else 0
    return {"value": int(pop["population_0_17"].iloc[at]), "year": int(years[at])}


def _returns_of(plan: Plan, la: str, period: str) -> list[dict]:
    """Each return the LA sent for the period, with what validation found in it."""
    findings, notes_by = plan.file_rows
    out = []
    for o in plan.outcomes.get((la, period), []):
        found = findings.rows([o.file]) if findings else plan.v.findings
        noted = notes_by.rows([o.file]) if notes_by else plan.v.accepted_rows.iloc[:0]
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
                    for g in group_findings(records(found))
                ],
            }
        )
    return sorted(out, key=lambda r: r["file"])
