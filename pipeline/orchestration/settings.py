"""A run's settings, each declared once: its command-line flag, default, help and the commands that
take it (as nbclient declares its traitlets). The command line builds its options from
``COMMANDS`` and a run's ``Settings`` from what they parse; ``README.md`` lists the same options
(``tests/test_settings.py`` keeps the three in step).

Light: no pandas, so the command line can decide that nothing needs doing without importing the
pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.core.errors import ConfigError

PROJECT = Path(__file__).resolve().parents[2]
#: the dataset a command reads unless told otherwise: the embedded fictional demo
DEFAULT_DATA = Path("data/demo")
#: the output folder a command writes unless told otherwise
DEFAULT_OUT = Path("outputs")
#: executors a run can use (see pipeline.orchestration.executors)
EXECUTORS = ("local", "dask")
#: self-assessment packs for: the latest period built, every period built, or none
PACK_CHOICES = ("latest", "all", "none")
#: seconds any one notebook cell may run before its report fails (--cell-timeout)
CELL_TIMEOUT = 600


# --------------------------------------------------------------------------- value checks
# Each turns an option's text into its value, or raises ValueError with the message the user reads.


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"expected a whole number of at least 1, not {text!r}")
    return n


def max_workers() -> int:
    """The most notebooks a run may have at once: four per CPU core. Each is a worker process
    and a kernel (a few hundred MB together); more than the cores run no faster."""
    return 4 * (os.cpu_count() or 1)


def workers(text: str) -> int:
    """A number of workers: at least 1, at most `max_workers()`."""
    n = positive(text)
    if n > (limit := max_workers()):
        raise ValueError(
            f"{n} is too many: at most {limit} (four per CPU core here; each is a process with "
            "its own notebook kernel, and more than one per core runs no faster)"
        )
    return n


def code(text: str) -> str:
    """An LA or region code: letters and digits only, so that it can never name a path."""
    if not text.isascii() or not text.isalnum():
        raise ValueError(
            f"{text!r} is not a code: expected letters and digits only, e.g. E12000007"
        )
    return text


def period(text: str) -> str:
    """A period's slug, e.g. 2026-27-Q2 or 2025."""
    from pipeline.core.errors import DataError
    from pipeline.core.periods import parse_slug

    try:
        return parse_slug(text).slug
    except DataError as exc:
        raise ValueError(str(exc)) from None


def latest_or_period(text: str) -> str:
    """A period's slug, or 'latest'."""
    return text if text == "latest" else period(text)


def marking(text: str) -> str:
    """A protective marking: one printable line (pipeline.edges.reference.check_marking)."""
    from pipeline.edges.reference import check_marking

    return check_marking(text)


# --------------------------------------------------------------------------- the declaration


