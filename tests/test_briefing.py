"""The member briefing: its plain words on hand-worked figures (direction, polarity, comparisons
in everyday words, the year's average, withheld figures, members' questions), its configuration
and the errors it refuses (exit 2, naming file and line), the page on a tiny site (linked from
the index and the pack, in the manifest, the same bytes again), its reading ease on every demo
briefing, and in Chromium: printed on at most two A4 pages, with no axe-core violation."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import math
import re
import statistics
from pathlib import Path

import pytest

from pipeline.core import briefing as b
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.edges import briefing_config
from pipeline.edges.contracts import load_catalogue
from tests.catalogues import catalogue
from tests.conftest import ROOT, TINY_LAS, TINY_PERIODS, TINY_REGION, cli

IDS = ("rereferrals_pct", "visits_pct", "cla_rate", "caseload")  # low, high, neutral, no test
CAT = catalogue(*IDS)
LOW, HIGH, NEUTRAL, UNTESTED = (CAT[i] for i in IDS)
NOW = parse_slug("2026-27-Q2").ordinal
GOOD, NOT_GOOD = ", which is good news", ", which is not good news"
LATEST = TINY_PERIODS[-1]


# ------------------------------------------------------------------------- words, by hand


@pytest.mark.parametrize(
    ("ind", "old", "new", "sig", "words"),
    [
        (LOW, 23.0, 20.0, "significant", "down from 23.0%" + GOOD),  # lower is better
        (LOW, 20.0, 23.0, "significant", "up from 20.0%" + NOT_GOOD),
        (HIGH, 80.0, 90.0, "significant", "up from 80.0%" + GOOD),  # higher is better
        (HIGH, 90.0, 80.0, "significant", "down from 90.0%" + NOT_GOOD),
        (NEUTRAL, 50.0, 60.0, "significant", "up from 50 per 10,000 children"),  # never judged
        (LOW, 20.0, 23.0, "not significant", "about the same (20.0% last quarter)"),
        (UNTESTED, 18.0, 18.8, "", "about the same (18.0 last quarter)"),  # under 5% of 18
        (UNTESTED, 18.0, 19.0, "", "up from 18.0" + NOT_GOOD),  # 5% or more, no test
        (LOW, 20.04, 20.01, "significant", "about the same (20.0% last quarter)"),  # shown same
        (LOW, None, 20.0, "", "no figure last quarter to compare with"),
        (LOW, 20.0, None, "", "no figure last quarter"),
    ],
)
def test_direction_since_last_quarter_in_words(ind, old, new, sig, words):
    assert b.change_words(ind, old, new, sig, "last quarter") == words


@pytest.mark.parametrize(
    ("ind", "value", "benchmark", "vs", "name", "words"),
    [
        (LOW, 25.5, 21.3, "worse", "similar areas", "higher than similar areas (21.3%)" + NOT_GOOD),
        (HIGH, 62.8, 75.1, "worse", "England", "lower than England (75.1%)" + NOT_GOOD),
        (HIGH, 90.0, 80.0, "better", "England", "higher than England (80.0%)" + GOOD),
        (LOW, 18.0, 21.0, "better", "England", "lower than England (21.0%)" + GOOD),
        (LOW, 20.0, 23.0, "similar", "England", "about the same as England (23.0%)"),
        (
            NEUTRAL,
            44.0,
            62.0,
            "lower",
            "similar areas",
            "lower than similar areas (62 per 10,000 children)",
        ),
        (UNTESTED, 18.0, 17.5, "", "England", "about the same as England (17.5)"),  # by size
        (UNTESTED, 16.0, 18.0, "", "England", "lower than England (18.0)" + GOOD),
        (LOW, 20.0, math.nan, "", "England", "no figure for England to compare with"),
        (LOW, None, 20.0, "", "England", "no comparison"),
    ],
)
def test_comparisons_in_everyday_words(ind, value, benchmark, vs, name, words):
    assert b.compare_words(ind, value, benchmark, vs, name) == words


def test_the_years_average_is_of_four_published_quarters_or_not_available():
    four = {NOW - 3: 10.0, NOW - 2: 11.0, NOW - 1: 12.0, NOW: 13.3}
    assert b.year_average(LOW, four, NOW) == 11.6  # 46.3 / 4 = 11.575, to 1 decimal
    assert b.average_words(LOW, b.year_average(LOW, four, NOW)) == "11.6%"
    rates = {NOW - 3: 40.0, NOW - 2: 41.0, NOW - 1: 43.0, NOW: 44.0}
    assert b.average_words(NEUTRAL, b.year_average(NEUTRAL, rates, NOW)) == "42 per 10,000 children"
    gap = {k: v for k, v in four.items() if k != NOW - 2}  # a quarter withheld or not sent
    assert b.year_average(LOW, gap, NOW) is None
    assert b.average_words(LOW, None).startswith("not available")


def test_a_withheld_or_missing_figure_is_said_in_words_and_never_compared():
    measure = b.Measure("rereferrals_pct", "Children referred again", "why")
    row = {"value": math.nan, "status": "c", "sn_mean": 21.0, "vs_sn": "", "vs_england": ""}
    w = b.measure_words(LOW, measure, row, {NOW - 1: 20.0}, NOW, 22.0)
    assert not w.has_figure
    assert w.now == "withheld, as the numbers are too small to publish safely"
    assert (w.since_last, w.vs_similar, w.vs_england) == (
        "no figure last quarter",
        "no comparison",
        "no comparison",
    )
    assert w.average.startswith("not available")
    assert b.measure_words(LOW, measure, {}, {}, NOW, 22.0).now == "not sent by the council"


def test_a_measure_with_its_figure_reads_every_test_of_its_row():
    measure = b.Measure("visits_pct", "Children seen on time", "why")
    row = {"value": 90.0, "status": "", "change_previous_sig": "significant", "sn_mean": 80.0}
    row |= {"vs_sn": "better", "vs_england": "similar", "change_year_sig": "not significant"}
    values = {NOW - 4: 88.0, NOW - 3: 85.0, NOW - 2: 86.0, NOW - 1: 84.0, NOW: 90.0}
    # (85 + 86 + 84 + 90) / 4 = 86.25: rounded half to even, as every figure is
    w = b.measure_words(HIGH, measure, row, values, NOW, 89.0)
    assert (w.now, w.average, w.judged) == ("90.0%", "86.2%", True)
    assert w.since_last == "up from 84.0%" + GOOD
    assert w.over_year == "about the same (88.0% a year ago)"
    assert w.vs_similar == "higher than similar areas (80.0%)" + GOOD
    assert w.vs_england == "about the same as England (89.0%)"


def _statement(ind: str, reasons: list[str], d_run: int = 1, worse: int = 0) -> dict:
    return {
        "indicator_id": ind,
        "reasons": reasons,
        "figures": {"band_d_quarters": d_run, "worsening_quarters": worse},
    }


def test_members_questions_come_from_the_areas_for_development_in_plain_words():
    names = {"rereferrals_pct": "Children referred again", "visits_pct": "Children seen on time"}
    asked, more = b.member_questions(
        [
            _statement("visits_pct", ["worsening"], worse=3),
            _statement("rereferrals_pct", ["band_d", "worsening"], d_run=3, worse=4),
        ],
        names,
    )
    assert more == 0
    assert asked == [  # the briefing's measures in their order, whatever the assessment's
        "Our figure for children referred again is among the worst 25% of councils, and has "
        "been for 3 quarters running. It has also got worse in each of the last 4 quarters. "
        + b.CLOSINGS[0],
        "Our figure for children seen on time has got worse in each of the last 3 quarters. "
        + b.CLOSINGS[1],
    ]
    assert b.member_questions([], names) == ([b.NO_DEVELOPMENT], 0)


def test_at_most_four_questions_each_closing_differently_and_the_rest_counted():
    many = [_statement(f"i{k}", ["band_d"]) for k in range(6)]
    asked, more = b.member_questions(many, {f"i{k}": f"Measure {k}" for k in range(6)})
    assert (len(asked), more) == (b.MAX_QUESTIONS, 2)
    closings = [q.split(". ", 1)[1] for q in asked]
    assert len(set(closings)) == len(closings)
    assert asked[0].startswith("Our figure for measure 0 is among the worst 25% of councils. ")


def test_quarters_months():
    assert b.months(parse_slug("2026-27-Q1")) == "April to June 2026"
    assert b.months(parse_slug("2026-27-Q4")) == "January to March 2027"


# ------------------------------------------------------------------------- configuration

REAL = load_catalogue(ROOT / "data_contracts" / "indicators.yaml")
SIX = ["rereferrals_pct", "cla_rate", "cpp_rate", "sw_agency_pct", "cin_rate", "s47_rate"]


def _dataset(tmp_path: Path, ids: list[str] | None, raw: str | None = None) -> Path:
    """A dataset folder whose dataset.yaml chooses `ids` (one a line, from line 3), or holds
    `raw`."""
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    text = "name: Test\nbriefing:\n  measures:\n" + "".join(f"    - {i}\n" for i in ids or [])
    (folder / "dataset.yaml").write_text(raw if raw is not None else text, encoding="utf-8")
    return folder


def test_the_default_measures_names_and_glossary():
    config = briefing_config.load(ROOT / "data_contracts", ROOT / "nowhere", REAL)
    assert [m.id for m in config.measures][:2] == ["rereferrals_pct", "assessments_45_days_pct"]
    assert b.MIN_MEASURES <= len(config.measures) <= b.MAX_MEASURES
    assert config.chosen_in == "data_contracts/briefing.yaml"
    assert set(config.names) == {i.id for i in REAL}, "every indicator can be asked about"
    assert ("Similar areas", config.glossary[1][1]) == config.glossary[1]


def test_a_dataset_chooses_its_own_measures(tmp_path):
    config = briefing_config.load(ROOT / "data_contracts", _dataset(tmp_path, SIX), REAL)
    assert [m.id for m in config.measures] == SIX
    assert config.chosen_in == "dataset.yaml"
    assert list(config.names)[:6] == SIX


@pytest.mark.parametrize(
    ("ids", "line", "message"),
    [
        ([*SIX[:5], "nope"], 9, "briefing measure 'nope' is not an indicator of the catalogue"),
        (SIX[:5], 3, "the briefing lists 5 measures; expected 6 to 8"),
        ([*SIX, "cin_visits_pct", "cla_missing_pct", "sw_caseload"], 3, "lists 9 measures"),
        ([*SIX[:5], "cla_rate"], 9, "briefing measure 'cla_rate' is listed twice"),
    ],
)
def test_a_wrong_choice_of_measures_is_refused_naming_file_and_line(tmp_path, ids, line, message):
    data = _dataset(tmp_path, ids)
    with pytest.raises(ConfigError) as exc:
        briefing_config.load(ROOT / "data_contracts", data, REAL)
    assert f"{data / 'dataset.yaml'}, line {line}: " in str(exc.value)
    assert message in str(exc.value)
    assert exc.value.exit_code == 2


def test_a_briefing_key_that_is_not_a_list_of_measures_is_refused(tmp_path):
    data = _dataset(tmp_path, None, "name: Test\nbriefing: [rereferrals_pct]\n")
    with pytest.raises(ConfigError, match=r"dataset.yaml, line 2: briefing \[.*is not understood"):
        briefing_config.load(ROOT / "data_contracts", data, REAL)


def _contracts(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "contracts"
    folder.mkdir()
    text = (ROOT / "data_contracts" / "briefing.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "briefing.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("old", "new", "at", "message"),
    [
        ("  - cla_rate\n", "  - cla_rates\n", "- cla_rates", "'cla_rates' is not an indicator"),
        ("  sw_agency_pct:\n", "  sw_agency_pctx:\n", "- sw_agency_pct", "no plain-English name"),
        (
            "    why: A safe and stable",
            "    what: A safe and stable",
            "care_leavers_accommodation_pct:",
            "must be {name: ..., why: ...}",
        ),
        (
            "  - term: Quarter\n",
            "  - word: Quarter\n",
            "- word: Quarter",
            "a glossary entry must be",
        ),
    ],
)
def test_a_wrong_briefing_yaml_is_refused_naming_its_line(tmp_path, old, new, at, message):
    contracts = _contracts(tmp_path, old, new)
    path = contracts / "briefing.yaml"
    with pytest.raises(ConfigError) as exc:
        briefing_config.load(contracts, tmp_path / "no-dataset", REAL)
    assert f"{path}, line {_line_of(path, at)}: " in str(exc.value)
    assert message in str(exc.value)


def test_a_refused_choice_stops_a_run_with_exit_2_naming_the_line(capfd, tiny, tmp_path):
    data = tiny.copy(tmp_path / "data")
    meta = data.data / "dataset.yaml"
    text = meta.read_text(encoding="utf-8") + "briefing:\n  measures: [rereferrals_pct]\n"
    meta.write_text(text, encoding="utf-8")
    line = len(text.splitlines())
    args = ["report", *data.args, "--out", tmp_path / "out", "--period", "latest"]
    r = cli(capfd, *args, "--no-progress")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{meta}, line {line}: the briefing lists 1 measures; expected 6 to 8" in r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------- the page


def text_of(page: str) -> str:
    """The words of a page's main content, as a reader sees them."""
    main = page[page.index("<main") : page.index("</main>")]
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


