"""Content keys: what decides whether a job, or a whole run, must be done again.

A job's key is a SHA-256 over everything its three output files are made from: the notebook's
bytes, its parameters, the exact slice of data it reads, the page it is rendered into (title,
banners, breadcrumbs, footer with its provenance), the figures CSV, and the code of the pipeline
and its template. `manifest.json` records each job's key and the SHA-256 of each output; a job
whose key is unchanged and whose outputs are intact is not run again.

A run's key covers every file a run reads (returns, reference, dataset.yaml, the dataset's
priorities.yaml, a regional dataset's published comparator files, contracts, notebooks), the
code, the package versions and the settings that shape its outputs. When it is unchanged and
every output the last run wrote is intact, there is nothing to do, and the command says so
without validating or importing the heavy libraries.

This module is light (no pandas): the command line uses it before importing the pipeline.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from functools import cache
from pathlib import Path

import pipeline
from pipeline.core.errors import TartanError
from pipeline.edges.files import sha256_file
from pipeline.edges.yaml_files import load_yaml
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.settings import PROJECT, Settings

MANIFEST = "manifest.json"
#: the code a report is made by: the package's Python and its nbconvert template
PACKAGE = Path(pipeline.__file__).resolve().parent


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(parts: dict) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return sha256_bytes(text.encode("utf-8", "surrogateescape"))  # a name with bytes not UTF-8


def _tree(root: Path, patterns: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path relative to root, SHA-256) of the files under root matching any pattern."""
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(
        (p.relative_to(root).as_posix(), sha256_file(p))
        for p in found
        if "__pycache__" not in p.parts and not p.name.startswith(".")
    )


@cache
def code_sha256() -> str:
    """One SHA-256 over the pipeline's Python files and its report template."""
    return prov.combined_hash(_tree(PACKAGE, ("**/*.py", "templates/**/*")))


def slice_sha256(files: dict[str, bytes]) -> str:
    """The SHA-256 of a job's slice, as `sha256sum` lines over its files, sorted by name."""
    return prov.combined_hash([(name, sha256_bytes(data)) for name, data in files.items()])


def job_key(job, slice_files: dict[str, bytes]) -> str:
    """Everything a job's outputs are made from, as one SHA-256."""
    return _key(
        {
            "id": job.id,
            "kind": job.kind,
            "notebook": sha256_file(Path(job.notebook)),
            "parameters": job.parameters,
            "slice": slice_sha256(slice_files),
            "page": [job.title, job.banners, job.breadcrumbs, job.footer],
            "figures": sha256_bytes(job.csv.encode("utf-8")),
            "code": code_sha256(),
        }
    )


def _comparator_files(data: Path) -> list[tuple[str, str]]:
    """The published files a regional dataset's comparators come from (dataset.yaml
    `comparators.source`), as `_tree` lists them; none without a source. A dataset.yaml that
    cannot be read lists none: the run itself says what is wrong with it."""
    try:
        meta = load_yaml(data / "dataset.yaml") if (data / "dataset.yaml").is_file() else {}
    except TartanError:
        return []
    raw = meta.get("comparators") if isinstance(meta, dict) else None
    source = raw.get("source") if isinstance(raw, dict) else None
    if not isinstance(source, str) or not source.strip():
        return []
    return _tree(data / source, ("**/*.csv",))


#: the dataset's files a run reads
DATASET_FILES = ("dataset.yaml", "priorities.yaml", "reference/**/*", "returns/**/*")
DATASET_FILES += ("commentary/**/*",)
DATASET_FILES += ("peer_challenge.yaml",)


def run_key(s: Settings) -> str:
    """Everything a whole run reads and is shaped by, as one SHA-256."""
    data = s.data
    returns = s.returns or []
    return _key(
        {
            "data": _tree(
                data,
                DATASET_FILES,
            ),
            "comparators": _comparator_files(data),
            "contracts": _tree(s.contracts, ("*.yaml",)),
            "notebooks": _tree(s.notebooks, ("*.ipynb",)),
            "code": code_sha256(),
            "version": pipeline.__version__,
            "commit": prov.git_commit(PROJECT),
            "packages": prov.package_versions(),
            "python": sys.version,
            "settings": {
                "regions": sorted(s.regions or []),
                "periods": sorted(s.periods or []),
                "packs": s.packs,
                "returns": sorted(str(p) for p in returns),
                "suppress": s.suppress,
                "marking": s.marking,
                "level": s.level,
            },
            "build_date": os.environ.get("SOURCE_DATE_EPOCH", "").strip(),
            # the index links to the annual datapack when one is in the folder
            "datapack": (s.out / "datapack" / "index.html").is_file(),
        }
    )


def read_manifest(out: Path) -> dict:
    """The folder's manifest, or {} when there is none or it cannot be read."""
    try:
        m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return m if isinstance(m, dict) else {}


def intact(out: Path, files: dict[str, str]) -> bool:
    """Every file is there with the SHA-256 recorded for it. Files are hashed on every core at
    once (hashlib lets other threads run while it reads a large file)."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(files)
    try:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            digests = list(pool.map(lambda rel: sha256_file(out / rel), names))
    except OSError:
        return False
    return all(d == files[rel] for rel, d in zip(names, digests, strict=True))


def cached_job(earlier: dict | None, key: str, out: Path) -> dict | None:
    """An earlier run's manifest entry for a job, when its key matches and its outputs are
    intact (a failed job is always run again)."""
    if not earlier or earlier.get("key") != key or earlier.get("status") != "ok":
        return None
    files, outputs = earlier.get("output_sha256"), earlier.get("outputs")
    if not isinstance(files, dict) or not isinstance(outputs, list) or set(outputs) != set(files):
        return None
    return earlier if files and intact(out, files) else None


def up_to_date(s: Settings) -> dict | None:
    """The last run's manifest when this run would change nothing: same run key, every job
    built and every file it wrote intact. Otherwise None."""
    return unchanged(s.out, s.force, lambda: run_key(s))


def unchanged(base: Path, force: bool, key) -> dict | None:
    """The manifest in `base` when a run keyed `key()` (called only when there is one to
    compare) would change nothing there: not `force`, the same run key, every job built and
    every file it lists intact. Otherwise None."""
    m = read_manifest(base)
    if not m or force or m.get("run_key") != key():
        return None
    jobs, files = m.get("jobs"), m.get("files")
    if not isinstance(jobs, list) or not isinstance(files, dict):
        return None
    files = dict(files)
    for j in jobs:
        if not isinstance(j, dict) or j.get("status") != "ok":
            return None
        if not isinstance(j.get("output_sha256"), dict):
            return None
        files.update(j["output_sha256"])
    return m if intact(base, files) else None
