"""The returns tracker on the pages, from hand-made entries of the tracker's schema: the
validation report's table per period, an LA's feedback with its versions, dates and what
changed, and the index's few words per LA and period; every state in words, figures as given
(c passed through, never a numerator), hostile file names inert. Then provisional figures
marked as such in the regional report's rug and pack list, the pack's notice and the
workbook's rug, from the tiny dataset's slices built in process (no notebook)."""

from __future__ import annotations

import html as html_lib
import io
import re

import openpyxl
import pytest

from pipeline.html.site import index_html
from pipeline.html.tracker import (
    changed_words,
    history,
    in_a_sentence,
    period_table,
    summary,
    times,
    tracker_section,
)
from pipeline.html.validation import feedback_html, validation_html
from pipeline.orchestration.settings import Settings
from pipeline.report import REPORTS
from pipeline.report.pack import SelfAssessmentPack
from pipeline.report.regional_workbook import workbook
from tests.conftest import TINY_LAS, TINY_PERIODS, TINY_REGION
from tests.internals import pack_job, prepare_plan, regional_job
from tests.test_workbook import ABOUT

LATEST, EARLIER = "2026-27-Q2", "2026-27-Q1"
HOSTILE = '<script>alert("x")</script>&_2026-27-Q2_v2.csv'
#: a value no page may show: every entry below carries it where a numerator would be
SECRET = "987654321"


def version(n: int, received="2026-11-02", status="accepted", **kw) -> dict:
    return {
        "file": f"{LATEST}/ZL101_{LATEST}{'' if n == 1 else f'_v{n}'}.csv",
        "version": n,
        "received": received,
        "received_from": "recorded",
        "status": status,
        "provisional": False,
        "on_time": True,
        "numerator": SECRET,  # not the schema's: never shown
        **kw,
    }


def change(label: str, old: str, new: str, step=(1, 2)) -> dict:
    return {
        "from_version": step[0],
        "to_version": step[1],
        "indicator_id": label.lower().replace(" ", "_"),
        "label": label,
        "old": old,
        "new": new,
        "numerator": SECRET,
    }


def entry(la="ZL101", name="Aldermoor", period=LATEST, **kw) -> dict:
    """An LA's tracker entry: by default one version, accepted, on time and final."""
    out = {
        "la_code": la,
        "la_name": name,
        "region_code": "ZR1",
        "period": period,
        "deadline": "2026-11-13",
        "state": "received",
        "timeliness": "on time",
        "received": "2026-11-02",
        "resubmissions": 0,
        "provisional": False,
        "used": f"{period}/{la}_{period}.csv",
        "versions": [version(1)],
        "changes": [],
    }
    return out | kw


def resubmitted() -> dict:
    """Aldermoor: late, sent again once with two figures changed (one withheld), the second
    version provisional and used."""
    v2 = version(2, "2026-11-20", provisional=True, on_time=False, received_from="file")
    return entry(
        timeliness="late",
        received="2026-11-16",
        resubmissions=1,
        provisional=True,
        used=v2["file"],
        versions=[version(1, "2026-11-16", on_time=False), v2],
        changes=[change("Re-referrals", "21.3%", "22.0%"), change("CIN visits", "c", "88.0%")],
    )


def not_received(la="ZL105", name="Brackenfold", period=LATEST) -> dict:
    return entry(
        la,
        name,
        period,
        state="not received",
        timeliness=None,
        received=None,
        used=None,
        versions=[],
    )


