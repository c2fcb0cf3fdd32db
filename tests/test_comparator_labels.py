"""Every page says what each comparator is and when it is as at: with DfE's published
comparators the rug, narrative, evidence statements, tables, method and footer name England,
the neighbours' mean and the bands as DfE published, each with its own date; with the returns'
own comparators (the demo) none of those words appear.

The tiny dataset's run is turned published by hand (its own returns against a made-up published
year of three indicators, through ``against_published`` as the run does it), so that every
label is checked word for word; the real data's run (skipped without it) proves the same
through a dataset's `comparators` entry.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.core.assessment import assess
from pipeline.core.benchmark import benchmark
from pipeline.core.narrative import published_when, region_against_england
from pipeline.core.published_comparators import against_published
from pipeline.core.significance import judge
from pipeline.core.vocabulary import OK
from pipeline.orchestration import provenance
from pipeline.orchestration.products.comparators import PUBLISHED, Chosen
from pipeline.orchestration.settings import Settings
from pipeline.report import REPORTS
from tests.catalogues import catalogue
from tests.conftest import PUBLIC_DATA, ROOT, TINY_LAS, TINY_PERIODS
from tests.internals import load_published, pack_job, prepare_plan, regional_job

LATEST, REGION, REGION_NAME = TINY_PERIODS[-1], "ZR1", "North Vale"
#: the made-up published years: a rolling indicator, a snapshot and a workforce snapshot
DATES = {
    "rereferrals_pct": ("2026", "31 March 2026"),
    "cla_rate": ("2026", "31 March 2026"),
    "sw_vacancy_pct": ("2025", "30 September 2025"),
}
#: words only published comparators bring
PUBLISHED_WORDS = ("DfE published", "no published comparator", "Definitions:", "DfE's published")


def _text(markup) -> str:
    """A page or section as a reader reads it: no tags, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", str(markup))))


# --------------------------------------------------------------------------- the core's words


def test_a_published_england_is_named_with_its_date_in_the_narrative():
    areas = pd.DataFrame(
        [
            (area, "2026-27-Q2", "rereferrals_pct", v)
            for area, v in (("R", 25.0), ("england", 20.0))
        ],
        columns=["area_code", "period", "indicator_id", "value"],
    )
    rolling = {"description": "In the 12 months to the quarter end."}
    cat = catalogue("rereferrals_pct", rereferrals_pct=rolling)
    args = (areas, cat, "2026-27-Q2", "R", "Northmoor", "England (DfE published)")
    para = region_against_england(*args, as_at={"rereferrals_pct": "31 March 2026"})
    assert para.lead.startswith(
        "As at 2026-27 Q2, none of the 1 indicators where higher or lower is better could be "
        "tested against England's published figures (DfE, each indicator's latest year; dates "
        "in the rug)"
    )
    assert para.points == [
        "Re-referrals (%): 25.0% in the region against 20.0% in England (DfE published, year "
        "to 31 March 2026), 5.0 percentage points (25%) higher: worse by size, not tested (no "
        "interval for the region's figure; a lower value is better)."
    ]
    # with the region's counts (250 of 1,000: 22.5% to 27.8%) it is tested against DfE's 20.0
    counted = areas.assign(numerator=[250.0, None], denominator=[1000.0, None], status="")
    counted = counted.assign(area_type=["region", "england"], region_code="R")
    judged = judge(counted.assign(la_code="x", sn_mean=None).iloc[:0], counted, cat)[1]
    tested = region_against_england(judged, *args[1:], as_at={"rereferrals_pct": "31 March 2026"})
    assert tested.points[0].endswith("higher: significantly worse (a lower value is better).")
    plain = region_against_england(*args[:5])
    assert "DfE" not in plain.lead + " ".join(plain.points)


