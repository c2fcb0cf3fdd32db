"""The pages around the reports: outputs/index.html, the validation report, manifest.json."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from pipeline.core.catalogue import Catalogue
from pipeline.core.crosscheck import AGREES, DIFFERS, INCOMPLETE, crosscheck_table
from pipeline.core.html import esc, page, table
from pipeline.core.periods import parse_slug

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
) -> str:
    """Every report of every period with its status, and every LA's return with its feedback;
    `datapack`: the annual datapack's index, when one was built in the same folder.

    `reports`: dicts with period, region_code, region_name, href, status (ok or failed), detail.
    `returns`: dicts with period, region_name, la_code, la_name, status (accepted, not accepted
    or missing), feedback (the LA's validation page, or None when it sent nothing) and pack
    (None when none was built for the period, else its status, href and error).
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
        label = parse_slug(period).label
        mine = sorted(by_period[period], key=lambda x: x["region_code"])
        built = sum(r["status"] == "ok" for r in mine)
        rows = []
        for r in mine:
            status = r["status"]  # ok or failed
            cls = f"status-{status}"
            name = f"{r['region_name']}: regional benchmark, {label}"
            link = (
                f'<a href="{esc(r["href"])}">{esc(name)}</a>' if r["status"] == "ok" else esc(name)
            )
            rows.append(
                f'<tr><th scope="row">{link}</th><td class="{cls}">{esc(status)}</td>'
                f"<td>{esc(r.get('detail', ''))}</td></tr>"
            )
        las = [x for x in returns if x["period"] == period]
        packs = [x["pack"] for x in las if x.get("pack")]
        packs_built = (
            f" {sum(p['status'] == 'ok' for p in packs)} of "
            f"{_plural(len(packs), 'self-assessment pack')} built."
            if packs
            else ""
        )
        body.append(
            f'<h2 id="{esc(period)}">{esc(label)}</h2>'
            f"<p>{built} of {_plural(len(mine), 'regional report')} built.{packs_built}</p>"
            f'<table class="tartan-table"><caption>Regional reports, {esc(label)}</caption>'
            '<thead><tr><th scope="col">Report</th><th scope="col">Status</th>'
            f'<th scope="col">Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
        if las:
            body.append(_returns_table(label, las, open_=n == 0))
    return page(f"Tartan reports: {dataset_name}", "\n".join(body), css, banners, footer)


def _returns_table(label: str, las: list[dict], open_: bool) -> str:
    """One period's LA returns, folded away (but printed) for all but the latest period."""
    counts = {k: sum(x["status"] == k for x in las) for k in RETURN_LABEL}
    summary = f"{counts['accepted']} of {_plural(len(las), 'LA return')} accepted" + "".join(
        f", {counts[k]} {RETURN_LABEL[k]}" for k in ("not accepted", "missing") if counts[k]
    )
    rows = []
    with_packs = any(x.get("pack") for x in las)
    for x in sorted(las, key=lambda x: (x["region_name"], x["la_name"])):
        fb = (
            f'<a href="{esc(x["feedback"])}">Feedback for {esc(x["la_name"])}, {esc(label)}</a>'
            if x["feedback"]
            else "none (no return)"
        )
        pack = ""
        if with_packs:
            p = x.get("pack")
            name = f"{x['la_name']}: self-assessment pack, {label}"
            pack = (
                "<td>not built</td>"
                if not p
                else f'<td><a href="{esc(p["href"])}">{esc(name)}</a></td>'
                if p["status"] == "ok"
                else f'<td class="status-failed">failed: {esc(p["error"])}</td>'
            )
        rows.append(
            f'<tr><th scope="row">{esc(x["la_name"])} ({esc(x["la_code"])})</th>'
            f"<td>{esc(x['region_name'])}</td>"
            f'<td class="status-{_RETURN_CLASS[x["status"]]}">{esc(RETURN_LABEL[x["status"]])}'
            f"</td><td>{fb}</td>{pack}</tr>"
        )
    pack_head = '<th scope="col">Self-assessment pack</th>' if with_packs else ""
    return (
        f"<details{' open' if open_ else ''}><summary>Local authority returns, {esc(label)}: "
        f"{esc(summary)}</summary>"
        f'<table class="tartan-table"><caption>Local authority returns, {esc(label)}</caption>'
        '<thead><tr><th scope="col">Local authority</th><th scope="col">Region</th>'
        f'<th scope="col">Return</th><th scope="col">Validation</th>{pack_head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


def _by_file(findings: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in findings:
        out.setdefault(f["file"], []).append(f)
    return out


def row_ranges(rows: Sequence[int]) -> str:
    """[2, 3, 4, 9] -> '2-4, 9'; [0] -> 'whole file'."""
    nums = sorted({int(r) for r in rows})
    if nums == [0]:
        return "whole file"
    parts, start, prev = [], None, None
    for n in [*nums, None]:
        if start is not None and (n is None or n != prev + 1):
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(parts)


def finding_place(rows: Sequence[int], column: str) -> str:
    """Where a grouped finding is: 'rows 8, 26, column indicator_id', 'whole file'."""
    at = row_ranges(rows)
    if at != "whole file":
        at = f"{'row' if len(rows) == 1 else 'rows'} {at}"
    return at + (f", column {column}" if column else "")


def group_findings(findings: Sequence[dict]) -> list[dict]:
    """Findings that say the same thing about the same column of one file, as one line."""
    groups: dict[tuple, dict] = {}
    for f in findings:
        key = (f["file"], f["check_id"], f["severity"], f["column"], f["message"])
        g = groups.setdefault(key, {**f, "rows": []})
        g["rows"].append(f["row"])
    return list(groups.values())


def _findings_table(caption: str, group: list[dict], value_heading: str = "Value") -> str:
    rows = [
        [row_ranges(g["rows"]), g["column"], g["value"], g["message"], g["check_id"]]
        for g in group_findings(group)
    ]
    return table(
        caption,
        ["Rows", "Column", value_heading, "What to fix", "Check"],
        rows,
        row_headers=True,
    )


def _row_label(row: object) -> str:
    return "whole file" if not row or str(row) == "0" else str(row)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def validation_html(
    css: str,
    banners: Sequence[tuple[str, str]],
    validation: dict,
    footer: str,
    la_names: Mapping[str, str] | None = None,
    missing_returns: Mapping[str, list[str]] | None = None,
) -> str:
    """The validation report: every return's outcome, what each must fix, and what is checked.

    `missing_returns`: period slug -> names of LAs with no return for it.
    """
    names = la_names or {}
    s = validation["summary"]
    body = [
        "<h1>Validation of LA returns</h1>",
        f'<p class="lede">{_plural(s["returns"], "return")} checked against the data contract '
        f"{esc(validation['contract'])}: {s['accepted']} accepted, {s['quarantined']} not "
        f"accepted ({_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')}). "
        "A return with any error is kept aside unchanged and none of its figures are used; "
        "warnings are worth checking but do not stop a return being used. The reporting window "
        f"is {esc(validation.get('reporting_window', ''))}.</p>",
    ]
    returns = validation["returns"]
    has_feedback = {o["la_code"] for o in returns if o["la_code"] in names}

    def la_cell(code: str) -> str:
        return f"{names.get(code, code)} ({code})" if code else "not known"

    rejected = [o for o in returns if o["status"] == "quarantined"]
    if rejected:
        body.append("<h2>Returns not accepted</h2>")
        items = "".join(
            f'<li><a href="feedback/{esc(o["la_code"])}.html">{esc(la_cell(o["la_code"]))}</a>, '
            f"{esc(_period_label(o['period']))}: {esc(_plural(o['errors'], 'error'))} in "
            f"{esc(o['file'])}</li>"
            if o["la_code"] in has_feedback
            else f"<li>{esc(o['file'])}: {esc(_plural(o['errors'], 'error'))}</li>"
            for o in rejected
        )
        body.append(f"<ul>{items}</ul>")
    if missing_returns:
        body.append("<h2>Returns not received</h2>")
        items = "".join(
            f"<li>{esc(_period_label(p))}: {esc(', '.join(las))}</li>"
            for p, las in sorted(
                missing_returns.items(), key=lambda kv: parse_slug(kv[0]), reverse=True
            )
            if las
        )
        body.append(f"<ul>{items}</ul>" if items else "<p>Every LA sent a return.</p>")
    findings = _by_file(validation["findings"])
    if findings:
        body.append("<h2>What to fix, return by return</h2>")
        for file, group in sorted(findings.items()):
            body.append(f"<h3>{esc(file)}</h3>")
            body.append(_findings_table(f"Problems found in {file}", group))
    checks = validation.get("checks") or []
    if checks:
        body.append("<h2>What is checked</h2>")
        body.append(
            table(
                f"The checks of contract {validation['contract']}",
                ["Check", "Severity", "Column", "Rule"],
                [[c["id"], c["severity"], c["column"], c["rule"]] for c in checks],
            )
        )
    body.append("<h2>Every return, newest period first</h2>")
    rows = [
        [
            o["file"],
            la_cell(o["la_code"]),
            _period_label(o["period"]),
            "accepted" if o["status"] == "accepted" else "not accepted",
            o["errors"],
            o["warnings"],
        ]
        for o in sorted(returns, key=lambda o: (-_sort_key(o["period"]), o["file"]))
    ]
    body.append(
        table(
            "Returns received",
            ["File", "LA", "Period", "Outcome", "Errors", "Warnings"],
            rows,
            numeric=[False, False, False, False, True, True],
        )
    )
    return page(
        "Validation of LA returns",
        "\n".join(body),
        css,
        banners,
        footer,
        breadcrumbs=[("All reports", "../index.html")],
    )


def _period_label(slug: str) -> str:
    try:
        return parse_slug(slug).label
    except Exception:  # an unreadable return has no period
        return slug or "not known"


def feedback_html(
    css: str,
    banners: Sequence[tuple[str, str]],
    la_code: str,
    la_name: str,
    validation: dict,
    footer: str,
) -> str:
    """One LA's feedback: for each of its returns, whether it was accepted and what to fix."""
    mine = [o for o in validation["returns"] if o["la_code"] == la_code]
    findings = _by_file(validation["findings"])
    body = [
        f"<h1>Return feedback: {esc(la_name)} ({esc(la_code)})</h1>",
        f'<p class="lede">What the regional benchmarking group found in your '
        f"{'return' if len(mine) == 1 else 'returns'}, checked against the data contract "
        f"{esc(validation['contract'])}. A return with any problem under \u201cMust fix\u201d is "
        "not used in this period's reports; correct it and send the whole return again. "
        "Points under \u201cPlease check\u201d do not stop your return being used.</p>",
    ]
    anchored: set[str] = set()
    for o in sorted(mine, key=lambda o: (_sort_key(o["period"]), o["file"]), reverse=True):
        here = findings.get(o["file"], [])
        errors = [f for f in here if f["severity"] == "error"]
        warnings = [f for f in here if f["severity"] == "warning"]
        anchor = "" if o["period"] in anchored else f' id="{esc(o["period"])}"'
        anchored.add(o["period"])
        body.append(f"<h2{anchor}>{esc(_period_label(o['period']))}: {esc(o['file'])}</h2>")
        if o["status"] == "accepted":
            verdict = "Accepted." + (
                f" {_plural(len(group_findings(warnings)), 'point')} to check below."
                if warnings
                else ""
            )
            cls = "status-ok"
        else:
            verdict = (
                f"Not accepted: fix the {_plural(len(group_findings(errors)), 'problem')} below "
                "and send the return again."
            )
            cls = "status-failed"
        body.append(f'<p class="{cls}"><strong>{esc(verdict)}</strong></p>')
        if len(errors):
            body.append(
                _findings_table(f"Must fix in {o['file']}", errors, value_heading="What you sent")
            )
        if len(warnings):
            body.append(
                _findings_table(
                    f"Please check in {o['file']}", warnings, value_heading="What you sent"
                )
            )
    return page(
        f"Return feedback: {la_name}",
        "\n".join(body),
        css,
        banners,
        footer,
        breadcrumbs=[("All reports", "../../index.html"), ("Validation", "../index.html")],
    )


def _sort_key(slug: str) -> int:
    try:
        return parse_slug(slug).ordinal
    except Exception:
        return -1


def junit_xml(validation: dict) -> str:
    """Validation as JUnit XML for any CI: a suite per return, a test case per check.

    Errors are failures; warnings are printed in the test case's output. No timings, so the
    same inputs give the same bytes.
    """
    import xml.etree.ElementTree as ET

    findings = _by_file(validation["findings"])
    check_ids = [c["id"] for c in validation.get("checks") or []]
    root = ET.Element("testsuites", name=f"tartan validate ({validation['contract']})")
    total = failures = 0
    for o in validation["returns"]:
        here = findings.get(o["file"], [])
        ids = check_ids + sorted({f["check_id"] for f in here} - set(check_ids))
        suite = ET.SubElement(root, "testsuite", name=o["file"])
        n_fail = 0
        for cid in ids:
            case = ET.SubElement(suite, "testcase", classname=o["file"], name=cid, time="0")
            hits = [f for f in here if f["check_id"] == cid]
            lines = [
                f"row {_row_label(f['row'])}, column {f['column']}: {f['message']}" for f in hits
            ]
            n_errors = sum(f["severity"] == "error" for f in hits)
            if n_errors:
                n_fail += 1
                fail = ET.SubElement(
                    case,
                    "failure",
                    type="error",
                    message=f"{_plural(n_errors, 'problem')}: {lines[0]}",
                )
                fail.text = "\n".join(lines)
            elif lines:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"warning: {ln}" for ln in lines)
        suite.set("tests", str(len(ids)))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", "0")
        total += len(ids)
        failures += n_fail
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def dumps_json(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


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
        mine = sorted((r for r in reports if r["year"] == year), key=lambda r: r["region_code"])
        built = sum(r["status"] == "ok" for r in mine)
        rows = []
        for r in mine:
            title = f"{r['region_name']}: annual datapack, {parse_slug(year).label}"
            link = (
                f'<a href="{esc(r["href"])}">{esc(title)}</a>'
                if r["status"] == "ok"
                else esc(title)
            )
            rows.append(
                f'<tr><th scope="row">{link}</th><td class="status-{esc(r["status"])}">'
                f"{esc(r['status'])}</td><td>{esc(r.get('error', ''))}</td></tr>"
            )
        body.append(
            f'<h2 id="y{esc(year)}">{esc(parse_slug(year).label)}</h2>'
            f"<p>{built} of {_plural(len(mine), 'regional datapack')} built.</p>"
            f'<table class="tartan-table"><caption>Regional datapacks, '
            f"{esc(parse_slug(year).label)}</caption>"
            '<thead><tr><th scope="col">Datapack</th><th scope="col">Status</th>'
            f'<th scope="col">Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    total = sum(checked.values())
    body.append(
        '<h2 id="crosscheck">Published cross-check</h2>'
        f"<p>DfE publishes its own figures for each region and England beside the LA rows. "
        f"Tartan added up the LA rows itself and compared: {_plural(total, 'comparison')}, "
        f"{checked.get(AGREES, 0):,} agree within the publication's rounding, "
        f"{checked.get(INCOMPLETE, 0):,} incomplete (some LAs' figures withheld, so the sum "
        f"falls short) and <strong>{checked.get(DIFFERS, 0):,} differ</strong>. Every "
        'comparison is in <a href="crosscheck.csv">crosscheck.csv</a>.</p>'
    )
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
                ["LA code", "Name in the file", "Why", "Rows"],
                [[r["la_code"], r["la_name"], r["reason"], r["rows"]] for r in left_out],
                numeric=[False, False, False, True],
            )
        )
    return page(f"Annual datapack: {name}", "\n".join(body), css, banners, footer)
