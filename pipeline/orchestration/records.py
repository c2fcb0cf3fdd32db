"""The machine-readable records a run writes beside its pages: JSON and JUnit XML."""

from __future__ import annotations

import json

from pipeline.core.findings import by_file, plural


def _row_label(row: object) -> str:
    return "whole file" if not row or str(row) == "0" else str(row)


def junit_xml(validation: dict) -> str:
    """Validation as JUnit XML for any CI: a suite per return, a test case per check.

    Errors are failures; warnings are printed in the test case's output. No timings, so the
    same inputs give the same bytes.
    """
    import xml.etree.ElementTree as ET

    findings = by_file(validation["findings"])
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
                    message=f"{plural(n_errors, 'problem')}: {lines[0]}",
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
    """JSON as every record is written: indented, keys sorted, UTF-8 as it is."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
