"""The quarterly reports: every region's benchmarking report for every period asked for, and
each LA's self-assessment evidence pack, from the validated returns; the folder's index."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.benchmark import benchmark
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.core.significance import judge
from pipeline.core.stopwatch import stage
from pipeline.core.vocabulary import MISSING
from pipeline.edges import commentary, peer_challenge, question_bank
from pipeline.edges import contracts as ct
from pipeline.edges.files import sha256_file, write_text_atomic
from pipeline.edges.render import stylesheet
from pipeline.html.base import footer
from pipeline.html.pack import BRIEFING
from pipeline.html.site import index_html
from pipeline.orchestration import cache
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.inputs import (
    banners,
    config_hash,
    disclosure_text,
    published,
    return_states,
    validate,
    write_validation,
)
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.planning import Planned, select_periods, select_regions
from pipeline.orchestration.products.comparators import check_source, choose
from pipeline.orchestration.products.quarterly_groups import (
    GROUP,
    GROUP_NOTEBOOK,
    built_groups,
    group_index,
    group_job,
    group_note,
    group_specs,
    keep_group,
    region_groups,
)
from pipeline.orchestration.products.quarterly_jobs import (
    PACK,
    PACK_NOTEBOOK,
    REGIONAL,
    REGIONAL_NOTEBOOK,
    Plan,
    la_exceptions,
    pack_id,
    pack_job,
    regional_job,
)
from pipeline.orchestration.products.quarterly_product import Quarterly, RunSummary
from pipeline.orchestration.runner import Context, Site, Spec
from pipeline.orchestration.settings import PROJECT, Settings
from pipeline.orchestration.tracker import for_run as tracker_for_run
from pipeline.orchestration.validation import ACCEPTED, Validation

#: the annual datapack's index in the output folder (pipeline.orchestration.products.datapack)
DATAPACK_INDEX = "datapack/index.html"


def specs(plan: Plan) -> list[Spec]:
    """What the settings ask for: each LA's pack, then each regional report, which needs
    its LAs' packs of its period (it links only to those that were built)."""
    s, reference = plan.s, plan.inputs.reference
    periods = select_periods(plan.available, s.periods)
    regions = list(select_regions(reference, s.regions).itertuples(index=False))
    pack_periods = {"latest": periods[-1:], "all": periods, "none": []}[s.packs]
    las = reference.local_authorities
    region_las = {
        code: sorted(las.loc[las["region_code"] == code, "la_code"]) for code, _ in regions
    }
    packs = [
        Spec(pack_id(period, code, la), PACK, (period, la, code, name))
        for period in pack_periods
        for code, name in regions
        for la in region_las[code]
    ]
    groups = group_specs(plan.groups, pack_periods, regions)
    regional = [
        Spec(
            f"{period}/{code}/{REGIONAL}",
            REGIONAL,
            (period, code, name),
            needs=tuple(
                pack_id(period, code, la) for la in region_las[code] if period in pack_periods
            )
            + tuple(g for g in region_groups(plan.groups, period, code) if period in pack_periods),
        )
        for period in periods
        for code, name in regions
    ]
    return packs + groups + regional


def plan_job(plan: Plan, spec: Spec, needs: dict[str, JobResult]) -> Planned:
    """The job of `spec`, its needs' results in hand."""
    if spec.kind == PACK:
        return pack_job(plan, *spec.params)
    if spec.kind == GROUP:
        return group_job(plan, *spec.params, needs)
    period, code, _ = spec.params
    las = plan.inputs.reference.local_authorities
    built = {
        (la, period): needs[pid].status == "ok"
        for la in las.loc[las["region_code"] == code, "la_code"]
        if (pid := pack_id(period, code, la)) in needs
    }
    return regional_job(plan, *spec.params, built, built_groups(plan, needs))


def keep(plan: Plan, entry: dict) -> bool:
    """Whether an earlier run's manifest entry, not redone, still names a known report."""
    params = entry["parameters"]
    reference = plan.inputs.reference
    known = params["region_code"] in set(reference.regions["region_code"])
    known = known and parse_slug(params["period"])
    if entry.get("kind", REGIONAL) == PACK:
        known = known and params["la_code"] in reference.la_names
    if entry.get("kind") == GROUP:
        known = known and keep_group(plan, params)
    return bool(known)