@pytest.fixture(scope="module")
def tiny_plan(tiny, tmp_path_factory):
    from pipeline.orchestration.products.quarterly import prepare_plan
    from pipeline.orchestration.settings import Settings

    out = tmp_path_factory.mktemp("briefing-plan")
    s = Settings(data=tiny.data, out=out, contracts=tiny.contracts, periods=["latest"])
    return prepare_plan(s)


def briefing_of(plan, la: str, region: str, region_name: str, status: str | None = None):
    """An LA's briefing page made as its pack job makes it (the same slice, the same facts),
    without running a notebook; `status`: a return status to pretend."""
    from pipeline.orchestration.products.quarterly_jobs import pack_job
    from pipeline.orchestration.provenance import facts
    from pipeline.report.pack import SelfAssessmentPack

    planned = pack_job(plan, plan.available[-1], la, region, region_name)
    planned.write_slice()
    pack = SelfAssessmentPack.load(planned.job.slice_dir)
    if status:
        pack.context["la"]["return_status"] = status
    job = planned.job
    return pack.member_briefing({"banners": job.banners, "facts": facts(job.provenance)})


def test_a_briefing_shows_the_measures_in_order_with_published_figures_only(tiny_plan):
    from pipeline.orchestration.products.quarterly_jobs import la_figures

    region = tiny_plan.inputs.reference.regions.iloc[0]
    page = briefing_of(tiny_plan, TINY_LAS[0], TINY_REGION, region["region_name"]).decode()
    words = text_of(page)
    config = tiny_plan.briefing
    at = [words.index(m["name"]) for m in config["measures"]]
    assert at == sorted(at), "the measures in the configured order"
    mine, _ = la_figures(tiny_plan, LATEST, TINY_LAS[0], TINY_REGION)
    now = mine[mine["period"] == LATEST].set_index("indicator_id")
    for m in config["measures"]:
        ind = tiny_plan.inputs.catalogue[m["id"]]
        assert f"This quarter: {ind.with_unit(now.loc[m['id'], 'value'])} ." in words
    counts = mine[["numerator", "denominator"]].stack()
    for n in counts[counts >= 100]:
        assert f"{n:,.0f}" not in words and f"{n:.0f}" not in words, f"a count shown: {n}"
    for heading in ("Key measures", "How to read this briefing", "Questions you might ask"):
        assert f"<h2>{heading}</h2>" in page
    assert "mean of the last four quarters' published figures" in words
    assert "<script" not in page and "http" not in page.split("</head>")[1]


