"""The quarterly run's peer-challenge group packs: one per group of the dataset's
``peer_challenge.yaml`` (``pipeline.edges.peer_challenge``) and per period packs are built for in
the groups' year, beside its region's report as ``<period>/<region>/peer-challenge-<id>``.

A group pack needs its LAs' own pack jobs: it links only those that were built, and repeats each
LA's strengths, areas for development and questions exactly as its pack states them (the same
`la_figures` and `la_assessment`). Its region's report needs the group packs, to link them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import MISSING
from pipeline.edges.peer_challenge import Group, PeerChallenge
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.planning import Planned
from pipeline.orchestration.products.quarterly_jobs import (
    PACK,
    REGIONAL,
    Plan,
    la_assessment,
    la_figures,
    pack_id,
)
from pipeline.orchestration.runner import Spec

#: the group pack's kind (its file's stem, before the group's id) and its notebook
GROUP, GROUP_NOTEBOOK = "peer-challenge", "peer_challenge_pack"


def group_stem(group_id: str) -> str:
    """A group pack's file name without suffix."""
    return f"{GROUP}-{group_id}"


def group_job_id(period: str, region_code: str, group_id: str) -> str:
    """The id of a group pack's job (its output's path without suffix)."""
    return f"{period}/{region_code}/{group_stem(group_id)}"


def group_specs(
    groups: PeerChallenge | None, pack_periods: list[str], regions: list[tuple[str, str]]
) -> list[Spec]:
    """A group pack per group of each region asked for, per period its packs are built for that
    is in the groups' year; each needs its LAs' pack jobs."""
    if groups is None:
        return []
    return [
        Spec(
            group_job_id(period, code, g.id),
            GROUP,
            (period, code, name, g.id),
            needs=tuple(pack_id(period, code, la) for la in g.las),
        )
        for period in pack_periods
        if groups.covers(period)
        for code, name in regions
        for g in groups.in_region(code)
    ]


def region_groups(groups: PeerChallenge | None, period: str, region_code: str) -> list[str]:
    """The job ids of a region's group packs for `period` (none outside the groups' year)."""
    if groups is None or not groups.covers(period):
        return []
    return [group_job_id(period, region_code, g.id) for g in groups.in_region(region_code)]


def built_groups(plan: Plan, needs: dict[str, JobResult]) -> list[dict]:
    """The group packs a regional report links (relative to it): those built, by name."""
    out = []
    for job_id, result in needs.items():
        stem = job_id.rsplit("/", 1)[-1]
        if not stem.startswith(f"{GROUP}-") or plan.groups is None:
            continue
        g = plan.groups.group(stem.removeprefix(f"{GROUP}-"))
        if g is None or result.status != "ok":
            continue
        names = [plan.inputs.reference.la_name(la) for la in g.las]
        out.append({"id": g.id, "name": g.name, "href": f"{stem}.html", "las": names})
    return sorted(out, key=lambda x: (x["name"], x["id"]))


def keep_group(plan: Plan, params: dict) -> bool:
    """Whether an earlier run's group pack still names a group of the file, of its year."""
    groups = plan.groups
    if groups is None or not groups.covers(str(params["period"])):
        return False
    return groups.group(str(params.get("group_id"))) is not None


