"""The returns tracker (issue 25, parts 4 and 5): every version of a return kept and validated,
the reports using the latest accepted one; two files of one version refused, a version written
oddly named; deadlines and receipt dates checked (exit 2, naming file and line) and judged by
hand-worked dates; the figures that changed between versions, as pages show them; and a
resubmission rebuilding only the reports it changes.

Dates worked by hand: 2026-27 Q2 ends on 30 September 2026; six weeks (42 days) later is
11 November 2026, the default deadline."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

import openpyxl
import pytest
from openpyxl.writer.excel import ExcelWriter

from pipeline.core.checks import return_version
from pipeline.core.periods import parse_slug
from pipeline.edges.return_calendar import Calendar, quarter_end
from pipeline.orchestration.inputs import published, validate
from pipeline.orchestration.settings import Settings
from pipeline.orchestration.tracker import for_run, provisional
from tests.conftest import TINY_LAS, TINY_PERIODS, cli

P = "2026-27-Q2"
DEADLINE = "2026-11-11"


def test_the_tiny_dataset_ends_in_the_quarter_worked_by_hand():
    assert TINY_PERIODS[-1] == P
    assert quarter_end(parse_slug(P)) == dt.date(2026, 9, 30)
    assert Calendar().deadline(P) == dt.date(2026, 11, 11)
    assert Calendar(weeks=4).deadline(P) == dt.date(2026, 10, 28)
    assert Calendar(dates={P: dt.date(2026, 11, 30)}).deadline(P) == dt.date(2026, 11, 30)
    assert quarter_end(parse_slug("2026-27-Q4")) == dt.date(2027, 3, 31)
    assert quarter_end(parse_slug("2026-27-Q3")) == dt.date(2026, 12, 31)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("returns/2026-27-Q2/ZL101_2026-27-Q2.csv", (1, False, None)),
        ("ZL101_2026-27-Q2_v2.csv", (2, False, None)),
        ("ZL101_2026-27-Q2_V12.xlsx", (12, False, None)),
        ("ZL101_2026-27-Q2_provisional.csv", (1, True, None)),
        ("ZL101_2026-27-Q2_v3_provisional.xlsm", (3, True, None)),
        ("ZL101_2026-27-Q2_v0.csv", (None, False, "v0")),
        ("ZL101_2026-27-Q2_v1.5.csv", (None, False, "v1.5")),
        ("ZL101_2026-27-Q2_vx.csv", (None, False, "vx")),
        ("ZL101_2026-27-Q2_v02.csv", (None, False, "v02")),
        ("ZL101_2026-27-Q2_v2_v3.csv", (None, False, "v3")),
        ("ZL101_2026-27-Q2_verified.csv", (1, False, None)),  # a word, not a version
        ("return zl101 2026-27Q2.csv", (1, False, None)),  # named freely: its rows say
    ],
)
def test_a_file_name_gives_its_version(name, expected):
    assert return_version(name) == expected


# --------------------------------------------------------------------------- on a tiny copy


def _lines(data: Path, la: str) -> list[str]:
    return (data / "returns" / P / f"{la}_{P}.csv").read_text("utf-8").splitlines(keepends=True)


def _edited(lines: list[str], cells: dict[str, dict[str, str]]) -> str:
    """A return's CSV with some cells replaced: indicator -> column -> text."""
    header = lines[0].rstrip("\n").split(",")
    out = [lines[0]]
    for line in lines[1:]:
        row = line.rstrip("\n").split(",")
        for column, text in cells.get(row[header.index("indicator_id")], {}).items():
            row[header.index(column)] = text
        out.append(",".join(row) + "\n")
    return "".join(out)


def _put(data: Path, name: str, text: str) -> None:
    (data / "returns" / P / name).write_text(text, encoding="utf-8")


#: ZL101's re-referrals corrected: 476 -> 470 of 1870 (25.5% -> 25.1%: six fewer children, not
#: a small number; the region's and England's 21.5% unchanged)
REREFERRALS = {"rereferrals_pct": {"numerator": "470", "value": "25.1"}}