def text(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


# --------------------------------------------------------------------------- words
def test_each_state_is_said_in_words():
    assert summary(entry()) == "Received on time; final figures"
    assert summary(entry(timeliness="late")) == "Received late; final figures"
    assert summary(entry(timeliness="date not recorded")).startswith("Received (date not recorded)")
    assert summary(not_received()) == "Not received"
    assert (
        summary(resubmitted())
        == "Received late, resubmitted once (2 figures changed); provisional figures"
    )
    twice = entry(resubmissions=2, versions=[version(1), version(2), version(3)])
    assert (
        summary(twice) == "Received on time, resubmitted twice (no figures changed); final figures"
    )
    rejected = entry(used=None, versions=[version(1, status="quarantined")])
    assert summary(rejected) == "Received on time", "no version used: neither provisional nor final"
    assert (times(1), times(2), times(5)) == ("once", "twice", "5 times")
    assert changed_words([{}]) == "1 figure changed"


def test_a_sentence_gives_the_deadline_and_what_provisional_means():
    said = in_a_sentence(resubmitted())
    assert "(deadline 13 November 2026)" in said
    assert "Provisional: the LA has marked its figures provisional and may revise them" in said
    assert "provisional" not in in_a_sentence(entry()).replace("final", "")
    assert "no deadline set" in in_a_sentence(entry(deadline=None))


# --------------------------------------------------------------------------- validation report
def test_a_period_table_has_a_row_per_la_with_every_column_in_words():
    html = period_table(LATEST, [resubmitted(), not_received(), entry("ZL107", "Cinderford")], {})
    assert "<caption>Returns tracker, 2026-27 Q2 (deadline 13 November 2026)</caption>" in html
    assert html.count('<th scope="col">') == 7 and html.count('<th scope="row">') == 3
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", html)
    assert [text(r.split("</th>")[0]) for r in rows] == [
        "Aldermoor (ZL101)",
        "Brackenfold (ZL105)",
        "Cinderford (ZL107)",
    ], "by name"
    aldermoor, brackenfold, cinderford = (text(r) for r in rows)
    for words in ("Received late", "16 November 2026", "resubmitted once", "provisional"):
        assert words in aldermoor, words
    assert "Version 1 to 2: Re-referrals: 21.3% to 22.0%; CIN visits: c to 88.0%" in aldermoor
    assert "Not received" in brackenfold and "late" not in brackenfold
    for words in ("Received on time", "2 November 2026", "not resubmitted", "final"):
        assert words in cinderford, words
    assert "only one version" in cinderford


def test_the_tracker_section_folds_older_periods_and_links_each_la_once():
    entries = [resubmitted(), not_received(), entry(period=EARLIER), not_received(period=EARLIER)]
    html = tracker_section(entries, {"ZL101": "feedback/ZL101.html"})
    assert html.startswith('<h2 id="tracker">Returns tracker</h2>')
    assert "Provisional figures: the LA has marked" in html
    latest, earlier = html.split("<details")[1:]
    assert latest.startswith(" open><summary>Returns tracker, 2026-27 Q2: 1 of 2 received, 1 late")
    assert "1 resubmitted, 1 provisional" in latest
    assert earlier.startswith("><summary>Returns tracker, 2026-27 Q1"), "older periods folded"
    undated = tracker_section([entry(timeliness="date not recorded", period=EARLIER)], {})
    assert "1 of 1 received, 0 late, 1 with no date recorded, 0 resubmitted" in undated
    assert '<a href="feedback/ZL101.html#tracker-2026-27-Q2">Aldermoor (ZL101)</a>' in latest
    assert "<a " not in latest.split("Brackenfold")[0].split("Aldermoor (ZL101)</a>")[1]
    for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html):
        assert cell.count("<a ") <= 1, "one link a cell"
    assert tracker_section([], {}) == ""


def test_the_validation_report_has_the_tracker_and_nothing_it_was_not_given():
    v = {
        "summary": {"returns": 2, "accepted": 2, "quarantined": 0, "errors": 0, "warnings": 0},
        "contract": "la_return 1.0",
        "reporting_window": "2024-25 Q3 to 2026-27 Q2",
        "returns": [
            {"file": f["file"], "la_code": "ZL101", "period": LATEST, "status": f["status"]}
            | {"errors": 0, "warnings": 0}
            for f in resubmitted()["versions"]
        ],
        "findings": [],
        "checks": [],
    }
    page = validation_html("", [], v, "", {"ZL101": "Aldermoor"}, tracker=[resubmitted()])
    assert '<h2 id="tracker">Returns tracker</h2>' in page
    assert 'href="feedback/ZL101.html#tracker-2026-27-Q2"' in page
    assert SECRET not in page, "only the figures as published: never a numerator"
    assert "Returns tracker" not in validation_html("", [], v, "", {"ZL101": "Aldermoor"})


