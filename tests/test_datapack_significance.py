"""The annual datapack compares each LA with England by its confidence interval, states the
level and the methods, and draws a funnel plot of each indicator with a count model: on the
small source folder of test_ees (three LAs, hand-checkable counts) always, and on DfE's real
files when they are present."""

from __future__ import annotations

import dataclasses
import html as html_lib
import math
import re
import shutil

import pytest
from scipy.stats import chi2, norm

from pipeline.html.base import esc
from pipeline.html.sections import significance_method
from pipeline.orchestration.products.datapack import prepare, region_job
from pipeline.orchestration.runner import Context
from pipeline.orchestration.settings import Settings
from pipeline.report.datapack import AnnualDatapack
from tests.conftest import PUBLIC_DATA, ROOT
from tests.test_ees import small_source

YORKSHIRE, NORTH_EAST = "E12000003", "E12000001"
BARNSLEY, SHEFFIELD, CAMDEN = "E08000038", "E08000039", "E09000007"


def _text(html: str) -> str:
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", str(html), flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def _prepared(source, contracts, out, level=None):
    s = Settings(data=source, out=out, contracts=contracts, level=level)
    return prepare(Context(s, out / "work"))


def _report(dp, region: str, folder) -> AnnualDatapack:
    """A region's datapack as its notebook loads it, from the slice the driver writes."""
    name = dp.regions[region]
    folder.mkdir(parents=True)
    for file, data in region_job(dp, region, name).files.items():
        (folder / file).write_bytes(data)
    return AnnualDatapack.load(folder)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small source prepared at 95% and 99.8%, and Yorkshire's datapack at each."""
    root = tmp_path_factory.mktemp("dp-sig")
    source = small_source(root / "source")
    contracts = root / "contracts"
    shutil.copytree(ROOT / "data_contracts", contracts)
    shutil.copy(source / "datapack.yaml", contracts / "datapack.yaml")
    out = {}
    for level in (95.0, 99.8):
        dp = _prepared(source, contracts, root / f"out{level:g}", level)
        out[level] = (dp, _report(dp, YORKSHIRE, root / f"slice{level:g}"))
    return out


