"""The machine-readable records a run writes beside its pages: JSON and JUnit XML."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring as _string

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
    """JSON as every record is written: indented, keys sorted, UTF-8 as it is; what
    ``json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str)`` writes, a
    few times faster (an indented dump is the json module's pure-Python encoder, a generator
    per container; every job's slice is one)."""
    out: list[str] = []
    _write(obj, out, "\n")
    out.append("\n")
    return "".join(out)


def _key(key: object) -> str:
    """A dict key as json writes it (without quotes)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True or key is False or key is None:
        return json.dumps(key)
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


#: how json writes a value of each of these types (of a subclass, see `_write`)
_LEAF = {
    str: _string,
    int: int.__repr__,
    float: _float,
    bool: lambda b: "true" if b else "false",
    type(None): lambda _: "null",
}


def _write(o: object, out: list[str], newline: str) -> None:
    """`o` as JSON onto `out`, its items on lines starting `newline` and two more spaces. A
    container's plain values are written in its loop, without a call of their own; others in
    the json module's order of tests (a bool before an int, a subclass of str as a str,
    anything else as its str())."""
    leaf = _LEAF.get(o.__class__)
    if leaf is not None:
        out.append(leaf(o))
    elif isinstance(o, str):
        out.append(_string(o))
    elif o is True or o is False:
        out.append(_LEAF[bool](o))
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, list | tuple | dict):
        _container(o, out, newline)
    else:
        _write(str(o), out, newline)


def _container(o: list | tuple | dict, out: list[str], newline: str) -> None:
    if not o:
        out.append("{}" if isinstance(o, dict) else "[]")
        return
    inner = newline + "  "
    is_dict = isinstance(o, dict)
    items = sorted(o.items()) if is_dict else o
    sep = ("{" if is_dict else "[") + inner
    for item in items:
        if is_dict:
            k, v = item
            head = sep + _string(k if k.__class__ is str else _key(k)) + ": "
        else:
            v, head = item, sep
        leaf = _LEAF.get(v.__class__)
        if leaf is None:
            out.append(head)
            _write(v, out, inner)
        else:
            out.append(head + leaf(v))
        sep = "," + inner
    out.append(newline + ("}" if is_dict else "]"))
