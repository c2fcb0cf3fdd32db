"""A run's settings, each declared once with its meaning and default. Light: no pandas, so the
command line can decide that nothing needs doing without importing the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
#: executors a run can use (see pipeline.orchestration.executors)
EXECUTORS = ("local", "dask")
#: self-assessment packs for: the latest period built, every period built, or none
PACK_CHOICES = ("latest", "all", "none")


@dataclass
class Settings:
    data: Path
    out: Path
    contracts: Path = PROJECT / "data_contracts"
    notebooks: Path = PROJECT / "notebooks"
    regions: list[str] | None = None
    periods: list[str] | None = None  # slugs, or ["latest"]
    #: notebooks run at once (default: the number of CPU cores; on Dask, the cluster decides)
    workers: int | None = None
    packs: str = "latest"
    progress: bool | None = None  # None: a bar on a terminal, plain lines otherwise
    returns: list[Path] | None = None  # check only these files or folders (default: all)
    force: bool = False  # run every job, even those whose content key is unchanged
    executor: str = "local"
    scheduler: str | None = None  # a Dask scheduler's address; None: a LocalCluster
    cell_timeout: int = 600  # seconds any one notebook cell may run
    #: disclosure control (data_contracts/disclosure.yaml); False only for an internal run, and
    #: every page then says "Not for circulation: unsuppressed"
    suppress: bool = True
    #: protective marking on every page, e.g. OFFICIAL-SENSITIVE; None: the dataset's own
    #: (dataset.yaml protective_marking), '' for none
    marking: str | None = None
