"""The self-assessment pack's scorecards show each figure's confidence interval and whether it
is better, similar or worse than England, the region and the SN mean, with a key, and its method
states the level and the methods: one LA of the tiny dataset, its slice as the driver writes it,
checked against intervals worked out here by their textbook formulas."""

from __future__ import annotations

import html as html_lib
import math
import re

import pandas as pd
import pytest
from scipy.stats import chi2, norm

from pipeline.core.significance import judge
from pipeline.core.trends import NO_CHANGE
from pipeline.html.base import esc
from pipeline.html.sections import significance_method
from pipeline.orchestration.settings import Settings
from pipeline.report.pack import SelfAssessmentPack
from tests.conftest import TINY_PERIODS, TINY_REGION
from tests.internals import pack_job, prepare_plan

LATEST, LA = TINY_PERIODS[-1], "ZL101"


def _slice(tiny, out, level: float | None = None):
    """ZL101's pack slice for the latest quarter, written as a job's slice, at `level`."""
    s = Settings(data=tiny.data, contracts=tiny.contracts, out=out, level=level)
    plan = prepare_plan(s)
    name = dict(plan.inputs.reference.regions.itertuples(index=False))[TINY_REGION]
    planned = pack_job(plan, LATEST, LA, TINY_REGION, name)
    folder = out / "slice"
    folder.mkdir()
    for file, data in planned.files.items():
        (folder / file).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def slice_dir(tiny, tmp_path_factory):
    return _slice(tiny, tmp_path_factory.mktemp("pack-sig"))


@pytest.fixture(scope="module")
def strict_slice_dir(tiny, tmp_path_factory):
    """The same at 99.8% (as `--level 99.8` makes it)."""
    return _slice(tiny, tmp_path_factory.mktemp("pack-sig-998"), 99.8)


def _pack(slice_dir) -> SelfAssessmentPack:
    return SelfAssessmentPack.load(slice_dir)


def _cards(pack: SelfAssessmentPack) -> str:
    """Every theme's scorecard (the themes section without its charts)."""
    card = pack._card.set_index("indicator_id")
    cat = pack.catalogue
    return "".join(pack._scorecard(t, cat.in_theme(t), card) for t in cat.themes)


def _rows(page: str) -> dict[str, list[str]]:
    """Each scorecard row's cells as text, by the indicator's label (its note left out)."""
    out = {}
    for table in re.findall(r'<table class="tartan-table scorecard">.*?</table>', page, re.S):
        for row in re.findall(r"<tr>(<th scope=\"row\">.*?)</tr>", table, re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            label = html_lib.unescape(re.sub(r"<br>.*", "", cells[0]))
            out[label] = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells[1:]]
    return out


def _heads(page: str) -> list[str]:
    table = re.search(r'<table class="tartan-table scorecard">.*?</thead>', page, re.S).group(0)
    return [html_lib.unescape(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)]


def _wilson(n: float, d: float, level: float) -> tuple[float, float]:
    """Wilson's (1927) score interval, by its formula."""
    z = norm.ppf(1 - (1 - level / 100) / 2)
    p = n / d
    centre = (p + z * z / (2 * d)) / (1 + z * z / d)
    half = z * math.sqrt(p * (1 - p) / d + z * z / (4 * d * d)) / (1 + z * z / d)
    return centre - half, centre + half


def _garwood(n: float, d: float, level: float) -> tuple[float, float]:
    """The exact Poisson interval (Garwood 1936) of n events in d, by the chi-squared form."""
    a = 1 - level / 100
    lower = chi2.ppf(a / 2, 2 * n) / 2 if n > 0 else 0.0
    return lower / d, chi2.ppf(1 - a / 2, 2 * n + 2) / 2 / d


def _versus(lo: float, hi: float, benchmark: float, polarity: str) -> str:
    up, down = {"high": ("better", "worse"), "low": ("worse", "better")}.get(
        polarity, ("higher", "lower")
    )
    return up if lo > benchmark else down if hi < benchmark else "similar"


COLUMNS = {"interval": 1, "england": 7, "vs_england": 8, "vs_region": 9, "vs_sn": 10}


