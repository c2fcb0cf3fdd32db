"""The indexes around the reports: outputs/index.html and the annual datapack's index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.core.catalogue import Catalogue
from pipeline.core.crosscheck import AGREES, DIFFERS, INCOMPLETE
from pipeline.core.findings import plural
from pipeline.core.periods import parse_slug
from pipeline.html.base import esc, page, table
from pipeline.html.crosscheck import crosscheck_table
from pipeline.html.exceptions import owed_list
from pipeline.html.group import index_section
from pipeline.html.tracker import summary as tracker_summary

#: an LA's return for a period, in the index's words
RETURN_LABEL = {
    "accepted": "accepted",
    "not accepted": "return not accepted",
    "missing": "no return",
}
_RETURN_CLASS = {"accepted": "ok", "not accepted": "not-accepted", "missing": "missing"}


def index_html(
    css: str,
    dataset_name: str,
    banners: Sequence[tuple[str, str]],
    reports: list[dict],
    returns: list[dict],
    validation_summary: dict,
    footer: str,
    datapack: str | None = None,
    groups: Sequence[dict] = (),
    groups_note: str = "",
) -> str:
    """Every report of every period with its status, and every LA's return with its feedback;
    `datapack`: the annual datapack's index, when one was built in the same folder; `groups`:
    the peer-challenge group packs (``pipeline.html.group.index_section``), `groups_note` why
    there are none.

    `reports`: dicts with period, region_code, region_name, href, status (ok or failed), detail.
    `returns`: dicts with period, region_name, la_code, la_name, status (accepted, not accepted
    or missing), feedback (the LA's validation page, or None when it sent nothing), pack
    (None when none was built for the period, else its status, href and error), briefing (its
    member briefing's href, None without one) and tracker (its returns tracker entry,
    ``pipeline.html.tracker``, said in words in a Received column beside its status).
    """
    s = validation_summary
    by_period: dict[str, list[dict]] = {}
    for r in reports:
        by_period.setdefault(r["period"], []).append(r)
    periods = sorted(by_period, key=parse_slug, reverse=True)
    body = [
        f"<h1>Tartan reports: {esc(dataset_name)}</h1>",
        f'<p class="lede">{s["returns"]} returns received: {s["accepted"]} accepted, '
        f'{s["quarantined"]} not accepted. <a href="validation/index.html">Read the validation '
        "report</a> for what each LA needs to fix.</p>",
    ]
    if datapack:
        body.append(
            f'<p>The annual datapack from DfE\'s published statistics: <a href="{esc(datapack)}">'
            "every region's datapack</a>.</p>"
        )
    if len(periods) > 1:
        links = "".join(
            f'<li><a href="#{esc(p)}">{esc(parse_slug(p).label)}</a></li>' for p in periods
        )
        body.append(
            f'<nav aria-label="Periods"><h2>Periods</h2><ul class="periods">{links}</ul></nav>'
        )
    for n, period in enumerate(periods):
        las = [x for x in returns if x["period"] == period]
        body.append(_period_reports(period, by_period[period], las))
        if las:
            body.append(_returns_table(parse_slug(period).label, las, open_=n == 0))
    body.append(index_section(groups, lambda p: parse_slug(p).label, groups_note))
    return page(f"Tartan reports: {dataset_name}", "\n".join(body), css, banners, footer)


def _period_reports(period: str, reports: list[dict], las: list[dict]) -> str:
    """One period's heading, how many of its reports were built, and its regional reports."""
    label = parse_slug(period).label
    mine = sorted(reports, key=lambda x: x["region_code"])
    built = sum(r["status"] == "ok" for r in mine)
    rows = []
    for r in mine:
        status = r["status"]  # ok or failed
        cls = f"status-{status}"
        name = f"{r['region_name']}: regional benchmark, {label}"
        link = f'<a href="{esc(r["href"])}">{esc(name)}</a>' if r["status"] == "ok" else esc(name)
        rows.append(
            f'<tr><th scope="row">{link}</th><td class="{cls}">{esc(status)}</td>'
            + "".join(f"<td>{_file(r, name, suffix)}</td>" for suffix in FILE_LABEL)
            + f"<td>{esc(r.get('detail', ''))}</td></tr>"
        )
    packs = [x["pack"] for x in las if x.get("pack")]
    packs_built = (
        f" {sum(p['status'] == 'ok' for p in packs)} of "
        f"{plural(len(packs), 'self-assessment pack')} built."
        if packs
        else ""
    )
    return (
        f'<h2 id="{esc(period)}">{esc(label)}</h2>'
        f"<p>{built} of {plural(len(mine), 'regional report')} built.{packs_built}</p>"
        f'<table class="tartan-table"><caption>Regional reports, {esc(label)}</caption>'
        '<thead><tr><th scope="col">Report</th><th scope="col">Status</th>'
        '<th scope="col">Workbook</th><th scope="col">Slides</th>'
        f'<th scope="col">Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        + owed_list(label, _owed(las))
    )


#: what the index calls each file a report is also published as
FILE_LABEL = {".xlsx": "workbook (Excel, .xlsx)", ".pptx": "slides (PowerPoint, .pptx)"}


def _file(r: Mapping, name: str, suffix: str) -> str:
    """A link to the file a regional report is also published as with `suffix` ('' for a failed
    report, or one without it)."""
    if r["status"] != "ok":
        return ""
    found = [f for f in r.get("files", []) if f.endswith(suffix)]
    return "".join(f'<a href="{esc(f)}">{esc(name)}: {esc(FILE_LABEL[suffix])}</a>' for f in found)


def _owed(las: list[dict]) -> list[dict]:
    """The LAs (by name) that still owe commentary on some of their exceptions."""
    return [
        {"la_name": x["la_name"], "owed": c["owed"], "exceptions": c["exceptions"]}
        for x in sorted(las, key=lambda x: x["la_name"])
        if (c := x.get("commentary")) and c["owed"]
    ]


def _returns_table(label: str, las: list[dict], open_: bool) -> str:
    """One period's LA returns, folded away (but printed) for all but the latest period."""
    counts = {k: sum(x["status"] == k for x in las) for k in RETURN_LABEL}
    summary = f"{counts['accepted']} of {plural(len(las), 'LA return')} accepted" + "".join(
        f", {counts[k]} {RETURN_LABEL[k]}" for k in ("not accepted", "missing") if counts[k]
    )
    rows = []
    with_packs = any(x.get("pack") for x in las)
    with_tracker = any(x.get("tracker") for x in las)
    for x in sorted(las, key=lambda x: (x["region_name"], x["la_name"])):
        fb = (
            f'<a href="{esc(x["feedback"])}">Feedback for {esc(x["la_name"])}, {esc(label)}</a>'
            if x["feedback"]
            else "none (no return)"
        )
        pack = _pack_cell(x, label) + _briefing_cell(x, label) if with_packs else ""
        rows.append(
            f'<tr><th scope="row">{esc(x["la_name"])} ({esc(x["la_code"])})</th>'
            f"<td>{esc(x['region_name'])}</td>"
            f'<td class="status-{_RETURN_CLASS[x["status"]]}">{esc(RETURN_LABEL[x["status"]])}'
            f"</td>{_received_cell(x) if with_tracker else ''}<td>{fb}</td>{pack}"
            f"<td>{esc(_commentary_cell(x.get('commentary')))}</td></tr>"
        )
    pack_head = (
        '<th scope="col">Self-assessment pack</th><th scope="col">Member briefing</th>'
        if with_packs
        else ""
    )
    pack_head += '<th scope="col">Commentary on exceptions</th>'
    received_head = '<th scope="col">Received</th>' if with_tracker else ""
    return (
        f"<details{' open' if open_ else ''}><summary>Local authority returns, {esc(label)}: "
        f"{esc(summary)}</summary>"
        f'<table class="tartan-table"><caption>Local authority returns, {esc(label)}</caption>'
        '<thead><tr><th scope="col">Local authority</th><th scope="col">Region</th>'
        f'<th scope="col">Return</th>{received_head}<th scope="col">Validation</th>{pack_head}'
        "</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


def _received_cell(x: Mapping) -> str:
    """The returns tracker's words beside a return's status: received or not, on time or
    late, resubmitted how often, provisional or final figures (blank without an entry)."""
    entry = x.get("tracker")
    return f"<td>{esc(tracker_summary(entry)) if entry else ''}</td>"


def _commentary_cell(c: Mapping | None) -> str:
    """How much of the commentary on an LA's exceptions has come ('' without figures)."""
    if c is None:
        return ""
    if not c["exceptions"]:
        return "no exceptions"
    if not c["owed"]:
        return f"received on all {c['exceptions']}"
    return f"{c['owed']} of {plural(c['exceptions'], 'exception')} still owed"


def _pack_cell(x: dict, label: str) -> str:
    """An LA's self-assessment pack in the returns table: its link, not built, or failed."""
    p = x.get("pack")
    name = f"{x['la_name']}: self-assessment pack, {label}"
    if not p:
        return "<td>not built</td>"
    if p["status"] == "ok":
        return f'<td><a href="{esc(p["href"])}">{esc(name)}</a></td>'
    return f'<td class="status-failed">failed: {esc(p["error"])}</td>'


def _briefing_cell(x: dict, label: str) -> str:
    """An LA's member briefing in the returns table: its link, or 'not built' (its pack
    failed, or was not built)."""
    href = x.get("briefing")
    if not href:
        return "<td>not built</td>"
    return f'<td><a href="{esc(href)}">{esc(x["la_name"])}: member briefing, {esc(label)}</a></td>'


def datapack_index_html(
    css: str,
    name: str,
    banners: Sequence[tuple[str, str]],
    reports: list[dict],
    checked: Mapping[str, int],
    differs: list[dict],
    regions: Mapping[str, str],
    catalogue: Catalogue,
    left_out: list[dict],
    footer: str,
    home: str | None = None,
) -> str:
    """The annual datapack's index: each year's regional datapacks, the published cross-check
    and any LA rows the source files had that no LA of the reference matched.

    `reports`: dicts with year, region_code, region_name, href, status and error;
    `checked`: the cross-check's counts; `differs`: its rows that differ."""
    body = [f"<h1>Annual datapack: {esc(name)}</h1>"]
    if home:
        body.append(f'<p><a href="{esc(home)}">All Tartan reports</a></p>')
    years = sorted({r["year"] for r in reports}, key=parse_slug, reverse=True)
    for year in years:
        body.append(_year_datapacks(year, [r for r in reports if r["year"] == year]))
    body.append(_crosscheck_summary(checked))
    if differs:
        body.append(
            crosscheck_table(
                "Published figures that differ from the sum of their LAs",
                differs,
                regions,
                catalogue,
            )
        )
    if left_out:
        body.append(
            table(
                "LA rows in the source files that match no LA of the reference (left out)",
                ["File", "Rows", "LA code", "Name in the file", "Why", "Indicators"],
                [
                    [r["file"], r["rows"], r["la_code"], r["la_name"], r["reason"], r["indicators"]]
                    for r in left_out
                ],
            )
        )
    return page(f"Annual datapack: {name}", "\n".join(body), css, banners, footer)


def _year_datapacks(year: str, reports: list[dict]) -> str:
    """One year's heading, how many of its datapacks were built, and each region's."""
    mine = sorted(reports, key=lambda r: r["region_code"])
    built = sum(r["status"] == "ok" for r in mine)
    rows = []
    for r in mine:
        title = f"{r['region_name']}: annual datapack, {parse_slug(year).label}"
        link = f'<a href="{esc(r["href"])}">{esc(title)}</a>' if r["status"] == "ok" else esc(title)
        rows.append(
            f'<tr><th scope="row">{link}</th><td class="status-{esc(r["status"])}">'
            f"{esc(r['status'])}</td><td>{esc(r.get('error', ''))}</td></tr>"
        )
    return (
        f'<h2 id="y{esc(year)}">{esc(parse_slug(year).label)}</h2>'
        f"<p>{built} of {plural(len(mine), 'regional datapack')} built.</p>"
        f'<table class="tartan-table"><caption>Regional datapacks, '
        f"{esc(parse_slug(year).label)}</caption>"
        '<thead><tr><th scope="col">Datapack</th><th scope="col">Status</th>'
        f'<th scope="col">Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _crosscheck_summary(checked: Mapping[str, int]) -> str:
    """The published cross-check's counts, in words."""
    total = sum(checked.values())
    return (
        '<h2 id="crosscheck">Published cross-check</h2>'
        f"<p>DfE publishes its own figures for each region and England beside the LA rows. "
        f"Tartan added up the LA rows itself and compared: {plural(total, 'comparison')}, "
        f"{checked.get(AGREES, 0):,} agree within the publication's rounding, "
        f"{checked.get(INCOMPLETE, 0):,} incomplete (some LAs' figures withheld, so the sum "
        f"falls short) and <strong>{checked.get(DIFFERS, 0):,} differ</strong>. Every "
        'comparison is in <a href="crosscheck.csv">crosscheck.csv</a>.</p>'
    )