def group_job(
    plan: Plan,
    period: str,
    region_code: str,
    region_name: str,
    group_id: str,
    needs: dict[str, JobResult],
) -> Planned:
    """The peer-challenge pack of one group and period: its LAs side by side on the headline
    indicators, each one's evidence as its pack states it, who moderates whom, and what the
    moderators might ask. An LA whose return was not accepted is shown without figures."""
    g = plan.groups.group(group_id)
    p = parse_slug(period)
    chosen = list(plan.groups.indicators)
    rows, las = [], []
    for la in g.las:
        mine, areas = la_figures(plan, period, la, region_code)
        assessed = la_assessment(plan, period, region_code, mine, areas)
        pack = needs.get(pack_id(period, region_code, la))
        las.append(_la_context(plan, g, la, period, assessed, pack))
        rows.append(mine[mine["period"].eq(period) & mine["indicator_id"].isin(chosen)])
    window = plan.window(period)
    areas = plan.areas(region_code, [period])
    areas = areas[areas["indicator_id"].isin(chosen)]
    figures = pd.concat(rows) if rows else plan.bench["las"].iloc[0:0]
    context = {
        "group": g.to_json() | {"year": plan.groups.year},
        "region": {"code": region_code, "name": region_name},
        "period": period,
        "indicators": chosen,
        "las": las,
        **plan.common_context(),
        "links": {"regional": f"{REGIONAL}.html", "index": "../../index.html"},
    }
    params = {"group_id": g.id, "region_code": region_code, "period": period, "slice_dir": "."}
    tables = {"figures.csv": plan.text["las"].csv(figures)}
    tables["areas.csv"] = plan.text["areas"].csv(areas)
    return plan.job(
        GROUP,
        GROUP_NOTEBOOK,
        Path(period, region_code),
        params,
        window,
        context,
        tables,
        plan.figures_text.csv(figures, areas),
        title=f"{g.name}: peer-challenge group pack, {p.label}",
        breadcrumbs=[
            ("All reports", "../../index.html"),
            (f"{region_name}: regional benchmark, {p.label}", f"{REGIONAL}.html"),
        ],
        stem=group_stem(g.id),
    )


def _la_context(
    plan: Plan, g: Group, la: str, period: str, assessed, pack: JobResult | None
) -> dict:
    """One LA of a group as its group pack shows it: its return, its pack (when built), its
    strengths, areas for development and questions, and who moderates it and whom it
    moderates."""
    reference = plan.inputs.reference
    a = assessed.to_json()
    moderator = g.moderators.get(la)
    moderates = sorted(
        (other, og.id)
        for og in plan.groups.groups
        for other, mod in og.moderators.items()
        if mod == la
    )
    return {
        "code": la,
        "name": reference.la_name(la),
        "return_status": plan.state.get((la, period), MISSING),
        "provisional": (la, period) in plan.provisional,
        "pack": f"{la}/{PACK}.html" if pack is not None and pack.status == "ok" else None,
        "strengths": a["strengths"],
        "development": a["development"],
        "questions": a["questions"],
        "moderator": None
        if moderator is None
        else {"code": moderator, "name": reference.la_name(moderator)},
        "moderates": [
            {"code": other, "name": reference.la_name(other), "group": plan.groups.group(gid).name}
            for other, gid in moderates
        ],
    }


def group_note(plan: Plan, entries: list[dict]) -> str:
    """Why the index lists no group pack though the dataset has groups: none of the quarters
    built with packs is in the groups' year ('' when there are group packs, or no groups)."""
    if plan.groups is None or any(e.get("kind") == GROUP for e in entries):
        return ""
    return (
        f"peer_challenge.yaml names groups for {plan.groups.year}, but no quarter of that year "
        "has self-assessment packs in this folder, so there are no group packs: they are built "
        "with the packs of the year's quarters (--packs latest or all)."
    )


def group_index(plan: Plan, entries: list[dict]) -> list[dict]:
    """The index's group packs (this run's and earlier runs' kept): period, region, name,
    href, status, error and the group's LAs by name."""
    reference = plan.inputs.reference
    regions = dict(reference.regions.itertuples(index=False))
    out = []
    for e in entries:
        if e.get("kind") != GROUP:
            continue
        params = e["parameters"]
        g = plan.groups.group(params["group_id"]) if plan.groups else None
        if g is None:
            continue
        out.append(
            {
                "period": params["period"],
                "region_code": params["region_code"],
                "region_name": regions.get(params["region_code"], params["region_code"]),
                "name": g.name,
                "href": f"{e['id']}.html",
                "status": e["status"],
                "error": e.get("error", ""),
                "las": [reference.la_name(la) for la in g.las],
            }
        )
    return sorted(out, key=lambda x: (x["period"], x["region_code"], x["name"]))
