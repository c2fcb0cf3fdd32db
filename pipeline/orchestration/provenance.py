"""What every output states about where it came from: inputs, contracts, code and packages.

A provenance record is a plain dict, written as it is to ``manifest.json`` and shown in words in
every page's footer. It never holds a clock time: the only date it can carry is the one given by
``SOURCE_DATE_EPOCH`` (the reproducible-builds convention), so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pipeline
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug

#: what an unsuppressed run records as its disclosure control (--unsuppressed)
NO_DISCLOSURE_CONTROL = "None: this run is unsuppressed and not for circulation (--unsuppressed)."
PACKAGES = ("pandas", "papermill", "nbconvert", "altair", "vl-convert-python", "great-expectations")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(project: Path) -> str:
    """The commit the code was run from, with '+changes' when the working tree differs."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(project), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(project),
                "status",
                "--porcelain",
                "--untracked-files=normal",
                "--",
                "pipeline",
                "notebooks",
                "data_contracts",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        return sha + ("+changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def combined_hash(items: list[tuple[str, str]]) -> str:
    """One SHA-256 over (name, sha256) pairs: the hash of `sha256sum`'s lines sorted by name.

    So an auditor can check it from the data folder with standard tools, for example
    ``sha256sum reference/*.csv returns/*/*.csv | sort -k 2 | sha256sum`` when every return
    was accepted (``manifest.json`` lists which were).
    """
    lines = "".join(f"{sha}  {name}\n" for name, sha in sorted(items))
    return hashlib.sha256(lines.encode()).hexdigest()


def build_date() -> str | None:
    """The build date from SOURCE_DATE_EPOCH (UTC, ISO 8601), or None when it is not set."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={raw!r}: expected a whole number of seconds since "
            "1970-01-01 UTC (for example 1767225600)"
        ) from None


def run_provenance(
    project: Path,
    data_name: str,
    contracts: dict[str, str],
    input_sha256: str | None = None,
    config_sha256: str | None = None,
    disclosure: str | None = None,
) -> dict:
    """What is true of every output of one run."""
    out = {
        "data": data_name,
        **({"input_sha256": input_sha256} if input_sha256 else {}),
        "contracts": dict(contracts),
        **({"config_sha256": config_sha256} if config_sha256 else {}),
        **({"disclosure": disclosure} if disclosure else {}),
        "code": {"tartan": pipeline.__version__, "commit": git_commit(project)},
        "packages": package_versions(),
    }
    date = build_date()
    if date:
        out["build_date"] = date
    return out


def contracts_text(contracts: dict[str, str]) -> str:
    return "; ".join(f"{name} {version}" for name, version in contracts.items())


def code_text(code: dict[str, str]) -> str:
    """A report names its code by content (so a new commit that changes nothing the report is
    made from leaves it as it was); the site's pages name the commit."""
    if "code_sha256" in code:
        return f"tartan {code['tartan']} (code SHA-256 {code['code_sha256'][:12]})"
    return f"tartan {code['tartan']} ({code['commit']})"


def _as_at(as_at: dict[str, str]) -> str:
    """{'region': P, 'england': P, 'statistical neighbours': P} -> 'region, England and ...: P'."""
    by_period: dict[str, list[str]] = {}
    for who, period in as_at.items():
        by_period.setdefault(period, []).append(who)
    parts = []
    for period, who in by_period.items():
        names = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " and " + who[-1]
        parts.append(f"{names}: {parse_slug(period).label}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _published(comparators: dict) -> str | None:
    """Published comparators in words: what they are and each indicator's date; None (no
    line) for comparators from the returns, which `comparators_as_at` says are of the period."""
    if comparators.get("mode") != "published":
        return None
    by_date: dict[str, list[str]] = {}
    for indicator, date in comparators.get("as_at", {}).items():
        by_date.setdefault(date, []).append(indicator)
    dates = "".join(f"; as at {d}: {', '.join(ids)}" for d, ids in by_date.items())
    return (
        "published (DfE): England, the statistical neighbours' mean and median, and national "
        "bands and ranks are DfE's published figures of each indicator's latest year, read "
        f"from {Path(comparators.get('source', '')).name or 'the source folder'}{dates}; "
        "any other indicator has no published comparator (no England figure; band and rank "
        "among the region's returning LAs)"
    )


#: (key, label, how to write the value) in footer order; keys absent from a record are left out,
#: and so are those a formatter has nothing to say of (None)
_FACTS = (
    ("period", "Period", lambda v: parse_slug(v).label),
    ("comparators_as_at", "Comparators as at", _as_at),
    ("comparators", "Comparators", _published),
    ("trend_periods", "Trend periods", lambda v: " to ".join(parse_slug(p).label for p in v)),
    ("data", "Data", str),
    (
        "input_sha256",
        "Input SHA-256 (the files read: accepted returns or published statistics, and reference)",
        str,
    ),
    ("inputs_sha256", "Inputs SHA-256 (the figures this report was made from)", str),
    ("figures_sha256", "Figures SHA-256 (the report's CSV)", str),
    ("contracts", "Contracts", contracts_text),
    ("config_sha256", "Contracts and configuration SHA-256", str),
    ("disclosure", "Disclosure control", str),
    ("code", "Code", code_text),
    ("packages", "Packages", lambda v: ", ".join(f"{k} {x}" for k, x in v.items())),
    ("parameters", "Parameters", lambda v: ", ".join(f"{k}={x}" for k, x in v.items())),
    ("build_date", "Built", lambda v: f"{v} (SOURCE_DATE_EPOCH)"),
)


def facts(record: dict) -> list[tuple[str, str]]:
    """A provenance record as (label, words) pairs, in a fixed order."""
    said = ((label, fmt(record[key])) for key, label, fmt in _FACTS if key in record)
    return [(label, text) for label, text in said if text is not None]