def _tracked(data: Path, contracts: Path, tmp_path: Path):
    """The validation as pages show it, and the tracker by (LA, period)."""
    s = Settings(data=data, out=tmp_path / "unused", contracts=contracts)
    v, inputs = validate(s)
    _, sdc = published(s, v, inputs)
    shown = v.published(sdc.removed)
    entries = for_run(s, shown, inputs, sdc.removed)
    return shown, {(e["la_code"], e["period"]): e for e in entries}


@pytest.fixture
def copy(tiny, tmp_path):
    return tiny.copy(tmp_path / "data")


def test_reports_use_the_latest_accepted_version_and_a_quarantined_v3_leaves_v2(copy, tmp_path):
    data = copy.data
    lines = _lines(data, "ZL101")
    _put(data, f"ZL101_{P}_v2.csv", _edited(lines, REREFERRALS))
    _put(data, f"ZL101_{P}_v3.csv", "".join(lines[:-1]))  # a row short: not accepted
    v, tracker = _tracked(data, copy.contracts, tmp_path)
    mine = {
        o.file.rsplit("/", 1)[-1]: o for o in v.outcomes if (o.la_code, o.period) == ("ZL101", P)
    }
    assert {n: (o.version, o.status, o.used) for n, o in mine.items()} == {
        f"ZL101_{P}.csv": (1, "accepted", False),
        f"ZL101_{P}_v2.csv": (2, "accepted", True),
        f"ZL101_{P}_v3.csv": (3, "quarantined", False),
    }
    rows = v.accepted_rows[
        v.accepted_rows["la_code"].eq("ZL101") & v.accepted_rows["period_slug"].eq(P)
    ]
    assert set(rows["file"]) == {f"returns/{P}/ZL101_{P}_v2.csv"}, "only the used version's rows"
    assert rows.set_index("indicator_id").at["rereferrals_pct", "value_n"] == 25.1
    assert set(v.other_rows["file"]) == {f"returns/{P}/ZL101_{P}.csv"}
    assert len(v.outcomes) == 3 * len(TINY_LAS) + 2, "every version listed"
    e = tracker[("ZL101", P)]
    assert (e["state"], e["resubmissions"], e["used"]) == (
        "resubmitted",
        2,
        f"returns/{P}/ZL101_{P}_v2.csv",
    )
    assert [x["version"] for x in e["versions"]] == [1, 2, 3]
    assert e["changes"] == [
        {
            "from_version": 1,
            "to_version": 2,
            "indicator_id": "rereferrals_pct",
            "label": "Re-referrals within 12 months of a previous referral (%)",
            "old": "25.5%",
            "new": "25.1%",
        }
    ]
    assert tracker[("ZL105", P)]["state"] == "received"


def test_two_files_of_one_version_are_both_refused_each_naming_the_other(copy, tmp_path):
    data = copy.data
    text = "".join(_lines(data, "ZL105"))
    _put(data, f"ZL105_{P}_v2.csv", text)
    _put(data, f"ZL105_{P}_v2_provisional.csv", text)  # version 2 too
    v, tracker = _tracked(data, copy.contracts, tmp_path)
    f = v.findings[v.findings["check_id"].eq("one_return_per_period")]
    named = dict(zip(f["file"], f["value"], strict=True))
    a, b = f"returns/{P}/ZL105_{P}_v2.csv", f"returns/{P}/ZL105_{P}_v2_provisional.csv"
    assert named == {a: b, b: a}
    assert "the same LA, period and version" in f["message"].iloc[0]
    status = {o.file: o.status for o in v.outcomes}
    assert status[a] == status[b] == "quarantined"
    assert tracker[("ZL105", P)]["used"] == f"returns/{P}/ZL105_{P}.csv", "v1 is still used"