def prepare(ctx: Context) -> Plan:
    """Validate, write the validation pages, benchmark everything once: what every job reads."""
    s = ctx.s
    key = cache.run_key(s)
    with stage("validation"):
        v, inputs = validate(s)
        reference = inputs.reference
        check_source(reference, s.contracts)
    # Disclosure control first: nothing below sees a withheld figure, bar the areas' totals.
    with stage("disclosure control"):
        grid, sdc = published(s, v, inputs)
        v = v.published(sdc.removed)
    available = sorted(grid["period"].unique(), key=parse_slug)
    _check_request(s, reference, available)
    las = reference.local_authorities
    notes, groups = _commentary(s, las, available, inputs), _groups(s, inputs)
    run_prov = _run_provenance(s, v, inputs)
    level = s.level or reference.level
    site_footer = footer(prov.facts(run_prov), "About these pages' data")
    page_banners = banners(s, reference)
    with stage("validation pages"):
        vjson = _validation_written(s, v, inputs, sdc.removed, site_footer, page_banners)
    with stage("benchmark"):
        bench, chosen = _benchmarked(s, inputs, sdc, grid, level)
    del grid
    run_prov["comparators"] = chosen.to_json()
    # the index's footer names the reports' comparators (the validation pages' was written above)
    site_footer = footer(prov.facts(run_prov), "About these pages' data")
    region_priorities, priorities_file = _priorities(s, inputs)
    return Plan(
        s=s,
        run_prov=run_prov,
        banners=page_banners,
        work=ctx.work,
        kernel_server=ctx.kernel_server,
        inputs=inputs,
        v=v,
        bench=bench,
        state=return_states(v),
        available=available,
        priorities=region_priorities,
        priorities_file=priorities_file,
        site_footer=site_footer,
        summary=vjson["summary"],
        tracker=vjson["tracker"],
        run_key=key,
        comparators=chosen,
        level=level,
        commentary=notes,
        exception_rule=commentary.rule_of(s.data),
        groups=groups,
        questions=question_bank.load(s.contracts / question_bank.QUESTIONS, inputs.catalogue),
    )


def _benchmarked(s: Settings, inputs, sdc, grid, level: float) -> tuple[dict, object]:
    """Every LA and area benchmarked on the published figures (`grid`: the areas' totals),
    with the comparators chosen and each figure judged at `level`."""
    reference = inputs.reference
    bench = benchmark(
        sdc.published,
        reference.local_authorities,
        inputs.catalogue,
        reference.statistical_neighbours,
        totals=grid,
        withheld_areas=sdc.withheld_areas,
        level=level,
    )
    bench, chosen = choose(reference, bench, inputs.catalogue, s.contracts)
    bench["las"], bench["areas"] = judge(bench["las"], bench["areas"], inputs.catalogue, level)
    return bench, chosen


def _validation_written(
    s: Settings, v: Validation, inputs, withheld, site_footer: str, page_banners: list
) -> dict:
    """The validation pages, validation.json (with the returns tracker: exit 2 on a bad
    deadline or received.yaml) and JUnit XML, written first: they stand even if every report
    fails."""
    s.out.mkdir(parents=True, exist_ok=True)
    return write_validation(
        s.out,
        v,
        inputs.reference,
        site_footer,
        page_banners,
        complete=not s.returns,
        tracker=tracker_for_run(s, v, inputs, withheld),
    )


def _commentary(s: Settings, las, available: list[str], inputs) -> dict:
    """The dataset's commentary files, each checked against the regions, LAs, periods and
    indicators it may name."""
    return commentary.load(
        s.data,
        set(las["region_code"]),
        set(las["la_code"]),
        set(available),
        {i.id for i in inputs.catalogue},
    )


def _groups(s: Settings, inputs) -> peer_challenge.PeerChallenge | None:
    """The dataset's peer-challenge groups (None without peer_challenge.yaml), checked
    against its reference data and the catalogue."""
    return peer_challenge.load(s.data, inputs.reference, inputs.catalogue)


def prepare_plan(s: Settings) -> Plan:
    """What `prepare` makes, outside a run (no lock, no workers): for tests and benchmarks that
    look at jobs' slices."""
    from pipeline.orchestration.planning import WORK

    return prepare(Context(s, s.out / WORK))


def _check_request(s: Settings, reference, available: list[str]) -> None:
    """The regions, periods and notebooks asked for are known ones, before anything is
    written."""
    if not available:
        raise ConfigError(
            f"{s.data / 'returns'}: no returns yet; put each LA's return there (tartan "
            "template, or the templates tartan init wrote) and run again"
        )
    select_regions(reference, s.regions)
    select_periods(available, s.periods)
    for name in (REGIONAL_NOTEBOOK, PACK_NOTEBOOK, GROUP_NOTEBOOK):
        if not (s.notebooks / f"{name}.ipynb").is_file():
            raise ConfigError(f"{s.notebooks / name}.ipynb: no such notebook (see --notebooks)")


def _run_provenance(s: Settings, v: Validation, inputs) -> dict:
    """The run's facts: the accepted returns' and reference files' hash among them."""
    ref_files = sorted((s.data / "reference").glob("*.csv"))
    accepted_inputs = [(o.file, o.sha256) for o in v.outcomes if o.status == ACCEPTED]
    input_hash = prov.combined_hash(
        accepted_inputs + [(f"reference/{p.name}", sha256_file(p)) for p in ref_files]
    )
    return prov.run_provenance(
        PROJECT,
        inputs.reference.name,
        inputs.contracts,
        input_hash,
        config_hash(s),
        disclosure=disclosure_text(s, inputs),
    )


def _priorities(s: Settings, inputs) -> tuple[dict[str, list], str]:
    """Each region's priorities, from the dataset's own priorities.yaml (none without one), and
    the file as the reports name it (the same wherever the dataset is)."""
    found = ct.load_priorities(
        s.data / "priorities.yaml",
        inputs.catalogue,
        list(inputs.reference.regions["region_code"]),
    )
    return found, "the dataset's priorities.yaml"