# --------------------------------------------------------------------------- feedback
def _feedback(entries: list[dict]) -> str:
    mine = entries[0]
    v = {
        "contract": "la_return 1.0",
        "returns": [
            {"file": x["file"], "la_code": "ZL101", "period": e["period"], "status": x["status"]}
            | {"errors": 0 if x["status"] == "accepted" else 1, "warnings": 0}
            for e in entries
            for x in e["versions"]
        ],
        "findings": [],
    }
    others = [not_received("ZL101", "Aldermoor", "2026-27-Q3")]
    del mine
    return feedback_html("", [], "ZL101", "Aldermoor", v, "", tracker=entries + others)


def test_an_las_feedback_shows_each_version_its_date_and_what_changed():
    page = _feedback([resubmitted(), entry(period=EARLIER)])
    assert re.findall(r'<h2 id="([^"]+)">', page) == ["2026-27-Q3", LATEST, EARLIER]
    latest = page.split(f'<h2 id="{LATEST}">')[1].split(f'<h2 id="{EARLIER}">')[0]
    said = text(latest)
    assert "Received late, resubmitted once (2 figures changed); provisional figures" in said
    assert said.index(f"ZL101_{LATEST}_v2.csv") < said.index(f"ZL101_{LATEST}.csv"), "newest first"
    assert f'<h3 id="tracker-{LATEST}">Versions and deadline, 2026-27 Q2</h3>' in latest
    versions = latest.split("<caption>Versions of the return")[1].split("</table>")[0]
    v1, v2 = (text(r) for r in re.findall(r"<tr><th scope=\"row\">(Version.*?)</tr>", versions))
    for words in ("16 November 2026", "recorded by the analyst", "late", "final"):
        assert words in v1, words
    assert "no: replaced by a later version" in v1
    for words in ("20 November 2026", "the file's own date", "provisional"):
        assert words in v2, words
    assert "yes: the latest accepted version" in v2
    assert "<caption>What changed from version 1 to version 2 (2 figures changed)" in latest
    changed = re.findall(
        r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td>', latest
    )
    assert ("Re-referrals", "21.3%", "22.0%") in changed and ("CIN visits", "c", "88.0%") in changed
    assert SECRET not in page
    assert "Not received (deadline 13 November 2026)." in text(
        page.split('id="2026-27-Q3"')[1].split("<h2")[0]
    )
    assert 'id="tracker-2026-27-Q3"' not in page, "no versions: no version history"


def test_an_unreadable_return_is_listed_under_no_period_with_no_empty_id():
    v = {
        "contract": "la_return 1.0",
        "returns": [
            {"file": "ZL101 odd.csv", "la_code": "ZL101", "period": None, "status": "quarantined"}
            | {"errors": 1, "warnings": 0},
            {"file": "ZL101 blank.csv", "la_code": "ZL101", "period": "", "status": "quarantined"}
            | {"errors": 1, "warnings": 0},
        ],
        "findings": [],
    }
    page = feedback_html("", [], "ZL101", "Aldermoor", v, "", tracker=[resubmitted()])
    assert 'id=""' not in page and page.count("<h2>not known</h2>") == 1
    assert page.index(f'<h2 id="{LATEST}">') < page.index("<h2>not known</h2>"), "newest first"