def test_provisional_figures_are_said_to_be_provisional(tiny_plan):
    from pipeline.orchestration.products.quarterly_jobs import pack_job
    from pipeline.report.briefing import content
    from pipeline.report.pack import SelfAssessmentPack

    planned = pack_job(tiny_plan, LATEST, TINY_LAS[2], TINY_REGION, "Region")
    planned.write_slice()
    pack = SelfAssessmentPack.load(planned.job.slice_dir)
    assert b.PROVISIONAL not in content(pack)
    pack.context["la"]["provisional"] = True
    assert f"<p>{b.PROVISIONAL}</p>" in content(pack)


def test_a_briefing_without_an_accepted_return_says_so(tiny_plan):
    page = briefing_of(tiny_plan, TINY_LAS[1], TINY_REGION, "Region", "not accepted").decode()
    words = text_of(page)
    assert "did not pass the checks, so they cannot be used yet" in words
    assert "Key measures" not in words and b.NO_FIGURES_QUESTIONS[0] in words


def test_the_site_publishes_each_briefing_beside_its_pack_and_links_it(tiny_site, tiny_plan):
    index = (tiny_site / "index.html").read_text(encoding="utf-8")
    assert '<th scope="col">Member briefing</th>' in index
    manifest = json.loads((tiny_site / "manifest.json").read_text(encoding="utf-8"))
    names = tiny_plan.inputs.reference.la_names
    for la in TINY_LAS:
        rel = f"{LATEST}/{TINY_REGION}/{la}/member-briefing.html"
        name = f"{names[la]}: member briefing, {parse_slug(LATEST).label}"
        assert f'<td><a href="{rel}">{name}</a></td>' in index, "one link a cell"
        job_id = f"{LATEST}/{TINY_REGION}/{la}/self-assessment"
        job = next(j for j in manifest["jobs"] if j["id"] == job_id)
        data = (tiny_site / rel).read_bytes()
        assert job["output_sha256"][rel] == hashlib.sha256(data).hexdigest()
        pack = (tiny_site / rel).with_name("self-assessment.html").read_text(encoding="utf-8")
        assert '<a href="member-briefing.html">member briefing</a>' in pack