def test_a_version_written_oddly_is_named_and_not_used(copy, tmp_path):
    data = copy.data
    text = "".join(_lines(data, "ZL107"))
    odd = ["v0", "v1.5", "vx"]
    for token in odd:
        _put(data, f"ZL107_{P}_{token}.csv", text)
    v, tracker = _tracked(data, copy.contracts, tmp_path)
    f = v.findings[v.findings["check_id"].eq("version_named")]
    assert sorted(f["value"]) == sorted(odd)
    for token, message in zip(f["value"], f["message"], strict=True):
        assert f"gives its version as {token!r}" in message
        assert "expected _v and a whole number from 2" in message
    outcomes = {o.file: o for o in v.outcomes}
    for token in odd:
        o = outcomes[f"returns/{P}/ZL107_{P}_{token}.csv"]
        assert (o.status, o.version, o.used) == ("quarantined", None, False)
    e = tracker[("ZL107", P)]
    assert e["used"] == f"returns/{P}/ZL107_{P}.csv"
    assert [x["version"] for x in e["versions"]] == [1, None, None, None]


def _workbook(csv_text: str, path: Path, modified: dt.datetime) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for line in csv_text.splitlines():
        sheet.append([c if c == "" or not _number(c) else float(c) for c in line.split(",")])
    book.properties.modified = modified
    # as Excel saves it: openpyxl's own save would stamp the time of saving instead
    with ZipFile(path, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_on_time_late_and_not_recorded_by_hand_worked_dates(copy, tmp_path):
    data = copy.data
    _put(data, f"ZL101_{P}_v2.csv", _edited(_lines(data, "ZL101"), REREFERRALS))
    # ZL108 sends a workbook saved on 1 November; ZL107's CSV carries no date
    text = "".join(_lines(data, "ZL108"))
    (data / "returns" / P / f"ZL108_{P}.csv").unlink()
    _workbook(text, data / "returns" / P / f"ZL108_{P}.xlsx", dt.datetime(2026, 11, 1, 9, 30))
    (data / "returns" / "received.yaml").write_text(
        "# the analyst's record\n"
        f"{P}/ZL101_{P}.csv: 2026-11-11\n"  # on the deadline: on time
        f"{P}/ZL101_{P}_v2.csv: 2026-12-01\n"  # the resubmission is later; the first counts
        f"{P}/ZL105_{P}.csv: {{received: 2026-11-12, provisional: true}}\n",  # a day late
        encoding="utf-8",
    )
    _, tracker = _tracked(data, copy.contracts, tmp_path)
    got = {
        la: (e["deadline"], e["timeliness"], e["received"], e["provisional"])
        for (la, period), e in tracker.items()
        if period == P
    }
    assert got == {
        "ZL101": (DEADLINE, "on time", "2026-11-11", False),
        "ZL105": (DEADLINE, "late", "2026-11-12", True),
        "ZL107": (DEADLINE, "date not recorded", None, False),
        "ZL108": (DEADLINE, "on time", "2026-11-01", False),
    }
    v2 = tracker[("ZL101", P)]["versions"][1]
    assert (v2["received"], v2["received_from"], v2["on_time"]) == ("2026-12-01", "recorded", False)
    assert tracker[("ZL108", P)]["versions"][0]["received_from"] == "file"
    assert provisional(tracker.values()) == {("ZL105", P)}
    # with the quarter's own deadline, 30 November, ZL105 is on time
    (data / "dataset.yaml").write_text(
        _without_deadline(data) + f"return_deadline: {{weeks_after_quarter: 6, {P}: 2026-11-30}}\n",
        encoding="utf-8",
    )
    _, tracker = _tracked(data, copy.contracts, tmp_path)
    assert (tracker[("ZL105", P)]["deadline"], tracker[("ZL105", P)]["timeliness"]) == (
        "2026-11-30",
        "on time",
    )
    earlier = TINY_PERIODS[0]
    assert (
        tracker[("ZL105", earlier)]["deadline"]
        == (quarter_end(parse_slug(earlier)) + dt.timedelta(weeks=6)).isoformat()
    )


def test_a_workbook_dated_before_its_quarter_ended_has_no_date_of_its_own(copy, tmp_path):
    """A blank template's date (tartan template stamps 1 January 2000) is not a receipt date."""
    data = copy.data
    text = "".join(_lines(data, "ZL108"))
    (data / "returns" / P / f"ZL108_{P}.csv").unlink()
    _workbook(text, data / "returns" / P / f"ZL108_{P}.xlsx", dt.datetime(2000, 1, 1))
    _, tracker = _tracked(data, copy.contracts, tmp_path)
    assert tracker[("ZL108", P)]["timeliness"] == "date not recorded"


def test_changes_show_old_and_new_as_pages_do_and_c_where_withheld(copy, tmp_path):
    """ZL101 resubmits: re-referrals 476 -> 470 of 1870 (25.5% -> 25.1%); children on a plan
    for two years or more 7 -> 4 of 107 (6.5% -> 3.7%: a count of 4, which disclosure control
    withholds, and a change of 3 children, so c on both sides); ICPCs in 15 days 55.2% -> not
    applicable (x), a change of status."""
    data = copy.data
    cells = dict(REREFERRALS)
    cells["cpp_2_years_pct"] = {"numerator": "4", "value": "3.7"}
    cells["icpc_15_days_pct"] = {"numerator": "", "denominator": "", "value": "", "status": "x"}
    _put(data, f"ZL101_{P}_v2.csv", _edited(_lines(data, "ZL101"), cells))
    v, tracker = _tracked(data, copy.contracts, tmp_path)
    assert all(o.status == "accepted" for o in v.outcomes if o.la_code == "ZL101")
    changes = tracker[("ZL101", P)]["changes"]
    assert [(c["indicator_id"], c["old"], c["new"]) for c in changes] == [
        ("rereferrals_pct", "25.5%", "25.1%"),
        ("icpc_15_days_pct", "55.2%", "x"),
        ("cpp_2_years_pct", "c", "c"),
    ]
    assert {(c["from_version"], c["to_version"]) for c in changes} == {(1, 2)}
    text = json.dumps(tracker[("ZL101", P)])
    for count in ("470", "1870", "107", '"4"', "3.7", "6.5%"):
        assert count not in text, f"{count} is a count or a withheld figure"


def test_without_disclosure_control_nothing_is_c(copy, tmp_path):
    data = copy.data
    cells = {"cpp_2_years_pct": {"numerator": "4", "value": "3.7"}}
    _put(data, f"ZL101_{P}_v2.csv", _edited(_lines(data, "ZL101"), cells))
    s = Settings(data=data, out=tmp_path / "unused", contracts=copy.contracts, suppress=False)
    v, inputs = validate(s)
    _, sdc = published(s, v, inputs)
    entry = next(
        e
        for e in for_run(s, v, inputs, sdc.removed)
        if e["la_code"] == "ZL101" and e["period"] == P
    )
    assert [(c["old"], c["new"]) for c in entry["changes"]] == [("6.5%", "3.7%")]


# --------------------------------------------------------------------------- checks: exit 2


def _without_deadline(data: Path) -> str:
    """dataset.yaml's text without its return_deadline (the demo's is one line)."""
    lines = (data / "dataset.yaml").read_text("utf-8").splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith("return_deadline:"))
    return text if text.endswith("\n") else text + "\n"