def _la_rows(report: AnnualDatapack) -> dict[tuple[str, str], list[str]]:
    """Each LA table's rows as text, by (LA code, indicator short label)."""
    page = str(report.local_authorities())
    out = {}
    for code, table in re.findall(r'<h3 id="la-(\w+)">.*?(<table.*?</table>)', page, re.S):
        for row in re.findall(r"<tr>(<th scope=\"row\">.*?)</tr>", table, re.S):
            cells = [html_lib.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            out[(code, cells[0])] = cells[1:]
    return out


def _wilson(n, d, level):
    z = norm.ppf(1 - (1 - level / 100) / 2)
    p = n / d
    centre = (p + z * z / (2 * d)) / (1 + z * z / d)
    half = z * math.sqrt(p * (1 - p) / d + z * z / (4 * d * d)) / (1 + z * z / d)
    return (centre - half) * 100, (centre + half) * 100


def _garwood(n, d, level):
    a = 1 - level / 100
    return chi2.ppf(a / 2, 2 * n) / 2 / d * 1e4, chi2.ppf(1 - a / 2, 2 * n + 2) / 2 / d * 1e4


#: the LA table's column 'Compared with England', after the figure, SN mean and median, region,
#: England, the two ranks and the band
VS_ENGLAND = 8


def test_each_la_is_compared_with_england_by_its_interval_worked_out_by_hand(small):
    """Re-referrals (lower is better) against England's 23.0%: Barnsley 620 of 3,100 (20.0%,
    95% interval 18.6% to 21.4%) better; Sheffield 1,550 of 6,200 (25.0%, 23.9% to 26.1%)
    worse. Referrals per 10,000 (no judgement) against 546.2: Barnsley 3,100 in 50,100 (618.8,
    597.2 to 640.9) higher."""
    _, report = small[95.0]
    rows = _la_rows(report)
    heads = re.search(r"<thead>(.*?)</thead>", str(report.local_authorities()), re.S).group(1)
    assert "Compared with England" in heads
    lo, hi = _wilson(620, 3100, 95)
    assert (round(lo, 1), round(hi, 1)) == (18.6, 21.4) and hi < 23.0
    assert rows[(BARNSLEY, "Re-referrals (%)")][VS_ENGLAND] == "better"
    lo, hi = _wilson(1550, 6200, 95)
    assert lo > 23.0 and rows[(SHEFFIELD, "Re-referrals (%)")][VS_ENGLAND] == "worse"
    lo, hi = _garwood(3100, 50100, 95)
    assert (round(lo, 1), round(hi, 1)) == (597.2, 640.9)
    assert rows[(BARNSLEY, "Referrals per 10,000 children")][VS_ENGLAND] == "higher"
    # the figures CSV says the same, with the limits
    csv = report.figures.set_index(["la_code", "indicator_id", "period"])
    r = csv.loc[(BARNSLEY, "referrals_rate", "2025")]
    assert (round(r["ci95_lower"], 1), round(r["ci95_upper"], 1)) == (597.2, 640.9)
    assert r["vs_england"] == "higher"


def test_the_key_and_the_method_state_the_level_and_the_methods(small):
    for level, (_, report) in small.items():
        key = _text(report.local_authorities())
        assert f"Compared with England: whether the local authority's {level:g}% confidence" in key
        assert "not tested the indicator has no count model" in key
        method = str(report.method())
        assert f"Confidence level: {level:g}%." in method
        for item in significance_method(level, yearly=True):
            assert f"<li>{esc(item)}</li>" in method
        assert "chi-squared test for trend (Cochran 1954; Armitage 1955" in method


def test_a_funnel_plot_per_indicator_with_a_count_model_its_description_and_table(small):
    """Both indicators have a count model: each is drawn, with a title, a description and its
    figures; the region's LAs are named, Camden (London) is plotted unnamed. Against 23.0%,
    Barnsley's 20.0% of 3,100 lies below even the 99.8% limits (about 20.7% to 25.3%) and
    Sheffield's 25.0% of 6,200 above them (about 21.4% to 24.7%)."""
    _, report = small[95.0]
    page = str(report.themes())
    figures = re.findall(r'<figure id="funnel-([\w]+)">(.*?)</figure>', page, re.S)
    assert [f for f, _ in figures] == ["rereferrals_pct", "referrals_rate"]
    body = dict(figures)["rereferrals_pct"]
    assert re.search(r"<figcaption>Re-referrals \(%\): funnel plot, 2025</figcaption>", body)
    assert re.search(r'<svg [^>]*role="img"', body) and "<desc>" in body
    text = _text(body)
    assert "each of the 3 LAs with a published figure by its denominator" in text
    assert "Barnsley below the 99.8% limit, Sheffield above the 99.8% limit" in text
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [html_lib.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr>(<th scope=\"row\">.*?)</tr>", body, re.S)
        )
    }
    assert rows["Barnsley"][:3] == ["yes", "3,100", "20.0%"]
    assert rows["Camden"][:3] == ["", "1,100", "20.0%"]
    lo, hi = (float(x.rstrip("%")) for x in rows["Sheffield"][4].split(" to "))
    assert abs(lo - (23 - 3.09 * math.sqrt(23 * 77 / 6200))) < 0.1 and hi < 25.0
    assert rows["Sheffield"][-1] == "above the 99.8% limit"