@pytest.mark.parametrize("level", [95.0, 99.8])
def test_each_scorecard_row_has_the_interval_and_comparisons_worked_out_by_hand(request, level):
    pack = _pack(request.getfixturevalue("slice_dir" if level == 95 else "strict_slice_dir"))
    assert pack.level == level
    page = _cards(pack)
    heads = _heads(page)
    assert heads[2:4] == [f"{level:g}% interval", "Previous quarter"]
    assert heads[9:12] == ["Compared with England", "Compared with region", "Compared with SN mean"]
    rows = _rows(page)
    f = pack.figures[pack.figures["period"] == LATEST].set_index("indicator_id")
    england = pack.areas[(pack.areas["period"] == LATEST) & (pack.areas["area_code"] == "england")]
    england = england.set_index("indicator_id")["value"]
    checked = {"binomial": 0, "poisson": 0, "none": 0}
    for ind in pack.catalogue:
        r, cells = f.loc[ind.id], rows[ind.label]
        if r["status"] != "":
            assert cells[COLUMNS["interval"]] == "" and cells[8:11] == ["", "", ""], ind.id
            continue
        if ind.count_model == "none":
            assert cells[COLUMNS["interval"]] == "no interval: no count model"
            assert cells[8:11] == ["not tested"] * 3
            checked["none"] += 1
            continue
        form = _wilson if ind.count_model == "binomial" else _garwood
        lo, hi = (x * ind.scale for x in form(r["numerator"], r["denominator"], level))
        assert cells[COLUMNS["interval"]] == f"{ind.format(lo)} to {ind.format(hi)}", ind.id
        word = _versus(lo, hi, england[ind.id], ind.polarity)
        assert cells[COLUMNS["vs_england"]] == word, (ind.id, lo, hi, england[ind.id])
        assert cells[COLUMNS["england"]] == ind.format(england[ind.id])
        if not math.isnan(r["sn_mean"]):
            assert cells[COLUMNS["vs_sn"]] == _versus(lo, hi, r["sn_mean"], ind.polarity)
        checked[ind.count_model] += 1
    assert checked["binomial"] >= 10 and checked["poisson"] >= 3 and checked["none"] == 4


def test_a_big_gap_on_a_handful_of_children_is_similar_and_on_many_worse(slice_dir):
    """Re-referrals (lower is better) 27 points above England: 3 of 6 children is 'similar'
    (its 95% interval, 18.8% to 81.2%, includes England's figure), 300 of 600 is 'worse'."""
    pack = _pack(slice_dir)
    ind = pack.catalogue["rereferrals_pct"]
    england = pack.areas.query("area_code == 'england' and period == @LATEST")
    assert 20 < england.set_index("indicator_id").at[ind.id, "value"] < 30
    words = []
    for n, d in ((3.0, 6.0), (300.0, 600.0)):
        pack = _pack(slice_dir)
        f = pack.figures
        at = (f["period"] == LATEST) & (f["indicator_id"] == ind.id)
        f.loc[at, ["numerator", "denominator", "value", "status"]] = [n, d, 50.0, ""]
        bare = f.drop(columns=["vs_england", "vs_region", "vs_sn"])
        pack.figures, _ = judge(bare, _areas(pack), pack.catalogue)
        cells = _rows(_cards(pack))[ind.label]
        words.append((cells[COLUMNS["interval"]], cells[COLUMNS["vs_england"]]))
    assert words == [("18.8% to 81.2%", "similar"), ("46.0% to 54.0%", "worse")]


def _areas(pack) -> pd.DataFrame:
    """The pack's region and England rows as `judge` reads them."""
    a = pack.areas.copy()
    a["area_type"] = a["area_code"].map(lambda c: "england" if c == "england" else "region")
    return a


def test_the_key_says_what_each_word_means_and_colour_is_never_alone(slice_dir):
    page = str(_pack(slice_dir).themes())
    key = re.search(r'<p id="comparison-key">.*?</ul><p>.*?</p>', page, re.S).group(0)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", key))
    assert "95% confidence interval" in text
    for word in ("better", "worse", "similar", "higher", "lower", "not tested", "no counts"):
        assert f" {word} " in text, word
    assert "no England figure or no region figure or no SN mean" in text
    assert page.index('id="comparison-key"') < page.index('class="tartan-table scorecard"')
    # every comparison's cell holds its word: its colour never stands alone
    words = {"better", "similar", "worse", "higher", "lower"}
    cells = re.findall(r'<td class="vs"( style="[^"]*")?>(.*?)</td>', page)
    assert {w for _, w in cells} >= {"better", "similar", "worse", "not tested"}
    for style, word in cells:
        assert word in words | {"", "not tested", "no counts", "no SN mean"}, word
        assert bool(style) == (word in words), (style, word)


def test_no_significant_change_is_a_trend_word_of_its_own(slice_dir):
    pack = _pack(slice_dir)
    f = pack.figures
    ind = pack.catalogue["rereferrals_pct"]
    f.loc[(f["period"] == LATEST) & (f["indicator_id"] == ind.id), "trend"] = NO_CHANGE
    assert _rows(_cards(pack))[ind.label][-1] == "no significant change"


@pytest.mark.parametrize("level", [95.0, 99.8])
def test_the_method_states_the_level_and_the_methods(request, level):
    pack = _pack(request.getfixturevalue("slice_dir" if level == 95 else "strict_slice_dir"))
    page = str(pack.method())
    assert f"Confidence level: {level:g}%." in page
    for item in significance_method(level, funnels=False):
        assert f"<li>{esc(item)}</li>" in page
    assert "Wilson 1927" in page
    assert "Funnel plots" not in page, "a pack has none, so its method does not describe them"