@pytest.mark.parametrize(
    ("description", "when"),
    [
        ("Referrals in the 12 months to the quarter end.", "year to 31 March 2026"),
        ("Children looked after at the quarter end, per 10,000.", "at 31 March 2026"),
        ("Seen in the 4 weeks before the quarter end.", "at 31 March 2026"),
        ("Assessments completed within 45 working days.", "year to 31 March 2026"),
    ],
)
def test_a_snapshot_is_at_its_date_and_anything_else_is_the_year_to_it(description, when):
    ind = catalogue("visits_pct", visits_pct={"description": description})["visits_pct"]
    assert published_when(ind, "31 March 2026") == when


def test_evidence_statements_date_the_published_sn_mean_england_and_band():
    """Five LAs, each the others' neighbours; A's re-referrals (lower is better) are the
    worst, in band D: its statement and question name each comparator with its date."""
    las = ["A", "B", "C", "D", "E"]
    rows = [
        (la, "2026-27-Q2", "rereferrals_pct", v, 100.0, float(v), OK)
        for la, v in zip(las, [30, 20, 21, 22, 19], strict=True)
    ]
    columns = ["la_code", "period", "indicator_id", "numerator", "denominator", "value", "status"]
    cat = catalogue("rereferrals_pct")
    sn = pd.DataFrame(
        [(a, b) for a in las for b in las if a != b], columns=["la_code", "neighbour_la_code"]
    )
    region = pd.DataFrame({"la_code": las, "region_code": "R1"})
    bench = benchmark(pd.DataFrame(rows, columns=columns), region, cat, sn)
    bench["las"], bench["areas"] = judge(bench["las"], bench["areas"], cat)
    mine = bench["las"][bench["las"]["la_code"].eq("A")]
    as_at = {"rereferrals_pct": "31 March 2026"}
    got = assess(mine, bench["areas"], cat, "2026-27-Q2", "R1", as_at=as_at)
    (statement,) = got.development
    assert statement.text == (
        "Re-referrals (%): 30.0% (95% CI 21.9% to 39.6%), in band D, among the worst 25% of "
        "all LAs' published figures, year to 31 March 2026; 9.5 percentage points worse than "
        "the SN mean (DfE published, year to 31 March 2026) of 20.5% (region 22.4%; England, "
        "DfE published, year to 31 March 2026: 22.4%)."
    )
    (question,) = got.questions
    band = "band D (among the worst 25% of all LAs' published figures, year to 31 March 2026)"
    assert band in question.text
    # 30 of 100 against England's 22.4: the interval includes it, so not "worse"
    assert (
        "similar to England's (DfE published, year to 31 March 2026) 22.4% (7.6 percentage "
        "points higher; the difference could be chance)" in question.text
    )
    plain = assess(mine, bench["areas"], cat, "2026-27-Q2", "R1")
    assert plain.development[0].text == (
        "Re-referrals (%): 30.0% (95% CI 21.9% to 39.6%), in band D, among the worst 25% of "
        "all LAs; 9.5 percentage points worse than the SN mean of 20.5% (region 22.4%, "
        "England 22.4%)."
    )


def test_the_footer_says_the_published_comparators_and_their_dates_in_words():
    record = {
        "period": "2026-27-Q2",
        "comparators_as_at": {"region": "2026-27-Q2"},
        "comparators": {
            "mode": "published",
            "source": "/data/public-data",
            "as_at": {"cla_rate": "31 March 2026", "sw_vacancy_pct": "30 September 2025"},
        },
    }
    facts = dict(provenance.facts(record))
    assert facts["Comparators as at"] == "Region: 2026-27 Q2"
    assert facts["Comparators"] == (
        "published (DfE): England, the statistical neighbours' mean and median, and national "
        "bands and ranks are DfE's published figures of each indicator's latest year, read "
        "from public-data; as at 31 March 2026: cla_rate; as at 30 September 2025: "
        "sw_vacancy_pct; any other indicator has no published comparator (no England figure; "
        "band and rank among the region's returning LAs)"
    )
    returns = {**record, "comparators": {"mode": "returns"}}
    assert "Comparators" not in dict(provenance.facts(returns)), "the returns say nothing new"