@dataclass(frozen=True)
class Option:
    """One command-line option, declared once.

    ``flag`` is the option (``--cell-timeout``), or a positional argument's name (``paths``).
    ``type`` converts its text as argparse would report (``Path``, ``int``); ``check`` is one of
    the value checks above, whose ValueError is the usage error's message. ``shown`` is the
    default as help and the README name it, where it is not the value itself. ``setting`` names
    the ``Settings`` field the option fills (None: the command's own, e.g. ``--strict``), and
    ``to_setting`` turns the parsed value into that field's value.
    """

    flag: str
    help: str
    default: Any = None
    shown: str | None = None
    type: Callable[[str], Any] | None = None
    check: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    action: str | None = None  # "store_true" or "append"
    nargs: str | None = None  # a positional argument's, e.g. "*"
    required: bool = False
    setting: str | None = None
    to_setting: Callable[[Any], Any] | None = None

    @property
    def dest(self) -> str:
        """The name argparse stores the value under."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def shown_default(self) -> str:
        """The default as the README lists it."""
        if self.shown is not None:
            return self.shown
        if self.required:
            return "required"
        if self.action == "store_true":
            return "off"
        return str(self.default)

    def setting_value(self, value: Any) -> Any:
        """The ``Settings`` field's value for the option's parsed value."""
        return self.to_setting(value) if self.to_setting else value

    def but(self, **changes: Any) -> Option:
        """The same option as one command words or defaults it differently."""
        return replace(self, **changes)


def _negated(on: bool) -> bool:
    return not on


def _off_or_unset(on: bool) -> bool | None:
    """--no-progress: off, or None to let the run decide (a bar on a terminal, lines otherwise)."""
    return False if on else None


def _listed(value: str | None) -> list[str] | None:
    return None if value is None else [value]


def _some(values: list | None) -> list | None:
    return values or None


_DATA = Option(
    "--data",
    "dataset folder holding reference/ and returns/ (default: %(default)s)",
    DEFAULT_DATA,
    type=Path,
    setting="data",
)
_CONTRACTS = Option(
    "--contracts",
    "folder of data contracts and the indicator catalogue (default: the project's data_contracts/)",
    shown="the project's data_contracts/",
    type=Path,
    setting="contracts",
)
_MARKING = Option(
    "--marking",
    "protective marking printed at the top and foot of every page, e.g. OFFICIAL-SENSITIVE "
    "(default: the dataset's protective_marking in dataset.yaml; '' for none)",
    shown="the dataset's protective_marking",
    check=marking,
    metavar="TEXT",
    setting="marking",
)
_UNSUPPRESSED = Option(
    "--unsuppressed",
    "no disclosure control: small numbers are shown as returned, and every page is stamped "
    "'Not for circulation: unsuppressed' (for internal runs only)",
    False,
    action="store_true",
    setting="suppress",
    to_setting=_negated,
)
_LEVEL = Option(
    "--level",
    "confidence level of intervals, comparisons and tests: 95 or 99.8 (default: the dataset's "
    "significance_level in dataset.yaml, else 95)",
    shown="the dataset's significance_level, else 95",
    type=float,
    choices=(95.0, 99.8),
    metavar="{95,99.8}",
    setting="level",
)
_OUT = Option(
    "--out", "output folder (default: %(default)s)", DEFAULT_OUT, type=Path, setting="out"
)
_NOTEBOOKS = Option(
    "--notebooks",
    "folder of the report notebooks (default: the project's notebooks/)",
    shown="the project's notebooks/",
    type=Path,
    metavar="DIR",
    setting="notebooks",
)
_REGION = Option(
    "--region",
    "only this region (repeatable), e.g. ZR1",
    shown="every region",
    check=code,
    metavar="CODE",
    action="append",
    setting="regions",
)
_PERIODS = Option(
    "--period",
    "only this period (repeatable): a slug like 2026-27-Q2, or 'latest'",
    shown="every period",
    check=latest_or_period,
    metavar="PERIOD",
    action="append",
    setting="periods",
)
_PACKS = Option(
    "--packs",
    "self-assessment packs for the latest period built (default), every period built, or none",
    "latest",
    choices=PACK_CHOICES,
    setting="packs",
)
_STRICT = Option(
    "--strict",
    "exit 1 if any return was not accepted (default: only failed reports do)",
    False,
    action="store_true",
)

#: how a command that runs notebooks runs them
_RUNNING = (
    Option(
        "--workers",
        "notebooks run at once, at most four per CPU core (default: one more than the CPU cores)",
        shown="one more than the CPU cores",
        check=workers,
        setting="workers",
    ),
    Option(
        "--force",
        "run every report again, even those whose inputs, notebook and code are unchanged since "
        "the last run in --out",
        False,
        action="store_true",
        setting="force",
    ),
    Option(
        "--executor",
        "where notebooks run: local worker processes (default), or a Dask cluster (a local one, "
        "or the one at --scheduler)",
        "local",
        choices=EXECUTORS,
        setting="executor",
    ),
    Option(
        "--scheduler",
        "with --executor dask: an existing scheduler, e.g. tcp://10.0.0.5:8786 (its workers need "
        "this environment and the same paths; see the README)",
        shown="a local Dask cluster",
        metavar="ADDRESS",
        setting="scheduler",
    ),
    Option(
        "--cell-timeout",
        "a notebook cell running longer fails its report (default: %(default)s)",
        CELL_TIMEOUT,
        check=positive,
        metavar="SECONDS",
        setting="cell_timeout",
    ),
    Option(
        "--profile",
        "write where the run's time went (the driver's stages, and each stage of the reports in "
        "their workers, summed) to profile.json in the output folder's logs",
        False,
        action="store_true",
        setting="profile",
    ),
    Option(
        "--no-progress",
        "no progress bar or progress lines",
        False,
        action="store_true",
        setting="progress",
        to_setting=_off_or_unset,
    ),
)

_PATHS = Option(
    "paths",
    "return files or folders to check (default: every return in DATA/returns); the dataset's "
    "other returns are read as the LAs' earlier periods",
    shown="every return in DATA/returns",
    type=Path,
    metavar="PATH",
    nargs="*",
    setting="returns",
    to_setting=_some,
)
_TEMPLATE = (
    Option("--la", "the LA's code, e.g. ZL101", required=True, check=code, metavar="CODE"),
    Option("--period", "e.g. 2026-27-Q2", required=True, check=period, metavar="PERIOD"),
    Option("--out", "file (default: CODE_PERIOD.xlsx)", shown="CODE_PERIOD.xlsx", type=Path),
)
_DEMO_DATA = (
    Option("--out", "folder (default: %(default)s)", DEFAULT_DATA, type=Path),
    Option("--seed", "random seed (default: %(default)s)", 2026, type=int),
)
_DATAPACK = (
    Option(
        "--source",
        "folder of DfE's published files as downloaded, with the reference lists (the mapping's "
        "paths are relative to it)",
        required=True,
        type=Path,
        metavar="DIR",
        setting="data",
    ),
    Option(
        "--year",
        "the year to build, e.g. 2025 (default: the latest the files hold)",
        shown="the latest the files hold",
        check=latest_or_period,
        metavar="YYYY",
        setting="periods",
        to_setting=_listed,
    ),
    _OUT.but(
        help="output folder; the datapack goes in its datapack/ folder (default: %(default)s)"
    ),
    _CONTRACTS.but(
        help="folder holding datapack.yaml and reference.yaml (default: the project's "
        "data_contracts/)"
    ),
    _NOTEBOOKS,
    _REGION.but(help="only this region (repeatable), e.g. E12000001"),
    _MARKING.but(
        help="protective marking printed at the top and foot of every page (default: none)",
        shown="none",
    ),
)

#: init's options: a region's dataset folder from DfE's published lists
_INIT = (
    Option("region", "the region: its E12 code or its name", shown="required", metavar="REGION"),
    Option("--out", "the new dataset folder, e.g. data/sw", required=True, type=Path),
    Option(
        "--source",
        "folder of DfE's published files as downloaded, with the reference lists, as `tartan "
        "datapack --source` reads it (default: ../shared/public-data, beside the project)",
        PROJECT.parent / "shared" / "public-data",
        shown="../shared/public-data",
        type=Path,
        metavar="DIR",
    ),
    Option(
        "--contracts",
        "folder holding datapack.yaml, reference.yaml and the return contract (default: the "
        "project's data_contracts/)",
        PROJECT / "data_contracts",
        shown="the project's data_contracts/",
        type=Path,
    ),
)

#: every command's options

#: every command's options, in the order its --help lists them
COMMANDS: dict[str, tuple[Option, ...]] = {
    "demo-data": _DEMO_DATA,
    "kernel": (),
    "init": _INIT,
    "template": (*_TEMPLATE, _DATA, _CONTRACTS),
    "validate": (_PATHS, _DATA, _CONTRACTS, _MARKING, _UNSUPPRESSED, _OUT),
    "report": (
        *(_DATA, _CONTRACTS, _MARKING, _UNSUPPRESSED, _LEVEL, _OUT),
        *(_NOTEBOOKS, _REGION, _PERIODS, _PACKS, *_RUNNING, _STRICT),
    ),
    "datapack": (
        *_DATAPACK,
        _LEVEL.but(
            help="confidence level of intervals, comparisons and tests: 95 or 99.8 (default: 95)",
            shown="95",
        ),
        *_RUNNING,
    ),
}


# --------------------------------------------------------------------------- a run's settings


@dataclass
class Settings:
    """What one run reads, writes and how; each field's default is its option's (see COMMANDS)."""

    data: Path = DEFAULT_DATA
    out: Path = DEFAULT_OUT
    contracts: Path = PROJECT / "data_contracts"
    notebooks: Path = PROJECT / "notebooks"
    regions: list[str] | None = None
    periods: list[str] | None = None  # slugs, or ["latest"]
    #: notebooks run at once (None: one more than the CPU cores; on Dask, the cluster decides)
    workers: int | None = None
    packs: str = _PACKS.default
    progress: bool | None = None  # None: a bar on a terminal, plain lines otherwise
    returns: list[Path] | None = None  # check only these files or folders (default: all)
    force: bool = False  # run every job, even those whose content key is unchanged
    executor: str = EXECUTORS[0]
    scheduler: str | None = None  # a Dask scheduler's address; None: a LocalCluster
    cell_timeout: int = CELL_TIMEOUT
    #: disclosure control (data_contracts/disclosure.yaml); False only for an internal run, and
    #: every page then says "Not for circulation: unsuppressed"
    suppress: bool = True
    #: protective marking on every page, e.g. OFFICIAL-SENSITIVE; None: the dataset's own
    #: (dataset.yaml protective_marking), '' for none
    marking: str | None = None
    #: the confidence level of comparisons and tests, 95 or 99.8; None: the dataset's
    #: (dataset.yaml significance_level), else 95
    level: float | None = None
    #: write the run's profile (where its time went) to logs/profile.json in the output folder
    profile: bool = False


def settings_for(command: str, values: Mapping[str, Any]) -> Settings:
    """A run's settings from one command's parsed options (``vars()`` of argparse's namespace).

    An option left unset (None) leaves its field at the ``Settings`` default.
    """
    given = {}
    for option in COMMANDS[command]:
        if option.setting is not None:
            value = option.setting_value(values[option.dest])
            if value is not None:
                given[option.setting] = value
    return Settings(**given)


def check_out_folder(out: Path) -> None:
    """Refuse, before anything starts, an output folder that cannot be one: a file, a path
    through a file, or a place this process cannot write (a read-only file system, a folder
    without write permission)."""
    out = Path(out)
    place = out
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        where = "is a file" if place == out else f"is inside {place}, which is a file"
        raise ConfigError(f"--out {out} {where}, not a folder; give a folder (made if missing)")
    if not os.access(place, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(place).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):
            read_only = False
        why = "its file system is read-only" if read_only else "permission denied"
        raise ConfigError(
            f"--out {out}: cannot write in {place} ({why}); give a folder you can write to"
        )