def test_the_funnel_slice_holds_published_figures_and_a_joint_service_once(small):
    """The funnel plots read every LA's figure for the year with status '' only: a withheld
    figure never reaches the slice; two LAs that run their service together count once,
    named together."""
    dp, _ = small[95.0]
    bench = dp.bench.copy()
    now = bench["period"].eq("2025") & bench["indicator_id"].eq("rereferrals_pct")
    bench.loc[now & bench["la_code"].eq(CAMDEN), "status"] = "c"
    joint = f"{BARNSLEY} / {SHEFFIELD}"
    pair = now & bench["la_code"].isin([BARNSLEY, SHEFFIELD])
    bench.loc[pair, ["shared", "numerator", "denominator", "value"]] = [joint, 2170, 9300, 23.3]
    changed = dataclasses.replace(dp, bench=bench)
    rows = changed.funnel[changed.funnel["indicator_id"].eq("rereferrals_pct")]
    assert list(rows["la_code"]) == [BARNSLEY] and set(rows["status"]) == {""}
    assert changed.funnel_las[BARNSLEY] == "Barnsley / Sheffield"
    assert set(changed.funnel.columns) == {
        "la_code", "indicator_id", "numerator", "denominator", "value", "status"
    }  # fmt: skip


# --------------------------------------------------------------------------- the real files

_real = pytest.mark.skipif(
    not (PUBLIC_DATA / "reference").is_dir(),
    reason=f"DfE's published statistics are not in {PUBLIC_DATA} (set TARTAN_PUBLIC_DATA)",
)


@pytest.fixture(scope="module")
def north_east(tmp_path_factory):
    root = tmp_path_factory.mktemp("dp-sig-real")
    dp = _prepared(PUBLIC_DATA, ROOT / "data_contracts", root / "out")
    return dp, _report(dp, NORTH_EAST, root / "slice")


@_real
def test_on_the_real_files_every_la_row_says_what_the_csv_says(north_east):
    dp, report = north_east
    rows = _la_rows(report)
    now = report.figures[report.figures["period"].eq(dp.year)]
    labels = {i.id: i.short_label for i in report.catalogue}
    said = 0
    for r in now.itertuples():
        cells = next(v for (c, label), v in rows.items() if c == r.la_code and label.startswith(
            labels[r.indicator_id]))  # fmt: skip
        if r.status == "" and r.vs_england:
            assert cells[VS_ENGLAND] == r.vs_england, (r.la_code, r.indicator_id)
            said += 1
    assert said > 100
    words = {c[VS_ENGLAND] for c in rows.values()}
    assert {"better", "similar", "worse", "higher", "lower", "not tested"} <= words


@_real
def test_on_the_real_files_a_funnel_plot_of_every_indicator_with_a_count_model(north_east):
    dp, report = north_east
    page = str(report.themes())
    counted = [i.id for i in report.catalogue if i.count_model != "none"]
    shown = re.findall(r'<figure id="funnel-([\w]+)">', page)
    assert sorted(shown) == sorted(counted) and len(shown) == 13
    # CLA rate: every LA in England with a figure, the North East's twelve named
    body = re.search(r'<figure id="funnel-cla_rate">(.*?)</figure>', page, re.S).group(1)
    plotted = dp.funnel[dp.funnel["indicator_id"].eq("cla_rate")]
    assert len(plotted) >= 150
    assert f"each of the {len(plotted)} LAs with a published figure" in _text(body)
    table = re.search(r"<tbody>(.*?)</tbody>", body, re.S).group(1)
    assert table.count("<tr>") == len(plotted)
    assert table.count("<td>yes</td>") == 12
    england = report.areas.query("area_code == 'england' and period == @dp.year")
    target = england.set_index("indicator_id").at["cla_rate", "value"]
    assert f"against England at {report.catalogue['cla_rate'].format(target)}" in _text(body)


def test_the_slice_says_the_level_and_names_every_la_plotted(small):
    for level, (_, report) in small.items():
        assert report.context["level"] == level and report.level == level
        assert set(report.funnel["status"]) == {""}
        assert set(report.funnel["la_code"]) == set(report.context["funnel_las"])