# --------------------------------------------------------------------------- a run's pages


def _make_published(plan) -> None:
    """Turn a returns plan published, as ``comparators.choose`` does: DfE's figures of DATES'
    years for the region's LAs and four others, every one of them below the region's own
    (so its LAs fall in band D where lower is better); England at 5."""
    codes = [*TINY_LAS, "ZX1", "ZX2", "ZX3", "ZX4"]
    published = pd.DataFrame(
        [
            (code, year, ind, 1.0 + k, OK, "")
            for ind, (year, _) in DATES.items()
            for k, code in enumerate(codes)
        ],
        columns=["la_code", "period", "indicator_id", "value", "status", "shared"],
    )
    england = pd.DataFrame(
        [(ind, year, 5.0) for ind, (year, _) in DATES.items()],
        columns=["indicator_id", "period", "value"],
    )
    areas = plan.bench["areas"]
    is_england = areas["area_type"].eq("england")
    las, new_england, years = against_published(
        plan.bench["las"],
        areas[is_england],
        published,
        england,
        plan.inputs.reference.statistical_neighbours,
        plan.inputs.catalogue,
    )
    plan.bench = {"las": las, "areas": pd.concat([areas[~is_england], new_england]).sort_index()}
    dates = {ind: date for ind, (_, date) in DATES.items()}
    plan.comparators = Chosen(PUBLISHED, "/data/public-data", years, dates)
    plan.run_prov["comparators"] = plan.comparators.to_json()


def _reports(plan, la: str, where=(LATEST, REGION, REGION_NAME)) -> dict:
    """The regional report's and `la`'s pack's facades (their slices written) and jobs, for
    `where`: the period, the region's code and name."""
    period, region, name = where
    out = {}
    for kind, planned in (
        ("regional-benchmark", regional_job(plan, period, region, name, {})),
        ("self-assessment", pack_job(plan, period, la, region, name)),
    ):
        planned.write_slice()
        out[kind] = REPORTS[kind].implementation().load(planned.job.slice_dir), planned.job
    return out


def _la_with_rereferrals(plan) -> str:
    las = plan.bench["las"]
    now = las[las["period"].eq(LATEST) & las["indicator_id"].eq("rereferrals_pct")]
    return sorted(now.loc[now["status"].eq(OK), "la_code"])[0]


@pytest.fixture(scope="module")
def published_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("published")
    plan = prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))
    _make_published(plan)
    return _reports(plan, _la_with_rereferrals(plan))


@pytest.fixture(scope="module")
def returns_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("returns")
    plan = prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))
    return _reports(plan, _la_with_rereferrals(plan))


def test_the_rug_labels_england_the_neighbours_and_each_columns_date(published_run):
    regional, _ = published_run["regional-benchmark"]
    rug = _text(regional.rug())
    assert "Re-referrals (England, SN, band: year to 31 March 2026)" in rug
    assert "CLA rate (no judgement) (England, SN, band: at 31 March 2026)" in rug
    assert "(England, SN, band: at 30 September 2025)" in rug
    assert rug.count("(no published comparator)") == len(regional.catalogue) - len(DATES)
    assert "England, DfE published (latest year: see each column)" in rug
    assert "statistical neighbours' mean, DfE published" in rug
    assert "statistical neighbours' mean, as at" not in rug
    assert f"North Vale (region), as at {regional.period_label}" in rug
    assert "Under each column heading, the date of its DfE published comparators" in rug


def test_the_narrative_tables_and_charts_date_england(published_run):
    regional, _ = published_run["regional-benchmark"]
    story = _text(regional.narrative())
    assert "than England's published figures (DfE, each indicator's latest year" in story
    assert "in England (DfE published, year to 31 March 2026)" in story
    themes = _text(regional.themes())
    assert "Re-referrals: England (DfE published, year to 31 March 2026)" in themes
    assert "Referrals rate: England (no published comparator)" in themes
    assert "year to 31 March 2026: Re-referrals; no published comparator: Referrals rate" in themes
    assert "level across the quarters" in themes
    assert "Rank in England (among published figures)" in themes


