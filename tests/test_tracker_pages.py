"""The returns tracker on the pages, from hand-made entries of the tracker's schema: the
validation report's table per period, an LA's feedback with its versions, dates and what
changed, and the index's few words per LA and period; every state in words, figures as given
(c passed through, never a numerator), hostile file names inert. Then provisional figures
marked as such in the regional report's rug and pack list, the pack's notice and the
workbook's rug, from the tiny dataset's slices built in process (no notebook)."""

from __future__ import annotations

import html as html_lib
import re

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
    """What a reader sees: tags dropped, entities decoded."""
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", markup))


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
    assert [text(r).split("  ")[0].strip() for r in rows] == [
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
def test_the_index_says_each_las_tracker_state_in_its_return_cell():
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
    cells = dict(
        re.findall(r'<th scope="row">([^<]*) \(ZL\d+\)</th><td>[^<]*</td><td[^>]*>(.*?)</td>', page)
    )
    assert (
        text(cells["Aldermoor"]).split()
        == text(
            "accepted Received late, resubmitted once (2 figures changed); provisional figures"
        ).split()
    )
    assert cells["Brackenfold"] == "no return", "nothing came: the status alone"
    assert "Received on time; final figures" in cells["Cinderford"]
    assert '<a href="validation/feedback/ZL101.html#2026-27-Q2">' in page
    for cell in re.findall(r"<td[^>]*>(.*?)</td>", page):
        assert cell.count("<a ") <= 1, "one link a cell (WCAG 2.2 target size)"
    assert SECRET not in page
