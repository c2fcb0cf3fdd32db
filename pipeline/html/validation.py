"""The validation pages: the validation report (validation/index.html) and each LA's feedback
(validation/feedback/<la_code>.html), from the validation record ``validation.json`` holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pipeline.core.findings import by_file, group_findings, plural, row_ranges
from pipeline.core.periods import parse_slug
from pipeline.html.base import esc, page, table
from pipeline.html.tracker import history, in_a_sentence, tracker_section


def validation_html(
    css: str,
    banners: Sequence[tuple[str, str]],
    validation: dict,
    footer: str,
    la_names: Mapping[str, str] | None = None,
    missing_returns: Mapping[str, list[str]] | None = None,
    tracker: Sequence[Mapping] | None = None,
) -> str:
    """The validation report: every return's outcome, what each must fix, and what is checked.

    `missing_returns`: period slug -> names of LAs with no return for it; `tracker`: the
    returns tracker's entries (``pipeline.html.tracker``), one per LA and period.
    """
    names = la_names or {}
    s = validation["summary"]
    body = [
        "<h1>Validation of LA returns</h1>",
        f'<p class="lede">{plural(s["returns"], "return")} checked against the data contract '
        f"{esc(validation['contract'])}: {s['accepted']} accepted, {s['quarantined']} not "
        f"accepted ({plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}). "
        "A return with any error is kept aside unchanged and none of its figures are used; "
        "warnings are worth checking but do not stop a return being used. The reporting window "
        f"is {esc(validation.get('reporting_window', ''))}.</p>",
    ]
    returns = validation["returns"]

    def la_cell(code: str) -> str:
        return f"{names.get(code, code)} ({code})" if code else "not known"

    rejected = [o for o in returns if o["status"] == "quarantined"]
    has_feedback = {o["la_code"] for o in returns if o["la_code"] in names}
    if rejected:
        body += _not_accepted(rejected, has_feedback, la_cell)
    if missing_returns:
        body += _not_received(missing_returns)
    if tracker:
        body.append(tracker_section(tracker, {la: f"feedback/{la}.html" for la in has_feedback}))
    findings = by_file(validation["findings"])
    if findings:
        body.append("<h2>What to fix, return by return</h2>")
        for file, group in sorted(findings.items()):
            body.append(f"<h3>{esc(file)}</h3>")
            body.append(_findings_table(f"Problems found in {file}", group))
    body += _checks(validation)
    body.append("<h2>Every return, newest period first</h2>")
    body.append(_every_return(returns, la_cell))
    return page(
        "Validation of LA returns",
        "\n".join(body),
        css,
        banners,
        footer,
        breadcrumbs=[("All reports", "../index.html")],
    )


def _checks(validation: dict) -> list[str]:
    """What the contract checks, as a table (nothing when it lists no checks)."""
    checks = validation.get("checks") or []
    if not checks:
        return []
    return [
        "<h2>What is checked</h2>",
        table(
            f"The checks of contract {validation['contract']}",
            ["Check", "Severity", "Column", "Rule"],
            [[c["id"], c["severity"], c["column"], c["rule"]] for c in checks],
        ),
    ]


def _not_accepted(
    rejected: list[dict], has_feedback: set[str], la_cell: Callable[[str], str]
) -> list[str]:
    """The returns not accepted, each linked to its LA's feedback when the LA is known."""
    items = "".join(
        f'<li><a href="feedback/{esc(o["la_code"])}.html">{esc(la_cell(o["la_code"]))}</a>, '
        f"{esc(_period_label(o['period']))}: {esc(plural(o['errors'], 'error'))} in "
        f"{esc(o['file'])}</li>"
        if o["la_code"] in has_feedback
        else f"<li>{esc(o['file'])}: {esc(plural(o['errors'], 'error'))}</li>"
        for o in rejected
    )
    return ["<h2>Returns not accepted</h2>", f"<ul>{items}</ul>"]


def _not_received(missing_returns: Mapping[str, list[str]]) -> list[str]:
    """The LAs with no return, period by period, newest first."""
    newest_first = sorted(missing_returns.items(), key=lambda kv: parse_slug(kv[0]), reverse=True)
    items = "".join(
        f"<li>{esc(_period_label(p))}: {esc(', '.join(las))}</li>" for p, las in newest_first if las
    )
    return [
        "<h2>Returns not received</h2>",
        f"<ul>{items}</ul>" if items else "<p>Every LA sent a return.</p>",
    ]


def _every_return(returns: list[dict], la_cell: Callable[[str], str]) -> str:
    """Every return received, newest period first, with its outcome and counts."""
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
    return table(
        "Returns received",
        ["File", "LA", "Period", "Outcome", "Errors", "Warnings"],
        rows,
        numeric=[False, False, False, False, True, True],
    )


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
    tracker: Sequence[Mapping] | None = None,
) -> str:
    """One LA's feedback, period by period (newest first): for each of its returns, whether it
    was accepted and what to fix; and with the returns tracker's entries (`tracker`, any LA's:
    this LA's are picked out), each period's versions, dates and what changed."""
    mine = [o for o in validation["returns"] if o["la_code"] == la_code]
    findings = by_file(validation["findings"])
    entries = {e["period"]: e for e in tracker or [] if e["la_code"] == la_code}
    body = [
        f"<h1>Return feedback: {esc(la_name)} ({esc(la_code)})</h1>",
        f'<p class="lede">What the regional benchmarking group found in your '
        f"{'return' if len(mine) == 1 else 'returns'}, checked against the data contract "
        f"{esc(validation['contract'])}. A return with any problem under \u201cMust fix\u201d is "
        "not used in this period's reports; correct it and send the whole return again. "
        "Points under \u201cPlease check\u201d do not stop your return being used.</p>",
    ]
    periods = {o["period"] or "" for o in mine} | set(entries)
    for period in sorted(periods, key=lambda p: (_sort_key(p), p), reverse=True):
        anchor = f' id="{esc(period)}"' if period else ""  # an unreadable return has none
        body.append(f"<h2{anchor}>{esc(_period_label(period))}</h2>")
        entry = entries.get(period)
        if entry:
            body.append(f"<p><strong>{esc(in_a_sentence(entry))}</strong></p>")
        here = sorted((o for o in mine if (o["period"] or "") == period), key=lambda o: o["file"])
        for o in reversed(here):
            body += _return_feedback(o, findings.get(o["file"], []))
        if entry:
            body.append(history(entry))
    return page(
        f"Return feedback: {la_name}",
        "\n".join(body),
        css,
        banners,
        footer,
        breadcrumbs=[("All reports", "../../index.html"), ("Validation", "../index.html")],
    )


def _return_feedback(o: dict, here: list[dict]) -> list[str]:
    """One return in an LA's feedback: its verdict, then what it must fix and should check."""
    errors = [f for f in here if f["severity"] == "error"]
    warnings = [f for f in here if f["severity"] == "warning"]
    body = [f"<h3>{esc(o['file'])}</h3>"]
    if o["status"] == "accepted":
        verdict = "Accepted." + (
            f" {plural(len(group_findings(warnings)), 'point')} to check below." if warnings else ""
        )
        cls = "status-ok"
    else:
        verdict = (
            f"Not accepted: fix the {plural(len(group_findings(errors)), 'problem')} below "
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
            _findings_table(f"Please check in {o['file']}", warnings, value_heading="What you sent")
        )
    return body


def _sort_key(slug: str) -> int:
    try:
        return parse_slug(slug).ordinal
    except Exception:
        return -1