def test_the_regional_method_and_footer_say_the_mode(published_run):
    regional, job = published_run["regional-benchmark"]
    method = _text(regional.method())
    assert "Comparators: DfE's published statistics. England, the statistical" in method
    assert "No published comparator for Referrals rate," in method
    assert (
        "Definitions: Re-referrals: the LAs' figures are over the 12 months to the quarter "
        "end, DfE's for the year to 31 March 2026." in method
    )
    assert "the LAs' figures are at the quarter end, DfE's at 30 September 2025." in method
    assert "The region and England" not in method, "the returns' sentence is not said"
    footer = _text(job.footer)
    assert "Comparators as at Region: " in footer
    assert "Comparators published (DfE): England" in footer
    assert "as at 31 March 2026: cla_rate, rereferrals_pct" in footer
    assert job.provenance["comparators_as_at"] == {"region": LATEST}
    assert job.provenance["comparators"]["as_at"]["sw_vacancy_pct"] == "30 September 2025"


def test_a_packs_evidence_scorecard_charts_and_method_date_each_comparator(published_run):
    pack, job = published_run["self-assessment"]
    evidence = _text(pack.evidence()) + _text(pack.questions())
    band = "in band D, among the worst 25% of all LAs' published figures, year to 31 March 2026"
    assert band in evidence
    assert "than the SN mean (DfE published, year to 31 March 2026) of" in evidence
    assert "England, DfE published, year to 31 March 2026: 5.0%" in evidence
    assert "England's (DfE published, year to 31 March 2026) 5.0%" in evidence
    headline = _text(pack.headline())
    assert "England, the neighbours' mean and median and the bands are DfE's" in headline
    themes = _text(pack.themes())
    assert (
        "SN, England, band and rank in England: DfE published, year to 31 March 2026 "
        f"({pack.la_name}'s figure: over the 12 months to the quarter end)" in themes
    )
    assert "no published comparator: SN, band and rank among the region's LAs" in themes
    sn = "Re-referrals: Statistical neighbours' mean (DfE published, year to 31 March 2026)"
    assert sn in themes
    assert "The dots are the neighbours with an accepted return." in themes
    method = _text(pack.method())
    assert "Comparators: DfE's published statistics." in method
    assert "SN mean and median: of the published figures of the LA's statistical" in method
    assert "Comparators published (DfE)" in _text(job.footer)


def test_returns_comparators_show_none_of_the_published_words(returns_run):
    regional, rjob = returns_run["regional-benchmark"]
    pack, pjob = returns_run["self-assessment"]
    pages = [regional.rug(), regional.narrative(), regional.themes(), regional.method()]
    pages += [pack.headline(), pack.evidence(), pack.questions(), pack.themes(), pack.annex()]
    pages += [pack.method(), rjob.footer, pjob.footer]
    text = " ".join(_text(p) for p in pages)
    for words in PUBLISHED_WORDS:
        assert words not in text
    assert f"statistical neighbours' mean, as at {regional.period_label}" in text
    assert "Comparators as at Region, England and statistical neighbours: " in text
    assert rjob.provenance["comparators"] == {"mode": "returns"}


# --------------------------------------------------------------------------- real data

NORTH_EAST, DURHAM = "E12000001", "E06000047"
needs_public_data = pytest.mark.skipif(
    not (PUBLIC_DATA / "reference").is_dir(),
    reason=f"DfE's published statistics are not in {PUBLIC_DATA} (set TARTAN_PUBLIC_DATA)",
)