def test_the_same_slice_gives_the_same_bytes_as_the_run_made(tiny_site, tiny_plan):
    region = tiny_plan.inputs.reference.regions.iloc[0]["region_name"]
    first = briefing_of(tiny_plan, TINY_LAS[0], TINY_REGION, region)
    assert briefing_of(tiny_plan, TINY_LAS[0], TINY_REGION, region) == first
    built = tiny_site / LATEST / TINY_REGION / TINY_LAS[0] / "member-briefing.html"
    assert built.read_bytes() == first


def test_a_deleted_briefing_is_made_again_with_its_pack_alone(tiny_site, tiny, tmp_path, capfd):
    from tests.test_scale import _copy, _report

    out = _copy(tiny_site, tmp_path)
    rel = f"{LATEST}/{TINY_REGION}/{TINY_LAS[1]}/member-briefing.html"
    (out / rel).unlink()
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert "1 run" in result.stdout, "only that LA's pack job is run again"
    assert (out / rel).read_bytes() == (tiny_site / rel).read_bytes()


# ------------------------------------------------------------------------- the demo's briefings


@pytest.fixture(scope="module")
def demo_briefings(demo_data, tmp_path_factory) -> dict[str, str]:
    """Every demo LA's briefing of the latest quarter, made as its pack job makes it."""
    from pipeline.orchestration.products.quarterly import prepare_plan
    from pipeline.orchestration.settings import Settings

    out = tmp_path_factory.mktemp("demo-briefings")
    plan = prepare_plan(Settings(data=demo_data, out=out, contracts=ROOT / "data_contracts"))
    ref = plan.inputs.reference
    regions = dict(ref.regions.itertuples(index=False))
    las = ref.local_authorities
    return {
        la: briefing_of(plan, la, code, regions[code]).decode()
        for la, code in zip(las["la_code"], las["region_code"], strict=True)
    }