def _meta_line(data: Path, extra: str, key: str) -> int:
    """Append `extra` to dataset.yaml; the line of `extra` that `key` is on."""
    text = _without_deadline(data)
    (data / "dataset.yaml").write_text(text + extra, encoding="utf-8")
    before = len(text.splitlines())
    return before + next(i for i, line in enumerate(extra.splitlines(), 1) if key in line)


DEADLINES = {
    "before the quarter ends": (
        f"return_deadline:\n  weeks_after_quarter: 6\n  {P}: 2026-09-01\n",
        P,
        f"the deadline for {P} (2026-09-01) is before the quarter ends (2026-09-30)",
    ),
    "not a date": (
        f"return_deadline:\n  {P}: 13/11/2026\n",
        P,
        "'13/11/2026' is not a date; expected YYYY-MM-DD",
    ),
    "no such day": (f"return_deadline:\n  {P}: 2026-11-31\n", P, "not a date"),
    "no weeks": ("return_deadline: {weeks_after_quarter: 0}\n", "return_deadline", "from 1 to 26"),
    "weeks in words": (
        "return_deadline:\n  weeks_after_quarter: six\n",
        "weeks_after",
        "weeks_after_quarter 'six' must be a whole number of weeks from 1 to 26",
    ),
    "a year of weeks": (
        "return_deadline:\n  weeks_after_quarter: 52\n",
        "weeks_after",
        "from 1 to 26",
    ),
}


