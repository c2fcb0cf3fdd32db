"""The pages around the reports: outputs/index.html, the validation report, manifest.json."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from pipeline.core.html import esc, page, table
from pipeline.core.periods import parse_slug

STATUS_LABEL = {"ok": "ok", "failed": "failed", "not accepted": "return not accepted"}


def index_html(
    css: str,
    dataset_name: str,
    banners: Sequence[tuple[str, str]],
    reports: list[dict],
    validation_summary: dict,
    footer: str,
) -> str:
    """`reports`: dicts with period, region_code, region_name, href, status, detail."""
    body = [f"<h1>Tartan reports: {esc(dataset_name)}</h1>"]
    s = validation_summary
    body.append(
        f'<p class="lede">{s["returns"]} returns received: {s["accepted"]} accepted, '
        f'{s["quarantined"]} not accepted. <a href="validation/index.html">Read the validation '
        "report</a> for what each LA needs to fix.</p>"
    )
    by_period: dict[str, list[dict]] = {}
    for r in reports:
        by_period.setdefault(r["period"], []).append(r)
    for period in sorted(by_period, key=parse_slug, reverse=True):
        rows = []
        for r in sorted(by_period[period], key=lambda x: x["region_code"]):
            status = STATUS_LABEL.get(r["status"], r["status"])
            cls = "status-" + r["status"].replace(" ", "-")
            link = (
                f'<a href="{esc(r["href"])}">{esc(r["region_name"])}: regional benchmark</a>'
                if r["status"] == "ok"
                else esc(f"{r['region_name']}: regional benchmark")
            )
            rows.append(
                f'<tr><th scope="row">{link}</th><td class="{cls}">{esc(status)}</td>'
                f"<td>{esc(r.get('detail', ''))}</td></tr>"
            )
        label = parse_slug(period).label
        body.append(
            f"<h2>{esc(label)}</h2>"
            f'<table class="tartan-table"><caption>Reports for {esc(label)}</caption>'
            '<thead><tr><th scope="col">Report</th><th scope="col">Status</th>'
            f'<th scope="col">Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    return page(f"Tartan reports: {dataset_name}", "\n".join(body), css, banners, footer)


def validation_html(
    css: str, banners: Sequence[tuple[str, str]], validation: dict, footer: str
) -> str:
    s = validation["summary"]
    body = [
        "<h1>Validation of LA returns</h1>",
        f'<p class="lede">{s["returns"]} returns checked against the data contract '
        f"{esc(validation['contract'])}: {s['accepted']} accepted, {s['quarantined']} not "
        f"accepted ({s['errors']} errors, {s['warnings']} warnings). A return with any error is "
        "kept aside unchanged and none of its figures are used.</p>",
    ]
    rows = [
        [o["file"], o["la_code"], o["period"], o["status"], o["errors"], o["warnings"]]
        for o in validation["returns"]
    ]
    body.append(
        table(
            "Returns received",
            ["File", "LA", "Period", "Outcome", "Errors", "Warnings"],
            rows,
            numeric=[False, False, False, False, True, True],
        )
    )
    findings = pd.DataFrame(validation["findings"])
    if len(findings):
        body.append("<h2>What to fix</h2>")
        for file, group in findings.groupby("source_file", sort=True):
            body.append(f"<h3>{esc(file)}</h3>")
            body.append(
                table(
                    f"Problems found in {file}",
                    ["Line", "Column", "Value", "Check", "Severity", "What was expected"],
                    group[["source_line", "column", "value", "check_id", "severity", "message"]]
                    .astype(str)
                    .values.tolist(),
                    row_headers=True,
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


def dumps_json(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