def test_every_demo_briefing_reads_easily(demo_briefings):
    """Flesch reading ease of each briefing's main content (headings and all) is 50 or above."""
    import textstat

    scores = {la: textstat.flesch_reading_ease(text_of(p)) for la, p in demo_briefings.items()}
    low = {la: s for la, s in scores.items() if s < 50}
    assert not low, f"harder to read than Flesch 50: {low}"
    figures = sorted(scores.values())
    median = statistics.median(figures)
    print(f"Flesch: min {figures[0]:.1f}, median {median:.1f}, max {figures[-1]:.1f}")


# ------------------------------------------------------------------------- in Chromium


def pdf_pages(data: bytes) -> int:
    """How many pages a PDF has: its page objects (``/Type /Page``, not ``/Pages``), checked
    against the page tree's ``/Count``."""
    pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", data))
    counts = [int(c) for c in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    counts += [int(c) for c in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
    assert pages and (not counts or max(counts) == pages), (pages, counts)
    return pages


@pytest.mark.browser
def test_every_demo_briefing_prints_on_two_a4_pages_and_passes_axe(browser, demo_site):
    from tests.browser import axe_violations, describe, visits

    latest = sorted(p for p in demo_site.iterdir() if p.is_dir() and p.name[:4].isdigit())[-1]
    paths = sorted(latest.glob("*/*/member-briefing.html"))
    assert len(paths) == 30
    checked = {paths[0].parent.name, "ZL203"}  # with figures, and a return not accepted
    counts = {}
    for v in visits(browser, paths):
        la = Path(v.url).parent.name
        assert not v.other_requests and not v.console_errors, la
        counts[la] = pdf_pages(v.page.pdf(format="A4"))
        if la in checked:
            found = axe_violations(v.page)
            assert found == [], f"axe-core on {la}'s briefing:\n{describe(found)}"
    assert max(counts.values()) <= 2, counts
    print(f"A4 pages: {sorted(counts.values())}")