@pytest.mark.parametrize("case", sorted(DEADLINES))
def test_a_bad_deadline_exits_2_naming_file_and_line(copy, tmp_path, capfd, case):
    extra, key, words = DEADLINES[case]
    line = _meta_line(copy.data, extra, key)
    r = cli(capfd, "validate", *copy.args, "--out", tmp_path / "out")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{copy.data / 'dataset.yaml'}, line {line}: " in r.stderr
    assert words in r.stderr
    assert "Traceback" not in r.stderr


RECEIVED = {
    "names no file": (
        f"{P}/ZL999_{P}.csv: 2026-11-01\n",
        f"'{P}/ZL999_{P}.csv' names no return in",
    ),
    "not a date": (f"{P}/ZL101_{P}.csv: yesterday\n", "'yesterday' is not a date"),
    "no such day": (f"{P}/ZL101_{P}.csv: 2026-02-30\n", "not a date"),
    "not understood": (
        f"{P}/ZL101_{P}.csv: {{received: 2026-11-01, final: yes}}\n",
        "not understood",
    ),
}


@pytest.mark.parametrize("case", sorted(RECEIVED))
def test_a_bad_received_yaml_exits_2_naming_file_and_line(copy, tmp_path, capfd, case):
    entry, words = RECEIVED[case]
    path = copy.data / "returns" / "received.yaml"
    path.write_text(f"# dates\n{P}/ZL105_{P}.csv: 2026-11-02\n{entry}", encoding="utf-8")
    r = cli(capfd, "validate", *copy.args, "--out", tmp_path / "out")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{path}, line 3: " in r.stderr
    assert words in r.stderr
    assert "Traceback" not in r.stderr