def test_a_step_without_changes_says_so_and_a_rejected_version_is_not_used():
    e = entry(
        resubmissions=2,
        versions=[version(1), version(2, status="quarantined"), version(3)],
        used=version(3)["file"],
    )
    markup = history(e)
    assert "From version 1 to version 3: no figures changed." in markup
    assert "no: not accepted" in markup and "not accepted" in markup
    assert "Not accepted" not in markup, "the capitalised verdict is the return's own"


def test_hostile_file_and_la_names_are_shown_not_run():
    bad = resubmitted()
    bad["la_name"] = "Aldermoor & <b>Co</b>"
    bad["versions"][1]["file"] = HOSTILE
    bad["used"] = HOSTILE
    bad["changes"][0]["label"] = "<img src=x onerror=alert(1)>"
    markup = period_table(LATEST, [bad], {"ZL101": 'x" onclick="alert(1)'}) + history(bad)
    assert "<script>" not in markup and "<img" not in markup and "<b>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;_2026-27-Q2_v2.csv" in markup
    assert 'href="x&quot; onclick=&quot;alert(1)"' in markup
    assert "Aldermoor &amp; &lt;b&gt;Co&lt;/b&gt;" in markup


# --------------------------------------------------------------------------- index
def test_the_index_says_each_las_tracker_state_beside_its_return():
    def row(la, name, status, tracker):
        return {
            "period": LATEST,
            "region_name": "North Vale",
            "la_code": la,
            "la_name": name,
            "status": status,
            "feedback": f"validation/feedback/{la}.html#{LATEST}" if tracker["versions"] else None,
            "tracker": tracker,
        }

    reports = [
        {
            "period": LATEST,
            "region_code": "ZR1",
            "region_name": "North Vale",
            "href": f"{LATEST}/ZR1/regional-benchmark.html",
            "status": "ok",
            "detail": "",
        }
    ]
    returns = [
        row("ZL101", "Aldermoor", "accepted", resubmitted()),
        row("ZL105", "Brackenfold", "missing", not_received()),
        row("ZL107", "Cinderford", "accepted", entry("ZL107", "Cinderford")),
    ]
    summary_ = {"returns": 3, "accepted": 3, "quarantined": 0}
    page = index_html("", "Test", [], reports, returns, summary_, "")
    assert '<th scope="col">Return</th><th scope="col">Received</th>' in page
    row = (
        r'<th scope="row">([^<]*) \(ZL\d+\)</th><td>[^<]*</td><td[^>]*>([^<]*)</td><td>([^<]*)</td>'
    )
    cells = {name: (status, received) for name, status, received in re.findall(row, page)}
    assert cells["Aldermoor"] == (
        "accepted",
        "Received late, resubmitted once (2 figures changed); provisional figures",
    )
    assert cells["Brackenfold"] == ("no return", "Not received")
    assert cells["Cinderford"] == ("accepted", "Received on time; final figures")
    assert '<a href="validation/feedback/ZL101.html#2026-27-Q2">' in page
    for cell in re.findall(r"<td[^>]*>(.*?)</td>", page):
        assert cell.count("<a ") <= 1, "one link a cell (WCAG 2.2 target size)"
    assert SECRET not in page
    without = index_html(
        "", "Test", [], reports, [r | {"tracker": None} for r in returns], summary_, ""
    )
    assert ">Received<" not in without, "no tracker, no column"


def test_a_version_whose_number_could_not_be_read_is_listed_last_and_named_so():
    odd = version(2) | {"version": None, "file": "ZL101 return (copy).csv", "used": False}
    markup = history(entry(versions=[odd, version(1)]))
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>', markup)
    assert rows == ["Version 1", "Version not known (file named oddly)"]


# --------------------------------------------------------------------------- provisional figures
@pytest.fixture(scope="module")
def plan(tiny, tmp_path_factory):
    """The tiny dataset's plan with Aldermoor's (ZL101) latest figures provisional."""
    out = tmp_path_factory.mktemp("provisional")
    p = prepare_plan(Settings(data=tiny.data, out=out, contracts=tiny.contracts))
    _mark(p, {("ZL101", TINY_PERIODS[-1])})
    return p