def write_site(plan: Plan, entries: list[dict]) -> Site:
    """The folder's index: this run's reports, and earlier runs' reports it did not redo (a
    re-run of one quarter keeps every other quarter in the index and the manifest)."""
    out, reference = plan.s.out, plan.inputs.reference
    reports, packs = _index_reports(plan, [e for e in entries if e.get("kind") != GROUP])
    write_text_atomic(
        out / "index.html",
        index_html(
            stylesheet(),
            reference.name,
            plan.banners,
            reports,
            _index_returns(plan, reports, packs),
            plan.summary,
            plan.site_footer,
            datapack=DATAPACK_INDEX if (out / DATAPACK_INDEX).is_file() else None,
            groups=group_index(plan, entries),
            groups_note=group_note(plan, entries),
        ),
    )
    site = [out / "index.html", *_validation_pages(out, set(reference.la_names))]
    inputs = [{"file": o.file, "sha256": o.sha256, "status": o.status} for o in plan.v.outcomes]
    return Site(site, {"run_key": plan.run_key, "inputs": inputs})


def _validation_pages(out: Path, las: set[str]) -> list[Path]:
    """The validation pages `write_validation` writes (and no file of anyone else's beside them):
    its index, records, and a feedback page per LA."""
    folder = out / "validation"
    pages = [folder / name for name in ("index.html", "junit.xml", "validation.json")]
    feedback = folder / "feedback"
    if feedback.is_dir():
        pages += [p for p in feedback.glob("*.html") if p.stem in las and p.is_file()]
    return sorted(p for p in pages if p.is_file())


def _index_reports(plan: Plan, entries: list[dict]) -> tuple[list[dict], dict]:
    """The index's regional reports, with any LA whose return was not accepted; and the packs'
    entries by (LA, period)."""
    reference = plan.inputs.reference
    all_regions = dict(reference.regions.itertuples(index=False))
    reports, packs = [], {}
    for e in entries:
        period, region_code = e["parameters"]["period"], e["parameters"]["region_code"]
        if e.get("kind", REGIONAL) == PACK:
            packs[(e["parameters"]["la_code"], period)] = e
            continue
        not_accepted = sorted(
            reference.la_name(o.la_code)
            for o in plan.v.rejected
            if o.period == period and reference.region_of.get(o.la_code) == region_code
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
                # the files the report is also published as, beside it
                "files": sorted(o for o in e.get("outputs", []) if o.endswith((".xlsx", ".pptx"))),
            }
        )
    return reports, packs


def _index_returns(plan: Plan, reports: list[dict], packs: dict) -> list[dict]:
    """Every LA of the regions shown, per period shown: its return's status, its feedback,
    its pack and its returns tracker entry."""
    reference = plan.inputs.reference
    region_of, names = reference.region_of, reference.la_names
    all_regions = dict(reference.regions.itertuples(index=False))
    shown_regions = {r["region_code"] for r in reports}
    feedback_dir = plan.s.out / "validation" / "feedback"
    has_feedback = {p.stem for p in feedback_dir.glob("*.html")} if feedback_dir.is_dir() else set()
    returns = []
    las = plan.bench["las"]
    tracker = {(e["la_code"], e["period"]): e for e in plan.tracker}
    for period in sorted({r["period"] for r in reports}, key=parse_slug):
        rows = dict(tuple(las[las["period"].eq(period)].groupby("la_code", sort=False)))
        for la in reference.own_las["la_code"]:
            if region_of[la] not in shown_regions:
                continue
            pack = packs.get((la, period))
            owed = None
            if plan.state.get((la, period)) == ACCEPTED and la in rows:
                found = la_exceptions(plan, period, la, rows[la])
                owed = {"exceptions": len(found["items"]), "owed": found["owed"]}
            returns.append(
                {
                    "period": period,
                    "region_name": all_regions[region_of[la]],
                    "la_code": la,
                    "la_name": names[la],
                    "status": plan.state.get((la, period), MISSING),
                    "feedback": f"validation/feedback/{la}.html#{period}"
                    if (la, period) in plan.state and la in has_feedback
                    else None,
                    "pack": None
                    if pack is None
                    else {
                        "status": pack["status"],
                        "href": f"{period}/{region_of[la]}/{la}/{PACK}.html",
                        "error": pack["error"],
                    },
                    "commentary": owed,
                    "briefing": _briefing_href(pack),
                    "tracker": tracker.get((la, period)),
                }
            )
    return returns


def _briefing_href(pack: dict | None) -> str | None:
    """A pack's member briefing, as its job recorded it (None for a failed pack, or one an
    earlier version of Tartan made without it)."""
    outputs = pack.get("outputs", []) if pack and pack.get("status") == "ok" else []
    return next((o for o in outputs if o.endswith(f"/{BRIEFING}")), None)


def report(s: Settings) -> RunSummary:
    """Validate, benchmark, plan and build every report the settings ask for, skipping jobs
    whose content key is unchanged (all of them, without validating, when no input changed)."""
    from pipeline.orchestration.runner import run

    return run(Quarterly(), s)