def _north_east(folder: Path) -> Path:
    """The North East's LAs' 2025 published figures as their 2024-25 Q4 returns, in a dataset
    that takes published comparators from the public data."""
    contracts = ROOT / "data_contracts"
    pub = load_published(PUBLIC_DATA, contracts / "datapack.yaml", contracts / "reference.yaml")
    ref = pub.reference
    (folder / "reference").mkdir(parents=True)
    for name, columns in (
        ("local_authorities", ["la_code", "la_name", "region_code", "region_name"]),
        ("statistical_neighbours", ["la_code", "neighbour_rank", "neighbour_la_code", "closeness"]),
        ("population", ["la_code", "year", "population_0_17"]),
    ):
        getattr(ref, name)[columns].to_csv(folder / "reference" / f"{name}.csv", index=False)
    (folder / "dataset.yaml").write_text(
        "name: North East\nreporting_window: {first: 2024-25-Q4, last: 2024-25-Q4}\n"
        f"comparators: {{mode: published, source: {PUBLIC_DATA}}}\n",
        encoding="utf-8",
    )
    inds = yaml.safe_load((contracts / "indicators.yaml").read_text("utf-8"))["indicators"]
    f = pub.extract.figures
    returns = folder / "returns" / "2024-25-Q4"
    returns.mkdir(parents=True)
    las = ref.local_authorities
    for la in las.loc[las["region_code"].eq(NORTH_EAST), "la_code"]:
        lines = []
        for ind in inds:
            row = f[f["la_code"].eq(la) & f["period"].eq("2025") & f["indicator_id"].eq(ind["id"])]
            n, d = row.iloc[0][["numerator", "denominator"]] if len(row) else (None, None)
            ok = len(row) and row.iloc[0]["status"] == OK and pd.notna(n) and d
            value = round(n / d * ind["scale"], ind["decimals"]) if ok else None
            counts = (n, d) if ok else (None, None)
            lines.append((la, ind["id"], *counts, value, "" if ok else "x"))
        frame = pd.DataFrame(
            lines,
            columns=["la_code", "indicator_id", "numerator", "denominator", "value", "status"],
        )
        frame.insert(1, "time_period", "202425")
        frame.insert(2, "time_identifier", "Financial year Q4")
        frame.to_csv(returns / f"{la}_2024-25-Q4.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def north_east(tmp_path_factory):
    data = _north_east(tmp_path_factory.mktemp("ne") / "data")
    out = tmp_path_factory.mktemp("ne-out")
    plan = prepare_plan(Settings(data=data, out=out, contracts=ROOT / "data_contracts"))
    return plan, _reports(plan, DURHAM, ("2024-25-Q4", NORTH_EAST, "North East"))


@needs_public_data
def test_a_real_regions_pages_date_every_published_comparator(north_east):
    plan, reports = north_east
    chosen = plan.comparators
    assert chosen.mode == PUBLISHED and chosen.dates, "the North East does not cover England"
    regional, rjob = reports["regional-benchmark"]
    cat = regional.catalogue
    rug = _text(regional.rug())
    for ind in cat:
        note = (
            f"England, SN, band: {published_when(ind, chosen.dates[ind.id])}"
            if ind.id in chosen.dates
            else "no published comparator"
        )
        assert f"{ind.short_label}{' (no judgement)' if not ind.judged else ''} ({note})" in rug
    assert "England, DfE published (latest year: see each column)" in rug
    story = _text(regional.narrative())
    assert "England (DfE published, " in story and "England's published figures (DfE" in story
    assert "Comparators: DfE's published statistics." in _text(regional.method())
    assert "Comparators published (DfE)" in _text(rjob.footer)
    pack, _ = reports["self-assessment"]
    assessed = pack.context["assessment"]
    statements = [s["text"] for k in ("strengths", "development") for s in assessed[k]]
    assert statements, "County Durham has strengths and areas for development"
    for text in statements:
        if "SN mean" in text:
            assert "the SN mean (DfE published, " in text, text
    assert "Comparators: DfE's published statistics." in _text(pack.method())
