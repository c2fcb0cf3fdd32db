"""Charts drawn once: each chart's SVG (and each slide picture's PNG) kept in the output folder
by the SHA-256 of everything that shaped it, so that a run redraws only what changed.

Drawing is most of a report's time, and a resubmission changes a few of its charts: the LA's
own, its neighbours' and the funnel of the figure corrected. The key covers the chart's whole
specification with its data, the code that draws and cleans it and vl-convert's version, so a
kept chart is, byte for byte, the one drawing it again would give. An entry that cannot be read
is drawn again; one that cannot be written is simply not kept.

The runner gives the worker the folder (``Job.chart_cache``, per product) and, after the run,
keeps only the entries that the reports in its manifest used (`record`), so the folder never
holds more than the current reports' charts.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import zlib
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.edges.files import inside, remove_file, write_bytes_atomic

#: the folder of the run's kept charts, inside the output folder (one per product)
FOLDER = ".tartan-charts"
#: what says which report used which kept chart
INDEX = "index.json"
_ENTRY = re.compile(r"[0-9a-f]{64}")

#: where this process keeps charts (None: nowhere), whether it looks there for charts already
#: drawn, and the keys its current job used
_folder: Path | None = None
_find = True
_used: set[str] = set()


def use(folder: str | Path | None, find: bool = True) -> None:
    """Keep charts in `folder` from now on ('' or None: nowhere), and find them there unless
    not `find` (--force: every chart drawn again)."""
    global _folder, _find
    _folder, _find = (Path(folder) if folder else None), find
    _used.clear()


def used() -> list[str]:
    """The keys of the charts drawn or found since `use`."""
    return sorted(_used)


def key(kind: str, *parts: str | bytes) -> str:
    """The key of a chart of `kind` ('svg', 'png') shaped by `parts`, and by the code that
    draws charts and the versions of vl-convert and Pillow."""
    h = hashlib.sha256(kind.encode() + _salt())
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@functools.cache
def _salt() -> bytes:
    from importlib.metadata import version

    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("charts.py", "svg_clean.py", "funnel_spec.py", "chart_png.py", "chart_cache.py"):
        h.update((here / name).read_bytes())
    for package in ("vl-convert-python", "pillow"):
        with contextlib.suppress(Exception):
            h.update(f"{package} {version(package)}".encode())
    return h.digest()


def get(k: str) -> bytes | None:
    """The kept chart of key `k`, or None (not kept, unreadable, or through a link out)."""
    if _folder is None or not _find:
        return None
    try:
        data = zlib.decompress(inside(_folder / k).read_bytes())
    except (OSError, zlib.error, ConfigError):
        return None
    _used.add(k)
    return data


def put(k: str, data: bytes) -> None:
    """Keep `data` as the chart of key `k` (when it cannot be written, it is not kept)."""
    if _folder is None:
        return
    with contextlib.suppress(OSError, ConfigError):
        write_bytes_atomic(_folder / k, zlib.compress(data, 1))
    _used.add(k)


def record(folder: Path, used_by: dict[str, list[str]], current: set[str]) -> int:
    """After a run: `used_by` (job id -> keys) of the jobs it ran, over the earlier record;
    only the jobs in `current` (its manifest's) stay recorded, and only the charts they used
    stay kept. Returns how many entries were removed. Only files named as entries are ever
    removed, never through a link."""
    index = folder / INDEX
    try:
        earlier = json.loads(index.read_text("utf-8"))
        earlier = earlier if isinstance(earlier, dict) else {}
    except (OSError, ValueError):
        earlier = {}
    jobs = {
        job: sorted(k for k in keys if isinstance(k, str) and _ENTRY.fullmatch(k))
        for job, keys in ({**earlier, **used_by}).items()
        if job in current and isinstance(keys, list)
    }
    keep = {k for keys in jobs.values() for k in keys}
    removed = 0
    if folder.is_dir() and not folder.is_symlink():
        for entry in folder.iterdir():
            if _ENTRY.fullmatch(entry.name) and entry.name not in keep:
                remove_file(entry)
                removed += 1
    if jobs or index.exists():
        write_bytes_atomic(index, (json.dumps(jobs, indent=0, sort_keys=True) + "\n").encode())
    return removed