def _mark(plan, provisional: set) -> None:
    """The plan's tracker with the figures of `provisional` ((LA, period) pairs) provisional,
    and only those."""
    plan.tracker = [
        e | {"provisional": (e["la_code"], e["period"]) in provisional} for e in plan.tracker
    ]
    assert plan.provisional == provisional


@pytest.fixture(scope="module")
def regional(plan):
    return _regional(plan, {(la, TINY_PERIODS[-1]): True for la in TINY_LAS})


def _regional(plan, packs: dict):
    planned = regional_job(plan, TINY_PERIODS[-1], TINY_REGION, "North Vale", packs)
    planned.write_slice()
    return REPORTS["regional-benchmark"].implementation().load(planned.job.slice_dir)


def _pack(plan, la: str, folder):
    planned = pack_job(plan, TINY_PERIODS[-1], la, TINY_REGION, "North Vale")
    folder.mkdir()
    for file, data in planned.files.items():
        (folder / file).write_bytes(data)
    return SelfAssessmentPack.load(folder)


def test_the_rug_and_the_pack_list_mark_provisional_figures(regional):
    rug = str(regional.rug())
    assert '<th scope="row">Aldermoor (provisional)</th>' in rug
    assert rug.count("Aldermoor (provisional)") >= 3, "the rug and both significance rugs"
    assert '<th scope="row">Elmsworth</th>' in rug, "only the LA whose figures are provisional"
    note = text(rug.split("</table></div>")[1].split("<ul")[0])
    assert "(provisional) after a name: the LA has marked its figures provisional" in note
    assert "Provisional this period: Aldermoor." in note
    packs = text(str(regional.packs()))
    assert "Aldermoor (provisional): self-assessment evidence pack" in packs
    assert "Elmsworth: self-assessment evidence pack" in packs


def test_no_provisional_figures_no_mark_and_no_note(plan):
    held = plan.provisional
    _mark(plan, set())
    try:
        rug = str(_regional(plan, {}).rug())
    finally:
        _mark(plan, held)
    assert "provisional" not in rug


def test_content_keys_change_when_provisional_status_changes(plan):
    def keys():
        period = TINY_PERIODS[-1]
        r = regional_job(plan, period, TINY_REGION, "North Vale", {}).job.key
        mine = pack_job(plan, period, "ZL101", TINY_REGION, "North Vale").job.key
        other = pack_job(plan, period, "ZL105", TINY_REGION, "North Vale").job.key
        return r, mine, other

    held = plan.provisional
    before = keys()
    _mark(plan, set())
    try:
        after = keys()
    finally:
        _mark(plan, held)
    assert before[0] != after[0] and before[1] != after[1], "the region's report and the LA's pack"
    assert before[2] == after[2], "another LA's pack is not rebuilt"


def test_the_pack_of_provisional_figures_says_so_at_the_top(plan, tmp_path):
    pack = _pack(plan, "ZL101", tmp_path / "zl101")
    top = str(pack.headline())
    assert top.index("These figures are provisional: Aldermoor may revise them.") < top.index(
        'class="lede">'
    ), "under the title, before the lede"
    assert "accepted, provisional figures" in str(pack.profile())
    other = _pack(plan, "ZL105", tmp_path / "zl105")
    assert "provisional" not in str(other.headline()) + str(other.profile())


def test_the_workbooks_rug_marks_the_name_and_its_key_says_why(regional):
    book = openpyxl.load_workbook(io.BytesIO(workbook(regional, ABOUT)))
    names = [str(r[0].value) for r in book["Rug"].iter_rows() if r[0].value is not None]
    assert "Aldermoor (provisional)" in names and "Elmsworth" in names
    assert "Aldermoor: statistical neighbours' mean" in names
    texts = [str(c.value) for row in book["Rug"].iter_rows() for c in row if c.value]
    key = next(t for t in texts if "(provisional) after a name" in t)
    assert "may revise them" in key
