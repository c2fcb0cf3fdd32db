"""What every output states about where it came from: inputs, contracts, code and packages."""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

import pipeline
from pipeline.core.html import esc

PACKAGES = ("pandas", "papermill", "nbconvert", "altair", "vl-convert-python", "great-expectations")


def package_versions() -> dict[str, str]:
    out = {}
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
                "--untracked-files=no",
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
    """One SHA-256 over (name, sha256) pairs in a stable order."""
    h = hashlib.sha256()
    for name, sha in sorted(items):
        h.update(f"{name}\0{sha}\n".encode())
    return h.hexdigest()


def code_version(project: Path) -> str:
    return f"tartan {pipeline.__version__} ({git_commit(project)})"


def footer_html(facts: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    return f'<h2 class="visually-plain">About this report\'s data</h2><dl>{items}</dl>'
