"""Validation findings in words: grouped by what they say, and where in a file they are.

A finding is a dict as ``validation.json`` holds it (file, row, column, check_id, severity,
value, message). The validation pages, the JUnit report and the command line all show findings
through these functions, so each says the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Sequence


def by_file(findings: Sequence[dict]) -> dict[str, list[dict]]:
    """Findings by the file they are about, in their order."""
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


def plural(n: int, word: str) -> str:
    """'1 error', '2 errors'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