def test_validate_writes_the_tracker_into_validation_json(copy, tmp_path, capfd):
    _put(copy.data, f"ZL101_{P}_v2.csv", _edited(_lines(copy.data, "ZL101"), REREFERRALS))
    r = cli(capfd, "validate", *copy.args, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads((tmp_path / "out" / "validation" / "validation.json").read_text("utf-8"))
    entries = {(e["la_code"], e["period"]): e for e in j["tracker"]}
    assert len(entries) == len(TINY_LAS) * len(TINY_PERIODS)
    assert entries[("ZL101", P)]["state"] == "resubmitted"
    assert [(c["old"], c["new"]) for c in entries[("ZL101", P)]["changes"]] == [("25.5%", "25.1%")]


def test_validating_one_version_keeps_the_others_of_the_dataset(copy, tmp_path, capfd):
    """`tartan validate FILE`: a v2 checked beside the dataset is compared with its v1 (which
    stays), and replaces nothing of a higher version."""
    v2 = tmp_path / f"ZL101_{P}_v2.csv"
    v2.write_text(_edited(_lines(copy.data, "ZL101"), REREFERRALS), encoding="utf-8")
    r = cli(capfd, "validate", v2, *copy.args, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads((tmp_path / "out" / "validation" / "validation.json").read_text("utf-8"))
    [entry] = j["tracker"]
    assert (entry["la_code"], entry["state"], entry["used"]) == ("ZL101", "resubmitted", str(v2))
    assert [(c["old"], c["new"]) for c in entry["changes"]] == [("25.5%", "25.1%")]
    # a v1 checked while the dataset holds a v2 is not the version used
    _put(copy.data, f"ZL101_{P}_v2.csv", v2.read_text("utf-8"))
    v1 = tmp_path / "v1" / f"ZL101_{P}.csv"
    v1.parent.mkdir()
    shutil.copy(copy.data / "returns" / P / f"ZL101_{P}.csv", v1)
    r = cli(capfd, "validate", v1, *copy.args, "--out", tmp_path / "out2")
    assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads((tmp_path / "out2" / "validation" / "validation.json").read_text("utf-8"))
    [outcome] = j["returns"]
    assert (outcome["status"], outcome["used"]) == ("accepted", False)
    assert j["tracker"][0]["used"] == f"returns/{P}/ZL101_{P}_v2.csv"


# --------------------------------------------------------------------------- end to end


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_resubmission_rebuilds_only_what_it_changes(tiny_site, tiny, tmp_path, capfd):
    """ZL101 resubmits its latest return as a second version, re-referrals corrected from 476
    to 470 of 1870 (25.5% -> 25.1%; the region's 21.5% unchanged): its pack and the regional
    report are made again, not every pack; the tracker lists the changed figure."""
    data = tiny.copy(tmp_path / "data")
    _put(data.data, f"ZL101_{P}_v2.csv", _edited(_lines(data.data, "ZL101"), REREFERRALS))
    out = tmp_path / "out"
    shutil.copytree(tiny_site, out)
    before = _hashes(out)
    r = cli(capfd, "report", *data.args, "--out", out, "--period", "latest", "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    after = _hashes(out)
    differ = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    rebuilt = {j["id"] for j in manifest["jobs"] if differ & set(j["outputs"])}
    assert f"{P}/ZR1/ZL101/self-assessment" in rebuilt
    assert f"{P}/ZR1/regional-benchmark" in rebuilt
    assert 1 < len(rebuilt) < len(manifest["jobs"]), rebuilt
    j = json.loads((out / "validation" / "validation.json").read_text("utf-8"))
    entry = next(e for e in j["tracker"] if (e["la_code"], e["period"]) == ("ZL101", P))
    assert entry["used"] == f"returns/{P}/ZL101_{P}_v2.csv"
    assert [(c["indicator_id"], c["old"], c["new"]) for c in entry["changes"]] == [
        ("rereferrals_pct", "25.5%", "25.1%")
    ]


def test_the_demo_cycle_has_a_deadline_two_resubmissions_a_provisional_and_a_late_return(
    demo_data, tmp_path
):
    """The demo's latest quarter, due 11 November 2026: ZL102's v2 changes two figures,
    ZL304's one; ZL207's return is provisional (received.yaml); ZL310's came late; the rest
    on time; ZL203's is quarantined, as before."""
    _, tracker = _tracked(demo_data, Settings().contracts, tmp_path)
    latest = {la: e for (la, period), e in tracker.items() if period == P}
    assert len(latest) == 30 and {e["deadline"] for e in latest.values()} == {DEADLINE}
    assert {la for la, e in latest.items() if e["state"] == "resubmitted"} == {"ZL102", "ZL304"}
    assert [c["indicator_id"] for c in latest["ZL102"]["changes"]] == [
        "rereferrals_pct",
        "cla_3_placements_pct",
    ]
    # ZL304 added 5 health assessments: a change of a few children, so c on both sides
    assert [(c["old"], c["new"]) for c in latest["ZL304"]["changes"]] == [("c", "c")]
    assert provisional(tracker.values()) == {("ZL207", P)}
    assert {la for la, e in latest.items() if e["timeliness"] != "on time"} == {"ZL310"}
    assert latest["ZL310"]["timeliness"] == "late"
    assert latest["ZL203"]["used"] is None
    assert latest["ZL203"]["versions"][0]["status"] == "quarantined"
    earlier = {e["timeliness"] for (_, period), e in tracker.items() if period != P}
    assert earlier == {"date not recorded"}, "received.yaml records the latest quarter only"
