"""Whether a datapack run has anything to do: its run key over everything it reads (the
source folder's every file, the contracts, the notebook, the code and packages, the settings),
recorded in the datapack's manifest, as the quarterly reports' ``cache.run_key`` is. An
unchanged run stops before it reads a single figure (light: no pandas)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pipeline
from pipeline.edges.files import sha256_file
from pipeline.orchestration import cache
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.settings import PROJECT, Settings


def _tree(root: Path, pattern: str) -> list[tuple[str, str]]:
    """(path relative to root, SHA-256) of every file under `root` matching `pattern`."""
    root = Path(root)
    found = sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    return [(p.relative_to(root).as_posix(), sha256_file(p)) for p in found]


def run_key(s: Settings, notebook: str) -> str:
    """Everything a datapack run reads and is shaped by, as one SHA-256: every file of the
    source folder, the contracts, the notebook, the code, the packages and the settings that
    shape the outputs (the index links home when the output folder has an index)."""
    parts = {
        "source": _tree(s.data, "**/*"),
        "contracts": _tree(s.contracts, "*.yaml"),
        "notebook": _tree(s.notebooks, f"{notebook}.ipynb"),
        "code": cache.code_sha256(),
        "version": pipeline.__version__,
        "commit": prov.git_commit(PROJECT),
        "packages": prov.package_versions(),
        "python": sys.version,
        "settings": [sorted(s.regions or []), sorted(s.periods or []), s.marking, s.level],
        "build_date": os.environ.get("SOURCE_DATE_EPOCH", "").strip(),
        "home": (s.out / "index.html").is_file(),
    }
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return cache.sha256_bytes(text.encode("utf-8", "surrogateescape"))


def up_to_date(s: Settings, folder: str, notebook: str) -> dict | None:
    """The last run's manifest in the output folder's `folder` when this run would change
    nothing: the same run key, every report built and every file there intact. Otherwise
    None."""
    if not Path(s.data).is_dir():
        return None
    return cache.unchanged(s.out / folder, s.force, lambda: run_key(s, notebook))
