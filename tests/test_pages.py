"""The index page on hand-made runs: every status a reviewer may meet, in words."""

from __future__ import annotations

import re

from pipeline.html.site import index_html

SUMMARY = {"returns": 3, "accepted": 2, "quarantined": 1}


def _report(period, code, status="ok", detail=""):
    return {
        "period": period,
        "region_code": code,
        "region_name": f"Region {code}",
        "href": f"{period}/{code}/regional-benchmark.html",
        "status": status,
        "detail": detail,
    }


def _return(period, la, status, feedback=True):
    return {
        "period": period,
        "region_name": "Region R1",
        "la_code": la,
        "la_name": f"LA {la}",
        "status": status,
        "feedback": f"validation/feedback/{la}.html#{period}" if feedback else None,
    }


def test_index_shows_failed_reports_and_each_return_status_in_words():
    reports = [
        _report("2026-27-Q1", "R1"),
        _report("2026-27-Q2", "R1", "failed", "ValueError: no figures (cell 3)"),
        _report("2026-27-Q2", "R2"),
    ]
    returns = [
        _return("2026-27-Q2", "L1", "accepted"),
        _return("2026-27-Q2", "L2", "not accepted"),
        _return("2026-27-Q2", "L3", "missing", feedback=False),
        _return("2026-27-Q1", "L1", "accepted"),
    ]
    html = index_html("", "Test data", [], reports, returns, SUMMARY, "")
    assert re.findall(r'<h2 id="([^"]+)">', html) == ["2026-27-Q2", "2026-27-Q1"], "newest first"
    latest = html.split('id="2026-27-Q2"')[1].split('id="2026-27-Q1"')[0]
    assert "1 of 2 regional reports built." in latest
    name = "Region R1: regional benchmark, 2026-27 Q2"
    failed = re.search(rf'<tr><th scope="row">{name}</th>.*?</tr>', latest)
    assert failed, "a failed report is listed, without a link to a page that does not exist"
    assert 'class="status-failed">failed<' in failed.group(0)
    assert "ValueError: no figures (cell 3)" in failed.group(0)
    assert '<a href="2026-27-Q2/R2/regional-benchmark.html">' in latest
    links = re.findall(r"<a [^>]*>([^<]*)</a>", html)
    assert len(links) == len(set(links)), "every link's text says where it goes"
    assert "1 of 3 LA returns accepted, 1 return not accepted, 1 no return" in latest
    assert "<details open><summary>Local authority returns, 2026-27 Q2" in latest
    assert 'class="status-missing">no return<' in latest and "none (no return)" in latest
    feedback = '<a href="validation/feedback/L2.html#2026-27-Q2">Feedback for LA L2, 2026-27 Q2</a>'
    assert feedback in latest
    older = html.split('id="2026-27-Q1"')[1]
    assert "<details><summary>" in older, "older periods' returns are folded"
    assert '<a href="#2026-27-Q1">2026-27 Q1</a>' in html, "a contents list of periods"


def test_escaping_makes_markup_and_control_characters_inert():
    from pipeline.html.base import esc

    assert esc('<script>alert("x")</script>') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    # a stray control character from an LA's cell is shown, not copied into the page
    assert esc("1\x01") == "1\u2401" and esc("a\x7fb\x85") == "a\u2421b\ufffd"
    assert esc("line\tone\nline two") == "line\tone\nline two"
